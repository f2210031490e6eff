"""Compiled page templates kept between runs, as Python keeps compiled modules in __pycache__.

Jinja compiles every template from its source in each process: for the pages of one publish
that was 0.15 to 0.25 s, about a tenth of publishing a 100,000-row table. Its file-system
bytecode cache keeps the compiled code, keyed by the template's name and checked against a
hash of its source and against the Python version, so a changed template or another Python
compiles afresh. The cache lives in opengov's cache folder (`opengov.cache.cache_dir`), in a
folder only the user can open (checked here, as Jinja checks its own default). A cache that
cannot be made, read or written is passed over: the templates are compiled as before, and
nothing fails because of the cache.
"""

from __future__ import annotations

import os
import stat

from jinja2.bccache import Bucket, FileSystemBytecodeCache

from opengov import __version__
from opengov.cache import cache_dir


class _TolerantCache(FileSystemBytecodeCache):
    """A cache whose failures are misses: a read that fails (a truncated or foreign file)
    leaves the template to be compiled; a write that fails (a full or read-only disk) is
    dropped."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # any unreadable entry is a miss, never an error of the publish
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def template_cache() -> FileSystemBytecodeCache | None:
    """The user's template cache, or None where there is no private folder to keep it in."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # no owners to check (Windows): compile as before
        return None
    try:
        folder = cache_dir() / f"templates-{__version__}"
        folder.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
        info = folder.lstat()
        ancestors = [p.lstat() for p in folder.resolve().parents]
    except (OSError, RuntimeError, KeyError):  # no home, a read-only one, or no such user
        return None
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != getuid()
        or stat.S_IMODE(info.st_mode) & (stat.S_IRWXG | stat.S_IRWXO)
    ):
        return None  # not ours alone: another user could plant compiled code in it
    for above in ancestors:
        # A folder above that others may write to (without the sticky bit, as /tmp has) lets
        # them swap ours for theirs after this check.
        shared = stat.S_IMODE(above.st_mode) & (stat.S_IWGRP | stat.S_IWOTH)
        if above.st_uid not in (0, getuid()) or (shared and not above.st_mode & stat.S_ISVTX):
            return None
    return _TolerantCache(str(folder))
