"""What each published column holds, for the dataset page: empty cells, distinct values,
smallest and largest, most common values and a histogram; and the first rows as a preview.

Computed from the published (redacted) data only, one Arrow record batch at a time, in memory
that does not grow with the table:

- distinct values: exact below `SKETCH_SIZE`; above it a k-minimum-values sketch (about 1.6 %
  error), and the page says "ungefär";
- most common text values: exact while a column has at most `TOP_CAPACITY` different values;
  above that the Misra-Gries summary (every value more common than 1/`TOP_CAPACITY` of the rows
  is kept, counts are lower bounds), and the page says the counts are approximate;
- histograms: bins of width 1, 2, 10, 20, 100 ... (times a power of ten), each width a multiple of
  every narrower one, so bins merge exactly when a wider range arrives and two profiles of
  different parts of a table merge too (`Profile.merge`, for builders that work in parallel).

`Profile(schema, fields)`, then `update(batch)` for every batch and `finish()`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opengov.sources.textbytes import buffers, from_numpy

PREVIEW_ROWS = 100
PREVIEW_CELL_CHARS = 200
SKETCH_SIZE = 4096
TOP_CAPACITY = 2000
TOP_SHOWN = 10
RARE_SHARE = 100  # text values: shown as most common only above 1/RARE_SHARE of the rows
VALUE_BARS = 12  # a number column with at most this many values gets one bar per value
WORKING_BINS = 64
SHOWN_BINS = 20
DATE_KEYS = 400
LONG_TEXT = 256
BATCH_ROWS = 65_536

Kind = Literal["number", "time", "text", "boolean", "other"]


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: what it counts (Swedish text), from where to where, and how many."""

    label: str
    count: int
    low: float | None = None
    high: float | None = None


@dataclass
class ColumnProfile:
    name: str
    title: str
    description: str
    type: str  # the published Table Schema type
    kind: Kind
    rows: int = 0
    empty: int = 0
    distinct: int | None = None
    distinct_exact: bool = True
    minimum: Any = None
    maximum: Any = None
    mean: float | None = None
    top: list[Bar] = field(default_factory=list)
    top_exact: bool = True
    bars: list[Bar] = field(default_factory=list)  # the chart: histogram or one bar per value
    chart: Literal["histogram", "values", "none"] = "none"

    @property
    def empty_share(self) -> float:
        return self.empty / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("minimum", "maximum"):
            value = out[key]
            if isinstance(value, dt.date | dt.datetime | dt.time):
                out[key] = value.isoformat()
        return out


@dataclass
class ResourceProfile:
    rows: int
    columns: list[ColumnProfile]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": [c.to_dict() for c in self.columns]}


@dataclass
class PreviewCell:
    text: str
    sort: str | None = None  # a machine-sortable value for numbers and times


@dataclass
class Preview:
    names: list[str]
    rows: list[list[PreviewCell]]
    total_rows: int


# ------------------------------------------------------------------------------ sketches

_M64 = (1 << 64) - 1


def _splitmix(values: pa.Array) -> pa.Array:
    """A 64-bit mix of each value's bits (splitmix64), computed by Arrow kernels."""
    u64 = pa.uint64()
    z = pc.add(values, pa.scalar(0x9E3779B97F4A7C15, u64))
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, pa.scalar(30, u64))),
                    pa.scalar(0xBF58476D1CE4E5B9, u64))  # fmt: skip
    z = pc.multiply(pc.bit_wise_xor(z, pc.shift_right(z, pa.scalar(27, u64))),
                    pa.scalar(0x94D049BB133111EB, u64))  # fmt: skip
    return pc.bit_wise_xor(z, pc.shift_right(z, pa.scalar(31, u64)))


_WEIGHTS: list[np.ndarray] = []
_SHORT_TEXT = 48  # bytes: up to this length, text is hashed by byte position, not per byte


def _weights(length: int) -> np.ndarray:
    """A pseudo-random 64-bit weight per byte position (splitmix64 of the position)."""
    if not _WEIGHTS or len(_WEIGHTS[0]) < length:
        size = max(length, 64, 2 * len(_WEIGHTS[0]) if _WEIGHTS else 0)
        mixed = _splitmix(from_numpy(np.arange(1, size + 1, dtype=np.uint64), pa.uint64()))
        _WEIGHTS[:] = [mixed.to_numpy()]
    return _WEIGHTS[0]


def _text_hashes(values: list[Any] | pa.Array) -> pa.Array:
    """64-bit hashes of text values (a list of values, or an Arrow array without nulls), the
    same for a value however it comes: each byte times its position's weight, summed modulo
    2**64 (numpy over the whole buffer, no Python per value), then spread by splitmix64 with
    the length mixed in. Deterministic across runs and platforms."""
    if isinstance(values, list):
        values = pa.array([str(v) for v in values], pa.string())
    elif pa.types.is_boolean(values.type):
        values = pc.if_else(values, "True", "False")  # as str() writes them, like the lists
    elif not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    if len(values) == 0:
        return pa.array([], pa.uint64())
    data, offsets = buffers(values)
    lengths = np.diff(offsets)
    longest = int(lengths.max())
    weights = _weights(longest)
    one = np.uint64(1)
    if longest == int(lengths.min()):
        # Values of one length (ids, codes, dates as text): a matrix, one column per byte.
        matrix = data.reshape(len(values), longest)
        sums = np.zeros(len(values), np.uint64)
        for j in range(longest):
            sums += (matrix[:, j].astype(np.uint64) + one) * weights[j]  # wraps modulo 2**64
    elif longest <= _SHORT_TEXT:
        # Short values: one gather per byte position; positions past a value's end add 0.
        firsts = offsets[:-1]
        sums = np.zeros(len(values), np.uint64)
        last = max(len(data) - 1, 0)
        for j in range(longest):
            byte = data[np.minimum(firsts + j, last)].astype(np.uint64) + one
            sums += np.where(lengths > j, byte * weights[j], np.uint64(0))
    else:
        position = np.arange(len(data), dtype=np.int64) - np.repeat(offsets[:-1], lengths)
        weighted = (data.astype(np.uint64) + one) * weights[position]
        running = np.concatenate([np.zeros(1, np.uint64), np.cumsum(weighted, dtype=np.uint64)])
        sums = running[offsets[1:]] - running[offsets[:-1]]  # modulo 2**64
    mixed = sums ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    return _splitmix(pa.array(mixed, pa.uint64()))


class _Distinct:
    """A k-minimum-values sketch of 64-bit hashes: exact below k values, about 1/sqrt(k) above."""

    def __init__(self) -> None:
        self.kept = pa.array([], pa.uint64())

    def add(self, hashes: pa.Array) -> None:
        hashes = hashes.cast(pa.uint64())
        if len(self.kept) >= SKETCH_SIZE:
            # Full: only a hash below the largest kept one can be among the k smallest.
            hashes = hashes.filter(pc.less(hashes, pc.max(self.kept)))
            if not len(hashes):
                return
        both = pc.unique(pa.concat_arrays([self.kept, hashes]))
        if len(both) > SKETCH_SIZE:
            both = both.take(pc.bottom_k_unstable(both, SKETCH_SIZE))
        self.kept = both

    def merge(self, other: _Distinct) -> None:
        self.add(other.kept)

    def estimate(self) -> tuple[int, bool]:
        n = len(self.kept)
        if n < SKETCH_SIZE:
            return n, True
        largest = int(pc.max(self.kept).as_py())
        return round((SKETCH_SIZE - 1) * (_M64 + 1) / (largest + 1)), False


def _number_hashes(values: pa.Array) -> pa.Array:
    if pa.types.is_floating(values.type):
        values = pc.add(values.cast(pa.float64()), 0.0)  # -0.0 and 0.0 are one value
        bits = values.view(pa.int64()).view(pa.uint64())
    elif pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        bits = values.view(pa.int64() if values.type.bit_width == 64 else pa.int32())
        bits = bits.cast(pa.int64()).view(pa.uint64())
    else:
        bits = values.cast(pa.int64()).view(pa.uint64())
    return _splitmix(bits)


class _TopValues:
    """Counts per value: exact up to `TOP_CAPACITY` values, then a Misra-Gries summary."""

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        self.exact = True

    def add(self, values: list[Any], counts: list[int]) -> list[Any] | None:
        """Add counts; on the first overflow return every value seen so far (for the sketch)."""
        for value, count in zip(values, counts, strict=True):
            self.counts[value] = self.counts.get(value, 0) + count
        if len(self.counts) <= TOP_CAPACITY:
            return None
        seen = list(self.counts) if self.exact else None
        self._prune()
        return seen

    def merge(self, other: _TopValues) -> list[Any] | None:
        seen = self.add(list(other.counts), list(other.counts.values()))
        if not other.exact:
            self.exact = False
        return seen

    def _prune(self) -> None:
        ordered = sorted(self.counts.values(), reverse=True)
        cut = ordered[TOP_CAPACITY]
        self.counts = {v: c - cut for v, c in self.counts.items() if c > cut}
        self.exact = False

    def most_common(self, n: int) -> list[tuple[Any, int]]:
        return sorted(self.counts.items(), key=lambda vc: (-vc[1], str(vc[0])))[:n]


def _step(width: tuple[int, int]) -> tuple[tuple[int, int], int]:
    """The next wider bin width in 1, 2, 10, 20, 100 ... and the factor from this one."""
    mantissa, exponent = width
    return ((2, exponent), 2) if mantissa == 1 else ((1, exponent + 1), 5)


def _width_value(width: tuple[int, int]) -> float:
    try:
        return width[0] * 10.0 ** width[1]
    except OverflowError:  # past 1e308: one bin holds every value
        return math.inf


def _first_width(low: float, high: float, integer: bool) -> tuple[int, int]:
    # Halved first: the span of the largest floats (1.8e308 - -3e292) is past what a float holds.
    half_span = high / 2 - low / 2
    target = half_span / (WORKING_BINS / 4) if half_span > 0 else (abs(low) / 10 or 1.0)
    exponent = math.floor(math.log10(target)) if target > 0 else 0
    width = (1, exponent)
    if 2 * 10.0**exponent <= target:
        width = (2, exponent)
    if integer and _width_value(width) < 1:
        width = (1, 0)
    return width


class _Histogram:
    """Counts per bin of width w: bin i holds [i*w, (i+1)*w). Widths only grow, exactly."""

    def __init__(self, integer: bool, year: bool = False) -> None:
        self.integer, self.year = integer, year
        self.width: tuple[int, int] | None = None
        self.bins: dict[int, int] = {}

    def add(self, values: pa.Array, low: float, high: float) -> None:
        if self.width is None:
            self.width = _first_width(low, high, self.integer)
        # Keys must stay whole numbers an int64 holds: a far larger value than the first batch's
        # widens the bins first.
        while max(abs(low), abs(high)) / _width_value(self.width) > 2.0**52:
            self._coarsen()
        w = _width_value(self.width)
        # An int64 past 2**53 has no exact float: pyarrow's safe cast refused it (exit 70 on a
        # 17-digit number column); the nearest float is what a histogram needs.
        floats = values.cast(pa.float64(), safe=False)
        keys = pc.floor(pc.divide(floats, w)).cast(pa.int64())
        # x / w rounds; the bin shown is [key * w, (key + 1) * w), so put x where it shows.
        keys = pc.if_else(pc.greater(pc.multiply(keys.cast(pa.float64()), w), floats),
                          pc.subtract(keys, 1), keys)  # fmt: skip
        upper = pc.multiply(pc.add(keys, 1).cast(pa.float64()), w)
        keys = pc.if_else(pc.less_equal(upper, floats), pc.add(keys, 1), keys)
        counted = pc.value_counts(keys)
        for key, count in zip(
            counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
        ):
            self.bins[key] = self.bins.get(key, 0) + count
        while len(self.bins) > WORKING_BINS or self._span() > 4 * WORKING_BINS:
            self._coarsen()

    def _span(self) -> int:
        return max(self.bins) - min(self.bins) + 1 if self.bins else 0

    def _coarsen(self) -> None:
        assert self.width is not None
        self.width, factor = _step(self.width)
        merged: dict[int, int] = {}
        for key, count in self.bins.items():
            merged[key // factor] = merged.get(key // factor, 0) + count
        self.bins = merged

    def merge(self, other: _Histogram) -> None:
        if other.width is None:
            return
        if self.width is None:
            self.width, self.bins = other.width, dict(other.bins)
            return
        theirs = _Histogram(self.integer, self.year)
        theirs.width, theirs.bins = other.width, dict(other.bins)
        while _width_value(self.width) < _width_value(theirs.width):
            self._coarsen()
        while _width_value(theirs.width) < _width_value(self.width):
            theirs._coarsen()
        for key, count in theirs.bins.items():
            self.bins[key] = self.bins.get(key, 0) + count
        while len(self.bins) > WORKING_BINS or self._span() > 4 * WORKING_BINS:
            self._coarsen()

    def shown(self) -> list[Bar]:
        if self.width is None or not self.bins:
            return []
        while self._span() > SHOWN_BINS:
            self._coarsen()
        w = _width_value(self.width)
        out = []
        for key in range(min(self.bins), max(self.bins) + 1):
            low, high = key * w, (key + 1) * w
            label = _range_label(low, high, self.integer, self.year)
            out.append(Bar(label, self.bins.get(key, 0), low, high))
        return out


def _number_label(value: Any, year: bool) -> str:
    from opengov.release.pages import number_sv

    return str(value) if year else number_sv(value)


def _range_label(low: float, high: float, integer: bool, year: bool) -> str:
    if integer:
        first, last = round(low), round(high) - 1
        if first == last:
            return _number_label(first, year)
        return f"{_number_label(first, year)}–{_number_label(last, year)}"
    return f"{_number_label(low, year)} till {_number_label(high, year)}"


class _Dates:
    """Counts per day, month or year; a column spanning many days is counted per month, then per
    year (exact merges: a month is its days)."""

    LEVELS = ("day", "month", "year")

    def __init__(self) -> None:
        self.level = "day"
        self.counts: dict[int, int] = {}

    def add(self, values: pa.Array) -> None:
        if not pa.types.is_date32(values.type):
            values = pc.cast(values, pa.date32())
        keys = self._keys(values, self.level)
        counted = pc.value_counts(keys)
        for key, count in zip(
            counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
        ):
            self.counts[key] = self.counts.get(key, 0) + count
        while len(self.counts) > DATE_KEYS and self.level != "year":
            self._coarsen()

    @staticmethod
    def _keys(dates: pa.Array, level: str) -> pa.Array:
        if level == "day":
            return dates.cast(pa.int32()).cast(pa.int64())
        years = pc.year(dates)
        if level == "year":
            return years
        return pc.add(pc.multiply(years, 12), pc.subtract(pc.month(dates), 1))

    def _coarsen(self) -> None:
        merged: dict[int, int] = {}
        for key, count in self.counts.items():
            if self.level == "day":
                day = dt.date(1970, 1, 1) + dt.timedelta(days=key)
                new = day.year * 12 + day.month - 1
            else:
                new = key // 12
            merged[new] = merged.get(new, 0) + count
        self.level = self.LEVELS[self.LEVELS.index(self.level) + 1]
        self.counts = merged

    def merge(self, other: _Dates) -> None:
        theirs = _Dates()
        theirs.level, theirs.counts = other.level, dict(other.counts)
        while self.LEVELS.index(self.level) < self.LEVELS.index(theirs.level):
            self._coarsen()
        while self.LEVELS.index(theirs.level) < self.LEVELS.index(self.level):
            theirs._coarsen()
        for key, count in theirs.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        while len(self.counts) > DATE_KEYS and self.level != "year":
            self._coarsen()

    def shown(self) -> list[Bar]:
        if not self.counts:
            return []
        limits = {"day": 31, "month": 36}
        while self.level != "year" and max(self.counts) - min(self.counts) + 1 > limits[self.level]:
            self._coarsen()
        low, high = min(self.counts), max(self.counts)
        group = max(1, math.ceil((high - low + 1) / SHOWN_BINS)) if self.level == "year" else 1
        out = []
        for start in range(low, high + 1, group):
            count = sum(self.counts.get(k, 0) for k in range(start, start + group))
            out.append(Bar(self._label(start, start + group - 1), count, start, start + group))
        return out

    def _label(self, first: int, last: int) -> str:
        from opengov.release.pages import MONTHS

        if self.level == "day":
            day = dt.date(1970, 1, 1) + dt.timedelta(days=first)
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        if self.level == "month":
            return f"{MONTHS[first % 12]} {first // 12}"
        return str(first) if first == last else f"{first}–{last}"


# ------------------------------------------------------------------------------ columns


def _kind(type_: pa.DataType) -> Kind:
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        return "number"
    if pa.types.is_date(type_) or pa.types.is_timestamp(type_):
        return "time"
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "text"
    if pa.types.is_boolean(type_):
        return "boolean"
    return "other"


class _Column:
    def __init__(
        self, name: str, type_: pa.DataType, fdesc: dict[str, Any], unique: bool = False
    ) -> None:
        from opengov.release.pages import text

        self.out = ColumnProfile(
            name=name,
            title=text(fdesc.get("title")) or name,
            description=text(fdesc.get("description")),
            type=text(fdesc.get("type")) or "string",
            kind=_kind(type_),
        )
        self.integer = pa.types.is_integer(type_)
        self.year = self.out.type == "year"
        self.distinct = _Distinct()
        self.top = _TopValues()
        self.values = _TopValues()  # numbers: exact counts while there are few values
        self.few_values = True
        self.hist = _Histogram(self.integer, self.year)
        self.dates = _Dates()
        self.total = 0.0
        self.counted = 0
        self.low: Any = None
        self.high: Any = None
        # Values the published schema declares unique (validated, and untouched by redaction:
        # a transformed field loses the constraint): every present value is distinct, so
        # there is nothing to hash or count once there are more than a top list holds.
        # Only where the published value is the validated one: a float or a timestamp can
        # fold values frictionless tells apart (1.0 and 1.00000000000000001; an instant with
        # and without its offset) into one.
        self.unique = unique and (
            pa.types.is_string(type_) or pa.types.is_large_string(type_)
            or pa.types.is_integer(type_) or pa.types.is_date(type_)
        )  # fmt: skip
        self.all_distinct = False

    def update(self, column: pa.Array) -> None:
        out = self.out
        out.rows += len(column)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        present = column.drop_null()
        empty = len(column) - len(present)
        sizes = None  # text: the byte length of each present value
        if out.kind == "text":
            sizes = pc.binary_length(present)
            blanks = int(pc.sum(pc.equal(sizes, 0)).as_py() or 0)
            if blanks:
                empty += blanks
                present = present.filter(pc.not_equal(sizes, 0))
                sizes = sizes.filter(pc.not_equal(sizes, 0))
        out.empty += empty
        if len(present) == 0:
            return
        if out.kind == "number":
            self._numbers(present)
        elif out.kind == "time":
            self._times(present)
        elif out.kind in ("text", "boolean"):
            self._texts(present, sizes)
        else:
            self.out.distinct = None

    def _bounds(self, present: pa.Array) -> tuple[Any, Any]:
        low, high = (v.as_py() for v in pc.min_max(present).values())
        if self.low is None or low < self.low:
            self.low = low
        if self.high is None or high > self.high:
            self.high = high
        return low, high

    def _numbers(self, present: pa.Array) -> None:
        if pa.types.is_decimal(present.type):
            present = present.cast(pa.float64())
        if pa.types.is_floating(present.type):
            present = present.filter(pc.is_finite(present))
            if len(present) == 0:
                return
        low, high = self._bounds(present)
        self.total += float(pc.sum(present.cast(pa.float64(), safe=False)).as_py() or 0.0)
        self.counted += len(present)
        if not self.unique:
            self.distinct.add(_number_hashes(pc.unique(present)))
        self.hist.add(present, float(low), float(high))
        if self.few_values:
            counted = pc.value_counts(present)
            self.values.add(
                counted.field("values").to_pylist(), counted.field("counts").to_pylist()
            )
            if len(self.values.counts) > VALUE_BARS or not self.values.exact:
                self.few_values, self.values = False, _TopValues()

    def _times(self, present: pa.Array) -> None:
        self._bounds(present)
        if not self.unique:
            self.distinct.add(_number_hashes(pc.unique(present)))
        self.dates.add(present)

    def _texts(self, present: pa.Array, sizes: pa.Array | None) -> None:
        if self.unique and (
            self.all_distinct or len(self.top.counts) + len(present) > TOP_CAPACITY
        ):
            self._every_value_once()
            return
        if sizes is not None:
            # Bytes, not characters: a value of at most LONG_TEXT bytes has at most as many
            # characters, and the slice leaves a longer-in-bytes but short value as it is.
            long = pc.greater(sizes, LONG_TEXT)
            if pc.any(long).as_py():
                # Counting long free text by a prefix keeps memory bounded; the page shows at
                # most 80 characters of a value anyway.
                present = pc.if_else(long, pc.utf8_slice_codeunits(present, 0, LONG_TEXT), present)
        counted = pc.value_counts(present)
        values, counts = counted.field("values"), counted.field("counts")
        top = self.top
        if top.exact:
            known = pa.array(list(top.counts), values.type)
            new = len(values) - int(pc.sum(pc.is_in(values, value_set=known)).as_py() or 0)
            if len(top.counts) + new <= TOP_CAPACITY:
                top.add(values.to_pylist(), counts.to_pylist())
                return
            # From here on the column has too many values to count them all: every value seen
            # so far goes into the sketch, and every later one too.
            self.distinct.add(_text_hashes(list(top.counts)))
        self.distinct.add(_text_hashes(values))
        if len(values) > TOP_CAPACITY:
            # A value outside this batch's TOP_CAPACITY most common ones occurs at most
            # rows/TOP_CAPACITY times in it: the Misra-Gries bound, applied per batch.
            keep = pc.top_k_unstable(counts, TOP_CAPACITY)
            values, counts = values.take(keep), counts.take(keep)
        top.add(values.to_pylist(), counts.to_pylist())
        top.exact = False

    def _every_value_once(self) -> None:
        """More distinct values than the top list holds, each seen once: the page shows their
        number, exact, and no list (as it shows none for scattered values)."""
        self.all_distinct, self.top = True, _TopValues()
        self.top.exact = False

    def merge(self, other: _Column) -> None:
        out, theirs = self.out, other.out
        out.rows += theirs.rows
        out.empty += theirs.empty
        if other.low is not None and (self.low is None or other.low < self.low):
            self.low = other.low
        if other.high is not None and (self.high is None or other.high > self.high):
            self.high = other.high
        self.total += other.total
        self.counted += other.counted
        if self.top.exact and other.top.exact:
            seen = self.top.merge(other.top)
            if seen is not None:
                self.distinct.add(_text_hashes(seen))
        else:
            # The inexact side's sketch holds all its values; add the exact side's to it.
            for side in (self.top, other.top):
                if side.exact and side.counts:
                    self.distinct.add(_text_hashes(list(side.counts)))
            self.top.merge(other.top)
            self.top.exact = False
        self.distinct.merge(other.distinct)
        self.few_values = self.few_values and other.few_values
        if self.few_values:
            self.values.merge(other.values)
            if len(self.values.counts) > VALUE_BARS:
                self.few_values, self.values = False, _TopValues()
        self.hist.merge(other.hist)
        self.dates.merge(other.dates)
        if self.all_distinct or other.all_distinct:  # parts of one unique column
            self._every_value_once()

    def finish(self) -> ColumnProfile:
        out = self.out
        present = out.rows - out.empty
        if out.kind in ("number", "time"):
            out.minimum, out.maximum = self.low, self.high
            if self.unique:
                out.distinct = self.counted if out.kind == "number" else present
                out.distinct_exact = True
            else:
                out.distinct, out.distinct_exact = self.distinct.estimate()
        if out.kind == "number":
            out.mean = self.total / self.counted if self.counted else None
            if self.few_values and self.values.counts:
                out.chart = "values"
                out.bars = [
                    Bar(_number_label(v, self.year), c, float(v), float(v))
                    for v, c in sorted(self.values.counts.items())
                ]
            else:
                out.bars = self.hist.shown()
                out.chart = "histogram" if out.bars else "none"
        elif out.kind == "time":
            out.bars = self.dates.shown()
            out.chart = "histogram" if out.bars else "none"
        elif out.kind in ("text", "boolean"):
            if self.all_distinct:
                out.distinct, out.distinct_exact = present, True
            elif self.top.exact:
                out.distinct, out.distinct_exact = len(self.top.counts), True
            else:
                out.distinct, out.distinct_exact = self.distinct.estimate()
            out.top_exact = self.top.exact
            out.top = [Bar(_shown_value(v), c) for v, c in self.top.most_common(TOP_SHOWN) if c > 0]
            # A text column where even the most common value is rare (identifiers, free
            # text): a list of its "most common" values says nothing.
            scattered = out.kind == "text" and (
                not out.top or out.top[0].count * RARE_SHARE < max(present, 1)
            )
            if scattered:
                out.top = []
            elif out.top:
                out.bars, out.chart = out.top, "values"
        return out


def _shown_value(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nej"
    shown = str(value)
    return shown if len(shown) <= 80 else shown[:79] + "…"


class Profile:
    """The profile of one published table, built batch by batch (see the module docstring)."""

    def __init__(
        self,
        schema: pa.Schema,
        fields: list[dict[str, Any]],
        unique: frozenset[str] = frozenset(),
    ) -> None:
        """`unique`: columns whose published values are distinct (`unique_columns`)."""
        by_name = {str(f.get("name")): f for f in fields if isinstance(f, dict)}
        self.rows = 0
        self.columns = [
            _Column(f.name, f.type, by_name.get(f.name, {}), f.name in unique) for f in schema
        ]

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        self.rows += batch.num_rows
        for column, array in zip(self.columns, batch.columns, strict=True):
            column.update(array)

    def merge(self, other: Profile) -> None:
        self.rows += other.rows
        for mine, theirs in zip(self.columns, other.columns, strict=True):
            mine.merge(theirs)

    def finish(self) -> ResourceProfile:
        return ResourceProfile(self.rows, [c.finish() for c in self.columns])


def unique_columns(schema: dict[str, Any]) -> frozenset[str]:
    """The columns of a published schema whose values are distinct: a `unique` constraint or a
    one-field primary key. The published schema keeps these only for fields redaction left
    as they are, and only validated data is published."""
    names = {
        str(f.get("name"))
        for f in schema.get("fields", [])
        if isinstance(f, dict) and (f.get("constraints") or {}).get("unique") is True
    }
    key = schema.get("primaryKey")
    keys = [key] if isinstance(key, str) else list(key or [])
    if len(keys) == 1:
        names.add(str(keys[0]))
    return frozenset(names)


def profile_parquet(path: Path, fields: list[dict[str, Any]]) -> ResourceProfile:
    """The profile of a published Parquet file, read one batch at a time."""
    source = pq.ParquetFile(path)
    profile = Profile(source.schema_arrow, fields)
    for batch in source.iter_batches(batch_size=BATCH_ROWS):
        profile.update(batch)
    return profile.finish()


# ------------------------------------------------------------------------------ preview


def preview_parquet(path: Path, rows: int = PREVIEW_ROWS) -> Preview:
    """The first rows of a published Parquet file as display text (and sort keys)."""
    source = pq.ParquetFile(path)
    names = list(source.schema_arrow.names)
    batch = next(source.iter_batches(batch_size=rows), None)
    table = pa.Table.from_batches([batch]) if batch is not None else None
    out: list[list[PreviewCell]] = []
    if table is not None:
        columns = [_cells(table.column(i)) for i in range(table.num_columns)]
        out = [list(row) for row in zip(*columns, strict=True)]
    return Preview(names, out, source.metadata.num_rows)


def _cells(column: pa.ChunkedArray) -> list[PreviewCell]:
    from opengov.release.pages import datetime_sv, number_sv

    type_ = column.type
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        # Cut in Arrow before Python copies the text: a preview row of 14 MB cells once held
        # each whole as a Python string too (and ran a 1 GB address space out of memory).
        column = pc.utf8_slice_codeunits(column, 0, PREVIEW_CELL_CHARS + 1)
    cells = []
    for value in column.to_pylist():
        if value is None:
            cells.append(PreviewCell("", ""))
        elif isinstance(value, bool):
            cells.append(PreviewCell("ja" if value else "nej"))
        elif isinstance(value, int | float) or pa.types.is_decimal(type_):
            number = float(value)
            sort = repr(number) if math.isfinite(number) else ""
            cells.append(PreviewCell(number_sv(value), sort))
        elif isinstance(value, dt.datetime):
            shown = datetime_sv(value) if value.tzinfo else value.isoformat(" ", "minutes")
            cells.append(PreviewCell(shown, value.isoformat()))
        elif isinstance(value, dt.date):
            cells.append(PreviewCell(value.isoformat(), value.isoformat()))
        else:
            shown = str(value)
            if len(shown) > PREVIEW_CELL_CHARS:
                shown = shown[: PREVIEW_CELL_CHARS - 1] + "…"
            cells.append(PreviewCell(shown))
    return cells
