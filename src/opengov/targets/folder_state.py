"""What a published dataset folder looked like on disk when opengov last knew its bytes.

An unchanged re-publish must not re-hash the published folder (hundreds of MB) to learn that
nobody touched it; `opengov verify` does that. So after a publish, and after a full check that
passed, opengov records every file of the folder with its sha256 and what `lstat` says of it:
size, modification and change times (nanoseconds), inode and device. A later publish with the
same inputs trusts the folder only if the same files are there, each a regular file with the
same `lstat`. Writing a file, or `touch`-ing its modification time back, sets its change time
(ctime) to now, which no unprivileged user can set back; replacing a file changes its inode.
Anything else, and the full check decides (docs/security.md, "What an unchanged re-publish
trusts").

The record is kept with the publisher, not in the portal: someone who can write the portal
folder but not the publisher's cache cannot make a tampered folder look untouched. Without a
record (another machine, another user, a copied portal) the full check runs and records it.

File systems stamp times with a clock that ticks coarsely (a jiffy; a second on some), so a
file changed within the tick of its last write can keep its ctime. As git does for its index,
the record carries the file system's own time when it was taken: the ctime the file system
gives a file created then (an unnamed one, in a folder on the same file system, gone when
closed). A file whose ctime is at or after that stamp (the same tick) is "racy": it is hashed
again, not trusted, and recorded anew once it is older. A file strictly older than the stamp
is trusted by lstat: the stamp is read before the folder's lstat is taken, so any change after
that lstat stamps the file with a ctime at or after the stamp, which the record does not hold.
A publish records its folder once its newest file is older than the tick (TICK_WAIT_NS at
most), so the next publish hashes nothing. Where no such file can be created (a read-only
folder, a plan that writes nothing, a file on another file system), the system clock stands
in: a file whose ctime is within RACY_NS of the record's time is racy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opengov.cache import cache_dir

log = logging.getLogger("opengov.static")

FORMAT = 2
# Without the file system's own stamp: two seconds of the system clock, as the coarsest ctime a
# POSIX file system in use stamps is one second.
RACY_NS = 2_000_000_000
# Where O_TMPFILE is missing, the clock's file gets a name for the moment it exists: `~` is in
# no dataset's name, so it is never taken for a dataset's staging folder or lock.
CLOCK_PREFIX = "~clock."
CLOCK_NAME = re.compile(r"~clock\.[a-z0-9_]{8}")
# Right after a publish, its last files share the current tick; waiting this long at most for
# the next tick (a jiffy, a few ms) spares the next publish hashing them again. A file system
# that stamps whole seconds is not waited for: its newest files stay racy.
TICK_WAIT_NS = 20_000_000

# rel path -> (mode, size, mtime_ns, ctime_ns, ino, dev)
Stats = dict[str, tuple[int, int, int, int, int, int]]


def _record_path(folder: Path) -> Path:
    where = os.path.realpath(folder)
    name = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()
    return cache_dir() / "published" / f"{name}.json"


@dataclass(frozen=True)
class Stamp:
    """The time a file system gave a file it created (its ctime, ns), and which one it is."""

    ns: int
    dev: int


@dataclass(frozen=True)
class Seen:
    """A folder's files by lstat, with the times taken just before: the system clock's and the
    file system's (None if no file could be created there)."""

    stats: Stats
    at_ns: int
    stamp: Stamp | None


def fs_now(where: Path | None, *, named: bool = True) -> Stamp | None:
    """The file system's clock as it stamps files, read by creating one in `where` (a folder on
    the same file system as the files it is compared with) and removing it at once.

    An unnamed file (O_TMPFILE) leaves no name behind even if the process is killed; where the
    file system cannot make one, a randomly named file created exclusively (a name planted
    there, a link, is never opened) and removed at once (not with `named=False`: a folder
    that is not opengov's, a package's). None if neither can be created.
    """
    if where is None:
        return None
    fd = -1
    tmpfile = getattr(os, "O_TMPFILE", 0)
    if tmpfile:
        with contextlib.suppress(OSError):
            fd = os.open(where, tmpfile | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        if fd < 0:
            if not named:
                return None
            fd, name = tempfile.mkstemp(prefix=CLOCK_PREFIX, dir=where)
            with contextlib.suppress(OSError):
                os.unlink(name)
        st = os.fstat(fd)
    except OSError as exc:
        log.debug("no file system clock in %s: %s", where, exc.strerror)
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    return Stamp(st.st_ctime_ns, st.st_dev)


def observe(folder: Path, clock: Path | None = None) -> Seen | None:
    """The folder's files (see `snapshot`), the clocks read first: a file that changes after its
    lstat was taken here has a ctime at or after the stamp."""
    at = time.time_ns()
    stamp = fs_now(clock)
    stats = snapshot(folder)
    return None if stats is None else Seen(stats, at, stamp)


def _racy(st: tuple[int, int, int, int, int, int], at_ns: int, stamp: Stamp | None) -> bool:
    """Changed within the tick in which the record was taken: its lstat may not show a later
    change in the same tick."""
    return changed_in_tick(st[3], st[5], at_ns, stamp)


def changed_in_tick(ctime_ns: int, dev: int, at_ns: int, stamp: Stamp | None) -> bool:
    """Whether a file changed (ctime `ctime_ns`, on device `dev`) within the current tick: by
    its file system's clock (`stamp`, from `fs_now` on the same device), else by the system
    clock at `at_ns`, RACY_NS wide."""
    if stamp is not None and dev == stamp.dev:
        return ctime_ns >= stamp.ns
    return ctime_ns >= at_ns - RACY_NS


def _settled(folder: Path, clock: Path | None) -> Seen | None:
    """The folder as `observe` sees it, once its newest file is older than the file system's
    tick, if that comes within TICK_WAIT_NS."""
    deadline = time.monotonic_ns() + TICK_WAIT_NS
    while True:
        seen = observe(folder, clock)
        stamp = None if seen is None else seen.stamp
        if (
            seen is None
            or stamp is None
            or stamp.ns % 1_000_000_000 == 0  # whole seconds: not worth waiting for
            or not any(st[5] == stamp.dev and st[3] >= stamp.ns for st in seen.stats.values())
            or time.monotonic_ns() >= deadline
        ):
            return seen
        time.sleep(0.001)


def snapshot(folder: Path) -> Stats | None:
    """Every file under `folder` with its lstat; None if anything is not a plain file or folder
    (a link, a device): such a folder is never trusted without the full check."""
    out: Stats = {}
    pending = [("", folder)]
    try:
        while pending:
            prefix, where = pending.pop()
            with os.scandir(where) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(st.st_mode):
                        pending.append((rel + "/", Path(entry.path)))
                    elif stat.S_ISREG(st.st_mode):
                        out[rel] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                                    st.st_ino, st.st_dev)  # fmt: skip
                    else:
                        return None
    except OSError:
        return None
    return out


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def record(
    folder: Path,
    provenance_sha256: str,
    known: Mapping[str, str],
    seen: Seen | None = None,
    *,
    clock: Path | None = None,
) -> None:
    """Remember the folder as it is now (or as `seen`, taken by `observe`, saw it), whose bytes
    are the release's: `known` gives the sha256 of the files opengov wrote or just checked; the
    others (the provenance documents and the signature, all small) are hashed here. `clock` is
    a folder on the folder's file system where `fs_now` may read the time.

    A cache that cannot be written costs the next re-publish the full check, nothing else.
    """
    seen = _settled(folder, clock) if seen is None else seen
    if seen is None:
        return
    files: dict[str, Any] = {}
    for rel, st in seen.stats.items():
        sha = known.get(rel) or _sha256(folder / rel)
        if sha is None:
            return
        files[rel] = {"stat": list(st), "sha256": sha}
    stamp = seen.stamp
    doc = {
        "format": FORMAT,
        "folder": os.path.realpath(folder),
        "provenance_sha256": provenance_sha256,
        "recorded_at_ns": seen.at_ns,
        "fs_stamp": None if stamp is None else {"ns": stamp.ns, "dev": stamp.dev},
        "files": files,
    }
    path = _record_path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("could not record %s in the cache: %s", folder, exc.strerror)
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)


def forget(folder: Path) -> None:
    with contextlib.suppress(OSError):
        _record_path(folder).unlink()


def _load(folder: Path, provenance_sha256: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(_record_path(folder).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or doc.get("folder") != os.path.realpath(folder)
        or doc.get("provenance_sha256") != provenance_sha256
        or not isinstance(doc.get("recorded_at_ns"), int)
        or not isinstance(doc.get("files"), dict)
    ):
        return None
    return doc


def _stamp(doc: dict[str, Any]) -> Stamp | None:
    given = doc.get("fs_stamp")
    if not isinstance(given, dict):
        return None
    ns, dev = given.get("ns"), given.get("dev")
    if type(ns) is not int or type(dev) is not int:
        return None
    return Stamp(ns, dev)


def untouched(folder: Path, provenance_sha256: str, *, clock: Path | None = None) -> bool:
    """True only if the folder holds exactly the files recorded for this release, each with
    the recorded lstat (racy ones: the recorded sha256). False means "run the full check".
    `clock` as for `record`, where the racy ones are recorded anew."""
    doc = _load(folder, provenance_sha256)
    if doc is None:
        return False
    seen = observe(folder, clock)
    files: dict[str, Any] = doc["files"]
    if seen is None or set(seen.stats) != set(files):
        return False
    at_ns, stamp = int(doc["recorded_at_ns"]), _stamp(doc)
    rehashed = False
    for rel, st in seen.stats.items():
        entry = files[rel]
        if not isinstance(entry, dict) or entry.get("stat") != list(st):
            return False
        if _racy(st, at_ns, stamp):
            sha = entry.get("sha256")
            if not isinstance(sha, str) or _sha256(folder / rel) != sha:
                return False
            rehashed = True
    if rehashed:
        # Recorded as of the clocks read before the lstat that matched and before they were
        # hashed: once older than that tick, they are trusted by lstat too.
        known = {rel: str(entry["sha256"]) for rel, entry in files.items()}
        record(folder, provenance_sha256, known, seen)
    return True


# ------------------------------------------------------------------------------ the catalogue


def _catalogue_path(portal: Path) -> Path:
    where = os.path.realpath(portal)
    name = hashlib.sha256(("catalogue\0" + where).encode("utf-8", "surrogateescape")).hexdigest()
    return cache_dir() / "catalogue" / f"{name}.json"


def _lstat(path: Path) -> list[int] | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return [st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


@dataclass(frozen=True)
class CatalogueInputs:
    """What the portal's catalogue is rendered from (`sources`: the settings, each dataset's
    provenance and descriptor by lstat, opengov's version) and its own files by lstat, as one
    `digest`; `ctimes` holds (ctime, device) of each file looked at."""

    sources: str
    digest: str
    ctimes: list[tuple[int, int]]


def catalogue_inputs(
    portal: Path, settings: dict[str, Any], datasets: list[str], files: list[str]
) -> CatalogueInputs:
    from opengov import __version__

    parts: list[Any] = [__version__, settings]
    looked: list[list[int] | None] = []
    for name in datasets:
        seen = [
            _lstat(portal / name / "provenance.json"),
            _lstat(portal / name / "datapackage.json"),
        ]
        looked += seen
        parts.append([name, *seen])
    sources = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    own = [_lstat(portal / name) for name in files]
    looked += own
    digest = hashlib.sha256(
        json.dumps([sources, list(zip(files, own, strict=True))]).encode()
    ).hexdigest()
    return CatalogueInputs(sources, digest, [(st[3], st[5]) for st in looked if st is not None])


def catalogue_current(portal: Path, digest: str) -> bool:
    try:
        return bool(json.loads(_catalogue_path(portal).read_bytes()).get("inputs") == digest)
    except (OSError, ValueError, RecursionError, AttributeError):
        return False


def record_catalogue(
    portal: Path,
    rendered_from: CatalogueInputs,
    inputs: Callable[[], CatalogueInputs],
    clock: Path | None = None,
) -> None:
    """Remember that the catalogue now in `portal` was rendered from `rendered_from` (read
    before rendering), once `inputs()` shows the same sources (no dataset published meanwhile)
    and every file it looks at older than the file system's tick (a later change in the same
    tick could keep its lstat). If that tick does not pass within TICK_WAIT_NS, nothing is
    recorded: the next unchanged publish renders the catalogue again."""
    deadline = time.monotonic_ns() + TICK_WAIT_NS
    while True:
        stamp = fs_now(clock)
        now = inputs()
        if now.sources != rendered_from.sources:
            return
        if stamp is None or not any(
            dev == stamp.dev and ctime >= stamp.ns for ctime, dev in now.ctimes
        ):
            break
        if stamp.ns % 1_000_000_000 == 0 or time.monotonic_ns() >= deadline:
            return
        time.sleep(0.001)
    path = _catalogue_path(portal)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": FORMAT, "inputs": now.digest}, fh)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("could not record the catalogue of %s: %s", portal, exc.strerror)
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
