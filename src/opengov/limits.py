"""Limits on what opengov reads from descriptors, rules and exports, and loaders that keep them.

A hostile or broken file (100,000-deep nesting, a YAML alias bomb, a 2 GB descriptor) must end
in a clear message and its own exit code (`LimitExceeded`, 19), in bounded time and memory,
never in a RecursionError, a hang or an out-of-memory kill. Every JSON or YAML document a user
or an export supplies is read through `read_limited` and `load_json` / `load_yaml` here, so the
numbers live in one place; docs/security.md lists them. The table readers' limits (XLSX, CSV
lines and cells) are the readers' own (docs/limits.md).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opengov.errors import LimitExceeded

# datapackage.json and Table Schema files. Inline data belongs in a data file past this size.
MAX_DESCRIPTOR_BYTES = 10 * 1024 * 1024
# Nesting of any JSON document: a descriptor nests about 8 deep (package, resources, resource,
# schema, fields, field, constraints, enum), a Facebook export about 12.
MAX_JSON_DEPTH = 64
# rules.yaml: a thousand classified fields take about 100 kB.
MAX_RULES_BYTES = 1024 * 1024
MAX_YAML_DEPTH = 32
# Nodes after expanding every alias: anchors for shared decisions are fine, a bomb is not.
MAX_YAML_NODES = 100_000
# A pseudonym key file: `opengov key new` writes 65 bytes.
MAX_KEY_BYTES = 4096


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The file's bytes, or `LimitExceeded` when it holds more than `limit` bytes.

    Reads at most `limit + 1` bytes, so a file that grows while read (or a device) cannot make
    it read more. `OSError` is left to the caller, which knows what the file is.
    """
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(
            f"{what} is larger than {limit:,} bytes, the limit for this kind of file"
        )
    return data


def _too_deep(what: str, limit: int) -> LimitExceeded:
    return LimitExceeded(f"{what} nests deeper than {limit} levels, the limit for this file")


def _too_long_number(what: str) -> LimitExceeded:
    return LimitExceeded(f"{what} holds a number longer than Python reads (4,300 digits)")


# A `\\uD800`-`\\uDFFF` escape. Paired, two of them are one character; alone, Python keeps a
# surrogate that no UTF-8 file, page or CSV can hold (RFC 7493, I-JSON, forbids them).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate(value: Any) -> str | None:
    """The first string (or key) in `value` that holds a lone surrogate."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


_LONE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(value: Any) -> tuple[Any, int]:
    """`value` with every lone surrogate in its strings and keys replaced by U+FFFD, and how
    many there were. X writes half an emoji where it cut a text at 140 characters (a
    retweet's, a mention's name); the character was broken before the export was made."""
    count = 0

    def fix(item: Any) -> Any:
        nonlocal count
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                fixed, n = _LONE.subn("\ufffd", item)
                count += n
                return fixed
            return item
        if isinstance(item, list):
            return [fix(v) for v in item]
        if isinstance(item, dict):
            return {fix(k): fix(v) for k, v in item.items()}
        return item

    # Depth is bounded by check_depth before this runs.
    return fix(value), count


def check_unicode(value: Any, text: str | bytes, start: int = 0, end: int | None = None) -> None:
    """`json.JSONDecodeError` (at the first surrogate escape) when a string parsed from `text`
    holds a lone surrogate: it is not Unicode text, and writing it anywhere would fail. The
    walk over `value` runs only when the text holds a surrogate escape at all."""
    pattern: Any = _SURROGATE_ESCAPE if isinstance(text, str) else _SURROGATE_ESCAPE_BYTES
    first = pattern.search(text, start, len(text) if end is None else end)
    if first is None or _lone_surrogate(value) is None:
        return
    before = text[: first.start()]
    doc = before if isinstance(before, str) else before.decode("utf-8", "replace")
    raise json.JSONDecodeError(
        "a string holds a lone UTF-16 surrogate, which is not Unicode text", doc, len(doc)
    )


def check_depth(value: Any, what: str, limit: int = MAX_JSON_DEPTH) -> None:
    """`LimitExceeded` when lists and objects in `value` nest deeper than `limit` (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise _too_deep(what, limit)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def load_json(text: str | bytes, what: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` with a depth limit; syntax errors stay `json.JSONDecodeError` for the caller.

    The C decoder raises RecursionError near 1,000 levels, quickly and in little memory; that
    and anything deeper than `max_depth` become `LimitExceeded`. A number of more than 4,300
    digits (Python's int limit, a ValueError) does too.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _too_deep(what, max_depth) from None
    except ValueError:
        raise LimitExceeded(
            f"{what} holds a number longer than Python reads (4,300 digits)"
        ) from None
    check_depth(value, what, max_depth)
    check_unicode(value, text)
    return value


def raw_decode_json(
    text: str,
    start: int,
    what: str,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    repaired: list[int] | None = None,
) -> tuple[Any, int]:
    """`json.JSONDecoder().raw_decode` (a JSON value inside other text) with the same limits.

    A lone surrogate is refused, unless `repaired` is given: then each is replaced by U+FFFD
    and their number added to `repaired[0]` (for the caller's report)."""
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _too_deep(what, max_depth) from None
    except ValueError:
        raise LimitExceeded(
            f"{what} holds a number longer than Python reads (4,300 digits)"
        ) from None
    check_depth(value, what, max_depth)
    if repaired is None:
        check_unicode(value, text, start, end)
    elif _SURROGATE_ESCAPE.search(text, start, end):
        # Repaired, nothing lone is left: checking again would walk the value a second time.
        value, count = replace_lone_surrogates(value)
        repaired[0] += count
    return value, end


@dataclass
class YamlDocument:
    data: Any
    # (key, line) of every scalar key that appears twice in one mapping: YAML keeps the last
    # silently, so a field classified twice would be published by whichever came last.
    duplicate_keys: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class _Frame:
    anchor: str | None
    mapping: bool
    nodes: int = 1
    position: int = 0
    keys: set[str] = field(default_factory=set)


class _Budget:
    """Walks YAML events, counting depth and nodes as they would be with aliases expanded."""

    def __init__(self, what: str, max_depth: int, max_nodes: int) -> None:
        self.what, self.max_depth, self.max_nodes = what, max_depth, max_nodes
        self.sizes: dict[str, int] = {}
        self.stack = [_Frame(None, mapping=False, nodes=0)]
        self.duplicates: list[tuple[str, int]] = []

    def too_deep(self) -> LimitExceeded:
        return _too_deep(self.what, self.max_depth)

    def add(self, nodes: int) -> None:
        top = self.stack[-1]
        top.nodes += nodes
        if top.nodes > self.max_nodes:
            raise LimitExceeded(
                f"{self.what} expands to more than {self.max_nodes:,} values (YAML aliases "
                "repeat what their anchor holds: an alias bomb?)"
            )

    def slot(self, event: Any) -> None:
        import yaml

        top = self.stack[-1]
        if not top.mapping:
            return
        if top.position % 2 == 0 and isinstance(event, yaml.ScalarEvent):
            if event.value in top.keys:
                mark = event.start_mark
                self.duplicates.append((event.value, mark.line + 1 if mark else 0))
            top.keys.add(event.value)
        top.position += 1

    def walk(self, text: str) -> None:
        import yaml

        for event in yaml.parse(text, Loader=_loader()):
            if isinstance(event, yaml.ScalarEvent):
                self.slot(event)
                if event.anchor:
                    self.sizes[event.anchor] = 1
                self.add(1)
            elif isinstance(event, yaml.AliasEvent):
                self.slot(event)
                self.add(self.sizes.get(event.anchor or "", 1))
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                self.slot(event)
                if len(self.stack) > self.max_depth:
                    raise self.too_deep()
                mapping = isinstance(event, yaml.MappingStartEvent)
                self.stack.append(_Frame(event.anchor, mapping=mapping))
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                done = self.stack.pop()
                if done.anchor:
                    self.sizes[done.anchor] = done.nodes
                self.add(done.nodes)


@functools.cache
def _loader() -> Any:
    """libyaml's safe loader where PyYAML was built with it, else the pure-Python one. PyYAML
    loads only here (~20 ms of start-up), not for a command that reads no YAML."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(
    text: str,
    what: str,
    *,
    max_depth: int = MAX_YAML_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> YamlDocument:
    """`yaml.safe_load` after a pass over the event stream that bounds depth and alias expansion.

    The event pass costs time and memory linear in the text. It counts every node as it would be
    after expanding aliases (an alias adds its anchor's size), so a "billion laughs" document is
    refused after reading a few hundred bytes of it, before anything is built. Syntax errors
    stay `yaml.YAMLError` for the caller.
    """
    import yaml

    budget = _Budget(what, max_depth, max_nodes)
    try:
        budget.walk(text)
    except yaml.YAMLError as exc:
        # libyaml stops flow nesting ([[[...) at 1,000 levels with a scanner error of its own.
        if "maximum nesting depth" in str(getattr(exc, "problem", "")):
            raise budget.too_deep() from None
        raise
    data = yaml.load(text, Loader=_loader())  # noqa: S506 (a safe loader, C or Python)
    return YamlDocument(data, budget.duplicates)
