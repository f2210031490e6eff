"""Red team of the fast publish: the shortcuts that decide "unchanged", the XLSX written on the
way, redaction on the pool, the history comparison. Each test attacks one guarantee through the
real CLI (or the function the CLI calls) with the inputs a real portal can meet."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hostile import invoke, write_package

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
