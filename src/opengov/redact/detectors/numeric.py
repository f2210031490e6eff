"""The text a reader sees for any column, so the last scan can cover every published type.

A personnummer typed as a number is still a personnummer: `8112289874` in an `integer` column,
`8112289874.0` (Arrow would print `8112289874`) or `198112289874.0` (Arrow would print
`1.98112289874e+11`) in a `number` column. Integral floats and decimals become their integer
digits, so the scan sees what a spreadsheet shows; other floats with every digit written out.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_INT_LIMIT = 9.2e18  # below 2**63: the float converts to int64 exactly


def _float_text(chunk: pa.Array) -> pa.Array:
    values = pc.cast(chunk, pa.float64())
    integral = pc.fill_null(
        pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), _INT_LIMIT)), False
    )
    whole = pc.cast(pc.if_else(integral, values, 0.0), pa.int64())
    text = pc.if_else(integral, pc.cast(whole, pa.string()), pc.cast(values, pa.string()))
    # Arrow writes large amounts with a fraction and tiny values with an exponent
    # (198112289874.5 as "1.981122898745e+11"): those few in Python, every digit written out.
    exponent = pc.fill_null(pc.match_substring(text, "e"), False)
    if not pc.any(exponent).as_py():
        return text
    where = np.flatnonzero(exponent.to_numpy(zero_copy_only=False))
    numbers = values.take(pa.array(where)).to_numpy(zero_copy_only=False)
    fixed = [np.format_float_positional(v, unique=True, trim="-") for v in numbers]
    mask = np.zeros(len(text), bool)
    mask[where] = True
    return pc.replace_with_mask(text, pa.array(mask), pa.array(fixed, pa.string()))


def _decimal_text(chunk: pa.Array) -> pa.Array:
    text = pc.cast(chunk, pa.string())
    # "8112289874.00" -> "8112289874", "12.50" -> "12.5"
    text = pc.replace_substring_regex(text, pattern=r"\.0*$", replacement="")
    return pc.replace_substring_regex(text, pattern=r"(\.[0-9]*?)0+$", replacement=r"\1")


def _binary_text(chunk: pa.Array) -> pa.Array:
    try:
        return pc.cast(chunk, pa.large_string())
    except pa.ArrowInvalid:
        # Not UTF-8: decode cell by cell with replacement characters (rare, bounded by size).
        values = [None if v is None else v.decode("utf-8", "replace") for v in chunk.to_pylist()]
        return pa.array(values, pa.large_string())


def _chunk_text(chunk: pa.Array) -> pa.Array:
    kind = chunk.type
    if pa.types.is_dictionary(kind):
        return _chunk_text(chunk.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return chunk
    if pa.types.is_string_view(kind) or pa.types.is_null(kind):
        return pc.cast(chunk, pa.large_string())
    if pa.types.is_floating(kind):
        return _float_text(chunk)
    if pa.types.is_decimal(kind):
        return _decimal_text(chunk)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return _binary_text(chunk)
    if pa.types.is_binary_view(kind) or pa.types.is_fixed_size_binary(kind):
        return _binary_text(pc.cast(chunk, pa.large_binary()))
    if pa.types.is_nested(kind):
        # Lists, structs and maps (Parquet sources): their JSON text, one Python call per cell.
        values = [
            None if v is None else json.dumps(v, ensure_ascii=False, default=str)
            for v in chunk.to_pylist()
        ]
        return pa.array(values, pa.large_string())
    return pc.cast(chunk, pa.string())


def canonical_text(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`array` as string cells (nulls stay null) as a reader of the published file sees them.

    Strings come back unchanged (dictionary-decoded); integers, integral floats and decimals as
    integer digits; other floats with every digit (no exponent); booleans, dates and times as
    Arrow prints them.
    """
    if isinstance(array, pa.ChunkedArray):
        chunks = [_chunk_text(chunk) for chunk in array.chunks]
        if not chunks:
            return pa.chunked_array([], pa.large_string())
        kind = chunks[0].type
        return pa.chunked_array([c if c.type == kind else pc.cast(c, kind) for c in chunks], kind)
    return _chunk_text(array)
