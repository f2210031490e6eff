"""Swedish postcodes: `123 45`, `SE-123 45`, `SE 123 45`; first digit 1-9.

Three digits, one space, two digits, not part of a longer group of digits and spaces
(`1 234 567 kr`, `12 345,50`). Runs after identifiers and phone numbers are masked, so
`08-123 45 67` is a phone number, not a postcode.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .chars import LINE_SP, LINE_SPACES, members
from .text import I64, Bools, Family, Spans, Text

TAGS = {"postcode": "[postnummer borttaget]"}
_SPACE, _DASH = 32, 45


def find(text: Text, want: frozenset[str] = frozenset()) -> Spans:
    runs = text.runs()
    m = len(runs)
    if m < 2:
        return Spans.empty()
    s, e, length = runs.start, runs.end, runs.length
    lower = text.offsets[runs.cell]
    upper = text.offsets[runs.cell + 1]

    def at(pos: I64) -> npt.NDArray[np.int16]:
        return text.at(pos, lower, upper)

    def digit(value: npt.NDArray[np.int16]) -> Bools:
        return (value >= 48) & (value <= 57)

    gap_len, gap = runs.next_gap(text, 1)
    next_len = np.zeros(m, dtype=np.int64)
    next_len[:-1] = length[1:]
    next_end = np.zeros(m, dtype=np.int64)
    next_end[:-1] = e[1:]
    c1, c2, c3, c4, c5 = (at(s - k) for k in (1, 2, 3, 4, 5))
    ok = (length == 3) & (at(s) != 48) & (gap_len == 1) & (gap[0] == _SPACE) & (next_len == 2)
    ok &= ~((c1 == _SPACE) & digit(c2))
    after = np.where(ok, next_end, s)
    ok &= ~((at(after) == _SPACE) & digit(at(after + 1)))
    if not ok.any():
        return Spans.empty()

    def se(
        s_at: npt.NDArray[np.int16], e_at: npt.NDArray[np.int16], before: npt.NDArray[np.int16]
    ) -> Bools:
        lowered = before | 32
        alnum = digit(before) | ((lowered >= 97) & (lowered <= 122))
        return np.asarray(((s_at | 32) == 115) & ((e_at | 32) == 101) & ~alnum, dtype=bool)

    # The optional "SE", "SE-", "SE " or "SE- " in front (greedy, as a reader takes it).
    start = s.copy()
    with_sp = (c1 == _SPACE) & (c2 == _DASH) & se(c4, c3, c5)
    start = np.where(with_sp, s - 4, start)
    sp = ~with_sp & (c1 == _SPACE) & se(c3, c2, c4)
    start = np.where(sp, s - 3, start)
    dash = (c1 == _DASH) & se(c3, c2, c4)
    start = np.where(dash, s - 3, start)
    tight = ~with_sp & ~sp & ~dash & se(c2, c1, c3)
    start = np.where(tight, s - 2, start)
    picked = np.flatnonzero(ok)
    return Spans(start[picked], next_end[picked], np.zeros(len(picked), dtype=np.int64))


_NOT_SP = f"[^0-9{members(LINE_SPACES)}]"
PREFILTER = (
    rf"(?:^|{_NOT_SP}|(?:^|[^0-9]){LINE_SP})[1-9][0-9]{{2}}{LINE_SP}[0-9]{{2}}"
    rf"(?:$|{_NOT_SP}|{LINE_SP}(?:$|[^0-9]))"
)

FAMILY = Family(
    name="postcode",
    kinds=TAGS,
    order=40,
    prefilter=PREFILTER,
    find=find,
    freed_by=("identifiers", "phone"),
)
