"""Personnummer, samordningsnummer and organisationsnummer, checked as numpy arrays.

Candidates are digit runs (or two runs joined by a separator) of the written forms below;
Luhn, the calendar and the coordination-number rule run as vectorised arithmetic over a
(candidates x 10) matrix of digits, so a column where every cell is a candidate (an
organisationsnummer column) costs a few array operations, not a Python call per cell.

Written forms (on normalised text, see `normalise`):
- `YYMMDDNNNC` and `YYYYMMDDNNNC` (century 18, 19 or 20), one run of digits;
- `YYMMDD?NNNC` and `YYYYMMDD?NNNC` where `?` is at most two spaces or line breaks, optionally
  around one `-` or `+` (`811228-9874`, `811228 - 9874`, `121212+1212`);
- VAT numbers `SE` + the ten digits + `01` (`SE811228987401`, `SE 811228-9874 01`).
A candidate must not touch another digit. Classification never depends on what the caller
wants: a valid personnummer is a personnummer, so phones and postcodes never claim it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .chars import DASHES, SP, digit_class, members
from .text import I64, U8, Bools, Family, Runs, Spans, Text, overlapping

TAGS = {
    "personnummer": "[personnummer borttaget]",
    "samordningsnummer": "[samordningsnummer borttaget]",
    "organisationsnummer": "[organisationsnummer borttaget]",
}
PERSONNUMMER, SAMORDNINGSNUMMER, ORGANISATIONSNUMMER = 0, 1, 2
NONE = -1

_DOUBLED_TABLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_DOUBLED = np.array(_DOUBLED_TABLE, dtype=np.int64)
_MONTH_DAYS_TABLE = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_DAYS = np.array(_MONTH_DAYS_TABLE + (0,) * 87, dtype=np.int64)  # months 0-99

# Gap bytes between the date part and the birth number.
_SPACE, _NEWLINE, _DASH, _PLUS = 32, 10, 45, 43
_GAP_WIDTH = 5


def luhn_valid(digits: str) -> bool:
    """Luhn ("modulus 10, weights 2 and 1") over a 10-digit string, check digit last."""
    total = 0
    for i, ch in enumerate(digits):
        value = ord(ch) - 48
        total += _DOUBLED_TABLE[value] if i % 2 == 0 else value
    return total % 10 == 0


def _date_ok(month: int, day: int, leap: bool) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    return day <= (29 if month == 2 and leap else _MONTH_DAYS_TABLE[month])


def classify(digits: str, century: str | None = None, sep: str = "") -> str | None:
    """Kind of a 10-digit identifier (12-digit input passes its century), or None.

    The one-at-a-time form of `classify_many`, kept for callers with one string and as the
    reference the tests hold the vectorised form to. A valid date wins over
    organisationsnummer; orgnr need month field >= 20 (third digit >= 2), so the two never
    collide. Orgnr also need a non-zero first digit (legal-form groups are 1-9), which keeps
    bare ten-digit phone numbers ("07...") out of that kind.
    """
    if not luhn_valid(digits):
        return None
    yy, month, day = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if century is not None:
        year = int(century) * 100 + yy
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    else:
        # Ten digits: the latest matching year, so "00" is 2000 (leap); "+" makes it 1900.
        leap = yy % 4 == 0 and not (yy == 0 and sep == "+")
    if digits[6:9] != "000":  # birth numbers run 001-999
        if _date_ok(month, day, leap):
            return "personnummer"
        if day > 60 and _date_ok(month, day - 60, leap):
            return "samordningsnummer"
    if century is None and sep != "+" and digits[0] != "0" and digits[2] >= "2":
        return "organisationsnummer"
    return None


def _dates_ok(month: npt.NDArray[np.int32], day: npt.NDArray[np.int32], leap: Bools) -> Bools:
    limit = _MONTH_DAYS[np.clip(month, 0, 99)] + (leap & (month == 2))
    return np.asarray((month >= 1) & (month <= 12) & (day >= 1) & (day <= limit), dtype=bool)


_DOUBLED_U8 = _DOUBLED.astype(np.uint8)


def classify_many(digits: npt.NDArray[np.integer], century: I64, plus: Bools) -> I64:
    """Kind index per row of a (n, 10) matrix of digit values, NONE where not an identifier.

    `century`: 18, 19 or 20 for twelve-digit forms, -1 for ten digits; `plus`: written with
    "+" (a person of 100 or more). Same rules as `classify`.
    """
    return _classify(np.ascontiguousarray(digits.T, dtype=np.uint8), century, plus)


def _classify(d: U8, century: I64, plus: Bools) -> I64:
    """`classify_many` over a (10, n) matrix: one row per digit position."""
    n = d.shape[1]
    if not n:
        return np.zeros(0, dtype=np.int64)
    total = np.zeros(n, dtype=np.int32)
    for j in range(10):
        total += _DOUBLED_U8[d[j]] if j % 2 == 0 else d[j]
    luhn = total % 10 == 0
    yy = d[0].astype(np.int32) * 10 + d[1]
    month = d[2].astype(np.int32) * 10 + d[3]
    day = d[4].astype(np.int32) * 10 + d[5]
    has_century = century >= 0
    year = century * 100 + yy
    leap = np.where(
        has_century,
        (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0)),
        (yy % 4 == 0) & ~((yy == 0) & plus),
    )
    birth = (d[6] | d[7] | d[8]) > 0
    person = luhn & birth & _dates_ok(month, day, leap)
    coordination = luhn & birth & ~person & (day > 60) & _dates_ok(month, day - 60, leap)
    org = luhn & ~person & ~coordination & ~has_century & ~plus & (d[0] != 0) & (d[2] >= 2)
    out = np.full(n, NONE, dtype=np.int64)
    out[org] = ORGANISATIONSNUMMER
    out[coordination] = SAMORDNINGSNUMMER
    out[person] = PERSONNUMMER
    return out


def _ten(text: Text, first: I64, first_len: int, second: I64) -> U8:
    """(10, n) digit values: `first_len` digits from `first`, the rest from `second`."""
    if first_len == 10:
        return text.columns(first, 10) - np.uint8(48)
    head = text.columns(first, first_len)
    tail = text.columns(second, 10 - first_len)
    return np.vstack([head, tail]) - np.uint8(48)


def _century(text: Text, at: I64) -> I64:
    """18, 19 or 20 from the two digits at `at`, else -1."""
    value = (text.data[at].astype(np.int64) - 48) * 10 + text.data[at + 1].astype(np.int64) - 48
    return np.where((value >= 18) & (value <= 20), value, -1)


def _separator(text: Text, at: I64, length: I64) -> tuple[Bools, Bools]:
    """Whether the gaps [at, at + length) are identifier separators (1-5 bytes, at most one
    "-" or "+" with at most two spaces or line breaks on each side), and which hold "+"."""
    inside = np.arange(_GAP_WIDTH, dtype=np.int64)[:, None] < length
    gap = np.where(inside, text.columns(at, _GAP_WIDTH), np.uint8(_SPACE))
    blank = (gap == _SPACE) | (gap == _NEWLINE)
    plus = (gap == _PLUS) & inside
    sign = ((gap == _DASH) & inside) | plus
    signs = sign.sum(axis=0)
    sign_at = np.argmax(sign, axis=0)
    ok = (length >= 1) & (length <= _GAP_WIDTH) & (blank | sign).all(axis=0) & (signs <= 1)
    ok &= np.where(signs == 1, (sign_at <= 2) & (length - 1 - sign_at <= 2), length <= 2)
    return ok, plus.any(axis=0)


def find(text: Text, want: frozenset[str] = frozenset()) -> Spans:
    runs = text.runs()
    m = len(runs)
    if not m:
        return Spans.empty()
    s, e, length = runs.start, runs.end, runs.length
    same = runs.same_cell_next()
    next_len = np.zeros(m, dtype=np.int64)
    next_len[:-1] = np.where(same[:-1], length[1:], 0)

    # Candidate forms, each: runs, ten digits, century (-1: none), written with "+", end.
    runs_of: list[I64] = []
    tens: list[U8] = []
    centuries: list[I64] = []
    pluses: list[Bools] = []
    ends: list[I64] = []

    def add(run: I64, ten: U8, century: I64, plus: Bools, end: I64) -> None:
        if len(run):
            runs_of.append(run)
            tens.append(ten)
            centuries.append(century)
            pluses.append(plus)
            ends.append(end)

    none = np.full(m, -1, dtype=np.int64)
    bare = np.flatnonzero(length == 10)
    add(bare, _ten(text, s[bare], 10, s[bare]), none[bare], np.zeros(len(bare), bool), e[bare])
    long12 = np.flatnonzero(length == 12)
    century = _century(text, s[long12])
    full, century = long12[century >= 0], century[century >= 0]
    add(full, _ten(text, s[full] + 2, 10, s[full]), century, np.zeros(len(full), bool), e[full])
    for first in (6, 8):
        split = np.flatnonzero((length == first) & (next_len == 4))
        century = none[split] if first == 6 else _century(text, s[split])
        split, century = (
            split[(century >= 0) | (first == 6)],
            century[(century >= 0) | (first == 6)],
        )
        ok, plus = _separator(text, e[split], s[split + 1] - e[split])
        split, century, plus = split[ok], century[ok], plus[ok]
        ten = _ten(text, s[split] + first - 6, 6, s[split + 1])
        add(split, ten, century, plus, e[split + 1])
    if runs_of:
        run = np.concatenate(runs_of)
        kind = _classify(np.hstack(tens), np.concatenate(centuries), np.concatenate(pluses))
        keep = kind != NONE
        found = Spans(s[run][keep], np.concatenate(ends)[keep], kind[keep])
        # Each form's hits are in order already; only several forms need a merge.
        single = len(runs_of) == 1
        digit_hits = found if single else found.take(np.argsort(found.start, kind="stable"))
    else:
        digit_hits = Spans.empty()
    vat = _vat(text, runs, same, next_len)
    if not len(vat):
        return digit_hits
    # "SE192909231801" is an orgnr VAT number and a 12-digit personnummer: the personal
    # reading wins, so such VAT hits give way to the personnummer inside them.
    personal = digit_hits.where(digit_hits.kind != ORGANISATIONSNUMMER)
    drop = (vat.kind == ORGANISATIONSNUMMER) & overlapping(vat, personal)
    vat = vat.where(~drop)
    return Spans.concat([vat, digit_hits.where(~overlapping(digit_hits, vat))])


def _vat(text: Text, runs: Runs, same: Bools, next_len: I64) -> Spans:
    """VAT numbers: SE, optional space, the ten digits (optional "-" inside), optional space, 01."""
    s, e, length = runs.start, runs.end, runs.length
    lower = text.offsets[runs.cell]
    # Only runs right after "E", "e" or a space can follow "SE".
    before = text.at(s - 1, lower, s + 1)
    maybe = np.flatnonzero(
        (((before | 32) == 101) | (before == _SPACE))
        & ((length == 6) | (length == 10) | (length == 12))
    )
    if not len(maybe):
        return Spans.empty()
    s_m, low = s[maybe], lower[maybe]
    c1, c2, c3, c4 = (text.at(s_m - k, low, s_m) for k in (1, 2, 3, 4))

    def letter(value: npt.NDArray[np.int16], upper_case: int) -> Bools:
        return np.asarray((value == upper_case) | (value == upper_case + 32), dtype=bool)

    def alnum(value: npt.NDArray[np.int16]) -> Bools:
        lowered = value | 32
        return np.asarray(
            ((value >= 48) & (value <= 57)) | ((lowered >= 97) & (lowered <= 122)), dtype=bool
        )

    tight = letter(c2, ord("S")) & letter(c1, ord("E")) & ~alnum(c3)
    spaced = (c1 == _SPACE) & letter(c3, ord("S")) & letter(c2, ord("E")) & ~alnum(c4)
    keep = tight | spaced
    maybe, tight = maybe[keep], tight[keep]
    if not len(maybe):
        return Spans.empty()
    vat_start = np.where(tight, s[maybe] - 2, s[maybe] - 3)
    m = len(runs)
    gap1 = np.full(m, -1, dtype=np.int64)
    gap1[:-1] = np.where(same[:-1], s[1:] - e[:-1], -1)

    def gap_is(run: I64, byte: int) -> Bools:
        ok = gap1[run] == 1
        return np.asarray(ok & (text.data[np.where(ok, e[run], 0)] == byte), dtype=bool)

    def ends_01(end: I64) -> Bools:
        safe = np.maximum(end, 2)
        return np.asarray((text.data[safe - 2] == 48) & (text.data[safe - 1] == 49), dtype=bool)

    spans: list[Spans] = []

    def add(at: I64, run: I64, second: I64, end: I64) -> None:
        if not len(run):
            return
        ten = _ten(text, s[run], 6, second)
        kind = _classify(ten, np.full(len(run), -1, dtype=np.int64), np.zeros(len(run), bool))
        ok = kind != NONE
        spans.append(Spans(vat_start[at][ok], end[ok], kind[ok]))

    ln = length[maybe]
    at = np.flatnonzero((ln == 12) & ends_01(e[maybe]))  # SE811228987401
    add(at, maybe[at], s[maybe[at]] + 6, e[maybe[at]])
    at = np.flatnonzero((ln == 10) & (next_len[maybe] == 2))  # SE8112289874 01
    at = at[gap_is(maybe[at], _SPACE) & ends_01(e[np.minimum(maybe[at] + 1, m - 1)])]
    add(at, maybe[at], s[maybe[at]] + 6, e[maybe[at] + 1])
    at = np.flatnonzero((ln == 6) & (next_len[maybe] == 6))  # SE811228-987401
    at = at[gap_is(maybe[at], _DASH) & ends_01(e[np.minimum(maybe[at] + 1, m - 1)])]
    add(at, maybe[at], s[maybe[at] + 1], e[maybe[at] + 1])
    at = np.flatnonzero((ln == 6) & (next_len[maybe] == 4))  # SE811228-9874 01
    nxt = np.minimum(maybe[at] + 1, m - 1)
    at = at[gap_is(maybe[at], _DASH) & (next_len[nxt] == 2) & gap_is(nxt, _SPACE)]
    nxt = np.minimum(maybe[at] + 1, m - 1)
    at = at[ends_01(e[np.minimum(nxt + 1, m - 1)])]
    add(at, maybe[at], s[maybe[at] + 1], e[np.minimum(maybe[at] + 2, m - 1)])
    return Spans.concat(spans)


# Letters drawn like digits count (`8ll228-9874`: normalisation's reading by look finds it).
_DIGIT = digit_class("0123456789")
PREFILTER = f"{_DIGIT}{{6}}{SP}{{0,2}}[+{members(DASHES)}]?{SP}{{0,2}}{_DIGIT}{{4}}"

FAMILY = Family(
    name="identifiers",
    kinds=TAGS,
    order=20,
    prefilter=PREFILTER,
    find=find,
)
