"""Identifiers and e-mail addresses disguised with look-alike characters: letters of other scripts
drawn like Latin ones (`anna (аt) kommun (dоt) se` with Cyrillic а and о), the ideographic full
stops a mail program reads as dots (`anna@kommun。se`), and a right-to-left override that shows
a number stored backwards the right way round. What a reader sees is found, and the hit covers
the whole disguised text.

The look-alike table (`chars.LOOKALIKES`) is checked against Unicode's confusables list
(UTS #39 confusables.txt, as shipped by the confusable-homoglyphs package).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from importlib import resources

import identifier_corpus as corpus
import names_corpus
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opengov.redact.detectors import (
    DEFAULT_LAST_SCAN,
    KINDS,
    Hit,
    find_cells,
    names,
    normalise,
    replace_text,
    scan_replace,
    scan_text,
)
from opengov.redact.detectors.chars import DIGIT_GLYPHS, LETTER_DIGITS, LOOKALIKES
from opengov.redact.detectors.normalise import normalise_text

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DISGUISES: dict[str, list[str]] = {}
for _foreign, _latin in LOOKALIKES.items():
    DISGUISES.setdefault(_latin, []).append(_foreign)


def _confusables() -> dict[str, list[str]]:
    raw = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text()
    table = json.loads(raw)
    return {c: [h["c"] for h in entries] for c, entries in table.items()}


# --- the table ------------------------------------------------------------------------------


def test_every_lookalike_is_a_unicode_confusable_of_its_latin_letter() -> None:
    confusables = _confusables()
    for foreign, latin in LOOKALIKES.items():
        prototypes = set(confusables.get(foreign, []))
        # A plain vertical stroke is I, l or (Unicode's prototype for the palochka `ӏ`) i.
        accepted = {"I", "l", "i"} if latin in "Il" else {latin}
        assert prototypes & accepted, (foreign, f"U+{ord(foreign):04X}", latin, prototypes)
        assert unicodedata.category(foreign)[0] == "L", foreign
        assert len(foreign.encode()) == 2, foreign  # persons finds them as byte pairs


def test_no_listed_name_is_written_with_a_lookalike() -> None:
    """Folding a letter of the table must never turn a listed name into an unlisted one (the
    Turkish dotless ı, in many listed names, is not in the table for that reason)."""
    letters = set(LOOKALIKES)
    spelled = [n for n in (*names.first_names(), *names.surnames()) if letters & set(n)]
    assert spelled == []


# --- e-mail ---------------------------------------------------------------------------------

LOCALS = ("anna.svensson", "kansliet", "bo-ake", "eva_lind", "info+bygglov", "registrator")
DOMAINS = ("exempelby.se", "kommun.exempelby.se", "example.com", "skola.exempelby.se")
AT_WORDS = (
    "@",
    " @ ",
    "(at)",
    " (at) ",
    "[at]",
    "{at}",
    "<at>",
    "(AT)",
    "(snabel-a)",
    "[snabbel-a]",
)
DOT_WORDS = (".", "(dot)", " (dot) ", "[dot]", "(punkt)", " [punkt] ", "(DOT)")
# Dots a mail program reads as "." in a domain name (IDNA): ideographic, halfwidth ideographic,
# fullwidth, vertical presentation form.
DOTS = ("。", "｡", "．", "︒")
CONTEXT = (
    ("", ""),
    ("Kontakta ", " för mer."),
    ("e-post: ", ""),
    ("(", ")"),
    ("Skriv till ", ", tack"),
)


def disguise(draw: st.DrawFn, text: str) -> str:
    """`text` with at least one Latin letter (if it has any) written with a look-alike."""
    spots = [i for i, c in enumerate(text) if c in DISGUISES]
    if not spots:
        return text
    chosen = set(draw(st.lists(st.sampled_from(spots), min_size=1, unique=True)))
    return "".join(
        draw(st.sampled_from(DISGUISES[c])) if i in chosen else c for i, c in enumerate(text)
    )


@st.composite
def addresses(draw: st.DrawFn) -> tuple[str, str, int, int]:
    """(plain cell, disguised cell, start, end of the address): one character for one."""
    local, domain = draw(st.sampled_from(LOCALS)), draw(st.sampled_from(DOMAINS))
    at = draw(st.sampled_from(AT_WORDS))
    dot = draw(st.sampled_from(DOT_WORDS))
    parts = domain.split(".")
    plain_domain = dot.join(parts)
    written = f"{local}{at}{plain_domain}"
    hidden_at = disguise(draw, at) if at.strip() != "@" else at
    hidden_dots = [
        draw(st.sampled_from(DOTS)) if dot == "." and draw(st.booleans()) else disguise(draw, dot)
        for _ in parts[1:]
    ]
    hidden_domain = parts[0] + "".join(d + p for d, p in zip(hidden_dots, parts[1:], strict=True))
    if draw(st.booleans()):
        local, hidden_domain = disguise(draw, local), disguise(draw, hidden_domain)
    hidden = f"{local}{hidden_at}{hidden_domain}"
    assert len(hidden) == len(written)
    before, after = draw(st.sampled_from(CONTEXT))
    return before + written + after, before + hidden + after, len(before), len(before) + len(hidden)


@SETTINGS
@given(st.lists(addresses(), min_size=1, max_size=6))
def test_property_a_disguised_address_is_found_where_the_plain_one_is(
    cells: list[tuple[str, str, int, int]],
) -> None:
    for plain, hidden, start, end in cells:
        assert scan_text(plain, ["email"]) == [Hit("email", start, end)], plain
        # The same span: the whole disguised address, its look-alikes included.
        assert scan_text(hidden, ["email"]) == [Hit("email", start, end)], hidden
    column = pa.array([hidden for _, hidden, _, _ in cells], pa.string())
    assert all(find_cells(column, DEFAULT_LAST_SCAN)["email"].to_pylist())
    replaced = scan_replace(column, ["email"]).array.to_pylist()
    for (_, hidden, start, end), out in zip(cells, replaced, strict=True):
        assert out == hidden[:start] + "[e-post borttagen]" + hidden[end:]


@pytest.mark.parametrize(
    "cell",
    [
        "anna (аt) kommun.se",  # Cyrillic а
        "anna [аt] kommun [dоt] se",  # Cyrillic а, о
        "anna (АТ) kommun (DОТ) se",  # Cyrillic capitals
        "anna (ɑt) kommun.se",  # IPA alpha
        "anna (αt) kommun (punκt) se".replace("κ", "k"),  # Greek alpha
        "anna (snаbel-а) kommun (punkt) se",
        "anna@kommun。se",
        "anna@kommun｡se",
        "anna@kommun︒se",
        "anna (at) kommun。se",
        "аnnа@kоmmun.sе",
    ],
)
def test_known_disguises_of_an_address(cell: str) -> None:
    assert scan_text(cell, ["email"]) == [Hit("email", 0, len(cell))]


def test_ideographic_full_stop_reads_as_a_dot() -> None:
    assert normalise_text("kommun。se kommun｡se kommun︒se") == "kommun.se kommun.se kommun.se"


# --- precision: disguising letters changes nothing else -------------------------------------


def _disguised_every_letter(text: str) -> str:
    return "".join(DISGUISES[c][0] if c in DISGUISES else c for c in text)


def test_realistic_negatives_with_disguised_letters_stay_negative() -> None:
    """The identifier corpus' non-personal text (ids, invoice and case numbers, dates, amounts,
    addresses...) with every Latin letter written with a look-alike: the same cells are flagged
    as without the disguise (reading letters as Latin ones makes no digit, and no e-mail address
    that the plain text does not have)."""
    cells = [c for values in corpus.realistic_negatives(200).values() for c in values]
    plain = find_cells(pa.array(cells, pa.string()), KINDS)
    hidden = find_cells(pa.array([_disguised_every_letter(c) for c in cells], pa.string()), KINDS)
    for kind in KINDS:
        assert hidden[kind].to_pylist() == plain[kind].to_pylist(), kind


def test_names_corpus_with_disguised_letters_reads_as_without() -> None:
    """The labelled names corpus (private names, officials, addresses, text without any) with
    every Latin letter written with a look-alike: the engine flags the same cells, names and
    addresses alike, as without the disguise."""
    texts = [sentence.text for sentence in names_corpus.Corpus().build(600)]
    want = ["name", "address"]
    plain = find_cells(pa.array(texts, pa.string()), want)
    hidden = find_cells(pa.array([_disguised_every_letter(t) for t in texts], pa.string()), want)
    for kind in want:
        assert sum(plain[kind].to_pylist()) > 50, kind
        assert hidden[kind].to_pylist() == plain[kind].to_pylist(), kind


@pytest.mark.parametrize(
    "text",
    [
        "Встреча (от 12 мая) в здании администрации",
        "Ответ (ат) не получен; (а т) смотрите письмо",
        "Η συνάντηση (ατ) έγινε στο δημαρχείο (σελ. 4)",
        "Հանդիպումը (տես) քաղաքապետարանում",
        "Адрес: ул. Ленина, д. 5 (подъезд 2)",
    ],
)
def test_text_in_other_scripts_holds_no_address(text: str) -> None:
    assert scan_text(text, KINDS) == []


# --- right-to-left override -----------------------------------------------------------------

RLO, PDF, LRO, PDI = "\u202e", "\u202c", "\u202d", "\u2069"
MIRRORED = str.maketrans("()[]{}<>", ")(][}{><")
ID_FORMS = ("YYMMDD-NNNC", "YYMMDDNNNC", "YYYYMMDD-NNNC", "YYMMDD NNNC", "YYMMDD\u2013NNNC")


@st.composite
def shown_backwards(draw: st.DrawFn) -> tuple[str, int, int, str]:
    """(cell, start, end, kind): a personnummer, phone number or address stored backwards
    after a right-to-left override, so that it shows the right way round."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    kind = draw(st.sampled_from(("personnummer", "samordningsnummer", "phone", "email")))
    if kind == "phone":
        written = corpus.fiction_phone(rng)
    elif kind == "email":
        at = draw(st.sampled_from(AT_WORDS))
        written = f"{draw(st.sampled_from(LOCALS))}{at}{draw(st.sampled_from(DOMAINS))}"
    else:
        form = draw(st.sampled_from(ID_FORMS))
        year, ten = corpus.valid_identifier(rng, kind, form)
        written = corpus.render(year, ten, form)
    before, after = draw(st.sampled_from(CONTEXT))
    # Inside a right-to-left isolate (U+2067) or a left-to-right embedding (U+202A) too.
    opener, close = draw(
        st.sampled_from(
            [(RLO, end) for end in (PDF, "", PDF + " ", "\n", PDI)]
            + [("\u2067" + RLO, PDF + PDI), ("\u202a" + RLO, PDF + PDF)]
        )
    )
    start = len(before) + len(opener)
    # Stored backwards; a bracket shown right to left is drawn mirrored, so it is stored as
    # its mirror image too: `(ta)` shows as `(at)`.
    cell = before + opener + written[::-1].translate(MIRRORED) + close + after
    return cell, start, start + len(written), kind


@SETTINGS
@given(st.lists(shown_backwards(), min_size=1, max_size=6))
def test_property_what_an_override_shows_the_right_way_round_is_found(
    cells: list[tuple[str, int, int, str]],
) -> None:
    for cell, start, end, kind in cells:
        hits = scan_text(cell, KINDS)
        covering = [h for h in hits if h.start <= start and h.end >= end]
        # Stored backwards, a number can also be something else as stored ("0777-512059", a
        # phone number, for 950215-7770; "2160471070", an organisation number, for
        # 0701740612): the stored reading's kind comes first then, and the number goes anyway.
        assert covering, (cell, hits)
        assert covering[0].kind == kind or kind != "email", (cell, hits)
    column = pa.array([cell for cell, _, _, _ in cells], pa.string())
    flagged = find_cells(column, DEFAULT_LAST_SCAN)
    for i, (cell, _, _, _) in enumerate(cells):
        assert any(flagged[k][i].as_py() for k in DEFAULT_LAST_SCAN), cell


@pytest.mark.parametrize(
    "cell",
    [
        # Only the first part is overridden: shows 9874-822118.
        RLO + "4789" + PDF + "-822118",
        # Brackets shown right to left are drawn mirrored: this shows as `anna )ta( kommun.se`.
        RLO + "es.nummok )ta( anna" + PDF,
        # A left-to-right override inside the right-to-left one keeps its own order.
        "a" + RLO + "b" + LRO + "c 4789-822118" + PDF + "d" + PDF,
        # The override ends at the line break; the next line is not reversed into it.
        RLO + "abc\n4789-822118",
    ],
)
def test_an_override_that_shows_no_number_hides_none(cell: str) -> None:
    assert [h for h in scan_text(cell, KINDS) if h.kind != "organisationsnummer"] == [], cell


def test_override_reading_keeps_the_other_cells_of_a_batch() -> None:
    cells = ["Kontakt 070-174 06 12", RLO + "4789-822118" + PDF, None, "inget här", "811228-9874"]
    flagged = find_cells(pa.array(cells, pa.string()), DEFAULT_LAST_SCAN)
    assert flagged["phone"].to_pylist() == [True, False, False, False, False]
    assert flagged["personnummer"].to_pylist() == [False, True, False, False, True]


# --- digits by their look -------------------------------------------------------------------

# A digit -> what may be written for it and read as it by its look: letters (and their
# Cyrillic, Greek and Armenian look-alikes), digits of other scripts drawn like it.
DIGIT_DISGUISES: dict[str, list[str]] = {}
for _letter, _digit in LETTER_DIGITS.items():
    DIGIT_DISGUISES.setdefault(_digit, []).append(_letter)
    DIGIT_DISGUISES[_digit] += [f for f, latin in LOOKALIKES.items() if latin == _letter]
for _glyph, _digit in DIGIT_GLYPHS.items():
    DIGIT_DISGUISES.setdefault(_digit, []).append(_glyph)


def test_digit_lookalikes_are_unicode_confusables() -> None:
    confusables = _confusables()
    for glyph, digit in DIGIT_GLYPHS.items():
        assert digit in confusables[glyph], glyph
        assert unicodedata.decimal(glyph) != int(digit), glyph  # by value, another digit
    # Unicode's prototypes: 0 for O, l for 1 and for I; o is the small O.
    assert "O" in confusables["0"] and "l" in confusables["1"] and "l" in confusables["I"]
    plain = {("O", "0"), ("o", "0"), ("l", "1"), ("I", "1")}
    for letter, digit in LETTER_DIGITS.items():
        if (letter, digit) not in plain:
            assert digit in confusables[letter], letter
            assert unicodedata.category(letter)[0] == "L" and len(letter.encode()) == 2, letter


def disguise_digits(draw: st.DrawFn, written: str) -> str:
    """`written` with some digits written by a look-alike, leaving a real digit in every group
    of digits (a group of letters alone reads as a word)."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", written)]
    chars = list(written)
    for start, end in groups:
        keep = draw(st.integers(start, end - 1))
        for i in range(start, end):
            if i != keep and chars[i] in DIGIT_DISGUISES and draw(st.booleans()):
                chars[i] = draw(st.sampled_from(DIGIT_DISGUISES[chars[i]]))
    return "".join(chars)


@st.composite
def numbers_by_look(draw: st.DrawFn) -> tuple[str, int, int, str, str]:
    """(cell, start, end, kind, plain written form) of a number with look-alike digits."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    kind = draw(st.sampled_from(("personnummer", "samordningsnummer", "phone")))
    if kind == "phone":
        written = corpus.fiction_phone(rng)
    else:
        form = draw(st.sampled_from(ID_FORMS))
        year, ten = corpus.valid_identifier(rng, kind, form)
        written = corpus.render(year, ten, form)
    hidden = disguise_digits(draw, written)
    before, after = draw(st.sampled_from(CONTEXT))
    cell = before + hidden + after
    return cell, len(before), len(before) + len(hidden), kind, written


@SETTINGS
@given(st.lists(numbers_by_look(), min_size=1, max_size=6))
def test_property_a_number_with_lookalike_digits_is_found(
    cells: list[tuple[str, int, int, str, str]],
) -> None:
    for cell, start, end, _, _ in cells:
        # Found as some number, whatever its kind: by value a digit of another script may
        # make it another valid number ("080607986੧" is the phone number 080607986-1 by
        # value, the personnummer 080607-9869 by look); the stored reading's kind comes first.
        hits = scan_text(cell, KINDS)
        assert [h for h in hits if h.start <= start and h.end >= end], (cell, hits)
    column = pa.array([cell for cell, *_ in cells], pa.string())
    flagged = find_cells(column, DEFAULT_LAST_SCAN)
    for i, (cell, *_) in enumerate(cells):
        assert any(flagged[k][i].as_py() for k in DEFAULT_LAST_SCAN), cell


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("O7O-123 45 67", "phone"),
        ("ring О7О-174 06 12 i dag", "phone"),  # Cyrillic О
        ("pnr 8ll228-9874", "personnummer"),
        ("pnr 81122৪-9874", "personnummer"),  # Bengali four, drawn like an 8
        ("l9811228-9874", "personnummer"),
        ("pnr 8112l8-00З2", "personnummer"),  # Cyrillic З, drawn like a 3
        ("tel О7О-l74 0б 12", "phone"),  # Cyrillic О and б
        ("+4б701740612", "phone"),  # the country code too
    ],
)
def test_known_numbers_with_lookalike_digits(cell: str, kind: str) -> None:
    hits = scan_text(cell, KINDS)
    assert [h.kind for h in hits] == [kind], hits


@pytest.mark.parametrize(
    "cell",
    [
        "Olle 070",  # a word, then digits
        "OCR5 O7O",  # O7O is too short to be anything
        "lO Ol IO",  # no digit
        "Bilaga l0: 811228",  # l0 is ten; 811228 alone is no identifier
        "FO123456789",  # a letter touches the group: an invoice number, not 0123456789
        "Volvo 0l-123",
    ],
)
def test_letters_near_digits_that_read_as_no_number(cell: str) -> None:
    assert scan_text(cell, KINDS) == [], cell


def test_realistic_negatives_with_lookalike_digits_are_never_more_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The identifier corpus' non-personal numbers with some digits written by look: the
    reading by look flags no cell that the plain text does not flag (nor the other readings of
    the disguised text, which read `৪` as the 4 it is by value, and break a number where the
    kind of digit changes)."""
    rng = random.Random(7)
    cells = [c for values in corpus.realistic_negatives(200).values() for c in values]

    def by_look(text: str) -> str:
        return "".join(
            rng.choice(DIGIT_DISGUISES[c]) if c in DIGIT_DISGUISES and rng.random() < 0.3 else c
            for c in text
        )

    disguised = pa.array([by_look(c) for c in cells], pa.string())
    plain = find_cells(pa.array(cells, pa.string()), KINDS)
    hidden = find_cells(disguised, KINDS)
    with monkeypatch.context() as patch:
        patch.setattr(normalise, "_by_look", lambda raw, text: None)
        other = find_cells(disguised, KINDS)
    for kind in KINDS:
        before = zip(plain[kind].to_pylist(), other[kind].to_pylist(), strict=True)
        expected = [p or o for p, o in before]
        flagged = hidden[kind].to_pylist()
        extra = [c for c, e, h in zip(cells, expected, flagged, strict=True) if h and not e]
        assert extra == [], (kind, extra[:5])


@pytest.mark.parametrize(
    ("cell", "replaced"),
    [
        # The override's controls go with the number: a tag between them would show backwards.
        (f"pnr {RLO}4789-822118{PDF} tack", "pnr [personnummer borttaget] tack"),
        (f"Pnr: {RLO}4789-822118", "Pnr: [personnummer borttaget]"),
        (f"\u2067{RLO}4789-822118{PDF}{PDI} x", "[personnummer borttaget] x"),
        # Two side by side, shown as 811228-9874811228-9874 or with a gap: both go.
        (f"{RLO}4789-822118{PDF}{RLO}4789-822118", "[personnummer borttaget]" * 2),
        # The override also holds other text: its controls stay, so nothing after it turns.
        (f"a {RLO}abc 4789-822118{PDF} tack", f"a {RLO}abc [personnummer borttaget]{PDF} tack"),
    ],
)
def test_a_number_shown_through_an_override_is_replaced_with_its_controls(
    cell: str, replaced: str
) -> None:
    assert replace_text(cell, DEFAULT_LAST_SCAN) == replaced
    column = pa.array(["x", cell, None, cell], pa.string())
    out = scan_replace(column, DEFAULT_LAST_SCAN).array.to_pylist()
    assert out == ["x", replaced, None, replaced]
