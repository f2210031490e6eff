"""Inline data: the descriptor's `data` (a header row then rows, or a list of objects), as
frictionless' inline parser yields it."""

from __future__ import annotations

from typing import Any

from opengov.errors import InputError
from opengov.package import ResourceSpec
from opengov.sources.native import NativeRows, native_rows


def inline_rows(resource: ResourceSpec) -> NativeRows:
    data = resource.data or []
    raw: list[tuple[int, list[Any]]] = []
    if data and isinstance(data[0], dict):
        keys = resource.field_names or list(data[0].keys())
        raw.append((1, list(keys)))
        for number, item in enumerate(data, start=2):
            if not isinstance(item, dict):
                raise InputError(f"resource {resource.name!r}: inline data mixes rows and objects")
            raw.append((number, [item.get(k) for k in keys]))
    else:
        for number, item in enumerate(data, start=1):
            if not isinstance(item, list | tuple):
                raise InputError(f"resource {resource.name!r}: inline data rows must be lists")
            raw.append((number, list(item)))
    return native_rows(resource, raw)
