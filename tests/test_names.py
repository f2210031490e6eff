"""The `name` and `address` detectors: what they tag, what they leave, and how they scale."""

from __future__ import annotations

import itertools
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opengov.redact.detectors import (
    ALL_KINDS,
    TAGS,
    find_cells,
    persons,
    replace_text,
    scan_replace,
    scan_text,
)
from opengov.redact.detectors import names as names_mod

BOTH = ("name", "address")


def tagged(text: str, kind: str) -> list[str]:
    return [text[h.start : h.end] for h in scan_text(text, BOTH) if h.kind == kind]


NAMES: list[tuple[str, list[str]]] = [
    ("Klagomål från Karin Svensson om grannen Olle Holm", ["Karin Svensson", "Olle Holm"]),
    ("Orosanmälan gällande barnet Lisa Nyberg (6 år)", ["Lisa Nyberg"]),
    ("Ansökan om bistånd, sökande Ahmed Yusuf", ["Ahmed Yusuf"]),
    ("Hyresgästen Abdirahman Warsame har anmält fuktskada", ["Abdirahman Warsame"]),
    ("Ansökan från Tesfay Gebremedhin", ["Tesfay Gebremedhin"]),
    ("Anmälan från Rojin Barzani och Mehmet Yilmaz", ["Rojin Barzani", "Mehmet Yilmaz"]),
    ("Skolskjuts för Emina Hadžić, vårdnadshavare Somchai Saetang",
     ["Emina Hadžić", "Somchai Saetang"]),
    ("Bygglov, sökande Reza Hosseini", ["Reza Hosseini"]),
    ("Överklagande, klagande Matti Virtanen", ["Matti Virtanen"]),
    ("Ansökan av Agnieszka Nowak", ["Agnieszka Nowak"]),
    # Context makes an unlisted name a name.
    ("Orosanmälan gällande barnet Xamda Guuleed", ["Xamda Guuleed"]),
    ("Klagomål från Karin Oyelaran", ["Karin Oyelaran"]),
    ("Synpunkt från Lisa om parken", ["Lisa"]),
    ("Familjen Lindqvist ansöker om förskoleplats", ["Lindqvist"]),
    # Forms: hyphens, initials, possessive, inverted, capitals, particles.
    ("Yttrande från Anna-Karin Svensson-Holm", ["Anna-Karin Svensson-Holm"]),
    ("Kontakt: K. Svensson och Maria S.", ["K. Svensson", "Maria S."]),
    ("Karin Svenssons ansökan om bygglov", ["Karin Svenssons"]),
    ("Svensson, Karin: ansökan om färdtjänst", ["Svensson, Karin"]),
    ("ANSÖKAN FRÅN KARIN SVENSSON", ["KARIN SVENSSON"]),
    ("Hyresgästen Fatima Al-Hassan har klagat", ["Fatima Al-Hassan"]),
    ("Yttrande från Gustaf von Essen", ["Gustaf von Essen"]),
    # Words that are names mid-sentence, in a pair.
    ("Ansökan från Sten Holm och Rosa Berg", ["Sten Holm", "Rosa Berg"]),
]  # fmt: skip

NOT_NAMES: list[str] = [
    "Byggnation på Storgatan i Karlstad",
    "Yttrande till Förvaltningsrätten i Vänersborg",
    "Svar från Svenska Bostäder om hyran",
    "Anbud från Anders Byggfirma AB",
    "Anbud från Lindholms Snickeri AB",
    "Remiss från Länsstyrelsen i Exempellän",
    "Kommundirektörens beslut om budget",
    "Socialnämndens protokoll 12 mars 2024",
    "Sammanträde fredag den 3 maj",
    "Mars 2024: delårsrapport",
    "Björn observerad vid Eskilstuna",
    "Rosa bussar till skolan",
    "Sten och grus på gångvägen",
    "Maj månads protokoll",
    "Ombyggnad av Olof Palmes plats",
    "Invigning av Astrid Lindgrens skola",
    "Samverkan med Upplands Väsby och Lilla Edet",
    "Lund, Malmö och Ystad: gemensam upphandling",
    "Ansökan om serveringstillstånd, Pizzeria Roma",
    "Hans ansökan om bygglov",
]

OFFICIALS: list[str] = [
    "Klagomål på handläggare Anna Berg",
    "Beslut av rektor Magnus Öberg",
    "Motion från Anna-Karin Höglund (S) om skolmat",
    "Svar från Karin Svensson, enhetschef",
    "Besök av landshövding Maria Larsson",
]

ADDRESSES: list[tuple[str, list[str]]] = [
    ("Klagomål från Karin Svensson, Storgatan 5, om grannen", ["Storgatan 5"]),
    ("Björkvägen 12 B, lgh 1102, 123 45 Exempelby",
     ["Björkvägen 12 B, lgh 1102, 123 45 Exempelby"]),
    ("bor på Kvarnvägen 12B", ["Kvarnvägen 12B"]),
    ("adress Drottning Kristinas väg 14, 2 tr", ["Drottning Kristinas väg 14, 2 tr"]),
    ("Gamla Kungsvägen 3", ["Gamla Kungsvägen 3"]),
    ("Post till c/o Warsame, Åsgränd 4", ["c/o Warsame, Åsgränd 4"]),
    ("Ansökan, 123 45 EXEMPELBY", ["123 45 EXEMPELBY"]),
    ("SE-123 45 Upplands Väsby", ["SE-123 45 Upplands Väsby"]),
    ("Solvändan 7 och Tallstigen 2-4", ["Solvändan 7", "Tallstigen 2-4"]),
]  # fmt: skip

NOT_ADDRESSES: list[str] = [
    "byggnation på Storgatan",
    "Rapport om gång- och cykelvägen 3 km söder om Mora",
    "Bygglov, Norrbacka 12:45",
    "Tallbacken 24:213",
    "Verksamhetsplan 2025",
    "Regional transportinfrastrukturplan 2026–2037",
    "Lekplatsen 3 ska rustas",
    "parkeringsplatsen 12 vid stationen",
    "Storgatan 2 st nya bänkar",
    "kostnad 123 45 kr",
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_names_are_tagged(text: str, expected: list[str]) -> None:
    assert tagged(text, "name") == expected


@pytest.mark.parametrize("text", NOT_NAMES)
def test_look_alikes_are_not_names(text: str) -> None:
    assert tagged(text, "name") == []


@pytest.mark.parametrize("text", OFFICIALS)
def test_officials_are_found_but_not_tagged(text: str) -> None:
    found = names_mod.find(text)
    assert found and {h.role for h in found} == {"official"}
    assert tagged(text, "name") == []


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_addresses_are_tagged(text: str, expected: list[str]) -> None:
    assert tagged(text, "address") == expected


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_look_alikes_are_not_addresses(text: str) -> None:
    assert tagged(text, "address") == []


def test_replacement_tags_and_other_kinds_together() -> None:
    text = (
        "Klagomål från Karin Svensson, Storgatan 5, 123 45 Exempelby, 811228-9874, "
        "karin.svensson@example.com, 070-123 45 67"
    )
    out = replace_text(text, list(ALL_KINDS))
    assert out == (
        "Klagomål från [namn borttaget], [adress borttagen], [personnummer borttaget], "
        "[e-post borttagen], [telefonnummer borttaget]"
    )
    # The e-mail address is not read as a name when only names are wanted.
    assert tagged("Karin.Svensson@example.com skrev", "name") == []
    assert TAGS["name"] == "[namn borttaget]" and TAGS["address"] == "[adress borttagen]"


def test_a_name_inside_an_address_belongs_to_the_address() -> None:
    hits = scan_text("c/o Karin Svensson, Storgatan 5", BOTH)
    assert [(h.kind, h.start, h.end) for h in hits] == [("address", 0, 31)]


def test_scan_replace_counts_per_kind_and_keeps_nulls_and_chunks() -> None:
    values = [
        "Klagomål från Karin Svensson, Storgatan 5, om grannen Olle Holm",
        None,
        "Byggnation på Storgatan",
        "Synpunkt från Lisa",
        "",
    ]
    array = pa.chunked_array([values[:2], values[2:]])
    result = scan_replace(array, ["name", "address"])
    assert isinstance(result.array, pa.ChunkedArray) and result.array.num_chunks == 2
    assert result.array.to_pylist() == [
        "Klagomål från [namn borttaget], [adress borttagen], om grannen [namn borttaget]",
        None,
        "Byggnation på Storgatan",
        "Synpunkt från [namn borttaget]",
        "",
    ]
    assert result.matches == {"name": 3, "address": 1}
    assert result.cells == {"name": 2, "address": 1}
    flags = find_cells(array, ["name", "address"])
    assert flags["name"].to_pylist() == [True, False, False, True, False]
    assert flags["address"].to_pylist() == [True, False, False, False, False]


def test_large_string_and_dictionary_columns() -> None:
    values = ["sökande Ahmed Yusuf", "Storgatan"] * 3
    for array in (pa.array(values, pa.large_string()), pa.array(values).dictionary_encode()):
        out = scan_replace(array, ["name"])
        assert out.array.to_pylist()[0] == "sökande [namn borttaget]"
        assert out.matches == {"name": 3}


words = st.sampled_from(
    [
        "Karin", "Svensson", "Storgatan", "5", "12 B", "123 45", "Exempelby", "från", "sökande",
        "grannen", "c/o", "AB", "handläggare", "(S)", ",", ".", "och", "Lund", "Ahmed", "Yusuf",
        "lgh", "1102", "Anna-Karin", "K.", "Mars", "Björn", "Rosa", "vägen", "km", "Al-Hassan",
        "\u00a0", "\n", "Olof", "Palmes", "plats", "Kvarnvägen", "barnet", "Xamda", "SE-",
        "Karin/Olle", "al-Hassan", "VON", "von", "A.-L.", "Svensson,", ":", "FRÅN", "Sten",
        "Lindqvists", "Hodan", "rektor", "(M)", "Upplands", "Väsby", "\0", "Gebremedhin",
    ]
)  # fmt: skip
texts = st.lists(words, max_size=25).map(" ".join) | st.text(max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=8))
def test_candidates_are_a_superset_of_hits(values: list[str]) -> None:
    """Skipping a cell the vectorised stage did not pick never loses a hit."""
    chunk = pa.array(values, pa.string())
    for want in (("name",), ("address",), BOTH):
        picked = persons.candidates(chunk, want).to_pylist()
        for value, was_picked in zip(values, picked, strict=True):
            if persons.find(value, want):
                assert was_picked, (want, value)


def test_a_run_of_names_cut_short_is_replaced_to_the_end() -> None:
    """Found by hypothesis: the first reading took "Karin Karin Karin Karin K." and left
    "Sten Karin", which only a second reading of the replaced text finds."""
    text = "Karin Karin Karin Karin K. Sten Karin"
    assert replace_text(text, BOTH) == "[namn borttaget] [namn borttaget]"
    column = scan_replace(pa.array([text, "Inget namn här", None]), BOTH)
    assert column.array.to_pylist() == ["[namn borttaget] [namn borttaget]", "Inget namn här", None]
    assert column.cells["name"] == 1 and column.matches["name"] == 2


@settings(max_examples=300, deadline=None)
@given(texts)
def test_replacing_is_stable(text: str) -> None:
    """Hits are ordered, disjoint and inside the text; replaced text holds no further hit."""
    hits = scan_text(text, BOTH)
    for a, b in itertools.pairwise(hits):
        assert a.end <= b.start
    assert all(0 <= h.start < h.end <= len(text) for h in hits)
    once = replace_text(text, BOTH)
    assert replace_text(once, BOTH) == once


def test_long_and_hostile_cells_take_linear_time() -> None:
    cases = [
        "Karin " * 20_000,
        "Storgatan " * 20_000 + "5",
        "A. " * 20_000,
        "c/o " * 20_000,
        "123 45 " * 20_000,
        ("x" * 39 + "vägen ") * 5_000 + "1",
    ]
    for text in cases:
        start = time.perf_counter()
        scan_text(text, BOTH)
        assert time.perf_counter() - start < 5, text[:20]


def test_name_lists_cover_the_origins_and_stay_compact() -> None:
    first, sur = names_mod.first_names(), names_mod.surnames()
    for name in ("Karin", "Mohammed", "Abdirahman", "Shirin", "Rojin", "Mehmet", "Tesfay",
                 "Somchai", "Emina", "Agnieszka", "Matti", "Ahmed"):  # fmt: skip
        assert name in first, name
    for name in ("Andersson", "Yusuf", "Warsame", "Hosseini", "Barzani", "Yilmaz",
                 "Gebremedhin", "Saetang", "Hadžić", "Nowak", "Virtanen"):  # fmt: skip
        assert name in sur, name
    assert 5_000 < len(first) < 20_000 and 5_000 < len(sur) < 20_000


def test_profile_suggests_a_decision_without_values() -> None:
    private = persons.profile(["Klagomål från Karin Svensson, Storgatan 5", "Bygglov", None])
    assert private.suggestion == "scan" and private.private_name_cells == 1
    assert private.address_cells == 1 and private.cells == 2
    officials = persons.profile(["handläggare Anna Berg", "rektor Magnus Öberg"])
    assert officials.suggestion == "names: public" and officials.official_name_cells == 2
    assert persons.profile(["inkommande", "utgående"]).suggestion == "none"
    assert "Karin" not in str(private.to_dict())


def test_vectorised_pick_matches_python_on_a_mixed_column() -> None:
    values = [f"Ärende {i} om snöröjning" for i in range(2000)]
    values[17] = "sökande Xamda Guuleed"
    values[999] = "Storgatan 5"
    values[1500] = "från Karin"
    values[1501] = "Karin al-Hassan"
    mask = persons.candidates(pa.array(values), BOTH)
    assert pc.sum(mask).as_py() == 4


def test_name_lists_are_generated_from_their_sources() -> None:
    """The shipped lists are what scripts/make_name_lists.py makes from Faker and the supplement."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "make_name_lists.py"
    spec = importlib.util.spec_from_file_location("make_name_lists", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, data in module.build().items():
        assert path.read_bytes() == data, f"run scripts/make_name_lists.py ({path.name})"
