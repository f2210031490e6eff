"""`opengov init SOURCE --out DIR`: a package drafted from a CSV, a workbook sheet or Parquet.

The file is read once, in batches: the first 5,000 rows decide each column's type (Arrow, RE2,
no per-cell Python), and every batch after them, the first ones included, verifies it and
widens it where a cell does not fit. Detectors run over the same bounded sample. What comes
out is a datapackage.json with encoding, dialect, types and formats, constraints that hold for
every row (required where no cell is missing) and a primary key where one column is complete
and distinct; a rules.yaml with every field unclassified; and import.json. No value from the
data is written in these, only counts and the header's labels (as titles).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from opengov import __version__
from opengov.draft.infer import Guess, Verifier, guess, present
from opengov.draft.naming import field_names, resource_name
from opengov.draft.observe import SAMPLE_ROWS, Observation, observe
from opengov.draft.package import (
    CC0,
    DESCRIPTOR,
    RECORD,
    RULES,
    Staging,
    json_bytes,
    merge_descriptor,
    read_existing,
)
from opengov.draft.rules import FieldDraft, render_rules, unclassified
from opengov.draft.sources import FORMATS, CsvSource, open_csv, sheet_to_csv
from opengov.errors import InputError
from opengov.package import sha256_file
from opengov.redact.detectors import DEFAULT_LAST_SCAN, scan_text

IMPORTER = "init"
# Values of candidate key columns (the first column, id-named ones) are kept to count distinct
# values; past this, a column is no longer a candidate, so memory stays bounded.
KEY_TRACK_BYTES = 32 << 20
UNLABELLED_NOTE = (
    "{names}: the header cell is empty while the column holds data (frictionless reports a "
    "blank-label); is the header on a later row (a title above it), or a label missing?"
)
TOTAL_ROW_NOTE = (
    "the last row looks like a total of the others (its first cell says Summa or Totalt): it "
    "is a row of the table to every reader and is published as one; remove it from the file "
    "unless it belongs there"
)
# What Swedish spreadsheets write in the first cell of a sum row under the table.
_TOTAL = re.compile(r"\s*(summa|totalt?|totalsumma)\b", re.IGNORECASE)
_KEY_NAME = re.compile(r"(^|_)(id|nr|nummer|lopnummer|diarienummer|kod)($|_)")


@dataclass(frozen=True)
class FieldSummary:
    name: str
    title: str | None
    type: str
    required: bool
    widened_from: str | None  # the sample's type, when a later row did not fit it

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "type": self.type,
            "required": self.required,
            "widened_from": self.widened_from,
        }


@dataclass(frozen=True)
class InitResult:
    """What init drafted; `to_dict()` is exactly what `--json` prints."""

    source: str
    out: str
    resource: str
    format: str
    encoding: str | None
    dialect: dict[str, Any]
    rows: int
    fields: tuple[FieldSummary, ...]
    primary_key: tuple[str, ...]
    key_candidates: tuple[str, ...]
    changed: bool
    rules: str
    unclassified: tuple[str, ...] = field(default=())
    lines_above_header: int = 0  # a title or Excel's sep= line, left out of the data
    total_row: bool = False  # the last row looks like a sum of the others: kept, but said
    # Fields whose header cell is empty while the column holds data (frictionless: blank-label):
    # a title row read as the header, or a header with gaps.
    unlabelled: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "out": self.out,
            "resource": self.resource,
            "format": self.format,
            "encoding": self.encoding,
            "dialect": dict(self.dialect),
            "rows": self.rows,
            "fields": [f.to_dict() for f in self.fields],
            "primary_key": list(self.primary_key),
            "key_candidates": list(self.key_candidates),
            "changed": self.changed,
            "rules": self.rules,
            "unclassified": list(self.unclassified),
            "lines_above_header": self.lines_above_header,
            "total_row": self.total_row,
            "unlabelled": list(self.unlabelled),
        }


@dataclass
class Inferred:
    """A CSV's columns after the sample and the full pass."""

    labels: list[str]
    names: list[str]
    titles: list[str | None]
    guesses: list[Guess]
    sample_guesses: list[Guess]
    verifiers: list[Verifier]
    sample: list[pa.Array]
    total_row: bool = False  # the last row's first cell names a total ("Summa", "Totalt")

    @property
    def rows(self) -> int:
        return self.verifiers[0].rows if self.verifiers else 0

    def key_candidates(self) -> list[str]:
        return [
            n
            for n, g, v in zip(self.names, self.guesses, self.verifiers, strict=True)
            if g.type in ("integer", "string") and v.all_distinct()
        ]


def safe_titles(labels: list[str]) -> list[str | None]:
    """Labels as titles, unless a label looks like a value (a data row read as the header)."""
    titles: list[str | None] = []
    for label in labels:
        text = label.strip()
        if not text or scan_text(text, DEFAULT_LAST_SCAN):
            titles.append(None)
        else:
            titles.append(text)
    return titles


def infer_csv(source: CsvSource) -> Inferred:
    """One pass over the file: a bounded sample decides, every batch verifies."""
    titles = safe_titles(source.labels)
    # A label that looks like a value gets a neutral name too: the name must not carry it.
    names = field_names([t if t is not None else "" for t in titles])
    n = len(source.labels)
    batches = source.batches()
    sample_parts: list[list[pa.Array]] = [[] for _ in range(n)]
    pending: list[list[pa.Array]] = []
    sampled = 0
    for columns in batches:
        pending.append(columns)
        if sampled < SAMPLE_ROWS:
            rows = len(columns[0]) if columns else 0
            take = min(rows, SAMPLE_ROWS - sampled)
            for i, column in enumerate(columns):
                sample_parts[i].append(column.slice(0, take))
            sampled += take
        if sampled >= SAMPLE_ROWS:
            break
    sample = [
        pa.concat_arrays(parts) if parts else pa.array([], pa.string()) for parts in sample_parts
    ]
    sample_guesses = [guess(column) for column in sample]
    verifiers = [
        Verifier(options=list(options), track_keys=_key_eligible(index, names[index]))
        for index, options in enumerate(sample_guesses)
    ]

    def every_batch() -> Iterator[list[pa.Array]]:
        yield from pending
        yield from batches

    last_first: Any = None
    for columns in every_batch():
        for verifier, column in zip(verifiers, columns, strict=True):
            verifier.feed(column, track_limit=KEY_TRACK_BYTES)
        if columns and len(columns[0]):
            last_first = columns[0][-1].as_py()
    widened = [v for v in verifiers if v.recheck_until]
    if widened:
        # A later batch narrowed a column's type: check the head of the file again for it.
        last = max(v.recheck_until for v in widened)
        for index, columns in enumerate(source.batches()):
            if index >= last:
                break
            for verifier, column in zip(verifiers, columns, strict=True):
                verifier.recheck(index, column)
    return Inferred(
        labels=source.labels,
        names=names,
        titles=titles,
        guesses=[v.current for v in verifiers],
        sample_guesses=[g[0] for g in sample_guesses],
        verifiers=verifiers,
        sample=sample,
        total_row=isinstance(last_first, str) and _TOTAL.match(last_first) is not None,
    )


def _key_eligible(index: int, name: str) -> bool:
    """Columns that may become the primary key: the first one, or one named like an id."""
    return index == 0 or _KEY_NAME.search(name) is not None


def _primary_key(inferred: Inferred) -> list[str]:
    """The first complete, distinct column among those eligible (`_key_eligible`)."""
    candidates = inferred.key_candidates()
    return candidates[:1]


def _fields(inferred: Inferred, primary: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, title, g, verifier in zip(
        inferred.names, inferred.titles, inferred.guesses, inferred.verifiers, strict=True
    ):
        fdesc: dict[str, Any] = {"name": name}
        if title is not None and title != name:
            fdesc["title"] = title
        fdesc.update(g.descriptor())
        if verifier.rows and verifier.missing == 0 and name not in primary:
            fdesc["constraints"] = {"required": True}
        out.append(fdesc)
    return out


def _facts(
    inferred: Inferred, index: int, primary: list[str], candidates: list[str]
) -> tuple[str, ...]:
    verifier = inferred.verifiers[index]
    name = inferred.names[index]
    facts = [f"{verifier.rows - verifier.missing:,} of {verifier.rows:,} rows filled"]
    if inferred.guesses[index] != inferred.sample_guesses[index]:
        facts.append(
            f"the sample read as {inferred.sample_guesses[index].describe()}, a later row did not"
        )
    if name in primary:
        facts.append("all distinct: the primary key")
    elif name in candidates:
        facts.append("all distinct: a key candidate")
    if inferred.titles[index] is None and inferred.labels[index].strip():
        facts.append("its header cell looks like a value and is not kept as the title")
    return tuple(facts)


def _stamp(now: dt.datetime | None) -> str:
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def init_package(
    source: Path,
    *,
    out: Path,
    sheet: str | None = None,
    name: str | None = None,
    now: dt.datetime | None = None,
) -> InitResult:
    """Draft a package for `source` in `out` (created, or an earlier draft updated)."""
    if not source.is_file():
        raise InputError(f"{source} does not exist or is not a file")
    kind = FORMATS.get(source.suffix.lower())
    if kind is None:
        raise InputError(
            f"{source.name}: opengov init drafts from .csv, .txt, .tsv, .xlsx or .parquet files"
        )
    if sheet is not None and kind != "xlsx":
        raise InputError("--sheet applies to .xlsx workbooks only")
    if kind == "parquet":
        from opengov.draft.parquet import init_parquet

        return init_parquet(source, out=out, name=name, now=now)
    existing = read_existing(out, IMPORTER)
    rname = resource_name(name or source.stem)
    with Staging(out) as staging:
        data_rel = f"data/{rname}.csv"
        target = staging.path / data_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        chosen_sheet = None
        if kind == "xlsx":
            converted = staging.path / ".sheet.csv"
            chosen_sheet = sheet_to_csv(source, sheet, converted)
            shown = f"sheet {chosen_sheet!r} of {source.name}"
            csv_source = open_csv(converted, rname, encoding="utf-8", shown=shown)
        else:
            csv_source = open_csv(source, rname)
        inferred = infer_csv(csv_source)
        if inferred.rows == 0:
            raise InputError(f"{source.name} has a header but no rows to draft types from")
        csv_source.write_renamed(target, inferred.names)
        if kind == "xlsx":
            (staging.path / ".sheet.csv").unlink()
        primary = _primary_key(inferred)
        candidates = inferred.key_candidates()
        schema: dict[str, Any] = {"fields": _fields(inferred, primary)}
        if primary:
            schema["primaryKey"] = primary
        resource: dict[str, Any] = {
            "name": rname,
            "path": data_rel,
            "format": "csv",
            "encoding": csv_source.encoding,
            "dialect": csv_source.dialect_descriptor(),
            "schema": schema,
        }
        title = chosen_sheet or source.stem
        descriptor = merge_descriptor(
            {"name": rname, "title": title, "licenses": [dict(CC0)], "resources": [resource]},
            existing.descriptor,
        )
        drafts = [
            FieldDraft(
                name=n,
                title=inferred.titles[i],
                type=inferred.guesses[i].describe(),
                observation=_observe(inferred, i),
                facts=_facts(inferred, i, primary, candidates),
            )
            for i, n in enumerate(inferred.names)
        ]
        draft = render_rules(rname, drafts, command=f"opengov init {source.name}")
        rules_bytes = existing.rules if existing.rules_edited and existing.rules else draft
        record = {
            "importer": IMPORTER,
            "opengov": __version__,
            "source": {
                "file": source.name,
                "format": kind,
                **({"sheet": chosen_sheet} if chosen_sheet else {}),
                "sha256": sha256_file(source),
                "bytes": source.stat().st_size,
            },
            "imported_at": _stamp(now),
            "rows": inferred.rows,
            "key_candidates": candidates,
            "data": {
                "path": data_rel,
                "sha256": sha256_file(target),
                "bytes": target.stat().st_size,
            },
            "rules_draft_sha256": hashlib.sha256(draft).hexdigest(),
        }
        staging.write(DESCRIPTOR, json_bytes(descriptor))
        staging.write(RULES, rules_bytes)
        staging.write(RECORD, json_bytes(record))
        changed = not staging.same_as_out({RECORD: ("imported_at", "opengov")})
        if changed:
            staging.commit()
    return InitResult(
        source=str(source),
        out=str(out),
        resource=rname,
        format=kind,
        encoding=csv_source.encoding,
        dialect=csv_source.dialect_descriptor(),
        rows=inferred.rows,
        fields=tuple(
            FieldSummary(
                name=n,
                title=inferred.titles[i],
                type=inferred.guesses[i].type,
                required=inferred.verifiers[i].missing == 0,
                widened_from=inferred.sample_guesses[i].type
                if inferred.sample_guesses[i] != inferred.guesses[i]
                else None,
            )
            for i, n in enumerate(inferred.names)
        ),
        primary_key=tuple(primary),
        key_candidates=tuple(candidates),
        changed=changed,
        rules="kept" if rules_bytes is not draft else "drafted",
        unclassified=unclassified(rules_bytes, rname, inferred.names),
        lines_above_header=csv_source.lines_above,
        total_row=inferred.total_row,
        unlabelled=tuple(
            n
            for n, label, v in zip(inferred.names, inferred.labels, inferred.verifiers, strict=True)
            if not label.strip() and v.missing < v.rows
        ),
    )


def _observe(inferred: Inferred, index: int) -> Observation:
    """Detectors over the sample, on the text as written (a number column is not scanned:
    its cells are amounts, not identifiers)."""
    g = inferred.guesses[index]
    column = inferred.sample[index]
    if g.type in ("string", "integer"):
        return observe(present(column))
    return Observation(sampled=len(present(column)), scanned=False)
