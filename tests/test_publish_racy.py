"""Racy files: what an unchanged re-publish trusts within the file system's clock tick.

A file system stamps ctime with a coarse clock (a jiffy; whole seconds on some), so a file
changed twice within one tick can keep its lstat. The record of a published folder carries the
file system's own time (`folder_state.fs_now`): files at or after it are hashed again, files
strictly older are trusted by lstat. `CoarseClock` plays a file system that stamps in whole
ticks, so a change keeps its lstat for real and only the racy rule can catch it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import PackageFactory
from hostile import snapshot as snapshot_bytes
from test_publish_unchanged import CONSISTENCY, PUBLISHED, TAMPERING, Counted, FullCheck

from opengov.targets import folder_state, static
from opengov.targets.static import publish_static

T0 = 1_700_000_000 * 10**9  # whole seconds, as a file system stamping seconds shows them


class CoarseClock:
    """Every time before `boundary` reads as one tick, every time from it on as the next one
    (no boundary: one tick for ever), for the files' lstat and the clock's stamp alike."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
        self.where = where
        self.boundary: int | None = None
        self.real_now = folder_state.fs_now
        real_snapshot = folder_state.snapshot

        def coarse_snapshot(folder: Path) -> folder_state.Stats | None:
            stats = real_snapshot(folder)
            if stats is None:
                return None
            return {
                rel: (mode, size, self.tick(mtime), self.tick(ctime), ino, dev)
                for rel, (mode, size, mtime, ctime, ino, dev) in stats.items()
            }

        def coarse_now(where: Path | None) -> folder_state.Stamp | None:
            stamp = self.real_now(where)
            return None if stamp is None else folder_state.Stamp(self.tick(stamp.ns), stamp.dev)

        real_lstat = folder_state._lstat

        def coarse_lstat(path: Path) -> list[int] | None:
            st = real_lstat(path)
            return None if st is None else [*st[:2], self.tick(st[2]), self.tick(st[3]), *st[4:]]

        monkeypatch.setattr(folder_state, "snapshot", coarse_snapshot)
        monkeypatch.setattr(folder_state, "fs_now", coarse_now)
        monkeypatch.setattr(folder_state, "_lstat", coarse_lstat)  # the catalogue's inputs

    def tick(self, ns: int) -> int:
        return T0 if self.boundary is None or ns < self.boundary else T0 + 10**9

    def next_tick(self) -> None:
        """From now on: the next tick (after the real clock's own jiffy has passed)."""
        time.sleep(0.05)
        stamp = self.real_now(self.where)
        assert stamp is not None
        self.boundary = stamp.ns


class Hashed(list[str]):
    """The published files an unchanged publish hashes again."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        real = folder_state._sha256

        def spy(path: Path) -> str | None:
            self.append(path.name)
            return real(path)

        monkeypatch.setattr(folder_state, "_sha256", spy)


@pytest.fixture
def portal(tmp_path: Path) -> Path:
    return tmp_path / "portal"


def _flip_keeping_size_and_mtime(path: Path) -> None:
    TAMPERING["same size, mtime put back"](path)


# ------------------------------------------------------------------------------ the real clock


def test_right_after_a_publish_an_unchanged_publish_hashes_no_published_file(
    make_package: PackageFactory, portal: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publish records the folder once its newest file is older than the file system's
    tick (a jiffy here), so the very next publish trusts every file by lstat."""
    package = make_package()
    assert publish_static(package, portal).status == "published"
    full, hashed = FullCheck(monkeypatch), Hashed(monkeypatch)
    for _ in range(3):
        assert publish_static(package, portal).status == "unchanged"
    assert hashed == [] and full.calls == 0
    # ... and what changes after it is still seen.
    _flip_keeping_size_and_mtime(portal / "personal" / "data" / "personal.csv")
    assert publish_static(package, portal).status == "published"


def _no_named_file(*args: Any, **kw: Any) -> Any:
    raise AssertionError("a named file was made where O_TMPFILE works")


@pytest.mark.parametrize("tmpfile", [True, False], ids=["O_TMPFILE", "named file"])
def test_a_change_after_the_stamp_has_a_ctime_at_or_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmpfile: bool
) -> None:
    """What the rule rests on, on this machine's file system: a file written after the clock
    was read is stamped at or after it, however close the two are; the clock leaves nothing."""
    if not tmpfile:
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    elif hasattr(os, "O_TMPFILE"):
        # The unnamed file it is: no named one is made.
        monkeypatch.setattr(folder_state.tempfile, "mkstemp", _no_named_file)
    clock = tmp_path / "clock"
    clock.mkdir()
    file = tmp_path / "file"
    for i in range(200):
        file.write_bytes(b"x" * (i % 3))
        stamp = folder_state.fs_now(clock)
        assert stamp is not None and stamp.dev == clock.stat().st_dev
        assert file.lstat().st_ctime_ns <= stamp.ns  # written before: not after the stamp
        file.write_bytes(b"y" * (i % 3))
        assert file.lstat().st_ctime_ns >= stamp.ns, i
    assert list(clock.iterdir()) == []


def test_a_record_waits_for_the_tick_of_its_newest_file_to_pass(tmp_path: Path) -> None:
    """Recorded straight after its files were written, a folder would be racy in full; the
    record waits (a jiffy) until the file system's clock has moved past its newest file."""
    folder, clock = tmp_path / "folder", tmp_path / "clock"
    folder.mkdir()
    clock.mkdir()
    for i in range(20):
        (folder / f"{i}.csv").write_bytes(b"x" * i)
        folder_state.record(folder, "0" * 64, {}, clock=clock)
        doc = folder_state._load(folder, "0" * 64)
        assert doc is not None and doc["fs_stamp"]["dev"] == folder.stat().st_dev
        stamp = folder_state.Stamp(doc["fs_stamp"]["ns"], doc["fs_stamp"]["dev"])
        files = doc["files"].items()
        assert [r for r, e in files if folder_state._racy(tuple(e["stat"]), 0, stamp)] == [], i


@pytest.mark.parametrize("where", ["missing", "a file"])
def test_no_clock_where_no_file_can_be_created(tmp_path: Path, where: str) -> None:
    path = tmp_path / "x"
    if where == "a file":
        path.write_text("x", encoding="utf-8")
    assert folder_state.fs_now(path) is None
    assert folder_state.fs_now(None) is None


# ------------------------------------------------------------------------------ a coarse clock


@pytest.mark.parametrize("rel", [r for r in PUBLISHED if r != "provenance.json"])
def test_a_change_within_the_tick_of_the_record_is_caught(
    make_package: PackageFactory,
    portal: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    rel: str,
) -> None:
    """Published, then changed in the same tick (same size, mtime put back): the file's lstat
    is what was recorded, so only hashing the racy file sees the change."""
    CoarseClock(monkeypatch, tmp_path)
    package = make_package()
    assert publish_static(package, portal).status == "published"
    dataset = portal / "personal"
    before = folder_state.snapshot(dataset)
    assert before is not None
    _flip_keeping_size_and_mtime(dataset / rel)
    after = folder_state.snapshot(dataset)
    assert after is not None and after[rel] == before[rel]  # nothing lstat can see
    result = publish_static(package, portal)
    assert result.status == "published", rel
    assert static.verify_folder(dataset, CONSISTENCY).ok


def test_racy_files_are_hashed_until_older_than_the_tick_then_trusted_by_lstat(
    make_package: PackageFactory,
    portal: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    clock = CoarseClock(monkeypatch, tmp_path)
    package = make_package()
    assert publish_static(package, portal).status == "published"
    full, hashed = FullCheck(monkeypatch), Hashed(monkeypatch)
    # Same tick: every file is as new as the stamp, hashed each time.
    for _ in range(2):
        hashed.clear()
        assert publish_static(package, portal).status == "unchanged"
        assert "personal.csv" in hashed and "personal.parquet" in hashed
    clock.next_tick()
    # Hashed once more, recorded with the new tick's stamp; from then on trusted by lstat.
    hashed.clear()
    assert publish_static(package, portal).status == "unchanged"
    assert "personal.csv" in hashed
    hashed.clear()
    assert publish_static(package, portal).status == "unchanged"
    assert hashed == [] and full.calls == 0
    # A change in the new tick gives the file a ctime the record does not hold.
    _flip_keeping_size_and_mtime(portal / "personal" / "data" / "personal.parquet")
    assert publish_static(package, portal).status == "published"


class Rendered(Counted):
    """How many times the portal's catalogue is rendered."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch, "write_catalogue")


def test_right_after_a_publish_an_unchanged_publish_renders_no_catalogue(
    make_package: PackageFactory, portal: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = make_package()
    rendered = Rendered(monkeypatch)
    assert publish_static(package, portal).status == "published"
    assert rendered.calls == 1
    for _ in range(2):
        assert publish_static(package, portal).status == "unchanged"
    assert rendered.calls == 1
    # A page edited by hand (its mtime put back) is still rendered again.
    _flip_keeping_size_and_mtime(portal / "index.html")
    assert publish_static(package, portal).status == "unchanged"
    assert rendered.calls == 2


def test_a_catalogue_rendered_while_another_dataset_was_published_is_not_recorded(
    make_package: PackageFactory, portal: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another dataset's publish (its own lock) swapped in while this catalogue was rendered:
    the catalogue may not show it, so it is not taken as current."""
    package = make_package()
    assert publish_static(package, portal).status == "published"
    other = portal / "budget"
    other.mkdir()
    real = static.write_catalogue

    def meanwhile(*args: Any, **kw: Any) -> Any:
        out = real(*args, **kw)
        (other / "provenance.json").write_text("{}", encoding="utf-8")
        return out

    monkeypatch.setattr(static, "write_catalogue", meanwhile)
    package.joinpath("data", "personal.csv").write_bytes(
        package.joinpath("data", "personal.csv").read_bytes().replace(b"Skola", b"Ekonomi", 1)
    )
    assert publish_static(package, portal).status == "published"
    monkeypatch.setattr(static, "write_catalogue", real)
    rendered = Rendered(monkeypatch)
    assert publish_static(package, portal).status == "unchanged"
    assert rendered.calls == 1


@pytest.mark.parametrize("name", ["index.html", "catalog.json"])
def test_a_catalogue_file_changed_within_the_tick_is_rendered_again(
    make_package: PackageFactory,
    portal: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
) -> None:
    CoarseClock(monkeypatch, tmp_path)
    package = make_package()
    assert publish_static(package, portal).status == "published"
    written = (portal / name).read_bytes()
    before = folder_state._lstat(portal / name)
    _flip_keeping_size_and_mtime(portal / name)
    assert folder_state._lstat(portal / name) == before  # nothing lstat can see
    assert publish_static(package, portal).status == "unchanged"
    assert (portal / name).read_bytes() == written


# ------------------------------------------------------------------------------ no such clock


def _no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folder_state, "fs_now", lambda where: None)


def _other_file_system(monkeypatch: pytest.MonkeyPatch) -> None:
    real = folder_state.fs_now

    def elsewhere(where: Path | None) -> folder_state.Stamp | None:
        stamp = real(where)
        return None if stamp is None else folder_state.Stamp(stamp.ns, stamp.dev + 1)

    monkeypatch.setattr(folder_state, "fs_now", elsewhere)


@pytest.mark.parametrize("how", [_no_clock, _other_file_system], ids=["none", "other fs"])
def test_without_the_file_systems_clock_the_system_clock_stands_in(
    make_package: PackageFactory,
    portal: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    how: Any,
) -> None:
    """A folder where no file can be created (or a stamp from another file system): files
    written within RACY_NS of the record are racy, as before the file system's clock."""
    how(monkeypatch)
    package = make_package()
    assert publish_static(package, portal).status == "published"
    full, hashed = FullCheck(monkeypatch), Hashed(monkeypatch)
    assert publish_static(package, portal).status == "unchanged"
    assert "personal.csv" in hashed and full.calls == 0
    hashed.clear()
    monkeypatch.setattr(folder_state, "RACY_NS", 0)  # what a few seconds later brings
    assert publish_static(package, portal).status == "unchanged"
    assert hashed == [] and full.calls == 0
    _flip_keeping_size_and_mtime(portal / "personal" / "data" / "personal.csv")
    assert publish_static(package, portal).status == "published"


# ------------------------------------------------------------------------------ what it leaves


@pytest.mark.parametrize("tmpfile", [True, False], ids=["O_TMPFILE", "named file"])
def test_the_clock_leaves_nothing_in_the_portal_and_follows_no_planted_name(
    make_package: PackageFactory,
    portal: Path,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tmpfile: bool,
) -> None:
    """The clock's file is made in the portal's staging folder, never in a dataset's; a named
    one that a killed publish left (or someone planted, as a link) is removed, not followed."""
    if not tmpfile:
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    package = make_package()
    assert publish_static(package, portal).status == "published"
    victims = tmp_path / "victims"
    victims.mkdir()
    (victims / "target").write_text("the steward's own file", encoding="utf-8")
    staging = portal / static.STAGING
    staging.mkdir()
    (staging / "~clock.abcd1234").write_text("left", encoding="utf-8")
    (staging / "~clock.efgh5678").symlink_to(victims / "target")
    before = snapshot_bytes(victims)
    package.joinpath("data", "personal.csv").write_bytes(
        package.joinpath("data", "personal.csv").read_bytes().replace(b"Skola", b"Ekonomi", 1)
    )
    assert publish_static(package, portal).status == "published"
    assert publish_static(package, portal).status == "unchanged"
    assert snapshot_bytes(victims) == before
    assert not staging.exists()
    assert not [p for p in portal.rglob("*") if "clock" in p.name]
