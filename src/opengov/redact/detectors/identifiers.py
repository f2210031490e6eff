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

from .chars import DASHES, SP, members
from .text import I64, Family, Runs, Spans, Text, digit_runs, overlapping

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


def _dates_ok(month: I64, day: I64, leap: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    limit = _MONTH_DAYS[np.clip(month, 0, 99)] + (leap & (month == 2))
    return np.asarray((month >= 1) & (month <= 12) & (day >= 1) & (day <= limit), dtype=bool)


def classify_many(digits: I64, century: I64, plus: npt.NDArray[np.bool_]) -> I64:
    """Kind index per row of a (n, 10) digit matrix, NONE where not an identifier.

    `century`: 18, 19 or 20 for twelve-digit forms, -1 for ten digits; `plus`: written with
    "+" (a person of 100 or more). Same rules as `classify`.
    """
    n = len(digits)
    if not n:
        return np.zeros(0, dtype=np.int64)
    total = _DOUBLED[digits[:, 0::2]].sum(axis=1) + digits[:, 1::2].sum(axis=1)
    luhn = total % 10 == 0
    yy = digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 2] * 10 + digits[:, 3]
    day = digits[:, 4] * 10 + digits[:, 5]
    has_century = century >= 0
    year = century * 100 + yy
    leap = np.where(
        has_century,
        (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0)),
        (yy % 4 == 0) & ~((yy == 0) & plus),
    )
    birth = digits[:, 6:9].sum(axis=1) > 0
    person = luhn & birth & _dates_ok(month, day, leap)
    coordination = luhn & birth & ~person & (day > 60) & _dates_ok(month, day - 60, leap)
    org = (
        luhn
        & ~person
        & ~coordination
        & ~has_century
        & ~plus
        & (digits[:, 0] != 0)
        & (digits[:, 2] >= 2)
    )
    out = np.full(n, NONE, dtype=np.int64)
    out[org] = ORGANISATIONSNUMMER
    out[coordination] = SAMORDNINGSNUMMER
    out[person] = PERSONNUMMER
    return out


def _ten(text: Text, first: I64, first_len: int, second: I64) -> I64:
    """(n, 10) digits: `first_len` digits from `first`, the rest from `second`."""
    j = np.arange(10, dtype=np.int64)
    cols = np.where(j < first_len, first[:, None] + j, second[:, None] + (j - first_len))
    return text.data[cols].astype(np.int64) - 48


def _century(text: Text, at: I64) -> I64:
    """18, 19 or 20 from the two digits at `at`, else -1."""
    value = (text.data[at].astype(np.int64) - 48) * 10 + text.data[at + 1].astype(np.int64) - 48
    return np.where((value >= 18) & (value <= 20), value, -1)


def find(text: Text) -> Spans:
    runs = digit_runs(text)
    m = len(runs)
    if not m:
        return Spans.empty()
    s, e, length = runs.start, runs.end, runs.length
    gap_len, gap = runs.next_gap(text, _GAP_WIDTH)
    next_len = np.zeros(m, dtype=np.int64)
    next_len[:-1] = length[1:]
    next_start = np.zeros(m, dtype=np.int64)
    next_start[:-1] = s[1:]
    next_end = np.zeros(m, dtype=np.int64)
    next_end[:-1] = e[1:]

    # The separator: 1-5 bytes, at most one "-" or "+" with at most two whitespace each side.
    blank = (gap == _SPACE) | (gap == _NEWLINE)
    sign = (gap == _DASH) | (gap == _PLUS)
    signs = sign.sum(axis=1)
    sign_at = np.argmax(sign, axis=1)
    sep_ok = (
        (gap_len >= 1)
        & (gap_len <= _GAP_WIDTH)
        & (blank | sign | (gap < 0)).all(axis=1)
        & (signs <= 1)
    )
    sep_ok &= np.where(signs == 1, (sign_at <= 2) & (gap_len - 1 - sign_at <= 2), gap_len <= 2)
    sep_plus = (gap == _PLUS).any(axis=1)

    century12 = np.full(m, -1, dtype=np.int64)
    long12 = np.flatnonzero(length == 12)
    century12[long12] = _century(text, s[long12])
    century8 = np.full(m, -1, dtype=np.int64)
    long8 = np.flatnonzero(length == 8)
    century8[long8] = _century(text, s[long8])

    parts: list[tuple[I64, I64, I64, I64, I64]] = []  # (run, ten digits, century, plus, end)
    no = np.zeros(0, dtype=np.int64)
    bare = np.flatnonzero(length == 10)
    parts.append((bare, _ten(text, s[bare], 10, s[bare]), np.full(len(bare), -1), no, e[bare]))
    full = np.flatnonzero(century12 >= 0)
    parts.append((full, _ten(text, s[full] + 2, 10, s[full]), century12[full], no, e[full]))
    split = np.flatnonzero((length == 6) & sep_ok & (next_len == 4))
    parts.append(
        (split, _ten(text, s[split], 6, next_start[split]), np.full(len(split), -1), split,
         next_end[split])
    )  # fmt: skip
    split12 = np.flatnonzero((century8 >= 0) & sep_ok & (next_len == 4))
    parts.append(
        (split12, _ten(text, s[split12] + 2, 6, next_start[split12]), century8[split12], split12,
         next_end[split12])
    )  # fmt: skip
    starts, ends, kinds = [], [], []
    for run, ten, century, with_sep, end in parts:
        if not len(run):
            continue
        plus = np.zeros(len(run), dtype=bool)
        if len(with_sep):
            plus = sep_plus[with_sep]
        kind = classify_many(ten, np.asarray(century, dtype=np.int64), plus)
        keep = kind != NONE
        starts.append(s[run][keep])
        ends.append(end[keep])
        kinds.append(kind[keep])
    digit_hits = Spans.concat([Spans(a, b, k) for a, b, k in zip(starts, ends, kinds, strict=True)])
    vat = _vat(text, runs, gap_len, gap, next_len, next_end)
    if not len(vat):
        return digit_hits
    # "SE192909231801" is an orgnr VAT number and a 12-digit personnummer: the personal
    # reading wins, so such VAT hits give way to the personnummer inside them.
    personal = digit_hits.where(digit_hits.kind != ORGANISATIONSNUMMER)
    drop = (vat.kind == ORGANISATIONSNUMMER) & overlapping(vat, personal)
    vat = vat.where(~drop)
    return Spans.concat([vat, digit_hits.where(~overlapping(digit_hits, vat))])


def _vat(
    text: Text, runs: Runs, gap_len: I64, gap: npt.NDArray[np.int16], next_len: I64,
    next_end: I64,
) -> Spans:  # fmt: skip
    """VAT numbers: SE, optional space, the ten digits (optional "-" inside), optional space, 01."""
    s, e, length = runs.start, runs.end, runs.length
    lower = text.offsets[runs.cell]
    upper = text.offsets[runs.cell + 1]
    c1, c2, c3, c4 = (text.at(s - k, lower, upper) for k in (1, 2, 3, 4))

    def letter(value: npt.NDArray[np.int16], upper_case: int) -> npt.NDArray[np.bool_]:
        return np.asarray((value == upper_case) | (value == upper_case + 32), dtype=bool)

    def alnum(value: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
        lowered = value | 32
        return ((value >= 48) & (value <= 57)) | ((lowered >= 97) & (lowered <= 122))

    tight = letter(c2, ord("S")) & letter(c1, ord("E")) & ~alnum(c3)
    spaced = (c1 == _SPACE) & letter(c3, ord("S")) & letter(c2, ord("E")) & ~alnum(c4)
    prefix = tight | spaced
    if not prefix.any():
        return Spans.empty()
    vat_start = np.where(tight, s - 2, s - 3)
    m = len(runs)
    nn_len = np.zeros(m, dtype=np.int64)
    nn_len[:-2] = length[2:]
    nn_end = np.zeros(m, dtype=np.int64)
    nn_end[:-2] = e[2:]
    gap2_len = np.full(m, -1, dtype=np.int64)
    gap2_first = np.full(m, -1, dtype=np.int16)
    gap2_len[:-1] = gap_len[1:]
    gap2_first[:-1] = gap[1:, 0]

    def ends_01(end: I64) -> npt.NDArray[np.bool_]:
        safe = np.maximum(end, 2)
        return np.asarray((text.data[safe - 2] == 48) & (text.data[safe - 1] == 49), dtype=bool)

    single_space = (gap_len == 1) & (gap[:, 0] == _SPACE)
    single_dash = (gap_len == 1) & (gap[:, 0] == _DASH)
    forms: list[tuple[I64, I64, I64]] = []  # (run, second part start, end)
    one = np.flatnonzero(prefix & (length == 12) & ends_01(e))
    forms.append((one, s[one] + 6, e[one]))
    spaced01 = np.flatnonzero(prefix & (length == 10) & single_space & (next_len == 2))
    spaced01 = spaced01[ends_01(next_end[spaced01])]
    forms.append((spaced01, s[spaced01] + 6, next_end[spaced01]))
    dashed = np.flatnonzero(prefix & (length == 6) & single_dash & (next_len == 6))
    dashed = dashed[ends_01(next_end[dashed])]
    forms.append((dashed, s[dashed + 1], next_end[dashed]))
    both = np.flatnonzero(
        prefix & (length == 6) & single_dash & (next_len == 4) & (gap2_len == 1)
        & (gap2_first == _SPACE) & (nn_len == 2)
    )  # fmt: skip
    both = both[ends_01(nn_end[both])]
    forms.append((both, s[both + 1], nn_end[both]))
    spans = []
    for run, second, end in forms:
        if not len(run):
            continue
        ten = _ten(text, s[run], 6, second)
        kind = classify_many(ten, np.full(len(run), -1, dtype=np.int64), np.zeros(len(run), bool))
        keep = kind != NONE
        spans.append(Spans(vat_start[run][keep], end[keep], kind[keep]))
    return Spans.concat(spans)


PREFILTER = f"[0-9]{{6}}{SP}{{0,2}}[+{members(DASHES)}]?{SP}{{0,2}}[0-9]{{4}}"

FAMILY = Family(
    name="identifiers",
    kinds=TAGS,
    order=20,
    prefilter=PREFILTER,
    find=find,
)
