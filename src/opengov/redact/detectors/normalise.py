"""Normalise cell text the way a reader sees it, with a map back to the original bytes.

The detectors never look at raw text: a personnummer written with fullwidth digits, a soft
hyphen, a narrow no-break space or `%2D` is still a personnummer to the person reading it. The
steps, in order:

1. per character (`norm_char`; again after steps 2-3 when they decoded something): format
   characters (category Cf: soft hyphen, zero-width space, word joiner, BOM, bidi marks),
   control characters other than whitespace (NUL), U+FFFD and combining marks are removed (and, in a
   second reading, controls and format characters read as a space, see `readings`); every
   whitespace becomes `" "` (horizontal) or `"\\n"` (vertical); every dash becomes `-`; a
   digit of any script becomes its ASCII digit (`unicodedata.decimal`); a letter of another
   script drawn like a Latin one (`chars.LOOKALIKES`: Cyrillic `а`, Greek `Ο`) becomes that
   letter, the ideographic full stop `。` a `.`; other characters take their NFKC form when
   that form is plain ASCII and carries a digit, a letter or is one punctuation mark
   (fullwidth `＠`, mathematical digits, superscripts, circled digits, one-dot leaders); any
   other non-ASCII character that is not a letter (a symbol, an emoji, a quotation mark)
   becomes the inert byte `INERT`;
2. percent-decoding (`811228%2D9874`, `anna%40kommun.se`, also double-encoded `%252D`), ASCII
   and complete UTF-8 sequences only, so the result is always valid UTF-8;
3. HTML character references (`&#8209;`, `&shy;`, `&commat;`, `&amp;#64;`);
4. spaced-out digits (`8 1 1 2 2 8 - 9 8 7 4`, `0 8 - 1 2 3 4 5 6`: two or more single digits,
   one space apart) close up (in the joining reading, see `readings`).

Everything works on the UTF-8 bytes of a whole batch of cells at once (numpy), so the cost is a
few passes over the bytes whatever the text. Each normalised byte remembers the original byte
range of the character it came from (`pos`, `end`): a hit on normalised text maps back to the
whole original span, removed characters inside it included.
"""

from __future__ import annotations

import functools
import html
import re
import string
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .chars import DASHES, DIGIT_GLYPHS, FULL_STOPS, LETTER_DIGITS, LOOKALIKES, SPACES

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# What a character that no detector cares about becomes (a symbol, an emoji, a Roman
# numeral): one inert byte, so the RE2 patterns can read any non-ASCII byte as a letter.
INERT = "\x1a"
_RELEVANT_PUNCT = frozenset(string.punctuation)
_VERTICAL = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# U+FFFD stands where a character was lost (half an emoji X cut, which the X importer repairs
# to it; a broken encoding): a box to every reader, like a control character. Read as one, it
# joins or separates what is around it, so `8112\ufffd28-9874` is still a personnummer.
REPLACEMENT = "\ufffd"


def _gap(c: str) -> bool:
    """A character drawn as nothing, a box or a gap: dropped, or a space when separating."""
    return c == REPLACEMENT or unicodedata.category(c) in ("Cc", "Cf")


@functools.cache
def norm_char(c: str) -> str:
    """What one character reads as, for the detectors (see the module docstring)."""
    if c == INERT:
        return c  # folding twice must not drop what the first pass marked inert
    if c in _VERTICAL:
        return "\n"
    category = unicodedata.category(c)
    if c.isspace() or category in ("Zs", "Zl", "Zp"):
        return "\n" if category in ("Zl", "Zp") else " "
    if _gap(c) or category[0] == "M":
        return ""
    digit = unicodedata.decimal(c, None)
    if digit is not None:
        return str(digit)
    if category == "Pd" or c in DASHES:
        return "-"
    latin = LOOKALIKES.get(c)
    if latin is not None:
        return latin
    if c in FULL_STOPS:
        return "."
    folded = unicodedata.normalize("NFKC", c)
    if folded != c:
        out = "".join(norm_char(x) for x in folded)
        # Taken when it can matter to a detector and is plain ASCII: digits in any dress
        # ("¹", "①", "⒈"), a letter (fullwidth "ａ", for addresses) or one ASCII punctuation
        # mark ("＠", "․", "⁺", "（", "＿"). Not "…" or "™": they would only make more text
        # pass through the normaliser.
        if (
            out.isascii()
            and INERT not in out
            and (
                any(ch.isdigit() for ch in out)
                or (category[0] == "L" and out.isalpha())
                or (len(out) == 1 and out in _RELEVANT_PUNCT)
            )
        ):
            return out
    if c.isascii() or category[0] == "L":
        return c
    return INERT


# Sequences and ASCII controls that normalisation changes (see `unseen_changes`).
_ASCII_UNSEEN = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f]|%[0-9A-Fa-f]{2}"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)


@functools.cache
def unseen_char(c: str) -> bool:
    """Normalisation changes `c` in a way the prefilters' own classes do not cover (they
    cover whitespace, dashes and look-alike letters; INERT stands for characters that never
    matter)."""
    out = norm_char(c)
    return out != c and out != INERT and c not in SPACES and c not in DASHES and c not in LOOKALIKES


def unseen_changes(text: str) -> bool:
    """Whether normalising `text` can reveal what a prefilter on the raw text misses; such
    text is always a candidate (engine.EXOTIC is the same test in RE2, for columns)."""
    if _ASCII_UNSEEN.search(text):
        return True
    return not text.isascii() and any(map(unseen_char, set(text)))


_NUMBER_WORDS = frozenset(
    "ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN ELEVEN TWELVE THIRTEEN FOURTEEN "
    "FIFTEEN SIXTEEN SEVENTEEN EIGHTEEN NINETEEN TWENTY".split()
)
_KINDS_OF_DIGIT: dict[str, int] = {}
# Columns are scanned on several threads: two families met at once must not share a number.
_KINDS_LOCK = threading.Lock()


@functools.cache
def digit_class(c: str) -> int:
    """Which kind of digit `c` is (-1: none): the code point of its zero for decimal digits
    (ASCII, fullwidth, Arabic-Indic, mathematical bold...), one number per family of
    compatibility digits (superscripts, circled, "⒈")."""
    if not any(ch.isdigit() for ch in norm_char(c)):
        return -1
    value = unicodedata.decimal(c, None)
    if value is not None:
        return ord(c) - value
    words = " ".join(w for w in unicodedata.name(c, "").split() if w not in _NUMBER_WORDS)
    with _KINDS_LOCK:
        return _KINDS_OF_DIGIT.setdefault(words, 0x110000 + len(_KINDS_OF_DIGIT))


def spaced_char(c: str) -> str:
    """`norm_char`, but a control or format character reads as a space (see `readings`)."""
    out = norm_char(c)
    if not out and _gap(c):
        return " "
    return out


@dataclass(frozen=True)
class _Table:
    """One reading of ASCII bytes: what each becomes (b"" removed)."""

    changed: npt.NDArray[np.bool_]
    length: npt.NDArray[np.int64]
    byte: npt.NDArray[np.uint8]

    @staticmethod
    def of(fold: Callable[[str], str]) -> _Table:
        out = [fold(chr(i)).encode() for i in range(128)]
        return _Table(
            np.array([out[i] != bytes([i]) for i in range(128)], dtype=bool),
            np.array([len(o) for o in out], dtype=np.int64),
            np.array([o[0] if o else 0 for o in out], dtype=np.uint8),
        )


_FOLDS: dict[bool, tuple[Callable[[str], str], _Table]] = {
    False: (norm_char, _Table.of(norm_char)),
    True: (spaced_char, _Table.of(spaced_char)),
}

_HEX = np.full(256, -1, dtype=np.int16)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i

_ENTITY = re.compile(rb"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ENTITY_MAX = 34
_ROUNDS = 3  # decoding rounds: "%252D" and "&amp;#64;" need two


@dataclass
class Normalised:
    """Normalised text of a batch of cells and where each byte came from.

    `data`/`offsets`: the normalised UTF-8 bytes, cell i is `data[offsets[i]:offsets[i+1]]`.
    `pos[j]`/`end[j]`: the original byte range (in the input buffer) of the character that
    produced normalised byte j; None when the text did not change (identity).
    """

    data: U8
    offsets: I64
    pos: I64 | None = None
    end: I64 | None = None

    def original_span(self, start: I64, stop: I64) -> tuple[I64, I64]:
        """Original byte range of normalised ranges [start, stop) (stop > start)."""
        if self.pos is None or self.end is None:
            return start, stop
        return self.pos[start], self.end[stop - 1]


def _cell_starts(n: int, offsets: I64) -> npt.NDArray[np.bool_]:
    starts = np.zeros(n + 1, dtype=bool)
    starts[offsets[:-1]] = True
    return starts[:n]


def _compose(outer: Normalised, inner_pos: I64, inner_end: I64) -> tuple[I64, I64]:
    """Maps of a step applied to `outer`'s data, expressed in `outer`'s original coordinates."""
    if outer.pos is None or outer.end is None:
        return inner_pos, inner_end
    return outer.pos[inner_pos], outer.end[inner_end - 1]


def _compact(text: Normalised, data: U8, keep: npt.NDArray[np.bool_], end: I64) -> Normalised:
    """Drop bytes where `keep` is false; `end` is each kept byte's end in `text.data`."""
    kept = np.flatnonzero(keep)
    counts = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=counts[1:])
    pos, stop = _compose(text, kept, end[kept])
    return Normalised(data[kept], counts[text.offsets], pos, stop)


def _percent_round(text: Normalised) -> Normalised | None:
    data = text.data
    n = len(data)
    marks = np.flatnonzero(data == 0x25)
    marks = marks[marks + 2 < n]
    if not len(marks):
        return None
    cell_start = _cell_starts(n, text.offsets)
    hi, lo = _HEX[data[marks + 1]], _HEX[data[marks + 2]]
    ok = (hi >= 0) & (lo >= 0) & ~cell_start[marks + 1] & ~cell_start[marks + 2]
    marks = marks[ok]
    if not len(marks):
        return None
    value = np.full(n + 12, -1, dtype=np.int16)
    value[marks] = hi[ok] * 16 + lo[ok]
    decode = np.zeros(n + 12, dtype=bool)
    lead = value[marks]
    decode[marks[lead < 0x80]] = True
    # Multi-byte sequences only when complete and well formed (RFC 3629 ranges), so decoding
    # never produces invalid UTF-8.
    for width, low, high in ((2, 0xC2, 0xDF), (3, 0xE0, 0xEF), (4, 0xF0, 0xF4)):
        at = marks[(lead >= low) & (lead <= high)]
        if not len(at):
            continue
        first = value[at + 3]
        good = (first >= 0x80) & (first <= 0xBF)
        good &= ~((value[at] == 0xE0) & (first < 0xA0)) & ~((value[at] == 0xED) & (first > 0x9F))
        good &= ~((value[at] == 0xF0) & (first < 0x90)) & ~((value[at] == 0xF4) & (first > 0x8F))
        for k in range(2, width):
            cont = value[at + 3 * k]
            good &= (cont >= 0x80) & (cont <= 0xBF)
        at = at[good]
        for k in range(width):
            decode[at + 3 * k] = True
    where = np.flatnonzero(decode[:n])
    if not len(where):
        return None
    out = data.copy()
    out[where] = value[where].astype(np.uint8)
    keep = np.ones(n, dtype=bool)
    keep[where + 1] = False
    keep[where + 2] = False
    end = np.arange(1, n + 1, dtype=np.int64)
    end[where] += 2
    return _compact(text, out, keep, end)


def _entity_round(text: Normalised) -> Normalised | None:
    data = text.data
    amps = np.flatnonzero(data == 0x26)
    if not len(amps):
        return None
    raw = data.tobytes()
    n = len(data)
    out = data.copy()
    keep = np.ones(n, dtype=bool)
    end = np.arange(1, n + 1, dtype=np.int64)
    cell_ends = text.offsets[1:]
    changed = False
    # Python per "&" (bounded: one short match each); references are rare in real text.
    for at in amps.tolist():
        limit = int(cell_ends[np.searchsorted(cell_ends, at, side="right")])
        m = _ENTITY.match(raw, at, min(limit, at + _ENTITY_MAX))
        if m is None:
            continue
        decoded = html.unescape(m.group().decode("ascii"))
        if decoded == m.group().decode("ascii") or not decoded:
            continue
        encoded = decoded.encode("utf-8", "replace")
        stop = m.end()
        if len(encoded) > stop - at:
            continue
        out[at : at + len(encoded)] = np.frombuffer(encoded, dtype=np.uint8)
        keep[at + len(encoded) : stop] = False
        end[at : at + len(encoded)] = stop
        changed = True
    return _compact(text, out, keep, end) if changed else None


_STABLE: dict[tuple[bool, int], bool] = {}


def _stable(code: int, fold: Callable[[str], str], separating: bool) -> bool:
    """A character that folds to itself, is no digit and is not dropped (cached per code)."""
    key = (separating, code)
    known = _STABLE.get(key)
    if known is None:
        c = chr(code)
        known = fold(c) == c and digit_class(c) < 0 and not _gap(c)
        _STABLE[key] = known
    return known


def _folds_to_itself(data: U8, fold: Callable[[str], str], table: _Table) -> bool:
    """True when no character of `data` (valid UTF-8) changes in this reading.

    Looks at ASCII bytes through the table and at the distinct non-ASCII characters only, so
    its memory is a few bytes per byte of text, not the per-character arrays of the full step.
    """
    if table.changed[data[data < 0x80]].any():
        return False
    leads = np.flatnonzero(data >= 0xC0)
    if not len(leads):
        return True  # ASCII only (valid UTF-8 has no continuation byte without a lead)
    n = len(data)
    b0 = data[leads].astype(np.int32)
    b1 = data[np.minimum(leads + 1, n - 1)].astype(np.int32) & 0x3F
    b2 = data[np.minimum(leads + 2, n - 1)].astype(np.int32) & 0x3F
    b3 = data[np.minimum(leads + 3, n - 1)].astype(np.int32) & 0x3F
    cp = np.where(
        b0 < 0xE0,
        ((b0 & 0x1F) << 6) | b1,
        np.where(
            b0 < 0xF0,
            ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
            ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3,
        ),
    )
    separating = fold is _FOLDS[True][0]
    return all(_stable(code, fold, separating) for code in np.unique(cp).tolist())


def _char_step(text: Normalised, separating: bool) -> tuple[Normalised, Bools]:
    """Per-character folding, and which cells read two ways (see `readings`): a control or
    format character was dropped, or digits of two kinds stand side by side."""
    fold, table = _FOLDS[separating]
    data = text.data
    n = len(data)
    cells = len(text.offsets) - 1
    # Plain ASCII text without controls (what most columns hold) folds to itself.
    if not (data >= 0x7F).any() and not ((data < 0x20) & (data != 0x0A)).any():
        return text, np.zeros(cells, dtype=bool)
    if _folds_to_itself(data, fold, table):
        # Swedish text (å, ä, ö, é) is non-ASCII but NFKC-stable and holds no other digits:
        # settle that on the distinct characters, without arrays per character.
        return text, np.zeros(cells, dtype=bool)
    lead = (data & 0xC0) != 0x80
    starts = np.flatnonzero(lead)
    widths = np.diff(np.append(starts, n))
    first = data[starts].astype(np.int64)
    out_len = widths.copy()
    repl_src = np.full(len(starts), -1, dtype=np.int64)  # start in the replacement pool
    kind = np.full(len(starts), -1, dtype=np.int64)  # digit_class, -1 for no digit
    pool = bytearray()

    ascii_chars = first < 0x80
    kind[ascii_chars & (first >= 0x30) & (first <= 0x39)] = 0x30
    ascii_changed = ascii_chars & table.changed[first & 0x7F]
    idx = np.flatnonzero(ascii_changed)
    dropped = np.zeros(len(starts), dtype=bool)  # a control or format character, dropped
    dropped[idx] = table.length[first[idx]] == 0
    if len(idx):
        codes = first[idx]
        out_len[idx] = table.length[codes]
        base = len(pool)
        pool.extend(table.byte.tobytes())
        repl_src[idx] = base + codes

    multi = np.flatnonzero(~ascii_chars)
    if len(multi):
        s = starts[multi]
        w = widths[multi]
        cp = np.zeros(len(multi), dtype=np.int64)
        b0 = first[multi]
        b1 = data[np.minimum(s + 1, n - 1)].astype(np.int64) & 0x3F
        b2 = data[np.minimum(s + 2, n - 1)].astype(np.int64) & 0x3F
        b3 = data[np.minimum(s + 3, n - 1)].astype(np.int64) & 0x3F
        cp = np.where(w == 2, ((b0 & 0x1F) << 6) | b1, cp)
        cp = np.where(w == 3, ((b0 & 0x0F) << 12) | (b1 << 6) | b2, cp)
        cp = np.where(w == 4, ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3, cp)
        unique, inverse = np.unique(cp, return_inverse=True)
        u_src = np.full(len(unique), -1, dtype=np.int64)
        u_len = np.zeros(len(unique), dtype=np.int64)
        u_kind = np.full(len(unique), -1, dtype=np.int64)
        u_dropped = np.zeros(len(unique), dtype=bool)
        for k, code in enumerate(unique.tolist()):
            c = chr(code)
            folded = fold(c)
            u_kind[k] = digit_class(c)
            u_dropped[k] = not folded and _gap(c)
            if folded != c:
                u_src[k] = len(pool)
                u_len[k] = len(folded)
                pool.extend(folded.encode())
        src = u_src[inverse]
        changed = src >= 0
        repl_src[multi[changed]] = src[changed]
        out_len[multi[changed]] = u_len[inverse][changed]
        kind[multi] = u_kind[inverse]
        dropped[multi] = u_dropped[inverse]

    # Digits of two kinds side by side ("7770²": a footnote mark; "811228-9874٣"), with only
    # removed characters between them, within a cell.
    kept = np.flatnonzero(out_len > 0)
    kept_kind = kind[kept]
    meets = np.zeros(len(kept), dtype=bool)
    meets[1:] = (kept_kind[1:] >= 0) & (kept_kind[:-1] >= 0) & (kept_kind[1:] != kept_kind[:-1])
    if meets.any():
        cell = np.searchsorted(text.offsets, starts[kept], side="right")
        meets[1:] &= cell[1:] == cell[:-1]
    mixed = bool(meets.any())
    two_ways = dropped.copy()
    two_ways[kept[meets]] = True
    ambiguous = np.zeros(cells, dtype=bool)
    if two_ways.any():
        ambiguous[np.searchsorted(text.offsets, starts[two_ways], side="right") - 1] = True
    if separating and mixed:
        # The separating reading puts an inert byte between them (Python per such place:
        # rare, and bounded by their number).
        for c in kept[meets].tolist():
            if repl_src[c] >= 0:
                body = bytes(pool[repl_src[c] : repl_src[c] + out_len[c]])
            else:
                body = data[starts[c] : starts[c] + widths[c]].tobytes()
            repl_src[c] = len(pool)
            out_len[c] = len(body) + 1
            pool.extend(INERT.encode() + body)

    replaced = repl_src >= 0
    if not replaced.any():
        return text, ambiguous
    total = int(out_len.sum())
    out_start = np.cumsum(out_len) - out_len
    within = np.arange(total, dtype=np.int64) - np.repeat(out_start, out_len)
    source = np.concatenate([data, np.frombuffer(bytes(pool), dtype=np.uint8)])
    src_start = np.where(replaced, n + repl_src, starts)
    out = source[np.repeat(src_start, out_len) + within]
    char_start = np.repeat(starts, out_len)
    rep = np.repeat(replaced, out_len)
    pos = np.where(rep, char_start, char_start + within)
    stop = np.where(rep, char_start + np.repeat(widths, out_len), pos + 1)
    # Cell boundaries are character boundaries: map each offset to its character, then out.
    char_of_offset = np.searchsorted(starts, text.offsets)
    out_offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(out_len, out=out_offsets[1:])
    new_pos, new_end = _compose(text, pos, stop)
    return Normalised(out, out_offsets[char_of_offset], new_pos, new_end), ambiguous


def _decoded(text: Normalised) -> Normalised | None:
    """Percent-encoding, then HTML references, each for as many rounds as it takes (bounded);
    None when there was nothing to decode."""
    changed = False
    for step in (_percent_round, _entity_round):
        for _ in range(_ROUNDS):
            decoded = step(text)
            if decoded is None:
                break
            text, changed = decoded, True
    return text if changed else None


_SPACED_MIN = 2  # digits: the area code `0 8` in `0 8 - 1 2 3 4 5 6`


def _joined_spaced_digits(text: Normalised) -> Normalised | None:
    """`8 1 1 2 2 8 - 9 8 7 4`: two or more single digits one space apart read as one
    number (the joining reading); None when there are none."""
    data = text.data
    n = len(data)
    if n < 2 * _SPACED_MIN - 1:
        return None
    digit = (data - np.uint8(48)) < 10
    starts = _cell_starts(n, text.offsets)
    left = np.zeros(n, dtype=bool)
    left[1:] = digit[:-1] & ~starts[1:]
    right = np.zeros(n, dtype=bool)
    right[:-1] = digit[1:] & ~starts[1:]
    single = digit & ~left & ~right
    joint = np.zeros(n, dtype=bool)
    joint[1:-1] = (data[1:-1] == 0x20) & single[:-2] & single[2:] & ~starts[1:-1] & ~starts[2:]
    at = np.flatnonzero(joint)
    if len(at) < _SPACED_MIN - 1:
        return None
    fresh = np.ones(len(at), dtype=bool)
    fresh[1:] = at[1:] != at[:-1] + 2
    group = np.cumsum(fresh) - 1
    drop = at[np.bincount(group)[group] >= _SPACED_MIN - 1]
    if not len(drop):
        return None
    keep = np.ones(n, dtype=bool)
    keep[drop] = False
    return _compact(text, data, keep, np.arange(1, n + 1, dtype=np.int64))


def _reading(text: Normalised, separating: bool) -> tuple[Normalised, Bools]:
    """Fold characters, decode escapes, and fold what the escapes held. Folding first, so an
    invisible character inside an escape (`%2\u200bD`) does not hide it. The joining reading
    also closes up spaced-out digits."""
    folded, ambiguous = _char_step(text, separating)
    decoded = _decoded(folded)
    if decoded is not None:
        folded, more = _char_step(decoded, separating)
        ambiguous = ambiguous | more
    if not separating:
        joined = _joined_spaced_digits(folded)
        if joined is not None:
            return joined, ambiguous
    return folded, ambiguous


def normalise(data: U8, offsets: I64) -> Normalised:
    """Normalised text of cells `data[offsets[i]:offsets[i+1]]` (valid UTF-8)."""
    return _reading(Normalised(data, offsets.astype(np.int64, copy=False)), separating=False)[0]


@dataclass(frozen=True)
class Reading:
    """One reading of a batch: its normalised text, and which cells of the batch it holds
    (None: all; else its cell j is batch cell `cells[j]`, and its original coordinates are
    those of the batch's cells laid end to end). `origin`: for a reading whose characters were
    put in display order (`_display_order`), each byte's original byte range in those
    coordinates; None when the characters kept their order. `wrap`: for such a reading, per
    original position, where the run of bidi pushes ending there starts and the run of pops
    starting there ends (a hit that fills an override takes its controls with it)."""

    text: Normalised
    cells: I64 | None
    origin: tuple[I64, I64] | None = None
    wrap: tuple[I64, I64] | None = None

    def original_span(self, start: I64, stop: I64, batch_offsets: I64) -> tuple[I64, I64, I64]:
        """Batch cell and original byte range (in the batch's buffer) of spans [start, stop)."""
        first, last = self.text.original_span(start, stop)
        if self.origin is not None:
            first, last = _spread(self.origin, first, last)
        if self.cells is None:
            cell = np.searchsorted(batch_offsets, first, side="right") - 1
            return cell, first, last
        sub_offsets = np.zeros(len(self.cells) + 1, dtype=np.int64)
        lengths = batch_offsets[self.cells + 1] - batch_offsets[self.cells]
        np.cumsum(lengths, out=sub_offsets[1:])
        j = np.searchsorted(sub_offsets, first, side="right") - 1
        if self.wrap is not None:
            # `\u202e4789-822118\u202c` goes whole: a tag left between the override's controls
            # would show backwards. Only when the controls on both sides close the run (or the
            # cell ends), so no override is left open over the text after it.
            opened = np.maximum(self.wrap[0][first], sub_offsets[j])
            closed = np.minimum(self.wrap[1][last], sub_offsets[j + 1])
            wrapped = (opened < first) & ((closed > last) | (last == sub_offsets[j + 1]))
            first, last = np.where(wrapped, opened, first), np.where(wrapped, closed, last)
        shift = batch_offsets[self.cells[j]] - sub_offsets[j]
        return self.cells[j], first + shift, last + shift


def _spread(origin: tuple[I64, I64], first: I64, last: I64) -> tuple[I64, I64]:
    """The original range of reordered byte ranges [first, last): from the least start to the
    greatest end of the bytes in them (a reversed run maps to the run it came from)."""
    starts, ends = origin
    if not len(first):
        return first, last
    bounds = np.empty(2 * len(first), dtype=np.int64)
    bounds[0::2], bounds[1::2] = first, last
    low = np.minimum.reduceat(np.append(starts, 0), bounds)[0::2]
    high = np.maximum.reduceat(np.append(ends, 0), bounds)[0::2]
    return low, high


# Right-to-left override (U+202E): what follows it shows backwards, up to the matching pop
# (U+202C) or the end of the paragraph. Embeddings, overrides and isolates nest.
_RLO = b"\xe2\x80\xae"
_BIDI = re.compile(
    rb"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|[\n\r\x1c-\x1e]|\xc2\x85|\xe2\x80\xa9"
)
# Pushes: (right to left, override); LRE, RLE, LRO, RLO, LRI, RLI, FSI (read as LRI).
_PUSHES = {
    b"\xe2\x80\xaa": (False, False),
    b"\xe2\x80\xab": (True, False),
    b"\xe2\x80\xad": (False, True),
    b"\xe2\x80\xae": (True, True),
    b"\xe2\x81\xa6": (False, False),
    b"\xe2\x81\xa7": (True, False),
    b"\xe2\x81\xa8": (False, False),
}
_PDF, _PDI = b"\xe2\x80\xac", b"\xe2\x81\xa9"
_MAX_DEPTH = 125  # the Unicode bidirectional algorithm's limit
_MIRROR = np.arange(256, dtype=np.uint8)
for _a, _b in ("()", "[]", "{}", "<>"):
    _MIRROR[ord(_a)], _MIRROR[ord(_b)] = ord(_b), ord(_a)


def _display_order(raw: bytes) -> tuple[U8, I64, I64, I64, I64] | None:
    """The cell's bytes in the order they are shown, each byte's original range, and the
    runs of bidi controls (`Reading.wrap`, n + 1 positions each); None without a right-to-left
    override.

    The explicit levels of the Unicode bidirectional algorithm (UAX #9, X1-X8, L2) for a
    left-to-right paragraph, with one simplification: every character that no override
    governs is taken as left to right (Latin letters and digits, what the detectors read), so
    only an override reverses text; ASCII brackets in a reversed run are drawn mirrored (L4).
    Python per bidi control, numpy per character.
    """
    if _RLO not in raw:
        return None
    data = np.frombuffer(raw, dtype=np.uint8)
    n = len(data)
    char_starts = np.flatnonzero((data & 0xC0) != 0x80)
    char_ends = np.append(char_starts[1:], n)
    level = np.zeros(len(char_starts), dtype=np.int64)
    # (level, override to right to left, an isolate)
    stack: list[tuple[int, bool, bool]] = [(0, False, False)]
    at = 0  # the character from which the current state holds
    opened = np.arange(n + 1, dtype=np.int64)
    closed = np.arange(n + 1, dtype=np.int64)
    pops: list[int] = []
    for match in _BIDI.finditer(raw):
        if match.group() in _PUSHES:
            opened[match.end()] = opened[match.start()]
        elif match.group() in (_PDF, _PDI):
            pops.append(match.start())
        here = int(np.searchsorted(char_starts, match.start()))
        current, rtl, _ = stack[-1]
        # Left to right text at an odd level shows at the next (even) one (I2).
        level[at:here] = current if rtl or current % 2 == 0 else current + 1
        code = match.group()
        push = _PUSHES.get(code)
        if push is not None:
            right, override = push
            new = current + 1 if (current % 2 == 0) == right else current + 2
            if new <= _MAX_DEPTH:
                stack.append((new, right and override, code[1] == 0x81))
        elif code == _PDF:
            if len(stack) > 1 and not stack[-1][2]:
                stack.pop()  # an embedding or override; never an isolate (X7)
        elif code == _PDI:
            if any(isolate for _, _, isolate in stack):
                while not stack.pop()[2]:  # back to the matching isolate (X6a)
                    pass
        else:
            stack = [(0, False, False)]  # a paragraph break ends everything
        at = here + 1
        # A control shows (if at all) outside the run it opens or closes; a paragraph break at
        # the paragraph's level.
        level[here] = min(current, stack[-1][0])
    current, rtl, _ = stack[-1]
    level[at:] = current if rtl or current % 2 == 0 else current + 1
    order = np.arange(len(char_starts), dtype=np.int64)
    for k in range(int(level.max()), 0, -1):
        # Every run at level k or above shows reversed (L2), from the highest level down.
        high = np.concatenate([[False], level[order] >= k, [False]])
        edges = np.flatnonzero(high[1:] != high[:-1])
        for lo, hi in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
            order[lo:hi] = order[lo:hi][::-1]
    starts, ends = char_starts[order], char_ends[order]
    widths = ends - starts
    within = np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(widths) - widths, widths)
    byte_start = np.repeat(starts, widths)
    shown = data[byte_start + within]
    # A bracket shown right to left is drawn mirrored (L4): `(tа)` stored shows as `(аt)`.
    odd = np.repeat(level[order] % 2 == 1, widths)
    shown[odd] = _MIRROR[shown[odd]]
    for at in reversed(pops):
        closed[at] = closed[at + 3]
    return shown, byte_start, np.repeat(ends, widths), opened, closed


def _right_to_left(data: U8, offsets: I64) -> list[Reading]:
    """The readings in display order of the cells holding a right-to-left override, joining
    and separating (the override's controls are invisible, or a gap: `\u202e4789-822118\u202c`
    twice in a row shows two numbers side by side). Python per such cell; one numpy
    comparison over the batch finds them."""
    if len(data) < len(_RLO):
        return []
    tail = np.flatnonzero(data[2:] == _RLO[2])  # 0xAE: rare in Swedish text
    at = tail[(data[tail] == _RLO[0]) & (data[tail + 1] == _RLO[1])]
    if not len(at):
        return []
    cells = np.unique(np.searchsorted(offsets, at, side="right") - 1).astype(np.int64)
    parts: list[tuple[U8, I64, I64, I64, I64]] = []
    base = 0
    for cell in cells.tolist():
        lo, hi = int(offsets[cell]), int(offsets[cell + 1])
        shown = _display_order(data[lo:hi].tobytes())
        assert shown is not None  # the cell holds an override
        # The wraps without their last position: it is the next cell's first (spans are
        # clamped to their cell, so which cell's value it holds does not matter).
        parts.append(
            (shown[0], shown[1] + base, shown[2] + base, shown[3][:-1] + base, shown[4][:-1] + base)
        )
        base += hi - lo
    sub_offsets = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum([len(p[0]) for p in parts], out=sub_offsets[1:])
    text = Normalised(np.concatenate([p[0] for p in parts]), sub_offsets)
    origin = (np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]))
    end = np.array([base], dtype=np.int64)
    wrap = (
        np.concatenate([*(p[3] for p in parts), end]),
        np.concatenate([*(p[4] for p in parts), end]),
    )
    return [
        Reading(_reading(text, separating=separating)[0], cells, origin, wrap)
        for separating in (False, True)
    ]


_GLYPHS = [(np.frombuffer(c.encode(), dtype=np.uint8), ord(d)) for c, d in DIGIT_GLYPHS.items()]
_LETTER_DIGIT = np.zeros(256, dtype=np.uint8)
# Two-byte letters: (lead byte, second byte) -> digit.
_WIDE_DIGIT = np.zeros((256, 256), dtype=np.uint8)
for _letter, _digit in LETTER_DIGITS.items():
    _code = _letter.encode()
    if len(_code) == 1:
        _LETTER_DIGIT[_code[0]] = ord(_digit)
    else:
        _WIDE_DIGIT[_code[0], _code[1]] = ord(_digit)
_WIDE_LEAD: Bools = np.asarray(_WIDE_DIGIT.any(axis=1), dtype=bool)
_WIDE_LEADS = [bytes([b]) for b in np.flatnonzero(_WIDE_LEAD).tolist()]
_NARROW = [bytes([b]) for b in np.flatnonzero(_LETTER_DIGIT).tolist()]


def _glyph_digits(raw: U8, text: Normalised, data: U8, wide: Bools) -> tuple[I64, U8]:
    """Normalised positions of digits written with a glyph of another digit (`DIGIT_GLYPHS`)
    in a group with an ASCII digit, and the digit each looks like (`data`: the normalised
    bytes with letters already read as digits, `wide` the first bytes of two-byte ones)."""
    if text.pos is None or text.end is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    where: list[I64] = []
    what: list[U8] = []
    lead = np.flatnonzero(raw[:-2] == 0xE0) if len(raw) > 2 else np.zeros(0, dtype=np.int64)
    for code, digit in _GLYPHS:
        at = lead[(raw[lead + 1] == code[1]) & (raw[lead + 2] == code[2])]
        if not len(at):
            continue
        j = np.searchsorted(text.pos, at)
        j = j[j < len(text.pos)]
        j = j[np.isin(text.pos[j], at) & ((text.data[j] - np.uint8(48)) < 10)]
        where.append(j.astype(np.int64))
        what.append(np.full(len(j), digit, dtype=np.uint8))
    if not where:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    glyphs, digits = np.concatenate(where), np.concatenate(what)
    # A number written wholly in Bengali digits is read by value (by a reader of Bengali); a
    # glyph in a group of ASCII digits is a disguise (`81122৪-9874`).
    numeral = (data - np.uint8(48)) < 10
    numeral[1:] |= wide[:-1]  # a two-byte letter read as a digit: its second byte too
    head = numeral.copy()
    head[1:] &= ~numeral[:-1] | _cell_starts(len(numeral), text.offsets)[1:]
    run = np.cumsum(head) - 1
    ascii_digit = numeral & (text.end - text.pos == 1)  # a letter read as a digit too
    mixed = np.bincount(run[ascii_digit], minlength=int(run[-1]) + 1) > 0
    keep = mixed[run[glyphs]]
    return glyphs[keep], digits[keep]


def _letter_digits(text: Normalised) -> tuple[Bools, Bools]:
    """Letters drawn like a digit (`LETTER_DIGITS`) in a group of digits and such letters that
    holds a real digit and touches no other letter (`O7O-123`, not `Olle`, `OCR5` or `lO`):
    the ASCII ones' bytes, and the first bytes of the two-byte ones."""
    data = text.data
    n = len(data)
    nothing = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    # Such a group has a letter next to a digit, or a two-byte one; most batches have neither,
    # which a few memchr passes over the bytes rule out (numpy's table lookups allocate and
    # cost ten times more).
    raw = data.tobytes()
    if not any(lead in raw for lead in _WIDE_LEADS):
        if not any(letter in raw for letter in _NARROW):
            return nothing
        at = np.flatnonzero(_LETTER_DIGIT[data] > 0)
        near = np.concatenate([at[at > 0] - 1, at[at + 1 < n] + 1])
        if not ((data[near] - np.uint8(48)) < 10).any():
            return nothing
    like = _LETTER_DIGIT[data] > 0
    wide = np.zeros(n, dtype=bool)
    leads = np.flatnonzero(_WIDE_LEAD[data[:-1]]) if n >= 2 else np.zeros(0, dtype=np.int64)
    if len(leads):  # none in Swedish text (å, ä, ö lead with 0xC3)
        leads = leads[_WIDE_DIGIT[data[leads], data[leads + 1]] > 0]
        wide[leads] = True
    like[1:] |= wide[:-1]  # a two-byte letter's second byte belongs to its group too
    like |= wide
    digit = (data - np.uint8(48)) < 10
    if n < 2 or not ((like[1:] & digit[:-1]).any() or (like[:-1] & digit[1:]).any()):
        return nothing
    member = digit | like
    start = _cell_starts(n, text.offsets)
    head = member.copy()
    head[1:] &= ~member[:-1] | start[1:]
    tail = member.copy()
    tail[:-1] &= ~member[1:] | start[1:]
    run = np.cumsum(head) - 1
    heads, tails = np.flatnonzero(head), np.flatnonzero(tail)
    has_digit = np.bincount(run[digit], minlength=len(heads)) > 0
    # Another letter (ASCII, or any non-ASCII byte: the rest became INERT) on either side.
    letter = (((data | np.uint8(0x20)) - np.uint8(97) < 26) | (data >= 0x80)) & ~like
    before = np.zeros(len(heads), dtype=bool)
    inside = heads > 0
    before[inside] = letter[heads[inside] - 1] & ~start[heads[inside]]
    after = np.zeros(len(tails), dtype=bool)
    inside = tails + 1 < n
    after[inside] = letter[tails[inside] + 1] & ~start[tails[inside] + 1]
    good = has_digit & ~before & ~after
    taken = good[np.clip(run, 0, None)] & member
    return taken & (_LETTER_DIGIT[data] > 0), taken & wide


def _by_look(raw: U8, text: Normalised) -> Reading | None:
    """The joining reading with digits read by their look where it differs from their value
    (`৪` as 8, `O7O` as 070), of the cells that have such a digit; None when none has."""
    letters, wide = _letter_digits(text)
    data = text.data
    if letters.any() or wide.any():
        data = data.copy()
        data[letters] = _LETTER_DIGIT[data[letters]]
        at = np.flatnonzero(wide)
        data[at] = _WIDE_DIGIT[data[at], data[at + 1]]
    glyph_at, glyph_digit = _glyph_digits(raw, text, data, wide)
    if data is text.data and not len(glyph_at):
        return None
    if data is text.data:
        data = data.copy()
    data[glyph_at] = glyph_digit
    changed = np.flatnonzero(data != text.data)
    cells = np.unique(np.searchsorted(text.offsets, changed, side="right") - 1)
    looked = text
    if wide.any():
        # A two-byte letter read as one digit: its second byte goes, its range stays whole.
        n = len(data)
        keep = np.ones(n, dtype=bool)
        keep[np.flatnonzero(wide) + 1] = False
        end = np.arange(1, n + 1, dtype=np.int64)
        end[wide] += 1
        looked = _compact(text, data, keep, end)
        data = looked.data
    starts = looked.offsets[cells]
    lengths = looked.offsets[cells + 1] - starts
    offsets = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    index = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
    pos = looked.pos[index] if looked.pos is not None else index
    end = looked.end[index] if looked.end is not None else index + 1
    # Original coordinates are the batch's: the reading maps back as a whole-batch one does.
    return Reading(Normalised(data[index], offsets, pos, end), None)


def readings(data: U8, offsets: I64) -> list[Reading]:
    """Every way a reader may see the cells; the detectors look at each.

    Some characters join what is around them for one reader and separate it for another. A
    control or format character (NUL, ESC, zero-width space, soft hyphen) is invisible in one
    viewer and a box, a gap or a line break in another: `811228\u200b9874` reads as one
    number, `0000000000\x1b950215-7770` ends in a personnummer when ESC shows as a box. Digits
    of another kind right after a number are part of it in `８１１２２８-９８７４` but a footnote
    mark in `811228-9874²`. So when a batch holds such a thing there are two readings: the
    joining one (controls dropped, digits of any kind run on) and the separating one
    (controls read as a space, a change of digit kind breaks the number). A cell holding a
    right-to-left override (U+202E: `\u202e4789-822118` shows as 811228-9874) is also read in
    the order it is shown, and a cell with a digit whose look differs from its value (the
    Bengali four `৪`, drawn like an 8; the letter O in `O7O-123 45 67`) by its look.
    """
    text = Normalised(data, offsets.astype(np.int64, copy=False))
    joined, ambiguous = _reading(text, separating=False)
    out = [Reading(joined, None)]
    look = _by_look(data, joined)
    if look is not None:
        out.append(look)
    if ambiguous.any():
        # The separating reading, of the cells that read two ways only.
        cells = np.flatnonzero(ambiguous).astype(np.int64)
        starts = text.offsets[cells]
        lengths = text.offsets[cells + 1] - starts
        sub_offsets = np.zeros(len(cells) + 1, dtype=np.int64)
        np.cumsum(lengths, out=sub_offsets[1:])
        within = np.arange(int(sub_offsets[-1]), dtype=np.int64) - np.repeat(
            sub_offsets[:-1], lengths
        )
        sub = Normalised(data[np.repeat(starts, lengths) + within], sub_offsets)
        out.append(Reading(_reading(sub, separating=True)[0], cells))
    out.extend(_right_to_left(data, text.offsets))
    return out


def normalise_text(text: str) -> str:
    """The normalised form of one string (for tests and explanations; no offsets)."""
    raw = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    out = normalise(raw, np.array([0, len(raw)], dtype=np.int64))
    return out.data.tobytes().decode("utf-8")
