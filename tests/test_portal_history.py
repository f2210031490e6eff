"""History a citizen can read: rows added, removed and changed per release, from published
data only, with a working link to every release's provenance."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import STAFF_ROWS, PackageFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.cli import cli
from opengov.release import history
from opengov.release.history import compare
from opengov.trust import Trust
from opengov.verify import verify_folder

rows = st.dictionaries(
    st.integers(0, 30),
    st.tuples(st.none() | st.sampled_from(["a", "b", "c"]), st.none() | st.integers(0, 3)),
    max_size=25,
)


def table(data: dict[int, tuple[Any, Any]]) -> pa.Table:
    keys = sorted(data)
    return pa.table(
        {
            "id": pa.array(keys, pa.int64()),
            "namn": pa.array([data[k][0] for k in keys], pa.string()),
            "antal": pa.array([data[k][1] for k in keys], pa.int64()),
        }
    )


@settings(max_examples=150, deadline=None)
@given(old=rows, new=rows)
def test_rows_are_matched_by_key(old: dict[int, Any], new: dict[int, Any]) -> None:
    counts = compare(table(old), table(new), ["id"])
    assert counts["added"] == len(new.keys() - old.keys())
    assert counts["removed"] == len(old.keys() - new.keys())
    assert counts["changed"] == sum(1 for k in old.keys() & new.keys() if old[k] != new[k])
    assert (counts["rows_before"], counts["rows_after"]) == (len(old), len(new))


@settings(max_examples=150, deadline=None)
@given(
    old=st.lists(st.tuples(st.none() | st.sampled_from("abc"), st.integers(0, 2)), max_size=20),
    new=st.lists(st.tuples(st.none() | st.sampled_from("abc"), st.integers(0, 2)), max_size=20),
)
def test_without_a_key_rows_are_compared_as_a_multiset(
    old: list[tuple[Any, int]], new: list[tuple[Any, int]]
) -> None:
    def t(values: list[tuple[Any, int]]) -> pa.Table:
        return pa.table(
            {
                "namn": pa.array([v[0] for v in values], pa.string()),
                "antal": pa.array([v[1] for v in values], pa.int64()),
            }
        )

    counts = compare(t(old), t(new), None)
    a, b = Counter(old), Counter(new)
    assert counts["added"] == sum((b - a).values())
    assert counts["removed"] == sum((a - b).values())
    assert counts["changed"] is None and counts["key"] is None


def test_added_removed_and_retyped_columns() -> None:
    old = pa.table({"id": [1, 2], "a": [1, 2], "gammal": ["x", "y"]})
    new = pa.table({"id": [1, 2], "a": ["1", "3"], "ny": [True, False]})
    counts = compare(old, new, ["id"])
    assert counts["columns_added"] == ["ny"] and counts["columns_removed"] == ["gammal"]
    assert counts["changed"] == 1  # a: 1 -> "1" is the same text; 2 -> "3" changed


def test_a_key_the_previous_release_lacks_falls_back_to_whole_rows() -> None:
    old = pa.table({"a": [1, 2]})
    new = pa.table({"id": [1, 2], "a": [1, 5]})
    counts = compare(old, new, ["id"])
    assert counts["key"] is None and counts["added"] == 1 and counts["removed"] == 1


# Short and long values (a value's first 8 bytes are hashed one way, longer values another),
# and values alike but for a zero byte, a last byte or their length.
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | (
    st.sampled_from(["1234567", "1234567\x00", "12345678", "12345678\x00", "123456789", "12345679"])
)


@settings(max_examples=150, deadline=None)
@given(
    old=st.dictionaries(st.integers(0, 40), st.none() | texts, max_size=30),
    new=st.dictionaries(st.integers(0, 40), st.none() | texts, max_size=30),
    batch=st.integers(1, 7),
)
def test_parquet_files_compare_as_their_tables_across_batches(
    tmp_path_factory: pytest.TempPathFactory,
    old: dict[int, str | None],
    new: dict[int, str | None],
    batch: int,
) -> None:
    """Files are read a batch at a time: whatever the batch size, the counts are those of an
    exact comparison (Counter and dicts here)."""
    folder = tmp_path_factory.mktemp("pq")

    def write(data: dict[int, str | None], name: str) -> Path:
        keys = sorted(data)
        path = folder / name
        pq.write_table(
            pa.table({"id": pa.array(keys, pa.int64()), "text": [data[k] for k in keys]}), path
        )
        return path

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(history, "_BATCH_ROWS", batch)
        a, b = write(old, "old.parquet"), write(new, "new.parquet")
        keyed = compare(a, b, ["id"])
        whole = compare(a, b, None)
    assert keyed["added"] == len(new.keys() - old.keys())
    assert keyed["removed"] == len(old.keys() - new.keys())
    assert keyed["changed"] == sum(1 for k in old.keys() & new.keys() if old[k] != new[k])
    before, after = Counter(old.items()), Counter(new.items())
    assert whole["added"] == sum((after - before).values())
    assert whole["removed"] == sum((before - after).values())


_WRITE_RELEASES = """
import sys
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
folder, n = Path(sys.argv[1]), int(sys.argv[2])
text = pa.array([f"Ärende {i} om bygglov på fastigheten Exempelby 1:{i} " * 12 for i in range(n)])
for name, shift in (("old", 0), ("new", 1000)):
    ids = pa.array(range(shift, n + shift), pa.int64())
    table = pa.table({"id": ids, "text": text})
    pq.write_table(table, folder / f"{name}.parquet", row_group_size=65_536)  # as a release
print(pq.read_table(folder / "old.parquet").nbytes // 1024)
"""

# In a process of its own that has done nothing else, so that the peak is the comparison's.
_COMPARE_RELEASES = """
import sys
from pathlib import Path
from opengov.release.history import compare
def peak_kib():
    with open("/proc/self/status") as status:
        return int(next(ln for ln in status if ln.startswith("VmHWM")).split()[1])
base = peak_kib()
counts = compare(Path(sys.argv[1]) / "old.parquet", Path(sys.argv[1]) / "new.parquet", ["id"])
print(counts["added"], counts["removed"], counts["changed"], peak_kib() - base)
"""


def test_comparing_large_files_holds_hashes_not_rows(tmp_path: Path) -> None:
    """The comparison's peak memory grows with the rows by their hashes (16 bytes a row a
    release), not by their text: from 100,000 to 400,000 rows of 700-byte text, it grows by far
    less than the table (reading both releases whole peaked at 1.6 GB for 1M rows)."""
    import subprocess
    import sys

    def run(script: str, *args: str) -> list[int]:
        done = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
        )
        return [int(word) for word in done.stdout.split()]

    tables, peaks = [], []
    for n in (100_000, 400_000):
        folder = tmp_path / str(n)
        folder.mkdir()
        tables.append(run(_WRITE_RELEASES, str(folder), str(n))[0])
        added, removed, changed, peak = run(_COMPARE_RELEASES, str(folder))
        # Keys 1000..n-1 are in both; the text moved with the id, so every kept row changed.
        assert (added, removed, changed) == (1000, 1000, n - 1000)
        peaks.append(peak)
    table_growth, peak_growth = tables[1] - tables[0], peaks[1] - peaks[0]
    assert table_growth > 200 * 1024  # big enough for the check to mean something
    # Holding either release's rows would grow the peak by at least the table's growth.
    assert peak_growth < table_growth / 3, (peaks, tables)
    assert peaks[1] < tables[1] * 3 / 4, (peaks, tables)  # one release whole is the table


def _publish(package: Path, portal: Path) -> None:
    result = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)])
    assert result.exit_code == 0, result.output


def _rewrite(package: Path, rows: list[list[str]]) -> None:
    from helpers import write_csv

    write_csv(package / "data" / "personal.csv", rows)


def test_history_across_three_releases(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    portal = tmp_path / "portal"
    package = make_package()
    _publish(package, portal)
    # Release 2: Lena Berg (id 4) leaves, a new employee (id 5) arrives, Åsa (id 2) moves.
    second = [r[:] for r in STAFF_ROWS if r[0] != "4"]
    second[2][5] = "Ekonomi"
    second.append(["5", "Ny Person", "", "30000,00", "2023-02-01", "Vård", "nej", ""])
    _rewrite(package, second)
    _publish(package, portal)
    # Release 3: nothing in the published rows changes (only a dropped column does).
    third = [r[:] for r in second]
    third[1][2] = "19811228-9874"
    _rewrite(package, third)
    _publish(package, portal)
    dataset = portal / "personal"
    history = json.loads((dataset / "history.json").read_text(encoding="utf-8"))
    releases = history["releases"]
    assert [r["release"] for r in releases] == [3, 2, 1]
    change = {r["release"]: r["changes"][0] for r in releases}
    assert change[1]["note"] == "first" and change[1]["rows_after"] == 3
    assert (change[2]["added"], change[2]["removed"], change[2]["changed"]) == (1, 1, 1)
    assert change[2]["key"] == ["id"]
    assert (change[3]["added"], change[3]["removed"], change[3]["changed"]) == (0, 0, 0)
    page = (dataset / "history.html").read_text(encoding="utf-8")
    assert "1 rad tillagd, 1 rad borttagen, 1 rad ändrad" in page
    assert "inga rader ändrade" in page
    # Every release's provenance link resolves inside the dataset folder, and verifies.
    import re

    links = re.findall(r'href="((?:history/)?[0-9a-f]*\.?json|provenance\.json)"', page)
    assert len(links) == 3
    for link in links:
        assert json.loads((dataset / link).read_text(encoding="utf-8"))["dataset"] == "personal"
    assert verify_folder(dataset, Trust(allow_unsigned=True)).ok


def test_a_tampered_previous_file_is_not_compared(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    portal = tmp_path / "portal"
    package = make_package()
    _publish(package, portal)
    parquet = portal / "personal" / "data" / "personal.parquet"
    pq.write_table(pa.table({"id": [99]}), parquet)  # not what provenance lists
    rows = [r[:] for r in STAFF_ROWS]
    rows[1][5] = "Skola"
    _rewrite(package, rows)
    _publish(package, portal)
    history = json.loads((portal / "personal" / "history.json").read_text(encoding="utf-8"))
    newest = history["releases"][0]["changes"][0]
    assert newest["note"] == "unverified" and newest["added"] is None
    assert "kan inte jämföras" in (portal / "personal" / "history.html").read_text("utf-8")


@pytest.mark.parametrize("damage", ["not json", '{"releases": 5}', '{"releases": [{"x": 1}]}'])
def test_a_damaged_history_file_does_not_stop_a_publish(
    make_package: PackageFactory, tmp_path: Path, key: str, damage: str
) -> None:
    portal = tmp_path / "portal"
    package = make_package()
    _publish(package, portal)
    (portal / "personal" / "history.json").write_text(damage, encoding="utf-8")
    rows = [r[:] for r in STAFF_ROWS]
    rows[1][5] = "Skola"
    _rewrite(package, rows)
    _publish(package, portal)
    history = json.loads((portal / "personal" / "history.json").read_text(encoding="utf-8"))
    assert [r["release"] for r in history["releases"]] == [2]
    # Release 1 is still listed on the page, from the provenance chain, without its changes.
    page = (portal / "personal" / "history.html").read_text(encoding="utf-8")
    assert 'id="utgava-1"' in page and "Uppgifter om vad som ändrades saknas" in page


stored = st.dictionaries(
    st.integers(0, 30),
    st.tuples(
        st.none() | st.floats(allow_nan=False, width=64).map(lambda f: f + 0.0),  # no -0.0
        st.none() | st.dates(),
        st.none() | st.integers(-(2**63), 2**63 - 1),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(old=stored, new=stored, batch=st.integers(1, 9))
def test_numbers_and_dates_of_one_type_compare_by_their_stored_values(
    old: dict[int, tuple[Any, Any, Any]], new: dict[int, tuple[Any, Any, Any]], batch: int
) -> None:
    """Columns of the same fixed-width type in both releases are hashed from their stored
    values, not their text: the counts are still those of an exact comparison."""

    def t(data: dict[int, tuple[Any, Any, Any]]) -> pa.Table:
        keys = sorted(data)
        return pa.table(
            {
                "id": pa.array(keys, pa.int64()),
                "belopp": pa.array([data[k][0] for k in keys], pa.float64()),
                "datum": pa.array([data[k][1] for k in keys], pa.date32()),
                "antal": pa.array([data[k][2] for k in keys], pa.int64()),
            }
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(history, "_BATCH_ROWS", batch)
        keyed = compare(t(old), t(new), ["id"])
        whole = compare(t(old), t(new), None)
    assert keyed["added"] == len(new.keys() - old.keys())
    assert keyed["removed"] == len(old.keys() - new.keys())
    assert keyed["changed"] == sum(1 for k in old.keys() & new.keys() if old[k] != new[k])
    before, after = Counter(old.items()), Counter(new.items())  # the id is a column too
    assert whole["added"] == sum((after - before).values())
    assert whole["removed"] == sum((before - after).values())


def test_a_batch_is_bounded_by_nested_columns_and_the_widest_row_group(tmp_path: Path) -> None:
    """A batch's rows follow its bytes (`_batch_rows`): a nested column (its leaves are named
    "tags.list.element") counts with its bytes, and rows are as wide as in the widest row
    group. Both were missed: a file of narrow rows with some wide ones, or of wide lists, was
    read 16,384 rows a batch whatever their size."""
    wide = "Ärende om bygglov på fastigheten Exempelby 1:1. " * 40  # about 2 KB
    n = 20_000
    lists = pa.table({"id": pa.array(range(n), pa.int64()), "tags": pa.array([[wide, wide]] * n)})
    nested = tmp_path / "nested.parquet"
    # Without dictionaries: a dictionary page holds a repeated value once, and the estimate
    # (from the column chunks' sizes) cannot see how often it repeats: a known limit.
    pq.write_table(lists, nested, compression="zstd", use_dictionary=False)
    rows = history._batch_rows(pq.ParquetFile(nested), ["id", "tags"])
    assert rows * 2 * len(wide.encode()) <= 2 * history._BATCH_BYTES, rows

    skewed = tmp_path / "skewed.parquet"
    schema = pa.schema({"id": pa.int64(), "text": pa.string()})
    with pq.ParquetWriter(skewed, schema, compression="zstd", use_dictionary=False) as writer:
        narrow = pa.table({"id": range(400_000), "text": ["x"] * 400_000}, schema)
        writer.write_table(narrow, row_group_size=400_000)
        writer.write_table(
            pa.table({"id": range(400_000, 400_000 + n), "text": [wide] * n}, schema)
        )
    rows = history._batch_rows(pq.ParquetFile(skewed), ["id", "text"])
    assert rows * len(wide.encode()) <= 2 * history._BATCH_BYTES, rows
    # Same counts as before: the batch size changes only how the file is read.
    assert compare(skewed, skewed, ["id"])["changed"] == 0


def test_nans_of_any_payload_and_intervals_compare_as_they_read() -> None:
    """A NaN reads "nan" whatever bits a writer left in it; an interval (three numbers a
    value) is compared by its text rather than taken for one stored number."""
    import numpy as np

    quiet = np.array([np.nan], np.float64)
    other = (quiet.view(np.uint64) | np.uint64(1)).view(np.float64)
    assert np.isnan(other[0]) and other.tobytes() != quiet.tobytes()
    old = pa.table({"id": [1, 2], "x": pa.array(np.array([np.nan, 1.5]))})
    new = pa.table({"id": [1, 2], "x": pa.array(np.concatenate([other, [2.5]]))})
    assert compare(old, new, ["id"])["changed"] == 1  # only 1.5 -> 2.5
    interval = pa.month_day_nano_interval()
    first = pa.table({"id": [1, 2], "i": pa.array([(1, 2, 3), (4, 5, 6)], interval)})
    second = pa.table({"id": [1, 2], "i": pa.array([(1, 2, 3), (4, 5, 7)], interval)})
    assert compare(first, second, ["id"])["changed"] == 1
