"""Fixed-width patterns (`F[0-9]{10}`, `[0-9]{6}-[0-9]{4}`, `[A-Z]{2}`) checked a batch at a
time over the column's bytes, before RE2.

Identifiers, codes and postal numbers are usually written with such patterns: a run of
single-character items (a literal, a class, `.`), each repeated a fixed number of times. A
value matches one if and only if it has exactly that many characters and each character is in
its position's set. So an ASCII value of the right length is checked with one table lookup per
byte in numpy, about a nanosecond a byte, where RE2 through pyarrow costs ~100 ns a value.

The check only ever *accepts*: what it accepts, Python's `re.match("^" + p + "$")` (what
frictionless runs) accepts too, because each position's set is computed by Python's own engine
for every ASCII character. Everything else (a non-ASCII byte, another length, a character
outside its set, and so every failure) goes on to the exact checks (`checks.pattern_failures`).
"""

from __future__ import annotations

import functools
import re
from re import _compiler, _constants, _parser  # type: ignore[attr-defined]
from typing import Any

import numpy as np
import pyarrow as pa

from opengov.sources.textbytes import text_bytes

# Longer fixed patterns are rare; their table would grow with the width.
MAX_WIDTH = 256

_SINGLE = {_constants.LITERAL, _constants.NOT_LITERAL, _constants.ANY, _constants.IN}
_REPEATS = {
    _constants.MAX_REPEAT,
    _constants.MIN_REPEAT,
    getattr(_constants, "POSSESSIVE_REPEAT", _constants.MAX_REPEAT),
}


@functools.cache
def fixed_shape(pattern: str) -> np.ndarray | None:
    """The (width, 256) table of which byte each position accepts, or None when `pattern`
    is not a fixed run of single characters (alternation, variable repetition, anchors,
    lookaround, backreferences, flags within a group...)."""
    try:
        re.compile(f"^{pattern}$")
        parsed = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    items = _flatten(list(parsed))
    if not items:
        return None
    flags = parsed.state.flags
    table = np.zeros((len(items), 256), dtype=bool)
    sets: dict[str, np.ndarray] = {}
    for position, item in enumerate(items):
        key = repr(item)
        if key not in sets:
            sets[key] = _ascii_set(parsed.state, item, flags)
        table[position] = sets[key]
    return table


def _flatten(items: list[Any]) -> list[Any] | None:
    out: list[Any] = []
    for op, av in items:
        if op in _SINGLE:
            out.append((op, av))
        elif op in _REPEATS:
            low, high, sub = av
            if low != high:
                return None
            inner = _flatten(list(sub))
            if inner is None or len(out) + low * len(inner) > MAX_WIDTH:
                return None
            out.extend(inner * low)
        elif op is _constants.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                return None
            inner = _flatten(list(sub))
            if inner is None:
                return None
            out.extend(inner)
        else:
            return None
        if len(out) > MAX_WIDTH:
            return None
    return out


def _ascii_set(state: Any, item: Any, flags: int) -> np.ndarray:
    """Which ASCII characters Python's engine matches with this one-character item."""
    sub = _parser.SubPattern(state, [item])
    compiled = _compiler.compile(sub, flags)
    accepted = np.zeros(256, dtype=bool)
    for code in range(128):
        accepted[code] = compiled.fullmatch(chr(code)) is not None
    return accepted


def accepted(table: np.ndarray, values: pa.Array) -> np.ndarray | None:
    """True for each value the pattern certainly matches (see the module's note); None when
    the array's layout is not one this reads (the caller then checks every value)."""
    view = text_bytes(values)
    if view is None:
        return None
    width = table.shape[0]
    out: np.ndarray = view.lengths == width
    if view.valid is not None:
        out &= view.valid
    every = bool(out.all())
    rows = None if every else np.flatnonzero(out)
    starts = view.offsets[:-1] if rows is None else view.offsets[rows]
    if not len(starts):
        return out
    # Position by position: the candidates' j-th bytes, looked up in position j's set
    # (`take` over a column of bytes, not fancy indexing of a 2-D block: ~5x faster).
    fits = table[0].take(view.data.take(starts))
    for position in range(1, width):
        fits &= table[position].take(view.data.take(starts + position))
    if rows is None:
        out = fits
    else:
        out[rows] = fits
    return out
