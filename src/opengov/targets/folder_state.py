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
file changed within one tick of its last write can keep its ctime. A file whose ctime is that
close to the moment it was recorded is "racy" (as git's index calls it): it is hashed again,
not trusted, and recorded anew once it is older.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("opengov.static")

CACHE_ENV = "OPENGOV_CACHE_DIR"
FORMAT = 1
# Two seconds: the coarsest ctime a POSIX file system in use stamps is one second.
RACY_NS = 2_000_000_000

# rel path -> (mode, size, mtime_ns, ctime_ns, ino, dev)
Stats = dict[str, tuple[int, int, int, int, int, int]]


def cache_dir() -> Path:
    """OPENGOV_CACHE_DIR, else $XDG_CACHE_HOME/opengov, else ~/.cache/opengov."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "opengov"


def _record_path(folder: Path) -> Path:
    where = os.path.realpath(folder)
    name = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()
    return cache_dir() / "published" / f"{name}.json"


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
    stats: Stats | None = None,
    at: int | None = None,
) -> None:
    """Remember the folder as it is now (or as `stats` saw it at `at`), whose bytes are the
    release's: `known` gives the sha256 of the files opengov wrote or just checked; the others
    (the provenance documents and the signature, all small) are hashed here.

    A cache that cannot be written costs the next re-publish the full check, nothing else.
    """
    recorded_at = time.time_ns() if at is None else at
    stats = snapshot(folder) if stats is None else stats
    if stats is None:
        return
    files: dict[str, Any] = {}
    for rel, st in stats.items():
        sha = known.get(rel) or _sha256(folder / rel)
        if sha is None:
            return
        files[rel] = {"stat": list(st), "sha256": sha}
    doc = {
        "format": FORMAT,
        "folder": os.path.realpath(folder),
        "provenance_sha256": provenance_sha256,
        "recorded_at_ns": recorded_at,
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


def untouched(folder: Path, provenance_sha256: str) -> bool:
    """True only if the folder holds exactly the files recorded for this release, each with
    the recorded lstat (racy ones: the recorded sha256). False means "run the full check"."""
    doc = _load(folder, provenance_sha256)
    if doc is None:
        return False
    before = time.time_ns()
    now = snapshot(folder)
    files: dict[str, Any] = doc["files"]
    if now is None or set(now) != set(files):
        return False
    racy_until = int(doc["recorded_at_ns"]) - RACY_NS
    rehashed: dict[str, str] = {}
    for rel, st in now.items():
        entry = files[rel]
        if not isinstance(entry, dict) or entry.get("stat") != list(st):
            return False
        sha = entry.get("sha256")
        if st[3] >= racy_until:
            if not isinstance(sha, str) or _sha256(folder / rel) != sha:
                return False
            rehashed[rel] = sha
    if rehashed:
        # Recorded as of the snapshot taken before they were hashed: once older than a tick,
        # they are trusted by lstat too.
        known = {rel: str(entry["sha256"]) for rel, entry in files.items()}
        record(folder, provenance_sha256, known, now, at=before)
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


def catalogue_inputs(
    portal: Path, settings: dict[str, Any], datasets: list[str], files: list[str]
) -> str:
    """A digest of what the portal's catalogue is rendered from (the settings, each dataset's
    provenance and descriptor by lstat, opengov's version) and of the catalogue's files."""
    from opengov import __version__

    parts: list[Any] = [__version__, settings]
    for name in datasets:
        parts.append([name, _lstat(portal / name / "provenance.json"),
                      _lstat(portal / name / "datapackage.json")])  # fmt: skip
    parts.append([[name, _lstat(portal / name)] for name in files])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def catalogue_current(portal: Path, digest: str) -> bool:
    try:
        return bool(json.loads(_catalogue_path(portal).read_bytes()).get("inputs") == digest)
    except (OSError, ValueError, RecursionError, AttributeError):
        return False


def record_catalogue(portal: Path, digest: str) -> None:
    path = _catalogue_path(portal)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": FORMAT, "inputs": digest}, fh)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("could not record the catalogue of %s: %s", portal, exc.strerror)
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp)
