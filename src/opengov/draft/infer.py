"""Table Schema types from text cells, vectorised: RE2 over Arrow string arrays, no Python loop
per cell.

`guess` decides a column's type from a bounded sample; `Verifier` then checks that type against
every batch of the whole file and widens it where a later cell does not fit (an integer column
with "1,5" further down becomes a number, a date column with "okänt" becomes a string), so the
draft's types hold for every row while the file is read once, batch by batch.

Swedish exports write numbers with a decimal comma and a space or no-break space between
thousands (`104 824,50`), dates as `2024-03-01` or `01/03/2024`, and booleans as ja/nej. Values
with a leading zero (`0701234567`, `00123`) stay strings: as integers they would lose the zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# Group separators: space, no-break space, narrow no-break space (what Excel and LibreOffice
# write for sv-SE), and "." beside a decimal comma.
_SPACES = " \u00a0\u202f"
TRUE_VALUES = ["ja", "Ja", "JA", "true", "True", "TRUE"]
FALSE_VALUES = ["nej", "Nej", "NEJ", "false", "False", "FALSE"]
_BOOLEAN = r"^(?:ja|Ja|JA|nej|Nej|NEJ|true|True|TRUE|false|False|FALSE)$"
# At most 18 digits, which every int64 holds (19 may not: 9999999999999999999).
_INTEGER = r"^-?(?:0|[1-9][0-9]{0,16})$"
# A float64 keeps 15 significant digits exactly: a longer "number" (a 20-digit reference, an
# account number past int64) was published rounded, 12345678901234567890 as 1.2345678901234567e19.
# Such a column stays text.
_FLOAT_DIGITS = 15
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y%m%d")
_DATE_SHAPES = {
    "%Y-%m-%d": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "%d/%m/%Y": r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$",
    "%d.%m.%Y": r"^[0-9]{2}\.[0-9]{2}\.[0-9]{4}$",
    "%Y/%m/%d": r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$",
    "%d-%m-%Y": r"^[0-9]{2}-[0-9]{2}-[0-9]{4}$",
    "%Y%m%d": r"^(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])$",
}
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
_DATETIME_SHAPES = {
    "%Y-%m-%dT%H:%M:%S": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$",
    "%Y-%m-%d %H:%M:%S": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
    "%Y-%m-%d %H:%M": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$",
}
TIME_FORMATS = ("%H:%M:%S", "%H:%M")
_TIME_SHAPES = {"%H:%M:%S": r"^[0-9]{2}:[0-9]{2}:[0-9]{2}$", "%H:%M": r"^[0-9]{2}:[0-9]{2}$"}


@dataclass(frozen=True)
class NumberStyle:
    decimal: str = "."
    group: str | None = None

    def pattern(self) -> str:
        d = "\\" + self.decimal
        if self.group is None:
            whole = "(?:0|[1-9][0-9]*)"
        else:
            g = "\\." if self.group == "." else self.group
            whole = f"(?:0|[1-9][0-9]{{0,2}}(?:{g}[0-9]{{3}})*)"
        return f"^-?{whole}(?:{d}[0-9]+)?$"


_NUMBER_STYLES = (
    NumberStyle("."),
    NumberStyle(","),
    *(NumberStyle(",", g) for g in (*_SPACES, ".")),
    *(NumberStyle(".", g) for g in (*_SPACES, ",")),
)


@dataclass(frozen=True)
class Guess:
    """A column's type as the draft will declare it."""

    type: str = "string"
    format: str | None = None
    number: NumberStyle | None = None

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.format:
            out["format"] = self.format
        if self.type == "number" and self.number:
            if self.number.decimal != ".":
                out["decimalChar"] = self.number.decimal
            if self.number.group:
                out["groupChar"] = self.number.group
        if self.type == "boolean":
            out["trueValues"] = list(TRUE_VALUES)
            out["falseValues"] = list(FALSE_VALUES)
        return out

    def describe(self) -> str:
        if (
            self.type == "number"
            and self.number
            and (self.number.decimal != "." or self.number.group)
        ):
            group = {" ": "space", "\u00a0": "no-break space", "\u202f": "narrow no-break space"}
            parts = [f"decimal {self.number.decimal!r}"]
            if self.number.group:
                parts.append(f"thousands {group.get(self.number.group, repr(self.number.group))}")
            return f"number ({', '.join(parts)})"
        if self.format:
            return f"{self.type} ({self.format})"
        return self.type


def present(values: pa.Array) -> pa.Array:
    """The non-missing cells: not null, not empty (frictionless' default missing value)."""
    if pa.types.is_null(values.type):
        return pa.array([], pa.string())
    return pc.filter(values, pc.and_(pc.is_valid(values), pc.not_equal(values, "")))


def _all_match(values: pa.Array, pattern: str) -> bool:
    if len(values) == 0:
        return True
    return bool(pc.all(pc.match_substring_regex(values, pattern=pattern)).as_py())


def _float_exact(values: pa.Array) -> bool:
    digits = pc.utf8_length(pc.replace_substring_regex(values, pattern="[^0-9]", replacement=""))
    return int(pc.max(digits).as_py() or 0) <= _FLOAT_DIGITS


_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
_PARTS = {"m": pc.month, "d": pc.day, "H": pc.hour, "M": pc.minute}


def _positions(fmt: str) -> dict[str, int]:
    """Where each fixed-width directive of `fmt` starts in a matching string."""
    out: dict[str, int] = {}
    offset = i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            out[fmt[i + 1]] = offset
            offset += _WIDTHS[fmt[i + 1]]
            i += 2
        else:
            offset += 1
            i += 1
    return out


def _parses(values: pa.Array, fmt: str) -> bool:
    """Every value is a real date or time in `fmt` (the shape regex lets 2024-02-30 through).

    Arrow's parser rolls 30 February over into 1 March: the parsed month, day, hour and minute
    are compared with the digits written, which a rolled-over value does not keep.
    """
    try:
        parsed = pc.strptime(values, format=fmt, unit="s", error_is_null=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    for directive, start in _positions(fmt).items():
        part = _PARTS.get(directive)
        if part is None:
            continue
        written = pc.cast(pc.utf8_slice_codeunits(values, start, start + 2), pa.int64())
        if not pc.all(pc.equal(part(parsed), written)).as_py():
            return False
    return True


def fits(guess: Guess, values: pa.Array) -> bool:
    """Whether every present cell of `values` (strings) is a valid value of `guess`."""
    if guess.type == "string" or len(values) == 0:
        return True
    if guess.type == "boolean":
        return _all_match(values, _BOOLEAN)
    if guess.type == "integer":
        return _all_match(values, _INTEGER)
    if guess.type == "number":
        return _all_match(values, (guess.number or NumberStyle()).pattern()) and _float_exact(
            values
        )
    # The ISO date is Table Schema's default format: declared without one, checked with it.
    fmt = guess.format or "%Y-%m-%d"
    if guess.type == "date":
        return _all_match(values, _DATE_SHAPES[fmt]) and _parses(values, fmt)
    if guess.type == "datetime":
        return _all_match(values, _DATETIME_SHAPES[fmt]) and _parses(values, fmt)
    if guess.type == "time":
        if not _all_match(values, _TIME_SHAPES[fmt]):
            return False
        return _parses(pc.binary_join_element_wise("1970-01-01 ", values, ""), f"%Y-%m-%d {fmt}")
    return False


def candidates() -> list[Guess]:
    """Every type a text column may be, most specific first."""
    out = [Guess("boolean"), Guess("integer")]
    out.extend(Guess("number", number=style) for style in _NUMBER_STYLES)
    out.extend(Guess("date", format=None if f == "%Y-%m-%d" else f) for f in DATE_FORMATS)
    out.extend(Guess("datetime", format=f) for f in DATETIME_FORMATS)
    out.extend(Guess("time", format=f) for f in TIME_FORMATS)
    out.append(Guess("string"))
    return out


def guess(values: pa.Array) -> list[Guess]:
    """The types every present cell of the sample fits, most specific first (string last)."""
    cells = present(values)
    if len(cells) == 0:
        return [Guess("string")]
    return [g for g in candidates() if fits(g, cells)]


@dataclass
class Verifier:
    """One column's type checked against every batch; widened when a batch does not fit.

    While the current type fits, only it is checked (one RE2 pass per batch). When a batch does
    not fit, the remaining options are narrowed to those that fit that batch, checked in full
    from then on, and `recheck_until` says which earlier batches they must still be checked
    against (a second pass over the head of the file, only for such a column).
    """

    options: list[Guess]  # still possible, most specific first; the first is the current type
    track_keys: bool = False  # keep values to count distinct ones (a primary-key candidate)
    rows: int = 0
    missing: int = 0
    batches: int = 0
    recheck_until: int = 0  # batches [0, recheck_until) not yet checked against `options`
    seen: list[pa.Array] = field(default_factory=list)
    seen_bytes: int = 0

    @property
    def current(self) -> Guess:
        return self.options[0]

    def feed(self, values: pa.Array, *, track_limit: int) -> None:
        self.rows += len(values)
        cells = present(values)
        self.missing += len(values) - len(cells)
        if self.recheck_until:
            self.options = [g for g in self.options if fits(g, cells)] or [Guess("string")]
        elif not fits(self.current, cells):
            self.options = [g for g in self.options[1:] if fits(g, cells)] or [Guess("string")]
            self.recheck_until = self.batches
        self.batches += 1
        if self.track_keys:
            if len(cells) != len(values):
                self.track_keys, self.seen = False, []
                return
            self.seen.append(cells)
            self.seen_bytes += cells.nbytes
            if self.seen_bytes > track_limit:
                # Counting distinct values would hold too much of the column: not a candidate.
                self.track_keys, self.seen = False, []

    def recheck(self, index: int, values: pa.Array) -> None:
        """Check batch `index` (< recheck_until) of a second pass against the options left."""
        if index < self.recheck_until:
            cells = present(values)
            self.options = [g for g in self.options if fits(g, cells)] or [Guess("string")]

    def all_distinct(self) -> bool:
        if not self.track_keys or self.rows == 0 or self.missing:
            return False
        whole = (
            pa.chunked_array(self.seen, pa.string())
            if self.seen
            else pa.chunked_array([], pa.string())
        )
        # unique() is several times faster than count_distinct() on long string columns.
        return len(pc.unique(whole.combine_chunks())) == self.rows
