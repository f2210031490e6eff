"""`pattern` constraints without backtracking on attacker data.

frictionless checks `re.match("^" + pattern + "$", value)` with Python's backtracking engine:
`(\\w+\\s?)+` on a long name with å/ä/ö takes minutes. Here a pattern runs through RE2 (linear
time) wherever RE2 can decide it exactly as Python would:

- Python's `\\d`, `\\w`, `\\s` (and their negations) are Unicode classes; they are spelled out
  for RE2 from Python's own character tables (`str.isdecimal`, `isalnum`, `isspace`), so they
  mean the same in both engines for every value.
- `\\b`, `\\B` and case-insensitive matching are Unicode-aware in Python and ASCII-minded in
  RE2: with them, only ASCII values go to RE2.
- Python's `$` also matches before a final newline: values with a newline go to Python.

What is left (values as above, and patterns RE2 cannot run at all: lookaround,
backreferences) runs in Python in a separate worker process with a time budget; a pattern that
exceeds it stops the run with `LimitExceeded` naming the field and the pattern. Resources that
frictionless validates itself run its patterns without a budget, so a pattern that could
backtrack badly (nested repetition, backreferences) is refused there up front.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from opengov.errors import LimitExceeded

# RE2 reads these differently from Python's re (POSIX classes, \p, {,n}, \Q, \z, \C).
_RE2_DIFFERENT = ("[:", "\\p", "\\P", "{,", "\\Q", "\\E", "\\z", "\\C")
_ASCII_ONLY = re.compile(r"\\[bB]|\(\?[a-zA-Z]*i")
_CLASS_ESCAPES = ("d", "w", "s")
# Python's budget for the values RE2 cannot decide: per call, and per value on top.
BUDGET_SECONDS = 5.0
BUDGET_PER_VALUE = 0.001


@functools.cache
def _ranges(kind: str) -> str:
    """Python's \\d, \\w or \\s as RE2 character-class ranges (without brackets)."""

    def test(c: str) -> bool:
        if kind == "w":
            return c.isalnum() or c == "_"
        return c.isdecimal() if kind == "d" else c.isspace()

    parts: list[str] = []
    start = None
    for code in range(0x110000 + 1):
        inside = code < 0x110000 and not (0xD800 <= code <= 0xDFFF) and test(chr(code))
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            end = code - 1
            parts.append(
                f"\\x{{{start:x}}}" if start == end else f"\\x{{{start:x}}}-\\x{{{end:x}}}"
            )
            start = None
    return "".join(parts)


@functools.cache
def translate(pattern: str) -> str | None:
    """The RE2 spelling of frictionless' `re.compile("^" + p + "$").match`, or None when RE2
    cannot say the same thing."""
    if any(token in pattern for token in _RE2_DIFFERENT):
        return None
    try:
        re.compile(f"^{pattern}$")
    except re.error:
        return None  # frictionless would fail on it too; let it speak
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if e.lower() in _CLASS_ESCAPES:
                ranges = _ranges(e.lower())
                if in_class:
                    if e.isupper():
                        return None  # [^...] of a negated class inside a class: not spelled here
                    out.append(ranges)
                else:
                    out.append(f"[{'^' if e.isupper() else ''}{ranges}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            # A "]" right after "[" or "[^" is a literal in both engines.
            j = i + 1
            if j < len(pattern) and pattern[j] == "^":
                out.append("^")
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                out.append("\\]")
                j += 1
            i = j
            continue
        if c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    candidate = "\\A(?:^" + "".join(out) + "$)"
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array(["a"], pa.string()), candidate)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return candidate


def ascii_only(pattern: str) -> bool:
    """Whether RE2 agrees with Python on this pattern for ASCII values only."""
    return bool(_ASCII_ONLY.search(pattern))


# --- Python with a budget -----------------------------------------------------------------------

_WORKER = r"""
import json, re, sys
for line in sys.stdin:
    job = json.loads(line)
    compiled = re.compile("^" + job["pattern"] + "$")
    out = [compiled.match(v) is None for v in job["values"]]
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


class _Worker:
    """A Python process that runs `re` for us and can be killed when it takes too long."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="surrogatepass",
        )

    def fails(self, pattern: str, values: list[str], budget: float) -> list[bool] | None:
        import select

        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"pattern": pattern, "values": values}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], budget)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        if not line:
            return None
        out: list[bool] = json.loads(line)
        return out

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


_worker: list[_Worker] = []
# Columns are checked on several threads; the worker answers one request at a time.
_worker_lock = threading.Lock()


def python_fails(pattern: str, values: list[str], field_name: str) -> list[bool]:
    """Python's verdict (True: the value fails), within the budget or LimitExceeded."""
    if not values:
        return []
    with _worker_lock:
        return _python_fails(pattern, values, field_name)


def _python_fails(pattern: str, values: list[str], field_name: str) -> list[bool]:
    if not _worker or _worker[0].proc.poll() is not None:
        _worker[:] = [_Worker()]
    budget = BUDGET_SECONDS + BUDGET_PER_VALUE * len(values)
    out = _worker[0].fails(pattern, values, budget)
    if out is None:
        _worker[0].kill()
        _worker.clear()
        raise LimitExceeded(
            f"field {field_name!r}: the pattern {pattern!r} took more than {budget:.0f} s in "
            "Python's regular expressions on some values (it backtracks; RE2 could not run it "
            "the same way). Write it without lookaround, backreferences or nested repetition"
        )
    return out


# --- patterns frictionless itself would run -----------------------------------------------------


def backtracking_risk(pattern: str) -> str | None:
    """Why Python's engine could take exponential time on this pattern, or None.

    Nested unbounded repetition (`(a+)+`, `(\\w+\\s?)*`) and backreferences are what make a
    backtracking engine explode; frictionless runs patterns without a time limit.
    """
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover
        import sre_parse as parser

    try:
        tree = parser.parse(pattern)
    except re.error:
        return None
    repeats = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}

    def walk(items: Any, inside_repeat: bool) -> str | None:
        for op, arg in items:
            name = str(op)
            if name == "GROUPREF" or name == "GROUPREF_EXISTS":
                return "a backreference"
            if name in repeats:
                _low, high, sub = arg
                unbounded = high is parser.MAXREPEAT or high > 100
                if unbounded and inside_repeat:
                    return "nested repetition"
                found = walk(sub, inside_repeat or unbounded)
                if found:
                    return found
            elif name == "SUBPATTERN":
                found = walk(arg[-1], inside_repeat)
                if found:
                    return found
            elif name == "BRANCH":
                for branch in arg[1]:
                    found = walk(branch, inside_repeat)
                    if found:
                        return found
            elif name in {"ASSERT", "ASSERT_NOT"}:
                found = walk(arg[1], inside_repeat)
                if found:
                    return found
        return None

    return walk(tree, False)


Fails = Callable[[str], bool]
