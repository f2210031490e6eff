"""opengov against frictionless on frictionless-py's own test data (see frictionless_corpus.py).

Every distinct table the corpus yields (its `data/` files and the resources its test specs
build from literals, each normalised by frictionless' `infer`) is validated by frictionless
itself and by opengov's library API, with the auto engine (arrow, frictionless fallback) and
with opengov's frictionless engine. Per case they must agree on:

- rows: where both read the table, opengov counts exactly the rows frictionless reads (no
  record silently lost or invented);
- the verdict: valid or invalid;
- the error kinds: the same frictionless error types; where opengov refuses the resource
  (an OpengovError, never a crash), its class maps to the types frictionless reports for that
  refusal (REFUSAL_KINDS).

Where opengov deliberately differs, the case is in DIFFERENCES with the reason, and the test
checks that it still differs (a difference that went away must leave the list) and that
opengov refused it with a clear error, never a crash. The corpus is downloaded from PyPI by
scripts/test.sh (or here, on first use); without a network this module fails, it never skips.
"""

from __future__ import annotations

import warnings
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from frictionless_corpus import Case, Outcome, prepare, run_opengov

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # frictionless' deprecation notes on its own old test data
    ROOT, CASES, REFERENCE = prepare()

ENGINES = ("auto", "frictionless")
# opengov's frictionless engine is frictionless itself behind opengov's loading: on the
# corpus' few large tables (benchmark files of 1-30 MB, a minute of frictionless time) the
# auto engine and the reference already cover them; this keeps the run near two minutes.
_LARGE = 1 << 20

# opengov refuses a file or descriptor with its own error classes; frictionless reports the
# same refusals as error types. The mapping is by meaning: a class and the types it covers.
REFUSAL_KINDS: dict[str, frozenset[str]] = {
    "SchemaError": frozenset(
        {"schema-error", "resource-error", "dialect-error", "field-error", "package-error",
         "metadata-error"}
    ),
    "InputError": frozenset(
        {"scheme-error", "format-error", "encoding-error", "source-error", "compression-error"}
    ),
    "SheetChoiceNeeded": frozenset({"format-error"}),
}  # fmt: skip

# -- the reviewed list of deliberate differences -------------------------------------------------
# Each reason is in docs/formats.md ("Parity with frictionless"). Every listed case must still
# differ, and opengov must refuse it with a clear error (or, for the parquet reference, read it).

_FORMATS = (
    "opengov reads csv, tsv, xlsx and parquet tables; frictionless' XLS, ODS, JSON, "
    "JSON lines, YAML and HTML loaders are refused by name with an InputError, not parsed"
)
_COMPRESSED = (
    "a compressed table (zip, gz, bz2, xz) is refused with a message to unpack it: its size "
    "is unknown until it is decompressed"
)
_MULTIPART = (
    "a multipart resource (path + extrapaths) is refused (join the files first); opengov "
    "read only the first part before, dropping the rows of the others"
)
_PARQUET_REFERENCE = (
    "frictionless' parquet loader needs pandas, which is not installed, so the reference "
    "cannot read it; opengov reads parquet with pyarrow"
)
_LISTED: dict[str, str] = {
    _FORMATS: """
        data/cast-int-to-string-issue-1251.xls
        data/merged-cells-boolean.xls
        data/merged-cells.xls
        data/table-output.ods
        data/table-with-booleans.ods
        data/table-with-booleans.xls
        data/table-with-ints-floats-dates.ods
        data/table-with-ints-floats-dates.xls
        data/table-with-two-sheets.ods
        data/table.jsonl
        data/table.ndjson
        data/table.ods
        data/table.xls
        formats/excel/parsers/__spec__/test_xls.py::test_xls_parser_merged_cells#0
        formats/excel/parsers/__spec__/test_xls.py::test_xls_parser_merged_cells_fill#0
        formats/excel/parsers/__spec__/test_xls.py::test_xls_parser_sheet_by_index#0
        formats/excel/parsers/__spec__/test_xls.py::test_xls_parser_sheet_by_name#0
        formats/excel/parsers/__spec__/test_xlsx.py::test_xlsx_parser_merged_cells_boolean#0
        formats/excel/parsers/__spec__/test_xlsx.py::test_xlsx_parser_merged_cells_fill_boolean#0
        formats/html/__spec__/test_parser.py::test_html_parser_newline_in_cell_construction_file_issue_865#0
        formats/html/__spec__/test_parser.py::test_html_parser_newline_in_cell_issue_865#0
        formats/json/parsers/__spec__/test_json.py::test_json_parser#0
        formats/json/parsers/__spec__/test_json.py::test_json_parser_keyed#0
        formats/json/parsers/__spec__/test_json.py::test_json_parser_keyed_with_keys_provided#0
        formats/ods/__spec__/test_parser.py::test_ods_parser_2nd_sheet_by_index#0
        formats/ods/__spec__/test_parser.py::test_ods_parser_2nd_sheet_by_name#0
        formats/ods/__spec__/test_parser.py::test_ods_parser_sheet_by_index#0
        formats/ods/__spec__/test_parser.py::test_ods_parser_sheet_by_name#0
        formats/yaml/__spec__/test_parser.py::test_yaml_parser#0
        formats/yaml/__spec__/test_parser.py::test_yaml_parser_keyed#0
    """,
    _COMPRESSED: """
        data/chunk1.csv.zip
        data/chunk2.csv.zip
        data/compression/explicit.csv.gz
        data/compression/explicit.csv.zip
        data/doublequote.csv.zip
        data/table.csv.bz2
        data/table.csv.gz
        data/table.csv.xz
        data/table.csv.zip
        data/without-rows.csv.zip
        resources/__spec__/table/test_compression.py::test_resource_compression_local_csv_zip_multiple_files#0
        resources/__spec__/table/test_innerpath.py::test_resource_innerpath_local_csv_zip_multiple_files_explicit#0
    """,
    _PARQUET_REFERENCE: """
        data/table.parquet
        formats/parquet/__spec__/test_parser.py::test_parquet_parser#0
        formats/parquet/__spec__/test_parser.py::test_parquet_parser_columns#0
        formats/parquet/__spec__/test_parser.py::test_parquet_parser_parquet_extension#0
    """,
    _MULTIPART: """
        formats/zip/__spec__/test_adapter.py::test_zip_adapter_to_zip_resource_multipart#0
        resource/__spec__/test_extrapaths.py::test_resource_extrapaths#0
        schemes/multipart/__spec__/test_loader.py::test_multipart_loader_with_compressed_parts_issue_1215#0
    """,
}
DIFFERENCES: dict[str, str] = {
    case_id: reason for reason, ids in _LISTED.items() for case_id in ids.split()
}
# opengov's frictionless engine shares the reference's gap: there the cases agree.
_AUTO_ONLY = {_PARQUET_REFERENCE}


def listed(case_id: str, engine: str) -> str | None:
    """Why this case may differ on this engine (None: it must agree)."""
    reason = DIFFERENCES.get(case_id)
    return None if reason in _AUTO_ONLY and engine != "auto" else reason


# -- comparing ----------------------------------------------------------------------------------


def _size(case: Case) -> int:
    path = case.descriptor.get("path")
    if not isinstance(path, str):
        return 0
    full = ROOT / path
    return full.stat().st_size if full.is_file() else 0


@cache
def outcome(case_id: str, engine: str) -> Outcome:
    case = next(c for c in CASES if c.id == case_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_opengov(ROOT, case.descriptor, engine, CASES.index(case))


def disagreements(ours: Outcome, theirs: Outcome) -> list[str]:
    """What differs between opengov's outcome and frictionless' (empty: they agree)."""
    out = []
    if ours.valid != theirs.valid:
        out.append(f"verdict: opengov {ours.valid}, frictionless {theirs.valid}")
    if ours.rows is not None and theirs.rows is not None and ours.rows != theirs.rows:
        out.append(f"rows: opengov {ours.rows}, frictionless {theirs.rows}")
    if ours.kinds and theirs.kinds:
        if ours.refusal is not None:
            mapped = set().union(*(REFUSAL_KINDS.get(k, frozenset()) for k in ours.kinds))
            if not mapped & theirs.kinds:
                out.append(f"kinds: opengov {ours.refusal}; frictionless {sorted(theirs.kinds)}")
        elif ours.kinds != theirs.kinds:
            out.append(f"kinds: opengov {sorted(ours.kinds)}, frictionless {sorted(theirs.kinds)}")
    return out


def _runs(engine: str) -> list[Case]:
    return [c for c in CASES if engine == "auto" or _size(c) < _LARGE]


PARAMS = [(c, e) for e in ENGINES for c in _runs(e)]


@pytest.mark.parametrize(("case", "engine"), PARAMS, ids=[f"{e}:{c.id}" for c, e in PARAMS])
def test_case(case: Case, engine: str) -> None:
    ours, theirs = outcome(case.id, engine), REFERENCE[case.id]
    assert ours.crash is None, f"opengov crashed (exit 70) on {case.id}: {ours.crash}"
    differs = disagreements(ours, theirs)
    if listed(case.id, engine):
        assert differs, f"{case.id} now agrees with frictionless: remove it from DIFFERENCES"
        # A listed case is refused with a clear error, or read (the parquet reference gap).
        assert ours.refusal or ours.rows is not None, f"{case.id}: listed, but {differs}"
        return
    assert not differs, f"{case.id} ({', '.join(case.sources[:3])}): {differs}"


def test_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """The counts, printed and held: every case runs, the listed differences stay few."""
    counts: Counter[str] = Counter()
    for case, engine in PARAMS:
        ours = outcome(case.id, engine)
        if ours.crash:
            counts[f"{engine}:crash"] += 1
        elif listed(case.id, engine):
            counts[f"{engine}:listed"] += 1
        elif disagreements(ours, REFERENCE[case.id]):
            counts[f"{engine}:unlisted"] += 1
        else:
            counts[f"{engine}:agree"] += 1
    sources = sum(len(c.sources) for c in CASES)
    with capsys.disabled():
        print(
            f"\nfrictionless parity: {len(CASES)} distinct cases from {sources} corpus tables "
            f"and spec resources; auto engine {counts['auto:agree']} agree, "
            f"{counts['auto:listed']} listed differences; frictionless engine "
            f"{len(_runs('frictionless'))} cases, {counts['frictionless:agree']} agree, "
            f"{counts['frictionless:listed']} listed"
        )
    assert len(CASES) >= 200, "the corpus yields fewer cases than it did: look at prepare()"
    assert not any(k.endswith((":crash", ":unlisted")) for k in counts), counts
    assert counts["auto:agree"] + counts["auto:listed"] == len(CASES)
    assert len(DIFFERENCES) <= 50, "the reviewed list is meant to stay small"
    assert len(set(DIFFERENCES.values())) <= 4, "a new kind of difference needs review"
    assert set(DIFFERENCES) <= {c.id for c in CASES}, "a listed case is no longer in the corpus"


def test_corpus_is_not_the_repository() -> None:
    """Nothing of the corpus is committed: it lives in the gitignored .cache/."""
    assert ".cache" in ROOT.parts
    assert Path(ROOT, "..", "..", ".gitignore").resolve().read_text().count("/.cache/") == 1
