"""Applying people's classification decisions to an imported social-media package.

Decisions come as CSV `record_id,classification,classified_by,reason`, one line per post or
comment. The whole file is checked first and every problem reported by line number; only a
clean file changes anything. `classified_at` is the time of applying (UTC); a decision that
repeats what a record already says keeps its earlier time, so re-running is a no-op.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opengov.errors import InputError
from opengov.importers.social.package import (
    PackageInfo,
    count_by_classification,
    one_writer_at_a_time,
    package_files,
    read_existing,
)
from opengov.importers.social.package import replace_files as _replace_files
from opengov.importers.social.records import (
    CLASSIFICATIONS,
    IMPORT_DECIDER,
    Row,
    iso_utc,
    sort_rows,
)

Clock = Callable[[], datetime]
COLUMNS = ("record_id", "classification", "classified_by", "reason")
_MAX_DETAILS = 50


@dataclass(frozen=True)
class Decision:
    record_id: str
    classification: str
    classified_by: str
    reason: str
    line: int


@dataclass(frozen=True)
class ClassifyResult:
    """What `classify` changed; `to_dict()` is exactly what `--json` prints."""

    package: str
    decisions_file: str
    decisions: int
    changed: int
    classified_at: str
    posts: dict[str, int]
    comments: dict[str, int]
    outputs: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "decisions_file": self.decisions_file,
            "decisions": self.decisions,
            "changed": self.changed,
            "classified_at": self.classified_at,
            "posts": {"by_classification": dict(self.posts)},
            "comments": {"by_classification": dict(self.comments)},
            "outputs": dict(self.outputs),
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


def classify(
    package_dir: Path, decisions_csv: Path, *, clock: Clock | None = None
) -> ClassifyResult:
    """Merge the decisions in `decisions_csv` into the package; `InputError` on any bad line."""
    package_dir, decisions_csv = Path(package_dir), Path(decisions_csv)
    with one_writer_at_a_time(package_dir):
        return _classify(package_dir, decisions_csv, clock)


def _classify(package_dir: Path, decisions_csv: Path, clock: Clock | None) -> ClassifyResult:
    existing = read_existing(package_dir)
    if existing.descriptor is None:
        raise InputError(f"{package_dir.name} is not an imported social-media package")
    known = set(existing.posts) | set(existing.comments)
    decisions = {d.record_id: d for d in read_decisions(decisions_csv, known)}
    moment = (clock or _utc_now)()
    if moment.tzinfo is None:  # a naive clock means UTC, never the machine's local time
        moment = moment.replace(tzinfo=UTC)
    now = iso_utc(moment)
    posts, p_changed = _apply(existing.posts, decisions, now)
    comments, c_changed = _apply(existing.comments, decisions, now)
    files = package_files(
        existing.descriptor,
        PackageInfo(),
        package_dir,
        list(existing.descriptor.get("sources") or []),
        posts,
        comments,
    )
    _replace_files(package_dir, files)
    return ClassifyResult(
        package=str(package_dir),
        decisions_file=str(decisions_csv),
        decisions=len(decisions),
        changed=p_changed + c_changed,
        classified_at=now,
        posts=count_by_classification(posts),
        comments=count_by_classification(comments),
        outputs={name: str(package_dir / name) for name in sorted(files)},
    )


def _apply(
    rows: Mapping[str, Row], decisions: Mapping[str, Decision], now: str
) -> tuple[list[Row], int]:
    out: list[Row] = []
    changed = 0
    for record_id, row in rows.items():
        decision = decisions.get(record_id)
        if decision is not None and _differs(row, decision):
            row = {
                **row,
                "classification": decision.classification,
                "classified_by": decision.classified_by,
                "classified_at": now,
                "reason": decision.reason,
            }
            changed += 1
        out.append(row)
    return sort_rows(out), changed


def _differs(row: Row, decision: Decision) -> bool:
    current = (row["classification"], row["classified_by"], row["reason"])
    return current != (decision.classification, decision.classified_by, decision.reason)


def read_decisions(path: Path, known: set[str]) -> list[Decision]:
    """Every decision of the file, or `InputError` listing each bad line (no values quoted).

    The file is read as tables are (`opengov.package.detect_encoding`, then the CSV dialect
    frictionless would sniff, `opengov.sources.readers.csv_dialect`), so what a Swedish
    spreadsheet saves (Windows-1252, `;`, perhaps a byte-order mark) reads as it does anywhere
    else in opengov; an `.xlsx` works too.
    """
    header, rows = _table_rows(path)
    header = [cell.strip() for cell in header]
    _check_header(path, header)
    decisions, problems = _check_lines(rows, header, known)
    if problems:
        shown = problems[:_MAX_DETAILS]
        if len(problems) > _MAX_DETAILS:
            shown.append(f"... and {len(problems) - _MAX_DETAILS} more")
        raise InputError(
            f"{path.name}: {len(problems)} problem(s) in the decisions; nothing was changed",
            details=shown,
        )
    if not decisions:
        raise InputError(f"{path.name} holds no decisions")
    return decisions


def _table_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and numbered rows of the decisions file, through the project's table readers.

    The delimiter is sniffed as for any table; where the sniffer gives up (a spreadsheet's
    trailing blank lines can make it) and the header comes out as one cell, the file is read
    again with each usual delimiter declared, and the one that yields the four columns wins.
    """
    if not path.is_file():
        raise InputError(f"decisions file {path.name} does not exist")
    if not path.read_bytes().strip():
        raise InputError(f"{path.name} is empty")
    header, rows = _read_table(path, None)
    if set(COLUMNS) <= {h.strip() for h in header} or path.suffix.lower() == ".xlsx":
        return header, rows
    for delimiter in (";", "\t", "|", ","):
        if len(header) == 1 and delimiter in header[0]:
            retry = _read_table(path, delimiter)
            if set(COLUMNS) <= {h.strip() for h in retry[0]}:
                return retry
    return header, rows


def _read_table(path: Path, delimiter: str | None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from opengov.package import ResourceSpec, detect_encoding
    from opengov.sources.readers import csv_dialect, python_csv_rows, xlsx_rows

    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    # The header is line 1: said, so the header sniffing does not guess otherwise.
    dialect: dict[str, Any] = {"header": True}
    if delimiter is not None:
        dialect["delimiter"] = delimiter
    resource = ResourceSpec(
        name="decisions",
        format=fmt,
        schema={"fields": [{"name": c, "type": "string"} for c in COLUMNS]},
        descriptor={"name": "decisions", "path": path.name},
        path=path,
        relpath=path.name,
        encoding=detect_encoding(path) if fmt == "csv" else None,
        dialect=dialect,
    )
    try:
        if fmt == "xlsx":
            native = xlsx_rows(resource)
        else:
            native = python_csv_rows(resource, csv_dialect(resource))
    except InputError as exc:
        raise InputError(f"{path.name} is not a readable table: {exc.message}") from None
    except (UnicodeDecodeError, csv.Error, ValueError):
        raise InputError(f"{path.name} is not a readable CSV or XLSX table") from None
    rows = [(number, ["" if c is None else str(c) for c in cells]) for number, cells in native.rows]
    return [str(label) for label in native.labels], rows


def _check_header(path: Path, header: list[str]) -> None:
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        details = [f"missing column {c}" for c in missing] + [
            f"unknown column {c!r}" for c in unknown
        ]
        raise InputError(
            f"{path.name} line 1: the header must be {','.join(COLUMNS)}", details=details
        )


def _check_lines(
    rows: list[tuple[int, list[str]]], header: list[str], known: set[str]
) -> tuple[list[Decision], list[str]]:
    decisions: list[Decision] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(f"line {line}: {len(cells)} columns, expected {len(header)}")
            continue
        values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        line_problems = _check_values(values, line, known, seen)
        problems.extend(line_problems)
        if not line_problems:
            seen[values["record_id"]] = line
            decisions.append(Decision(**{c: values[c] for c in COLUMNS}, line=line))
    return decisions, problems


def _check_values(
    values: dict[str, str], line: int, known: set[str], seen: dict[str, int]
) -> list[str]:
    problems = []
    record_id = values["record_id"]
    if record_id not in known:
        problems.append(f"line {line}: unknown record_id (in neither posts nor comments)")
    elif record_id in seen:
        problems.append(f"line {line}: record_id already decided on line {seen[record_id]}")
    if values["classification"] not in CLASSIFICATIONS:
        problems.append(f"line {line}: classification must be one of {', '.join(CLASSIFICATIONS)}")
    if not values["classified_by"]:
        problems.append(f"line {line}: classified_by is empty (who decided?)")
    elif values["classified_by"].startswith(IMPORT_DECIDER):
        problems.append(f"line {line}: classified_by may not start with '{IMPORT_DECIDER}'")
    if not values["reason"]:
        problems.append(f"line {line}: reason is empty (why?)")
    return problems
