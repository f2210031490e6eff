"""Swedish phone numbers, validated against libphonenumber's metadata as RE2 kernels.

A number is a chain of digit groups joined by 1-3 of ` -/()` (after normalisation: any space,
any dash), starting with `0[1-9]`, `(0x)`, `+46`, `+ 46`, `0046` or `00 46`, not glued to a
word, a number or a date part (`2024-01-15`), and not a date itself (`02-06-2024`, as in a URL
path) or shaped like a personnummer (`050312-1234`: six digits, a separator, four). From
each start, the longest prefix ending at a group end whose 7-15 digits form a valid Swedish
number wins ("070-123 45 67 12 st" stops before "12").

Validity is what `phonenumbers.is_valid_number(phonenumbers.parse(text, "SE"))` says, computed
without calling it: the national significant number (country code and one trunk 0 removed)
must match the general pattern and one number type's pattern and lengths, read from the
installed `phonenumbers` metadata and run as RE2 over all candidates at once. A test holds
this to `phonenumbers` itself.

Python runs only to settle chains where two candidates touch (`08-668 01 50/070-123 45 67`):
the left one is taken first and decides whether the right one may start. That loop is over
those candidates only.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from .chars import DASHES, SP, SPACES, digit_class, members
from .text import I64, Bools, Family, Runs, Spans, Text, is_digit

TAGS = {"phone": "[telefonnummer borttaget]"}

_PLUS, _SPACE, _OPEN, _CLOSE = 43, 32, 40, 41
_GAP_BYTES = (32, 45, 47, 40, 41)  # space - / ( )
_GAP_MAX = 3
_MIN_DIGITS, _MAX_DIGITS = 7, 15
_DATE_PUNCT = np.zeros(256, dtype=bool)
for _c in b"-/.:":
    _DATE_PUNCT[_c] = True
_NOT_AFTER = np.zeros(256, dtype=bool)
for _c in b"0123456789+abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _NOT_AFTER[_c] = True

_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@functools.cache
def _patterns() -> tuple[str, str]:
    """RE2 patterns over `<length letter><national significant number>`: the general
    description, and any number type, each with its possible lengths (the leading letter,
    "A" + length, lets one pattern check lengths and digits together)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("SE")
    assert meta is not None and meta.general_desc is not None
    general = meta.general_desc
    general_lengths = tuple(general.possible_length or range(1, _MAX_DIGITS + 1))

    def by_length(descs: list[phonenumbers.PhoneNumberDesc]) -> str:
        alternatives: dict[int, list[str]] = {}
        for desc in descs:
            if desc is None or not desc.national_number_pattern:
                continue
            for length in desc.possible_length or general_lengths:
                alternatives.setdefault(length, []).append(desc.national_number_pattern)
        body = "|".join(
            f"{chr(65 + length)}(?:{'|'.join(f'(?:{p})' for p in patterns)})"
            for length, patterns in sorted(alternatives.items())
            if length > 0
        )
        return f"^(?:{body})$"

    types = [getattr(meta, name, None) for name in _TYPES]
    return by_length([general]), by_length([t for t in types if t is not None])


def valid_national(numbers: pa.Array) -> Bools:
    """Which `<length letter><digits>` strings are valid Swedish national numbers
    (`phonenumbers`' `_number_type_helper(...) != UNKNOWN`)."""
    if not len(numbers):
        return np.zeros(0, dtype=bool)
    general, typed = _patterns()
    ok = pc.match_substring_regex(numbers, pattern=general)
    ok = pc.and_(ok, pc.match_substring_regex(numbers, pattern=typed))
    return np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)


def _marked(data: npt.NDArray[np.uint8], starts: I64, lengths: I64) -> pa.LargeStringArray:
    """Strings `chr(65 + length) + data[start:start + length]` (see `_patterns`)."""
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=offsets[1:])
    total = int(offsets[-1])
    within = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1], lengths + 1)
    values = data[np.repeat(starts - 1, lengths + 1) + within]
    values[offsets[:-1]] = (65 + lengths).astype(np.uint8)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(values)]
    array = pa.Array.from_buffers(pa.large_string(), len(starts), buffers)
    assert isinstance(array, pa.LargeStringArray)
    return array


def _start_ok(text: Text, at: int, masked_until: int, cell_start: int) -> bool:
    """The boundary rule for a number starting at byte `at`; bytes before `masked_until`
    belong to the number accepted last and count as masked."""
    if at - 1 < max(masked_until, cell_start):
        return True
    prev = int(text.data[at - 1])
    if _NOT_AFTER[prev]:
        return False
    if _DATE_PUNCT[prev] and at - 2 >= max(masked_until, cell_start):
        return not (48 <= int(text.data[at - 2]) <= 57)
    return True


def find(text: Text, want: frozenset[str] = frozenset()) -> Spans:
    runs = text.runs()
    m = len(runs)
    if not m:
        return Spans.empty()
    s, e, length = runs.start, runs.end, runs.length
    lower = text.offsets[runs.cell]
    upper = text.offsets[runs.cell + 1]

    def at(pos: I64) -> npt.NDArray[np.int16]:
        return text.at(pos, lower, upper)

    d0, d1, d2, d3 = at(s), at(s + 1), at(s + 2), at(s + 3)
    prev1, prev2 = at(s - 1), at(s - 2)
    gap_len, gap = runs.next_gap(text, _GAP_MAX)
    next_first = np.full(m, -1, dtype=np.int16)
    next_second = np.full(m, -1, dtype=np.int16)
    next_first[:-1] = d0[1:]
    next_second[:-1] = d1[1:]
    next_len = np.zeros(m, dtype=np.int64)
    next_len[:-1] = length[1:]

    zero = d0 == 48
    plus_before = (prev1 == _PLUS) | ((prev1 == _SPACE) & (prev2 == _PLUS))
    international = plus_before & (d0 == 52) & (d1 == 54)  # +46
    double_zero = zero & (d1 == 48)
    idd = double_zero & (length >= 4) & (d2 == 52) & (d3 == 54)  # 0046
    idd |= (
        double_zero & (length == 2) & (gap_len == 1) & (gap[0] == _SPACE)
        & (next_first == 52) & (next_second == 54)
    )  # fmt: skip
    national = zero & (d1 >= 49) & (d1 <= 57)
    paren = national & (prev1 == _OPEN) & (length <= 5) & (at(e) == _CLOSE)
    span_start = np.where(international, np.where(prev1 == _PLUS, s - 1, s - 2), s)
    span_start = np.where(paren, s - 1, span_start)
    skip = np.where(international, 2, np.where(idd, 4, 0))
    is_start = international | idd | (national & ~_date_shaped(text, runs, d0, d1, gap_len, gap))
    starts = np.flatnonzero(is_start)
    if not len(starts):
        return Spans.empty()

    # Chains: runs joined by 1-3 separator bytes.
    joined = (gap_len >= 1) & (gap_len <= _GAP_MAX)
    joined &= np.isin(gap, np.array((*_GAP_BYTES, -1), dtype=np.int16)).all(axis=0)
    last_of_chain = np.where(~joined, np.arange(m), m)
    last_of_chain = np.minimum.accumulate(last_of_chain[::-1])[::-1]
    digits_before = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(length, out=digits_before[1:])

    # Every (start, last run) pair with 7-15 digits; the digits-only buffer makes each pair's
    # digits one contiguous slice.
    steps = np.arange(_MAX_DIGITS, dtype=np.int64)
    last = starts[:, None] + steps
    in_chain = last <= last_of_chain[starts][:, None]
    safe_last = np.minimum(last, m - 1)
    count = digits_before[safe_last + 1] - digits_before[starts][:, None]
    usable = in_chain & (count >= _MIN_DIGITS) & (count <= _MAX_DIGITS)
    rows, cols = np.nonzero(usable)
    if not len(rows):
        return Spans.empty()
    digits = text.data[is_digit(text.data)]
    first = digits_before[starts[rows]] + skip[starts[rows]]
    stop = digits_before[safe_last[rows, cols] + 1]
    trunk = (first < stop) & (digits[np.minimum(first, len(digits) - 1)] == 48)
    first = first + trunk
    keep = first < stop
    rows, cols, first, stop = rows[keep], cols[keep], first[keep], stop[keep]
    valid = valid_national(_marked(digits, first, stop - first))
    grid = np.zeros(usable.shape, dtype=bool)
    grid[rows[valid], cols[valid]] = True
    found = grid.any(axis=1)
    if not found.any():
        return Spans.empty()
    best = _MAX_DIGITS - 1 - np.argmax(grid[:, ::-1], axis=1)
    cand_run = starts[found]
    cand_last = cand_run + best[found]
    # Six or eight digits, a separator, four digits: the shape of a personnummer (one that
    # failed its checks), not a way anyone groups a phone number.
    id_shaped = (
        (cand_last == cand_run + 1)
        & ((length[cand_run] == 6) | (length[cand_run] == 8))
        & (length[cand_last] == 4)
    )
    cand_run, cand_last = cand_run[~id_shaped], cand_last[~id_shaped]
    if not len(cand_run):
        return Spans.empty()
    cand_start = span_start[cand_run]
    cand_end = e[cand_last]
    cell_start = lower[cand_run]
    plain_ok = _plain_start_ok(text, cand_start, cell_start)

    # Candidates touching an earlier one in the same chain (covered by it, or starting right
    # after it) are settled in order; the rest stand alone.
    chain = np.zeros(m, dtype=np.int64)
    chain[1:] = np.cumsum(~joined[:-1])
    cand_chain = chain[cand_run]
    key = cand_chain * (m + 2) + cand_last
    running = np.maximum.accumulate(key)
    before = np.full(len(key), -1, dtype=np.int64)
    before[1:] = running[:-1]
    same_chain = before >= cand_chain * (m + 2)
    touching = same_chain & (before - cand_chain * (m + 2) >= cand_run - 1)
    selected = plain_ok.copy()
    tangled = np.isin(cand_chain, cand_chain[touching])
    if tangled.any():
        for group in np.unique(cand_chain[tangled]).tolist():
            members = np.flatnonzero(cand_chain == group)
            masked_until = -1
            for c in members.tolist():
                begin = int(cand_start[c])
                if begin < masked_until:
                    selected[c] = False
                    continue
                ok = _start_ok(text, begin, masked_until, int(cell_start[c]))
                selected[c] = ok
                if ok:
                    masked_until = int(cand_end[c])
    picked = np.flatnonzero(selected)
    return Spans(cand_start[picked], cand_end[picked], np.zeros(len(picked), dtype=np.int64))


def _plain_start_ok(text: Text, begin: I64, cell_start: I64) -> Bools:
    upper = np.full(len(begin), len(text.data), dtype=np.int64)
    prev = text.at(begin - 1, cell_start, upper)
    prev2 = text.at(begin - 2, cell_start, upper)
    safe_prev = np.where(prev < 0, 0, prev)
    bad = (prev >= 0) & _NOT_AFTER[safe_prev]
    bad |= (prev >= 0) & _DATE_PUNCT[safe_prev] & (prev2 >= 48) & (prev2 <= 57)
    return ~bad


def _date_shaped(
    text: Text,
    runs: Runs,
    d0: npt.NDArray[np.int16],
    d1: npt.NDArray[np.int16],
    gap_len: I64,
    gap: npt.NDArray[np.int16],
) -> Bools:
    """Runs starting DD-MM-YYYY or MM/DD/YYYY with one repeated separator: a date (in a URL
    path, a file name), never a phone number."""
    m = len(runs)
    length = runs.length
    out = np.zeros(m, dtype=bool)
    if m < 3:
        return out
    a = (d0.astype(np.int64) - 48) * 10 + d1 - 48
    sep = np.where(gap_len == 1, gap[0], -1)
    shape = np.zeros(m, dtype=bool)
    shape[:-2] = (
        (length[:-2] == 2) & (length[1:-1] == 2) & (length[2:] == 4)
        & (sep[:-2] >= 0) & (sep[:-2] == sep[1:-1])
        & np.isin(sep[:-2], np.array((45, 46, 47), dtype=np.int16))
    )  # fmt: skip
    b = np.zeros(m, dtype=np.int64)
    b[:-1] = a[1:]
    calendar = ((a >= 1) & (a <= 31) & (b >= 1) & (b <= 12)) | (
        (a >= 1) & (a <= 12) & (b >= 1) & (b <= 31)
    )
    return shape & calendar


_DASHES = members(DASHES)
# Letters drawn like digits count (`O7O-123 45 67`: normalisation's reading by look finds it).
_ZERO, _NONZERO, _DIGIT = digit_class("0"), digit_class("123456789"), digit_class("0123456789")
PREFILTER = (
    rf"(?:\+{SP}?|{_ZERO}{_ZERO}{SP}?){digit_class('4')}{digit_class('6')}"
    rf"|(?:^|[^0-9A-Za-z+/.:{_DASHES}]|(?:^|[^0-9])[/.:{_DASHES}])"
    rf"\(?{_ZERO}{_NONZERO}(?:[{members(SPACES)}/(){_DASHES}]{{0,3}}{_DIGIT}){{5}}"
)

FAMILY = Family(
    name="phone",
    kinds=TAGS,
    order=30,
    prefilter=PREFILTER,
    find=find,
    freed_by=("identifiers",),
)
