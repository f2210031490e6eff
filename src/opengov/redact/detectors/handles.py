"""@handles and profile links of other accounts in free text, vectorised.

A social-media post names other accounts as `@handle` and links to them (or to one of their
posts) as `https://x.com/handle/status/123`. Accounts of private persons are personal data, and a
status link also publishes the id of a private person's post, so both are replaced by a tag:
`@anna_k` and `https://twitter.com/anna_k/status/1690100000000000001` each become
`[användarnamn borttaget]`. Facebook writes a tagged person or page into a post's text as
`@[<numeric id>:<n>:<name>]`; the whole tag goes. The account's own handles (`own_accounts` in
rules.yaml: the municipality's accounts, and the numeric ids of its Facebook Pages) are kept,
case-insensitively.

The work is split as the other detectors split it: two cheap Arrow kernels over the whole
column (`@` anywhere, or a twitter.com/x.com address) pick the candidate cells, and one compiled
pattern with a callback that knows the own accounts runs on those cells only.

What counts as a handle: `@` not glued to a word character (so `anna@example.se` stays an
e-mail address), then letters, digits, `_` and inner dots (X, Instagram, TikTok), optionally
`@server.tld` (Mastodon). After a `/` it is a profile path (`mastodon.social/@anna`), which names
the person just the same. Links: `twitter.com/...` and `x.com/...`, with or without scheme,
`www.` or `mobile.`, up to the next space or quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

KIND = "handle"
TAG = "[användarnamn borttaget]"

_FB_TAG = re.compile(r"@\[([0-9]{1,20}):[0-9]{1,10}:[^\]\n]{0,200}\]")
_NAME = re.compile(r"\w(?:[\w.]*\w)?(?:@[\w-]+(?:\.[\w-]+)+)?")
_HOSTS = ("twitter.com/", "x.com/")
_URL_END = frozenset(" \t\r\n\"'<>")
_PATH_END = frozenset("/?#") | _URL_END
_LINK_HOST = r"(?i)(?:twitter|x)\.com/"
_OWN_OK = re.compile(r"^@?[\w.]{1,50}$")


@dataclass(frozen=True)
class HandleScan:
    """A column with other accounts' handles replaced, and how many were found."""

    array: pa.Array | pa.ChunkedArray
    matches: int
    cells: int


def normalise_own(own: Iterable[str]) -> tuple[str, ...]:
    """Own handles without `@`, checked, deduplicated, in a stable order."""
    out: dict[str, None] = {}
    for handle in own:
        if not isinstance(handle, str) or not _OWN_OK.match(handle.strip()):
            raise ValueError(f"not an account handle: {handle!r}")
        out[handle.strip().lstrip("@")] = None
    return tuple(sorted(out, key=str.lower))


def _glued(char: str) -> bool:
    """A character that makes the `@` or host after it part of a word, address or domain."""
    return char.isalnum() or char in "_.-@\\"


def _next_host(lower: str, start: int) -> int:
    found = [i for i in (lower.find(h, start) for h in _HOSTS) if i != -1]
    return min(found) if found else -1


def _spans(text: str, own: frozenset[str]) -> list[tuple[int, int, bool]]:
    """(start, end, kept) of every handle, link and Facebook tag, in order, not overlapping.

    Found by `str.find` on the literal part (`@`, `twitter.com/`, `x.com/`) and a match at that
    place only: scanning the whole text with one alternation costs ten times more.
    """
    spans: list[tuple[int, int, bool]] = []
    if "@[" in text:
        for tag in _FB_TAG.finditer(text):
            spans.append((tag.start(), tag.end(), tag.group(1) in own))
    lower = text.lower()
    at = _next_host(lower, 0)
    while at != -1:
        host = next(h for h in _HOSTS if lower.startswith(h, at))
        start = at
        for prefix in ("www.", "mobile."):
            if lower.startswith(prefix, start - len(prefix)):
                start -= len(prefix)
                break
        for scheme in ("https://", "http://"):
            if lower.startswith(scheme, start - len(scheme)):
                start -= len(scheme)
                break
        if start > 0 and _glued(text[start - 1]) and text[start - 1] != "@":
            at = _next_host(lower, at + 1)  # part of another domain: netflix.com/
            continue
        path_start = end = at + len(host)
        while end < len(text) and text[end] not in _PATH_END:
            end += 1
        name = lower[path_start:end]
        while end < len(text) and text[end] not in _URL_END:
            end += 1
        spans.append((start, end, name in own))
        # On from the end of this link: a host inside it is part of it (and rescanning would
        # make a cell of repeated hosts quadratic).
        at = _next_host(lower, max(end, at + 1))
    spans.sort()
    taken = list(spans)  # links and tags, sorted: a handle inside one is part of it
    nxt = 0
    claimed_end = -1
    at = text.find("@")
    while at != -1:
        while nxt < len(taken) and taken[nxt][1] <= at:
            nxt += 1
        inside = nxt < len(taken) and taken[nxt][0] <= at
        boundary = at == 0 or at == claimed_end or not _glued(text[at - 1])
        found = _NAME.match(text, at + 1) if boundary and not inside else None
        if found is not None:
            spans.append((at, found.end(), found.group(0).lower() in own))
            claimed_end = found.end()
            at = text.find("@", found.end())
            continue
        at = text.find("@", at + 1)
    spans.sort()
    merged: list[tuple[int, int, bool]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            continue  # inside a link or tag already taken
        merged.append(span)
    return merged


def _replace(text: str, own: frozenset[str]) -> tuple[str, int]:
    spans = [s for s in _spans(text, own) if not s[2]]
    if not spans:
        return text, 0
    parts: list[str] = []
    pos = 0
    for start, end, _ in spans:
        parts.append(text[pos:start])
        parts.append(TAG)
        pos = end
    parts.append(text[pos:])
    return "".join(parts), len(spans)


def _own_set(own_accounts: Iterable[str]) -> frozenset[str]:
    return frozenset(h.lower() for h in normalise_own(own_accounts))


def replace_text(text: str, own_accounts: Iterable[str] = ()) -> str:
    """`text` with every other account's handle, link and Facebook tag replaced by the tag."""
    return _replace(text, _own_set(own_accounts))[0]


def contains_handle(text: str, own_accounts: Iterable[str] = ()) -> bool:
    return _replace(text, _own_set(own_accounts))[1] > 0


def _strings(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = pc.cast(array, kind.value_type)
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array
    if pa.types.is_null(kind) or pa.types.is_string_view(kind):
        return pc.cast(array, pa.large_string())
    raise TypeError(f"the handle detector needs a string column, got {kind}")


def _candidates(chunk: pa.Array) -> pa.Array:
    """Cells that can hold a handle or link: a superset of what the pattern finds."""
    at = pc.match_substring(chunk, "@")
    link = pc.match_substring_regex(chunk, pattern=_LINK_HOST)
    return pc.fill_null(pc.or_(at, link), False)


def _chunk(chunk: pa.Array, own: frozenset[str]) -> tuple[pa.Array, pa.Array, int]:
    """The chunk with replacements, which cells had hits, and how many hits."""
    mask = _candidates(chunk)
    if not pc.any(mask).as_py():
        return chunk, mask, 0
    total = 0
    changed: list[bool] = []
    values: list[str] = []
    for value in pc.filter(chunk, mask).to_pylist():
        new, count = _replace(value, own)
        values.append(new)
        changed.append(count > 0)
        total += count
    hits = pc.replace_with_mask(mask, mask, pa.array(changed, pa.bool_()))
    replaced = pc.replace_with_mask(chunk, mask, pa.array(values, chunk.type))
    return replaced, hits, total


def scan_replace(array: pa.Array | pa.ChunkedArray, own_accounts: Iterable[str] = ()) -> HandleScan:
    """Replace every handle and profile link except the own accounts'; nulls stay null.

    Returns the same container it was given (Array or ChunkedArray, chunks kept)."""
    own = _own_set(own_accounts)
    text = _strings(array)
    chunks = list(text.chunks) if isinstance(text, pa.ChunkedArray) else [text]
    out: list[pa.Array] = []
    matches = cells = 0
    for chunk in chunks:
        replaced, hits, count = _chunk(chunk, own)
        out.append(replaced)
        matches += count
        cells += int(pc.sum(hits).as_py() or 0)
    if isinstance(text, pa.ChunkedArray):
        return HandleScan(pa.chunked_array(out, type=text.type), matches, cells)
    return HandleScan(out[0], matches, cells)


def find_cells(array: pa.Array | pa.ChunkedArray, own_accounts: Iterable[str] = ()) -> pa.Array:
    """Which cells hold another account's handle or link (False for nulls)."""
    own = _own_set(own_accounts)
    text = _strings(array)
    chunks = list(text.chunks) if isinstance(text, pa.ChunkedArray) else [text]
    parts = [_chunk(chunk, own)[1] for chunk in chunks]
    return pa.concat_arrays(parts) if parts else pa.array([], pa.bool_())
