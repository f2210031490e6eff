"""A string column's UTF-8 bytes as numpy arrays, for checks a whole batch at a time.

pyarrow's string kernels call into their engine once per value (RE2 costs ~100 ns a value
whatever the pattern); numpy over the column's byte buffer costs about a nanosecond a byte.
These helpers give the views (no copy) that such checks need, and a few checks built on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class TextBytes:
    """`data[offsets[i]:offsets[i + 1]]` are value i's bytes (empty for a null)."""

    offsets: np.ndarray  # int64, len(values) + 1, starting at 0
    data: np.ndarray  # uint8
    valid: np.ndarray | None  # bool per value, None when there are no nulls

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(data, offsets) of a `string` or `large_string` array, as views (no copy): the values'
    bytes, and int64 offsets rebased to them (`data[offsets[i]:offsets[i + 1]]` is value i)."""
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    raw_buffers = values.buffers()
    if raw_buffers[1] is None:  # an empty array may come without offsets
        return np.zeros(0, dtype=np.uint8), np.zeros(len(values) + 1, dtype=np.int64)
    raw = np.frombuffer(raw_buffers[1], dtype=width)[
        values.offset : values.offset + len(values) + 1
    ]
    offsets = raw.astype(np.int64)
    base = int(offsets[0]) if len(offsets) else 0
    if raw_buffers[2] is None or not len(offsets):
        return np.zeros(0, dtype=np.uint8), offsets - base
    data = np.frombuffer(raw_buffers[2], dtype=np.uint8)[base : int(offsets[-1])]
    return data, offsets - base


def text_bytes(values: pa.Array) -> TextBytes | None:
    """The byte view of a `string` array, or None for other layouts (large_string, ...)."""
    if not pa.types.is_string(values.type):
        return None
    data, offsets = buffers(values)
    valid = None
    if values.null_count:
        valid = values.is_valid().to_numpy(zero_copy_only=False)
    return TextBytes(offsets=offsets, data=data, valid=valid)


def any_byte(values: pa.Array, test: str) -> bool | None:
    """Whether any value holds a newline (`test="newline"`) or a non-ASCII byte
    (`test="non-ascii"`); None when the array is not a plain string array."""
    view = text_bytes(values)
    if view is None:
        return None
    data = view.data
    if test == "newline":
        return bool(np.any(data == 0x0A))
    return bool(np.any(data >= 0x80))


def digits(values: pa.Array, low: int, high: int, *, minus: bool = False) -> np.ndarray | None:
    """True where a value is `low` to `high` ASCII digits (after one "-" with `minus`): what
    RE2's `^-?[0-9]{low,high}$` matches, in a pass over the bytes instead of a call per value.
    Nulls are false. None when the array is not a plain string array."""
    view = text_bytes(values)
    if view is None:
        return None
    lengths = view.lengths
    filled = np.flatnonzero(lengths > 0)
    others = np.zeros(len(values), dtype=np.int64)  # bytes that are not digits, per value
    signed = np.zeros(len(values), dtype=bool)
    if len(filled):
        starts = view.offsets[:-1][filled]
        not_digit = (view.data - np.uint8(0x30)) > np.uint8(9)  # wraps below "0"
        others[filled] = np.add.reduceat(not_digit.view(np.uint8), starts, dtype=np.int64)
        if minus:
            signed[filled] = view.data.take(starts) == 0x2D
    width = lengths - signed
    out: np.ndarray = (others == signed) & (width >= low) & (width <= high)
    if view.valid is not None:
        out &= view.valid
    return out


def any_prefix(values: pa.Array, prefix: str) -> bool | None:
    """Whether any value starts with `prefix` (nulls may count as values: an upper bound);
    None when the array is not a plain string array."""
    view = text_bytes(values)
    if view is None:
        return None
    wanted = np.frombuffer(prefix.encode("utf-8"), dtype=np.uint8)
    starts = view.offsets[:-1][view.lengths >= len(wanted)]
    for position, byte in enumerate(wanted):
        starts = starts[view.data.take(starts + position) == byte]
        if not len(starts):
            return False
    return bool(len(starts))


def from_numpy_bool(mask: np.ndarray) -> pa.BooleanArray:
    """A numpy bool array as an arrow one (bit-packed here: `pa.array(ndarray)` would import
    numpy.ma, ~20 ms of start-up, to look for a mask)."""
    bits = np.packbits(mask.astype(bool, copy=False), bitorder="little")
    out: pa.BooleanArray = pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits)])
    return out


def from_numpy(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """A numpy array of a fixed-width type as an arrow one, without `pa.array`'s numpy.ma."""
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


def rewrite(
    values: pa.Array, drop: str = "", swap: tuple[str, str] | None = None
) -> tuple[pa.Array, np.ndarray | None] | None:
    """`values` with every `drop` removed, then every `swap[0]` turned into `swap[1]`, and
    for each value whether it held a `swap[1]` before the swap (after the removal).

    What `replace_substring` twice and `match_substring` once would give, in a few passes
    over the bytes instead of three calls per value. Nulls come out as empty strings (the
    caller masks them). `swap` takes one ASCII character each; `drop` any text. None when the
    array's layout or the characters are not ones this handles.
    """
    view = text_bytes(values)
    if view is None:
        return None
    if swap is not None and not all(len(c) == 1 and ord(c) < 0x80 for c in swap):
        return None
    data, offsets = view.data, view.offsets
    owned = False  # `data` is still a view of the input's buffer: never write into it
    if drop:
        pattern = np.frombuffer(drop.encode("utf-8"), dtype=np.uint8)
        dropped = data == pattern[0]
        if len(pattern) > 1:
            # UTF-8 text: occurrences never overlap and never straddle two values.
            starts = np.flatnonzero(dropped[: max(len(data) - len(pattern) + 1, 0)])
            for j in range(1, len(pattern)):
                starts = starts[data[starts + j] == pattern[j]]
            dropped = np.zeros(len(data), dtype=bool)
            for j in range(len(pattern)):
                dropped[starts + j] = True
        if dropped.any():
            # Bytes dropped in each value, summed value by value (`reduceat` over the starts
            # of the non-empty values); then their running total shifts the offsets. No array
            # of a count per byte: large temporaries cost page faults on every batch.
            counts = np.zeros(len(values), dtype=np.int64)
            filled = view.lengths > 0
            if filled.any():
                counts[filled] = np.add.reduceat(
                    dropped.view(np.uint8), offsets[:-1][filled], dtype=np.int64
                )
            shift = np.zeros(len(offsets), dtype=np.int64)
            np.cumsum(counts, out=shift[1:])
            offsets = offsets - shift
            data = data[~dropped]
            owned = True
    held = None
    if swap is not None:
        source, target = (ord(c) for c in swap)
        held = np.zeros(len(values), dtype=bool)
        present = np.flatnonzero(data == target)
        if len(present):
            held[np.searchsorted(offsets, present, side="right") - 1] = True
        turned = data == source
        if turned.any():
            if not owned:
                data = data.copy()
            np.putmask(data, turned, target)
    if offsets[-1] > np.iinfo(np.int32).max:
        return None
    out = pa.Array.from_buffers(
        pa.string(),
        len(values),
        [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(np.ascontiguousarray(data))],
    )
    return out, held
