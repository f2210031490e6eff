"""E-mail addresses, found by RE2 over whole batches.

Written forms a reader recognises as an address (on normalised text, so a fullwidth `＠`,
`%40` and `&#64;` are `@` already):
- `namn@kommun.se`, also with a space on both sides of `@` (`namn @ kommun.se`);
- the anti-spam forms with a bracketed word: `namn (at) kommun.se`, `namn[at]kommun.se`,
  `namn{at}kommun(dot)se`, `namn (snabel-a) kommun (punkt) se` (`at`, `snabel-a`,
  `snabbel-a` for `@`; `dot`, `punkt` for `.`; any of `() [] {} <>`, any case).
Not recognised: the bare words (`namn at kommun dot se`): in running text "more at kommun.se"
would read as an address, and a reader would not call that one.

All matches of a cell come from one `replace_substring_regex` call that wraps each match in
marker bytes; their positions give the spans without a Python loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .chars import SP, lookalike_class
from .text import Family, Spans, Text

TAGS = {"email": "[e-post borttagen]"}

_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
_AT_WORD = r"(?i:at|snabb?el-?a)"
_DOT_WORD = r"(?i:dot|punkt)"
_AT = rf"(?:@| @ |\s?{_OPEN}\s?{_AT_WORD}\s?{_CLOSE}\s?)"
_DOT = rf"(?:\.|\s?{_OPEN}\s?{_DOT_WORD}\s?{_CLOSE}\s?)"
# On normalised text every non-ASCII character is a letter (the rest became INERT), so the
# classes stay small: Unicode property classes made RE2 compile for 25 ms per call.
# Unbounded repetitions: RE2 runs in linear time whatever the text, and counted ones would
# make the compiled pattern much larger.
_WORD = r"A-Za-z0-9_\x{80}-\x{10FFFF}"
PATTERN = rf"[{_WORD}.%+\-]+{_AT}(?:[{_WORD}\-]+{_DOT})+[A-Za-z\x{{80}}-\x{{10FFFF}}]{{2,}}"
_HINT = rf"@|{_OPEN}\s?{_AT_WORD}\s?{_CLOSE}"
_START, _END = "\x01", "\x02"


def find(text: Text, want: frozenset[str] = frozenset()) -> Spans:
    strings = text.strings()
    hinted = pc.match_substring_regex(strings, pattern=_HINT).to_numpy(zero_copy_only=False)
    cells = np.flatnonzero(hinted)
    if not len(cells):
        return Spans.empty()
    subset = strings.take(pa.array(cells))
    marked = pc.replace_substring_regex(subset, pattern=PATTERN, replacement=f"{_START}\\0{_END}")
    marked = marked.cast(pa.large_string())
    offsets_buf, data_buf = marked.buffers()[1:3]
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[
        marked.offset : marked.offset + len(cells) + 1
    ]
    if data_buf is None:
        return Spans.empty()
    data = np.frombuffer(data_buf, dtype=np.uint8)[: offsets[-1]]
    is_marker = (data == 1) | (data == 2)
    markers = np.flatnonzero(is_marker)
    if not len(markers):
        return Spans.empty()
    before = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(is_marker, out=before[1:])
    cell = np.searchsorted(offsets, markers, side="right") - 1
    # Position in the unmarked cell: the marker's index minus markers earlier in the cell.
    inside = markers - offsets[cell] - (before[markers] - before[offsets[cell]])
    position = text.offsets[cells[cell]] + inside
    opening = data[markers] == 1
    start = position[opening]
    end = position[~opening]
    return Spans(start, end, np.zeros(len(start), dtype=np.int64))


# On raw text, so the words as they may be disguised: `(аt)` with a Cyrillic `а` (folded to
# `(at)` by normalisation before `PATTERN` reads it).
_AT_DISGUISED = "|".join("".join(map(lookalike_class, word)) for word in ("at", "snab"))
PREFILTER = rf"@|{_OPEN}{SP}*(?:{_AT_DISGUISED})"

FAMILY = Family(
    name="email",
    kinds=TAGS,
    order=10,
    prefilter=PREFILTER,
    find=find,
    masks="when_wanted",
)
