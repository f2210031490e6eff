"""Names and addresses disguised with look-alike letters (Cyrillic а, е, о, Greek Ο for the Latin
ones) are found as the names they look like: the red team's "Аnna Svensson" went through."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.redact.detectors import names, persons, scan_replace

# Latin letter -> the Cyrillic and Greek letters drawn like it (from the detector's own table).
_DISGUISES: dict[str, list[str]] = {}
for foreign, latin in persons._LOOKALIKES.items():
    _DISGUISES.setdefault(chr(latin), []).append(chr(foreign))  # type: ignore[arg-type]

_FIRST = sorted(n for n in names.first_names() if n.isascii() and len(n) > 3)[::50]
_LAST = sorted(n for n in names.surnames() if n.isascii() and len(n) > 4)[::50]
_SENTENCES = [
    "Ansökan från {} om bygglov",
    "{} har lämnat in en klagomålsskrivelse",
    "Yttrande, {}, Storgatan 5",
]


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """(a sentence with a name in Latin letters, the same with some letters disguised)."""
    name = f"{draw(st.sampled_from(_FIRST))} {draw(st.sampled_from(_LAST))}"
    sentence = draw(st.sampled_from(_SENTENCES))
    swaps = [i for i, c in enumerate(name) if c in _DISGUISES]
    chosen = draw(st.lists(st.sampled_from(swaps), min_size=1, unique=True))
    letters = list(name)
    for i in chosen:
        letters[i] = draw(st.sampled_from(_DISGUISES[letters[i]]))
    return sentence.format(name), sentence.format("".join(letters))


@settings(max_examples=200, deadline=None)
@given(disguised())
def test_a_disguised_name_is_found_where_the_plain_one_is(pair: tuple[str, str]) -> None:
    plain, hidden = pair
    want = frozenset({"name", "address"})
    assert persons.find(hidden, want) == persons.find(plain, want)
    assert persons.candidates(pa.array([hidden]), want).to_pylist() == [True]
    out_plain = scan_replace(pa.array([plain]), want)
    out_hidden = scan_replace(pa.array([hidden]), want)
    # The same cells are replaced the same way: nothing of the disguised name is left.
    assert out_hidden.array.to_pylist() == out_plain.array.to_pylist()
    assert out_hidden.cells == out_plain.cells


def test_an_address_with_a_disguised_letter_is_found() -> None:
    for text in ("Stоrgatan 5, 123 45 Exempelby", "Ѕtorgatan 5", "Storgatаn 5"):
        assert [k for k, _, _ in persons.find(text, {"address"})] == ["address"], text


def test_text_in_greek_or_cyrillic_that_reads_as_no_listed_name_is_left() -> None:
    for text in ("Привет мир", "Ολγα Ανδερσσον", "Καλημέρα"):
        assert persons.find(text, {"name", "address"}) == [], text
