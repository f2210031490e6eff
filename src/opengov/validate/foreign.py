"""Foreign keys: the referenced rows' keys, read once, sorted, looked up per batch."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from opengov.package import Package, ResourceSpec
from opengov.sources.cast import arrow_type
from opengov.sources.typed import concat_typed, open_typed
from opengov.validate.keys import canonical_key


def fold_zero(array: pa.Array) -> pa.Array:
    # -0.0 and 0.0 are one number (and one Decimal) for frictionless; arrow prints "-0".
    if pa.types.is_floating(array.type):
        return pc.add(array, 0.0)
    return array


def member(keys: pa.Array, lookup: pa.Array) -> pa.Array:
    """Whether each key is in `lookup` (sorted, distinct).

    `is_in` builds a hash table of the lookup on every call, once per batch; a binary search
    in the sorted lookup costs nothing to set up, which wins for large referenced tables.
    """
    if len(lookup) <= 4096:
        return pc.is_in(keys, value_set=lookup)
    index = pc.search_sorted(lookup, keys)
    inside = pc.less(index, len(lookup))
    safe = pc.if_else(inside, index, 0)
    found = pc.equal(lookup.take(safe), keys)
    return pc.fill_null(pc.and_(inside, found), False)


def lookup_keys(
    package: Package, resource: ResourceSpec, source_name: str, ref_fields: list[str]
) -> pa.Array:
    """Canonical keys of the referenced rows (frictionless skips all-None keys)."""
    source = resource if not source_name or source_name == resource.name else None
    if source is None:
        source = package.resource(source_name)
    reader = open_typed(source, strict=False)
    names = [e.name for e in reader.header.expected]
    if not set(ref_fields) <= set(names):
        return pa.array([], pa.string())
    index = [names.index(n) for n in ref_fields]
    parts: list[list[pa.Array]] = [[] for _ in index]
    for batch in reader.batches():
        for slot, i in enumerate(index):
            parts[slot].append(batch.columns[i].cast.array)
    arrays = [
        fold_zero(concat_typed(p, arrow_type(reader.header.expected[i].descriptor)))
        for p, i in zip(parts, index, strict=True)
    ]
    if not arrays or not len(arrays[0]):
        return pa.array([], pa.string())
    any_value: pa.Array = pc.is_valid(arrays[0])
    for part in arrays[1:]:
        any_value = pc.or_(any_value, pc.is_valid(part))
    keys = canonical_key(arrays).filter(any_value)
    unique = pc.unique(keys)
    ordered: pa.Array = unique.take(pc.sort_indices(unique))
    return ordered
