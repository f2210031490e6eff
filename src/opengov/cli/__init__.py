"""The command line: `opengov`, one module per pipeline stage, all on one click group.

`app` holds the group, the one place errors become exit codes, and the name of the module of
each command: `validate`, `publish` (publish, redact, catalog), `verify`, `social` (import,
classify), `importers` (import sql), `init`, `keys` (key new, key show), `approve` and `portal`
(portal init|show, withdraw). A command's module is imported only when the command is looked up.
"""

import atexit
import os
import signal
import sys
import threading

from opengov.cli.app import cli, on_sigterm

__all__ = ["cli", "main"]


# glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8


def _fewer_malloc_arenas() -> None:
    """Let threads share two malloc arenas. glibc gives each thread that allocates an arena
    of its own, reserving 64 MB of address space apiece: a publish's reader, pool, writer and
    profile threads took its address space to 2 GB, and under an address-space limit
    (`ulimit -v`) a small publish could fail for want of 32 MB. Arrow's buffers come from its
    own allocator; what the arenas hold is Python's and numpy's larger blocks."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc: its own arena policy stays
        pass


def main() -> None:
    _fewer_malloc_arenas()
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        cli(obj={})
    except SystemExit as exc:
        _leave(exc.code)
        raise
    _leave(0)


def _leave(code: object) -> None:
    """End the process without the interpreter's teardown, once it is safe to.

    A command is done when click exits: what remains is Python's own teardown (a full garbage
    collection and the clean-up of every module; ~0.1 s with pyarrow and numpy loaded, a fifth
    of validating a 140 MB file at best). The atexit hooks still run and the output is flushed
    first. Returns (for a normal exit) while any non-daemon thread is still working: its work
    must not be cut short.
    """
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        return
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the descriptor closed
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            # As Python does when it cannot flush its output at exit (a closed pipe).
            status = status or 120
    os._exit(status)
