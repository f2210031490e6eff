"""Red team of the fast publish: the shortcuts that decide "unchanged", the XLSX written on the
way, redaction on the pool, the history comparison. Each test attacks one guarantee through the
real CLI (or the function the CLI calls) with the inputs a real portal can meet."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from hostile import invoke, write_package
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opengov.release import provenance

# --- the keyless inputs fingerprint: an input's identity on disk ---------------------------


def _swap_same_size(path: Path, how: str) -> None:
    """Put other bytes of the same size in place of `path`, its modification time kept, the way
    `touch -r`, `cp -p`, `rsync -t` or `tar x` do."""
    st = path.stat()
    data = path.read_bytes()
    changed = data.replace(b"Anna Berg", b"Anna Borg")
    assert changed != data and len(changed) == len(data)
    if how == "utime":  # written in place, then its time set back
        path.write_bytes(changed)
    else:  # a copy made elsewhere, moved over it (a new inode)
        other = path.with_name(path.name + ".new")
        other.write_bytes(changed)
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        if how == "copy2":
            shutil.copy2(other, path)
            other.unlink()
        else:
            os.replace(other, path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


@pytest.mark.parametrize("how", ["utime", "copy2", "rename"])
def test_a_source_replaced_with_its_size_and_time_is_published_again(
    tmp_path: Path, how: str
) -> None:
    """Without a key the fast path trusted size and modification time: other bytes put in
    place with both kept were called "unchanged", and the portal kept the old data."""
    package = write_package(tmp_path / "pkg")
    portal = tmp_path / "portal"
    assert invoke(["publish", str(package), "--to", str(portal)]).exit_code == 0
    _swap_same_size(package / "data" / "r.csv", how)
    run = invoke(["publish", str(package), "--to", str(portal)])
    assert run.exit_code == 0, run.output
    assert "published release 2" in run.output, run.output
    assert b"Anna Borg" in (portal / "ds" / "data" / "r.csv").read_bytes()
    # And once published, the same inputs are unchanged again (the fast path still works).
    again = invoke(["publish", str(package), "--to", str(portal)])
    assert again.exit_code == 0 and "unchanged (release 2)" in again.output


def test_the_fingerprint_is_taken_before_the_data_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first publish fingerprinted the inputs (without a key) after reading them: a file
    replaced meanwhile was recorded as published, its old bytes in the portal for good."""
    from opengov import pipeline

    package = write_package(tmp_path / "pkg")
    portal = tmp_path / "portal"
    built = pipeline.build_release

    def build_then_replace(*args: object, **kwargs: object) -> object:
        release = built(*args, **kwargs)  # type: ignore[arg-type]
        _swap_same_size(package / "data" / "r.csv", "rename")  # after the read
        return release

    monkeypatch.setattr(pipeline, "build_release", build_then_replace)
    assert invoke(["publish", str(package), "--to", str(portal)]).exit_code == 0
    assert b"Anna Berg" in (portal / "ds" / "data" / "r.csv").read_bytes()
    monkeypatch.setattr(pipeline, "build_release", built)
    run = invoke(["publish", str(package), "--to", str(portal)])
    assert run.exit_code == 0 and "published release 2" in run.output, run.output
    assert b"Anna Borg" in (portal / "ds" / "data" / "r.csv").read_bytes()


def test_a_fingerprint_waits_for_the_tick_of_a_fresh_input(tmp_path: Path) -> None:
    """A file changed again within the tick of its last change keeps its times, so an input
    that changed in the current tick is fingerprinted only once the file system's clock has
    moved on: whatever changes it later has a later change time."""
    from opengov.package import load_package
    from opengov.targets.folder_state import fs_now

    for attempt in range(20):
        package = write_package(tmp_path / f"pkg{attempt}")
        data = package / "data" / "r.csv"
        first = provenance.inputs_fingerprint(load_package(package), None)
        clock = fs_now(data.parent)
        assert clock is not None
        assert clock.ns > data.stat().st_ctime_ns
        _swap_same_size(data, "utime")  # at once: the same tick, unless the fingerprint waited
        assert provenance.inputs_fingerprint(load_package(package), None) != first


def test_without_a_file_system_clock_a_fresh_input_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no unnamed file can be made in the input's folder (no O_TMPFILE: macOS,
    overlayfs before Linux 6.6, NFS), the system clock stands in, two seconds wide: waiting
    for it held every publish of freshly written inputs two seconds. Such a fingerprint is
    one of a kind at once (the next publish compares), and stable once the inputs are older."""
    import time

    from opengov.package import load_package

    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    package = write_package(tmp_path / "pkg")
    first = provenance.inputs_fingerprint(load_package(package), None)
    assert provenance.inputs_fingerprint(load_package(package), None) != first  # racy
    assert slept == []
    real = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real() + 3_000_000_000)  # inputs aged 3 s
    settled = provenance.inputs_fingerprint(load_package(package), None)
    assert provenance.inputs_fingerprint(load_package(package), None) == settled
    assert slept == []


# --- the XLSX download written on the way ----------------------------------------------------

# Cells a spreadsheet runs or a sheet's XML cannot hold as they are: formula starts (ASCII and
# full-width), control characters, Excel's own _xHHHH_ escape, markup, long text.
_HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "=1+1",
            "+46 8 123",
            "-5",
            "@SUM(A1)",
            "\t=x",
            "\r=x",
            "\uff1d1+1",
            "'=x",
            "=",
            " =x",
            "_x0041_",
            "a\x01b",
            "a\x0bb",
            "\x1f",
            "\ufffe",
            "<b>&amp;",
            "\u00e5\u00e4\u00f6",
            "",
        ]
    ),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
    st.builds(lambda c, n: c * n, st.sampled_from("x=\u00e5"), st.integers(32_760, 32_780)),
)


def _mixed_package(root: Path, texts: list[str], numbers: list[float]) -> Path:
    fields = [
        {"name": "id", "type": "integer"},
        {"name": "text", "type": "string"},
        {"name": "tal", "type": "number"},
        {"name": "dag", "type": "date"},
        {"name": "tid", "type": "datetime"},
    ]
    rows = [
        [str(i), t, repr(n), f"20{i % 30:02d}-0{1 + i % 9}-1{i % 10}",
         f"1999-12-31T23:59:{i % 60:02d}"]
        for i, (t, n) in enumerate(zip(texts, numbers, strict=False))
    ]  # fmt: skip
    rules = {
        "version": 1,
        "decided_by": "Testkommunen",
        "on_detect": "quarantine",  # what the last scan finds in the text withholds its row
        "resources": {
            "r": {
                "fields": {
                    "id": "public",
                    "text": {
                        "class": "public",
                        "names": "public",
                        "basis": "2 kap. 1 § TF",
                        "reason": "Påhittade texter",
                    },
                    "tal": "public",
                    "dag": "public",
                    "tid": "public",
                }
            }
        },
    }
    package = write_package(root, rules=rules)
    descriptor = json.loads((package / "datapackage.json").read_text())
    descriptor["resources"][0]["schema"] = {"fields": fields}
    (package / "datapackage.json").write_text(json.dumps(descriptor))
    with (package / "data" / "r.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow([f["name"] for f in fields])
        writer.writerows(rows)
    return package


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    texts=st.lists(_HOSTILE_TEXT, min_size=1, max_size=30),
    numbers=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=30, max_size=30),
)
def test_the_xlsx_is_the_same_streamed_or_read_back_whatever_the_cells(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], numbers: list[float]
) -> None:
    """Formula starts, control characters, Excel's escape and cells over Excel's limit, with
    rows withheld by the last scan: the XLSX written on the way is the one written from the
    Parquet file afterwards, byte for byte, and its cells are neutralised as the CSV's are."""
    from opengov import pipeline

    root = tmp_path_factory.mktemp("x")
    package = _mixed_package(root / "pkg", texts, numbers)
    books = []
    with pytest.MonkeyPatch.context() as patch:
        for margin in (pipeline._XLSX_ESTIMATE_MARGIN, 0.0):
            patch.setattr(pipeline, "_XLSX_ESTIMATE_MARGIN", margin)
            portal = root / f"portal-{margin}"
            run = invoke(["publish", str(package), "--to", str(portal)])
            assert run.exit_code == 0, run.output
            books.append(portal / "ds" / "data" / "r.xlsx")
    assert books[0].read_bytes() == books[1].read_bytes()
    csv_text = [row[1] for row in _csv_rows(books[0].with_suffix(".csv"))]
    sheet = _xlsx_rows(books[0])
    assert [row[1] or "" for row in sheet] == [_excel_cut(t) for t in csv_text]
    for cell in csv_text:
        neutral = cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r")
        assert neutral or not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))[1:]


def _xlsx_rows(path: Path) -> list[tuple[object, ...]]:
    import re

    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["Data"].iter_rows(values_only=True))[1:]
    book.close()

    def unescape(value: object) -> object:
        if not isinstance(value, str):
            return value
        # openpyxl leaves Excel's _xHHHH_ escapes as they are: read them as Excel does.
        return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)

    return [tuple(unescape(v) for v in row) for row in rows]


def _excel_cut(text: str) -> str:
    return text[:32_767]


def _portal_files(portal: Path) -> dict[str, bytes]:
    """Every published file, less what names the time of the publish (provenance and history,
    the page's times and the provenance hash it shows)."""
    import re

    out = {}
    for path in sorted(portal.rglob("*")):
        if path.is_file() and path.name not in ("provenance.json", "history.json"):
            data = path.read_bytes()
            if path.suffix == ".html":
                data = re.sub(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z|[0-9a-f]{64}", b"", data)
            out[path.relative_to(portal).as_posix()] = data
    return out


@pytest.mark.parametrize("first_rows", [1, 7])
def test_a_table_whose_first_batch_is_long_rows_crosses_the_limit_on_the_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_rows: int
) -> None:
    """The first batch's long rows estimate the table within the download limit, the short
    rows after it take it over: the XLSX begun on the way is deleted, the page says why, and
    the release is the one the read-back path makes (no XLSX there either)."""
    from opengov import pipeline
    from opengov.release import xlsx
    from opengov.sources import csv as csv_source
    from opengov.sources import typed

    monkeypatch.setattr(xlsx, "DOWNLOAD_MAX_ROWS", 200)
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(typed, "BATCH_ROWS", first_rows)
    long_rows = [[str(i), "Anna Berg " + "x" * 3000, "640823-3234"] for i in range(first_rows)]
    short = [[str(i), "Per Ek", "640823-3234"] for i in range(first_rows, 600)]
    package = write_package(tmp_path / "pkg", rows=long_rows + short)
    from opengov.release import writers

    started: list[float] = []
    original = writers._XlsxSink.__init__

    def counting(self: writers._XlsxSink, *args: object) -> None:
        started.append(margin)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(writers._XlsxSink, "__init__", counting)
    published = {}
    margins = (pipeline._XLSX_ESTIMATE_MARGIN, 0.0)
    for margin in margins:
        monkeypatch.setattr(pipeline, "_XLSX_ESTIMATE_MARGIN", margin)
        portal = tmp_path / f"portal-{margin}"
        run = invoke(["publish", str(package), "--to", str(portal)])
        assert run.exit_code == 0, run.output
        assert not (portal / "ds" / "data" / "r.xlsx").exists()
        assert invoke(["verify", "--allow-unsigned", str(portal / "ds")]).exit_code == 0
        published[margin] = _portal_files(portal / "ds")
    assert started == [margins[0]]  # begun on the way in the first publish only
    streamed, read_back = published.values()
    assert streamed == read_back
    page = streamed["index.html"].decode()
    assert "Tabellen har 600 rader; Excel-filer görs för tabeller med högst 200 rader" in page
    assert "r.xlsx" not in page


# --- redaction on the pool -------------------------------------------------------------------

_CELLS = st.sampled_from(
    ["811228-9874", "19640823-3234", "701063-2391", "Ring 070-123 45 67", "anna@example.se",
     "Anna Berg", "Per Ek och Åsa Öberg", "KS 2024/15", "F10023", "=SUM(1)", "", "0 8 - 1 2 3",
     "Skyddad adress", "Storgatan 1, 123 45 Exempelby", "x"]
)  # fmt: skip


def _scanned_package(root: Path, rows: list[tuple[str, str, str]]) -> Path:
    rules = {
        "version": 1,
        "decided_by": "Testkommunen",
        "on_detect": "quarantine",
        "resources": {
            "r": {
                "fields": {
                    "id": "public",
                    "namn": {"class": "personal", "action": "pseudonymize",
                             "basis": "39 kap. 3 § OSL"},
                    "personnummer": {"class": "public", "scan": ["personnummer", "phone"]},
                }
            }
        },
    }  # fmt: skip
    package = write_package(root, rules=rules)
    with (package / "data" / "r.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(["id", "namn", "personnummer"])
        writer.writerows([str(i), a, b] for i, (_, a, b) in enumerate(rows))
    return package


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(st.tuples(_CELLS, _CELLS, _CELLS), min_size=1, max_size=400))
def test_redaction_on_the_pool_publishes_what_one_thread_does(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str]], key: str
) -> None:
    """Columns redacted and scanned on several threads, in batches of a few rows (the
    known-clean memory and word counts carried from batch to batch): the same data, manifest
    counts and reports run after run, and as with one thread."""
    from opengov.sources import csv as csv_source
    from opengov.sources import typed
    from opengov.validate import arrow_engine

    root = tmp_path_factory.mktemp("p")
    package = _scanned_package(root / "pkg", rows)
    published = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_source, "BLOCK_SIZE", 1024)
        patch.setattr(typed, "BATCH_ROWS", 16)
        for workers in (arrow_engine.WORKERS, arrow_engine.WORKERS, 1):
            patch.setattr(arrow_engine, "WORKERS", workers)
            portal = root / f"portal-{len(published)}"
            run = invoke(["publish", str(package), "--to", str(portal)])
            if run.exit_code != 0:  # everything quarantined is refused alike every time
                published.append(("refused", run.exit_code, run.output))
                continue
            published.append(("published", _portal_files(portal / "ds")))
    assert published[0] == published[1] == published[2]


def test_a_rule_error_met_on_a_worker_thread_exits_with_its_code_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """`scan` on an integer field is refused on the thread that redacts the column: the
    publish exits with the rules' code, and neither the portal nor a staging folder remains."""
    rules = {
        "version": 1,
        "decided_by": "Testkommunen",
        "resources": {
            "r": {
                "fields": {
                    "id": {"class": "public", "scan": ["personnummer"]},
                    "namn": {"class": "public", "names": "public", "basis": "2 kap. 1 § TF",
                             "reason": "Påhittade namn"},
                    "personnummer": {"class": "personal", "action": "drop",
                                     "basis": "21 kap. 7 § OSL"},
                }
            }
        },
    }  # fmt: skip
    package = write_package(tmp_path / "pkg", rules=rules)
    portal = tmp_path / "portal"
    run = invoke(["publish", str(package), "--to", str(portal)])
    assert run.exit_code == 4, run.output
    assert "'scan' needs a string field" in run.output and "Traceback" not in run.output
    assert not (portal / "ds").exists()
    assert not any((portal / ".opengov-staging").glob("*")) if portal.exists() else True


def test_an_unexpected_failure_on_a_worker_thread_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opengov.redact import gates

    def broken(*args: object, **kwargs: object) -> object:
        raise MemoryError("a detector ran out of memory")

    monkeypatch.setattr(gates.LastScan, "scan_column", broken)
    package = write_package(tmp_path / "pkg")
    portal = tmp_path / "portal"
    run = invoke(["publish", str(package), "--to", str(portal)])
    assert run.exit_code != 0 and "Traceback" not in run.output
    assert not (portal / "ds").exists()
    assert not any((portal / ".opengov-staging").glob("*")) if portal.exists() else True


# --- memory ----------------------------------------------------------------------------------


def test_running_out_of_memory_is_a_clear_error_with_its_own_code(tmp_path: Path) -> None:
    """A publish of six 14 MB cells (each under the record limit) under an 800 MB address
    space ran out of memory reading the page's preview back, and said "internal error", exit
    70. Running out of memory is now said as such, exit 32, and nothing is written."""
    from hostile import run_measured

    rows = [[str(i), "Anna Berg " + "ord " * 3_500_000, "640823-3234"] for i in range(6)]
    package = write_package(tmp_path / "pkg", rows=rows)
    portal = tmp_path / "portal"
    run = run_measured(["publish", str(package), "--to", str(portal)], timeout=240,
                       memory_mb=800)  # fmt: skip
    assert run.exit_code == 32, run.stderr[-2000:]
    assert "out of memory" in run.stderr and "Traceback" not in run.stderr
    assert "internal error" not in run.stderr
    assert not [p for p in portal.rglob("*") if p.is_file()] if portal.exists() else True
