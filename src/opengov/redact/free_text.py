"""Which published columns are free text, and which kinds the last scan looks for in each.

Free text is where registrars and citizens write names and addresses: subject lines, comments,
descriptions. A column counts as free text when it is a string column and either

- at least half of its non-null values have two or more words (a word: two or more letters in
  a row), or
- any value has five or more words (one long note in a column of codes is still prose).

So ids ("KS 2024/15", "F10023"), enum values ("inkommande") and single words do not count,
and are not scanned for names. Names of organisations ("Exempelby Energi AB") and of people
("Anna Svensson") are two words: such columns count, and a steward whose column holds names
that may be published says so with `names: public` (see docs/rules.md).

Counting words is one RE2 pass per column (`pc.count_substring_regex`), so deciding costs far
less than scanning.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opengov.rules import FieldRule

MULTIWORD_SHARE = 0.5
LONG_VALUE_WORDS = 5
_WORD = r"\p{L}{2,}"


def _strings(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
        column = pc.cast(column, kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_string_view(kind):
        return pc.cast(column, pa.large_string())
    return None


Distinct = tuple[pa.Array, pa.Array]  # a column's distinct values, and each cell's index in them
KNOWN_WORDS_MAX = 1 << 16


class KnownWords:
    """Word counts of values earlier batches of a column held (at most `KNOWN_WORDS_MAX`), so
    a batch counts only the values it brings new: the count depends on the value alone."""

    def __init__(self) -> None:
        self.values: pa.Array | None = None
        self.words: pa.Array | None = None

    def count(self, values: pa.Array) -> pa.Array:
        """Words in each of `values` (distinct, without nulls)."""
        known, words = self.values, self.words
        if known is None or words is None or known.type != values.type:
            counted = pc.count_substring_regex(values, pattern=_WORD)
            self.values, self.words = values, counted
            return counted
        where = pc.index_in(values, value_set=known)
        fresh = pc.is_null(where)
        if not pc.any(fresh).as_py():
            return words.take(where)
        new = values.filter(fresh)
        counted = pc.count_substring_regex(new, pattern=_WORD)
        if len(known) < KNOWN_WORDS_MAX:
            self.values = pa.concat_arrays([known, new])
            self.words = pa.concat_arrays([words, counted])
        out = pc.replace_with_mask(pc.fill_null(words.take(where), 0), fresh, counted)
        return out


_MAYBE_LETTER = np.zeros(256, dtype=bool)
_MAYBE_LETTER[ord("A") : ord("Z") + 1] = True
_MAYBE_LETTER[ord("a") : ord("z") + 1] = True
_MAYBE_LETTER[0x80:] = True  # any byte of a character beyond ASCII


def _letter_pairs(column: pa.Array | pa.ChunkedArray) -> bool:
    """False only if no two letters stand side by side anywhere in the column, so that no
    cell holds a word: a numpy pass over the bytes, far cheaper than counting words in each
    cell. Any byte beyond ASCII counts as a possible letter, and a pair across two cells
    counts too: a superset, never a miss."""
    from opengov.sources.textbytes import buffers

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:  # string or large_string (`_strings` casts the other layouts)
        data, _ = buffers(chunk)
        maybe = _MAYBE_LETTER[data]
        if bool((maybe[:-1] & maybe[1:]).any()):
            return True
    return False


def is_free_text(
    column: pa.Array | pa.ChunkedArray,
    distinct: Distinct | None = None,
    known: KnownWords | None = None,
) -> bool:
    """`distinct`, when the caller has it (`gates.LastScan`), is the string column's distinct
    values and each cell's index among them: the words of each value are counted once, and
    with `known` (the column's earlier batches) once per publish."""
    text = _strings(column)
    if text is None:
        return False
    if distinct is not None:
        counts = (
            known.count(distinct[0])
            if known is not None
            else pc.count_substring_regex(distinct[0], pattern=_WORD)
        )
        words = counts.take(distinct[1])
    else:
        if not _letter_pairs(text):
            return False  # no word anywhere (ids, codes, numbers as text)
        words = pc.count_substring_regex(text, pattern=_WORD)
    non_null = len(words) - words.null_count
    if non_null == 0:
        return False
    multi = int(pc.sum(pc.greater_equal(words, 2)).as_py() or 0)
    longest = int(pc.max(words).as_py() or 0)
    return multi >= MULTIWORD_SHARE * non_null or longest >= LONG_VALUE_WORDS


def text_kinds(
    column: pa.Array | pa.ChunkedArray,
    rule: FieldRule | None,
    distinct: Distinct | None = None,
    known: KnownWords | None = None,
) -> list[str]:
    """`name` and `address`, less what the rule declares public, if the column is free text."""
    declared = rule.public_text if rule else ()
    wanted = [k for k in ("name", "address") if k not in declared]
    if not wanted or not is_free_text(column, distinct, known):
        return []
    return wanted


def last_scan_kinds(
    column: pa.Array | pa.ChunkedArray,
    rule: FieldRule | None,
    distinct: Distinct | None = None,
    known: KnownWords | None = None,
) -> list[str]:
    """The kinds the last scan looks for in one published column (`distinct`: see
    `is_free_text`)."""
    from opengov.redact import detectors as detect

    declared = rule.identifier_column if rule else None
    kinds = [k for k in detect.DEFAULT_LAST_SCAN if not (declared and k in declared.skip)]
    return kinds + text_kinds(column, rule, distinct, known)
