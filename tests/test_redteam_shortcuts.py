"""Red team of the shortcuts that make `opengov publish` fast: each decides that some values
need less work, and each is a place where a withheld value or a Swedish identifier could slip
into what is published. Every test attacks one shortcut through the real CLI or the function
the publish calls, with generated variants.

Found:
- a personnummer in a `number` column (198112289874 read as a float) was published: the last
  scan read Arrow's text of the float, "1.98112289874e+11", where no detector sees a
  personnummer, while the Parquet file, the XLSX and the dataset page (its preview and its
  column profile) show every digit. Only values Arrow writes without an exponent were caught
  (a 10-digit one, not a 12-digit one, nor one ending in zeros).
- a previous release's Parquet file in the portal (provenance rewritten to match) with damaged
  pages ended every later publish with an internal error (exit 70); with nested columns or
  300 MB cells, under a 1 GB address space, "ran out of memory" (exit 32).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import free_text_by_counting
from hostile import every_byte, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from identifier_corpus import luhn_check_digit

from opengov.redact import detectors as detect
from opengov.redact.gates import LastScan
from opengov.rules import ResourceRules

# --- numbers: the typed dedupe before the last scan ------------------------------------------


@st.composite
def _personnummer(draw: st.DrawFn) -> tuple[int, int]:
    """(12-digit, 10-digit) forms of a valid personnummer or samordningsnummer as integers."""
    year = draw(st.integers(1900, 2024))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 60]))
    nine = f"{year % 100:02d}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    ten = nine + luhn_check_digit(nine)
    return int(f"{year // 100}{ten}"), int(ten)


@st.composite
def _number_cells(draw: st.DrawFn) -> float | None:
    kind = draw(st.sampled_from(["twelve", "ten", "negative", "fraction", "amount", "none"]))
    if kind == "none":
        return None
    if kind == "amount":
        return draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
    twelve, ten = draw(_personnummer())
    if kind == "twelve":
        return float(twelve)
    if kind == "ten":
        return float(ten)
    if kind == "negative":
        return -float(draw(st.sampled_from([twelve, ten])))
    return twelve + draw(st.sampled_from([0.5, 0.25, 0.75]))


def _shown(value: float) -> str:
    """A float as a reader of the Parquet file, the XLSX or the page sees it: every digit."""
    return np.format_float_positional(value, unique=True, trim="-")


def _expected(values: list[float | None], kinds: list[str]) -> dict[str, list[bool]]:
    texts = pa.array([None if v is None else _shown(v) for v in values], pa.string())
    found = detect.find_cells(texts, kinds)
    return {k: pc.fill_null(found[k], False).to_pylist() for k in kinds if k in found}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(_number_cells(), min_size=1, max_size=12),
    repeat=st.sampled_from([1, 8, 300]),
    kind=st.sampled_from(["float", "int"]),
)
def test_the_last_scan_reads_numbers_as_they_are_shown(
    cells: list[float | None], repeat: int, kind: str
) -> None:
    """Every cell of a number column whose value, written out with all its digits, holds a
    personnummer is found, whether the column repeats (typed dedupe, 300 copies) or not, and
    counted once per cell."""
    if kind == "int":
        cells = [None if c is None or not float(c).is_integer() or abs(c) > 2**62 else c
                 for c in cells]  # fmt: skip
        column = pa.array([None if c is None else int(c) for c in cells] * repeat, pa.int64())
    else:
        column = pa.array(cells * repeat, pa.float64())
    values = column.to_pylist()
    scan = LastScan("r", ResourceRules(name="r"))
    found = scan.scan_column("belopp", pa.chunked_array([column]), ())
    kinds = list(detect.DEFAULT_LAST_SCAN)
    expected = _expected([None if v is None else float(v) for v in values], kinds)
    for k in kinds:
        got = pc.fill_null(found[k], False).to_pylist() if k in found else [False] * len(values)
        assert got == expected.get(k, [False] * len(values)), (k, cells[:4])


def _number_package(root: Path, values: list[str], on_detect: str = "block") -> Path:
    (root / "data").mkdir(parents=True)
    text = "id;belopp\n" + "".join(f"{i};{v}\n" for i, v in enumerate(values))
    (root / "data" / "r.csv").write_text(text, encoding="utf-8")
    fields = [{"name": "id", "type": "integer"}, {"name": "belopp", "type": "number"}]
    descriptor = {"name": "ds", "resources": [{"name": "r", "path": "data/r.csv",
                  "dialect": {"delimiter": ";"}, "schema": {"fields": fields}}]}  # fmt: skip
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rules: dict[str, Any] = {"version": 1, "decided_by": "Testkommunen", "resources": {"r": {
        "fields": {"id": "public", "belopp": "public"}, "on_detect": on_detect}}}  # fmt: skip
    (root / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    return root


@pytest.mark.parametrize("rows", [4, 400])  # a few rows; enough for the typed dedupe
def test_a_personnummer_in_a_number_column_is_not_published(tmp_path: Path, rows: int) -> None:
    """Through the CLI: 12-digit personnummer (and one ending in zeros) in a `number` field
    block the publish, counted per cell; quarantined, none of their digits is published."""
    planted = ["198112289874", "196408233234", "5000000000"]
    amounts = ["100", "250,5", "99999"]
    values = [(planted + amounts)[i % 6] for i in range(rows)]
    hits = sum(v in planted[:2] for v in values)
    package = _number_package(tmp_path / "pkg", [v.replace(",", ".") for v in values])
    run = invoke(["publish", str(package), "--to", str(tmp_path / "portal")])
    assert run.exit_code == 9, run.output
    assert f"r.belopp: personnummer in {hits} cell(s)" in run.output
    assert not (tmp_path / "portal" / "ds").exists()

    package = _number_package(tmp_path / "pkg2", [v.replace(",", ".") for v in values],
                              on_detect="quarantine")  # fmt: skip
    portal = tmp_path / "portal2"
    run = invoke(["publish", str(package), "--to", str(portal)])
    assert run.exit_code == 0, run.output
    # Digits grouped on the page ("198 112 289 874", NBSP or narrow NBSP) read as one number.
    text = re.sub(rb"(?<=[0-9])(?: |\xc2\xa0|\xe2\x80\xaf|\xe2\x80\x89)(?=[0-9])", b"",
                  every_byte(portal))  # fmt: skip
    table = pq.read_table(portal / "ds" / "data" / "r.parquet")
    assert table.num_rows == rows - hits
    for secret in planted[:2]:
        assert secret.encode() not in text
        assert float(secret) not in table["belopp"].to_pylist()
    manifest = json.loads((portal / "ds" / "redactions.json").read_text(encoding="utf-8"))
    assert _quarantined(manifest) == hits, manifest


def _quarantined(manifest: dict[str, Any]) -> int:
    cells = sum(e["cells"] for e in manifest["last_scan"] if e["field"] == "belopp")
    rows = manifest["resources"][0]["rows_quarantined"]
    assert cells == rows  # one planted value a row
    return int(rows)


# --- the history comparison with a hostile previous release ----------------------------------


def _hostile_previous(target: Path, variant: str) -> None:
    """A previous release's Parquet file someone who can write to the portal put in place
    (its provenance rewritten to match, as an unsigned portal allows)."""
    if variant == "groups":  # 200,000 row groups of one row each
        n = 200_000
        table = pa.table({"id": pa.array(range(n), pa.int64()), "namn": pa.array(["x"] * n)})
        pq.write_table(table, target, row_group_size=1)
    elif variant == "nested":  # lists of structs of lists where the columns were flat
        n = 20_000
        ids = pa.array([[{"a": [i] * 50, "b": "y" * 100}] * 20 for i in range(n)])
        table = pa.table({"id": ids, "namn": pa.array([{"k": ["z"] * 100}] * n)})
        pq.write_table(table, target)
    elif variant == "huge":  # two 300 MB cells
        cells = pa.array(["q" * (300 << 20), "w" * (300 << 20), "e"])
        table = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "namn": cells})
        pq.write_table(table, target, compression="zstd")
    else:  # damaged pages behind an intact footer
        data = bytearray(target.read_bytes())
        footer = int.from_bytes(data[-8:-4], "little") + 8
        for i in range(4, len(data) - footer):
            data[i] ^= 0x5A
        target.write_bytes(bytes(data))


@pytest.mark.parametrize("variant", ["groups", "nested", "huge", "damaged"])
def test_a_hostile_previous_release_never_stops_a_publish(tmp_path: Path, variant: str) -> None:
    """Under a 1 GB address space: a previous Parquet file the comparison cannot read (nested
    columns or 300 MB cells: out of memory; damaged pages: an Arrow error) ended the publish
    with "ran out of memory" (exit 32) or an internal error; every later publish of the
    dataset was stopped by a file in the portal. The history now says the release could not be
    compared, and the publish goes on."""
    import hashlib

    from hostile import run_measured, write_package

    package = write_package(tmp_path / "pkg")
    portal = tmp_path / "portal"
    assert invoke(["publish", str(package), "--to", str(portal)]).exit_code == 0
    target = portal / "ds" / "data" / "r.parquet"
    _hostile_previous(target, variant)
    provenance = portal / "ds" / "provenance.json"
    doc = json.loads(provenance.read_text(encoding="utf-8"))
    for entry in doc["generated"]:
        if entry["og:path"] == "data/r.parquet":
            entry["og:sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    provenance.write_text(json.dumps(doc), encoding="utf-8")
    source = package / "data" / "r.csv"
    source.write_text(source.read_text(encoding="utf-8") + "3;Ny Person;640823-3234\n",
                      encoding="utf-8")  # fmt: skip

    run = run_measured(["publish", str(package), "--to", str(portal)], timeout=240,
                       memory_mb=1000)  # fmt: skip
    assert run.exit_code == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert "published release 2" in run.stdout
    releases = json.loads((portal / "ds" / "history.json").read_text(encoding="utf-8"))
    latest = max(releases["releases"], key=lambda r: r["release"])
    (change,) = latest["changes"]
    assert change["rows_after"] == 3
    page = (portal / "ds" / "history.html").read_text(encoding="utf-8")
    if variant == "groups":  # read in full: its rows are counted
        assert change["note"] is None and change["removed"] == 200_000
    else:
        assert change["note"] == "unreadable" and change["rows_before"] is None
        assert "fil inte kunde läsas" in page


# --- the free-text byte shortcut (`_letter_pairs`) -------------------------------------------

# Single letters between digits and separators (codes, initials, names spelt out), letters
# beyond ASCII and look-alikes (Å, ß, Cyrillic а е о, full-width Ａ, Greek, CJK), combining
# marks, modifier letters, NBSP, zero-width and soft-hyphen characters, an emoji.
_CODE_ALPHABET = "AaZz019 .-/:ÅåÖéßаеоＡｚΩ漢ªʰ\u0301\u0308\u00a0\u200b\u200d\u00ad\u2009\U0001f600"


_CELLS = st.one_of(
    st.none(),
    st.text(alphabet=_CODE_ALPHABET, max_size=14),
    st.text(max_size=8),  # any code point
    st.sampled_from(["A. B.", "A-n-n-a", "A n n a", "Å.S.", "K 8112289874", "а.е.о", "Ａ.Ｂ"]),
)


@settings(max_examples=400, deadline=None)
@given(values=st.lists(_CELLS, min_size=1, max_size=30),
       layout=st.sampled_from(["string", "large", "view", "dictionary", "chunked"]))  # fmt: skip
def test_the_byte_shortcut_decides_as_the_word_count_for_any_letters(
    values: list[str | None], layout: str
) -> None:
    """`_letter_pairs` says "no word" only when counting words finds none, whatever the letters
    (held: any byte beyond ASCII counts as a letter, so no character can pair unseen)."""
    from opengov.redact.free_text import is_free_text

    base = pa.array(["zz", *values], pa.string()).slice(1)  # an offset into shared buffers
    column: pa.Array | pa.ChunkedArray = {
        "string": base,
        "large": base.cast(pa.large_string()),
        "view": base.cast(pa.string_view()),
        "dictionary": base.dictionary_encode(),
        "chunked": pa.chunked_array([base[: len(base) // 2], base[len(base) // 2 :]]),
    }[layout]
    assert is_free_text(column) == free_text_by_counting(values)


@settings(max_examples=60, deadline=None)
@given(code=st.sampled_from(["{p}", "A{p}", "{p}B", "KS-{p}/A", "Ärende {p}", "x\u200b{p}"]),
       form=st.sampled_from(["811228-9874", "8112289874", "198112289874", "19811228-9874"]),
       many=st.booleans())  # fmt: skip
def test_a_personnummer_in_a_code_column_is_found(code: str, form: str, many: bool) -> None:
    """Code columns skip the name scan, never the identifier scan: a personnummer inside a
    code-like cell is found, in a column of few rows or one deduplicated (300 rows)."""
    cells = [code.format(p=form), "F10023", "KS 2024/15"] * (100 if many else 1)
    scan = LastScan("r", ResourceRules(name="r"))
    found = scan.scan_column("kod", pa.chunked_array([pa.array(cells)]), ())
    assert pc.sum(found["personnummer"]).as_py() == (100 if many else 1)


# --- the column profile's unique-column shortcut ---------------------------------------------


@pytest.mark.parametrize("rows", [50, 2_500])  # within the top list; past it (the shortcut)
def test_a_unique_column_redaction_changed_shows_only_published_values(
    tmp_path: Path, rows: int
) -> None:
    """A `unique` column that is masked (its last four characters kept) or generalised loses
    the constraint in the published schema, so the profile counts it as it is: a masked value
    repeated ("XXXX1234" for many) is counted as one value, not as many distinct ones, and no
    source value shows on the page (held: the profile reads the published batches only)."""
    root = tmp_path / "pkg"
    (root / "data").mkdir(parents=True)
    # Source values unique only by case and by whitespace: published, their masks repeat.
    lines = ["id;kund;ar"] + [
        f"{i};{'Kund' if i % 2 else 'KUND'}{' ' * (i % 3)}-{i:05d}-9874;{'' if i % 7 == 0 else i}"
        for i in range(rows)
    ]
    (root / "data" / "r.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fields = [{"name": "id", "type": "integer", "constraints": {"unique": True}},
              {"name": "kund", "type": "string", "constraints": {"unique": True}},
              {"name": "ar", "type": "integer", "constraints": {"unique": True}}]  # fmt: skip
    descriptor = {"name": "ds", "resources": [{"name": "r", "path": "data/r.csv",
                  "dialect": {"delimiter": ";"}, "schema": {"fields": fields}}]}  # fmt: skip
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rules = {"version": 1, "decided_by": "Testkommunen", "resources": {"r": {"fields": {
        "id": "public",
        "kund": {"class": "personal", "action": "mask", "keep_last": 4,
                 "basis": "21 kap. 7 § OSL"},
        "ar": {"class": "personal", "action": "generalize", "to": "band", "width": 1000,
               "basis": "21 kap. 7 § OSL"}}}}}  # fmt: skip
    (root / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    portal = tmp_path / "portal"
    run = invoke(["publish", str(root), "--to", str(portal)])
    assert run.exit_code == 0, run.output
    published = every_byte(portal).decode("utf-8", "replace")
    assert not re.search(r"(?i)kund\s*-\d{5}", published)
    page = (portal / "ds" / "index.html").read_text(encoding="utf-8")
    # One published value of kund ("****9874" however masked): one distinct value, shown as
    # the most common with all its rows; the bands of ar as few values, not one per row.
    table = pq.read_table(portal / "ds" / "data" / "r.parquet")
    assert len(set(table["kund"].to_pylist())) == 1
    schema = json.loads((portal / "ds" / "datapackage.json").read_text(encoding="utf-8"))
    published_fields = {f["name"]: f for f in schema["resources"][0]["schema"]["fields"]}
    assert "constraints" not in published_fields["kund"]
    assert "constraints" not in published_fields["ar"]
    assert "[maskerad]9874" in page
    from opengov.release.profile import Profile, unique_columns

    published_schema = schema["resources"][0]["schema"]
    profile = Profile(table.schema, published_schema["fields"], unique_columns(published_schema))
    profile.update(table)
    by_name = {c.name: c for c in profile.finish().columns}
    assert (by_name["kund"].distinct, by_name["kund"].distinct_exact) == (1, True)
    assert by_name["ar"].distinct == len(set(table["ar"].drop_null().to_pylist()))
    assert by_name["id"].distinct == rows  # kept as it is: the shortcut counts it, exactly
