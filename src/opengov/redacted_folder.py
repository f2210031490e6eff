"""The folder `opengov redact --out` writes, and when a later run may replace it.

A second identical run replaces what the first one wrote: a steward re-runs the review after a
change to the rules. What it must never replace is anything else: a folder of the steward's own,
or a review copy someone has edited or added notes to since (that work would be lost). So each
run leaves a record in the folder, `.opengov-redact.json`, of every file it wrote with its
sha256, and a later run replaces the folder only if it holds exactly those files, each a
regular file (no link) with those bytes. The new output is built beside the folder and swapped
in by two renames, so the folder is either the old output or the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from opengov.errors import InputError, LimitExceeded
from opengov.limits import MAX_DESCRIPTOR_BYTES, load_json, read_limited
from opengov.package import sha256_file
from opengov.targets.folder_state import Stats, snapshot

MARKER = ".opengov-redact.json"
FORMAT = 1
WRITTEN_BY = "opengov redact"


@dataclass(frozen=True)
class Earlier:
    """An earlier run's output in --out, untouched since; `stats` for the check before the swap."""

    stats: Stats


def _not_ours(out: Path, why: str) -> InputError:
    return InputError(
        f"{out} exists and is not the untouched output of an earlier `opengov redact` ({why}); "
        "nothing was written: choose a new folder for --out, or move this one away"
    )


def check(out: Path) -> Earlier | None:
    """None if `out` is missing or an empty folder; `Earlier` if it is an earlier run's output,
    untouched; InputError for anything else (nothing is written then)."""
    if not out.exists() and not out.is_symlink():
        return None
    if out.is_symlink() or not out.is_dir():
        raise InputError(f"{out} exists and is not a folder; choose a new folder for --out")
    if not any(out.iterdir()):
        return None
    stats = snapshot(out)
    if stats is None:
        raise _not_ours(out, "it holds a link or a special file")
    if MARKER not in stats:
        raise _not_ours(out, f"it has no {MARKER}")
    try:
        doc = load_json(read_limited(out / MARKER, MAX_DESCRIPTOR_BYTES, MARKER), MARKER)
    except (OSError, ValueError, LimitExceeded):
        raise _not_ours(out, f"its {MARKER} is not readable") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or doc.get("written_by") != WRITTEN_BY
        or not isinstance(files, dict)
        or not all(isinstance(v, str) for v in files.values())
    ):
        raise _not_ours(out, f"its {MARKER} is not one opengov wrote")
    present = set(stats) - {MARKER}
    added = sorted(present - set(files))
    if added:
        raise _not_ours(out, f"{added[0]} was added since")
    missing = sorted(set(files) - present)
    if missing:
        raise _not_ours(out, f"{missing[0]} was removed since")
    for rel in sorted(files):
        try:
            same = sha256_file(out / rel) == files[rel]
        except OSError:
            same = False
        if not same:
            raise _not_ours(out, f"{rel} was changed since")
    return Earlier(stats)


def mark(staging: Path, known: Mapping[str, str]) -> None:
    """Record every file of the new output (sha256 from `known`, else hashed here)."""
    stats = snapshot(staging)
    if stats is None:  # the release is built by opengov: no link or device in it
        raise InputError(f"{staging} holds a link or a special file")
    files = {rel: known.get(rel) or sha256_file(staging / rel) for rel in sorted(stats)}
    doc = {"format": FORMAT, "written_by": WRITTEN_BY, "files": files}
    (staging / MARKER).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", "utf-8")


def put(staging: Path, out: Path, earlier: Earlier | None) -> None:
    """Move the new output into place: into a missing or empty `out`, or in place of the earlier
    output `check` found there (if it is still as it was)."""
    if earlier is None:
        if out.exists():
            try:
                out.rmdir()
            except OSError:
                raise InputError(f"{out} is no longer empty; nothing was written") from None
        try:
            os.rename(staging, out)
        except OSError as exc:
            raise InputError(f"cannot write {out}: {exc.strerror}") from None
        return
    if snapshot(out) != earlier.stats:
        raise InputError(f"{out} changed while the package was redacted; nothing was replaced")
    old = out.parent / f".{out.name}.{secrets.token_hex(4)}.old"
    try:
        os.rename(out, old)
    except OSError as exc:
        raise InputError(f"cannot replace {out}: {exc.strerror}; nothing was replaced") from None
    try:
        os.rename(staging, out)
    except OSError as exc:
        os.rename(old, out)
        raise InputError(f"cannot replace {out}: {exc.strerror}; nothing was replaced") from None
    with contextlib.suppress(OSError):
        shutil.rmtree(old)
