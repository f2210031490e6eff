"""Street addresses in Swedish text: what points at a dwelling.

Three parts, each an address on its own, merged into one span when only a comma or spaces
separate them ("Storgatan 5 B, lgh 1102, 123 45 Exempelby" is one address):

- a street with a house number: a word ending in a street suffix (-gatan, -vägen, -gränd,
  -stigen, -torget, -backen, -allén, -platsen, -leden, -stråket, ...) or a street word after
  capitalised words ("Drottning Kristinas väg", "Karl Johans gata"), then a number, optionally
  a letter, a range, "lgh 1102" or a floor ("2 tr");
- a postcode followed by a town ("123 45 Exempelby", "SE-123 45 EXEMPELBY");
- a c/o line with the name after it.

Deliberately not addresses: a street without a number ("byggnation på Storgatan": a street is a
public place, and a number is what narrows it to a home); a number followed by a unit ("vägen 3
km", "Storgatan 2 st"); property designations ("Norrbacka 12:45", a public register's key);
generic nouns that end like streets ("parkeringsplatsen 3").

All regexes here are linear (no nested quantifiers), and each candidate is checked by a bounded
look at its neighbourhood.
"""

from __future__ import annotations

import re

STREET_SUFFIXES = (
    "gatan", "gata", "vägen", "väg", "gränd", "gränden", "stigen", "stig", "torget", "torg",
    "backen", "backe", "allén", "allé", "alle", "allen", "platsen", "leden", "led",
    "stråket", "stråk", "gången", "kajen", "kaj", "promenaden", "esplanaden", "ringen",
    "slingan", "höjden", "liden", "kullen", "gärdet", "svängen", "vändan", "kroken", "hagen",
    "tået",
)  # fmt: skip
# A street word standing alone after the capitalised words of the street's name.
_STANDALONE = frozenset({"gata", "gatan", "väg", "vägen", "gränd", "torg", "allé",
                         "backe", "stig", "led", "kaj", "plats", "platsen", "stråk"})  # fmt: skip
# Capitalised words that belong to the street name before a compound street word.
_STREET_PREFIXES = frozenset(
    "Gamla Nya Norra Södra Östra Västra Lilla Stora Sankt S:t Övre Nedre Yttre Inre".split()
)
# Generic nouns ending like a street: not a street unless capitalised mid-sentence.
_GENERIC = frozenset(
    """
    platsen arbetsplatsen parkeringsplatsen lekplatsen badplatsen hållplatsen busshållplatsen
    idrottsplatsen mötesplatsen campingplatsen grillplatsen återvinningsplatsen cykelvägen
    gångvägen vägen gatan torget backen leden gången planen ringen kullen hagen kroken höjden
    liden svängen tået slingan skolgården gården stigen
    """.split()
)
_UNITS = frozenset(
    """
    km m meter mil cm mm st styck kr kronor sek procent år dagar dag veckor vecka månader timmar
    timme tim min minuter ggr gånger kvm m2 ha ton kg personer barn elever platser lägenheter
    bilar tillfällen
    """.split()
)
_SUFFIX_ALT = "|".join(sorted(STREET_SUFFIXES, key=len, reverse=True))

# A word (letters, hyphens, "S:t"-style colons) followed by a house number.
_STREET = re.compile(
    r"(?<![\w])(?P<word>[^\W\d_][\w\-:]{0,40})\.?[ \u00a0]{1,3}"
    r"(?P<num>[1-9][0-9]{0,3})(?![0-9])(?![:,.][0-9])"
    r"(?P<rest>(?:[ \u00a0]?[A-Za-z](?![\w]))?(?:[\-–][0-9]{1,4}(?![0-9]))?)"
)
_AFTER_NUMBER = re.compile(
    r"(?:,?[ \u00a0]*(?:lgh|lägenhet|lägenhetsnummer)\.?[ \u00a0]*[0-9]{4}"
    r"|,?[ \u00a0]*[0-9]{1,2}[ \u00a0]*tr(?:appor|\.)?(?![\w])"
    r"|,?[ \u00a0]*tr(?:appa|\.)?[ \u00a0]*[0-9]{1,2}(?![0-9]))*",
    re.IGNORECASE,
)
_POSTTOWN = re.compile(
    r"(?<![0-9])(?:SE-?[ \u00a0]?)?[1-9][0-9]{2}[ \u00a0]?[0-9]{2}(?![0-9])[ \u00a0]{1,3}"
    r"(?:[A-ZÅÄÖ][a-zåäöé]+(?:[ \-][A-ZÅÄÖ][a-zåäöé]+)?|[A-ZÅÄÖ]{2,}(?:[ \-][A-ZÅÄÖ]{2,})?)"
    r"(?![\w])"
)
_CO = re.compile(r"(?<![\w])[cC]/[oO][ \u00a0:]+[^\W\d_][\w\-]*(?:[ \u00a0][A-ZÅÄÖ][\w\-]*){0,3}")
_WORD_BEFORE = re.compile(r"([^\W\d_][\w\-:]*s?)[ \u00a0]$")
_NEXT_WORD = re.compile(r"[ \u00a0]*([^\W\d_]+)")

# RE2 prefilter (pyarrow.compute): a superset of the three parts above.
PREFILTER = (
    f"(?i:{_SUFFIX_ALT})\\.?[ \u00a0]{{1,3}}[1-9]"
    "|[1-9][0-9]{2}[ \u00a0]?[0-9]{2}[ \u00a0]{1,3}\\p{Lu}"
    "|[cC]/[oO][ \u00a0:]"
)


def _street_start(text: str, start: int, word: str) -> int | None:
    """Where the street name begins, or None when `word` does not end like a street."""
    lower = word.lower()
    if not lower.endswith(STREET_SUFFIXES):
        return None
    capital = word[:1].isupper()
    if lower in _STANDALONE:
        # "Drottning Kristinas väg 5": up to three capitalised words (or "XI:s") before it.
        pos = start
        taken = 0
        while taken < 3:
            m = _WORD_BEFORE.search(text, max(0, pos - 40), pos)
            if not m or not (m.group(1)[:1].isupper() or m.group(1)[:1].isdigit()):
                break
            pos = m.start(1)
            taken += 1
        return pos if taken else None
    if lower in _GENERIC or (not capital and lower.endswith(tuple(_GENERIC))):
        return None
    pos = start
    m = _WORD_BEFORE.search(text, max(0, pos - 12), pos)
    if m and m.group(1) in _STREET_PREFIXES:
        pos = m.start(1)
    return pos


# Where a house number can start: a digit after a space. Few per cell, so `_STREET` is tried
# only at the word before each (trying it at every word costs far more).
_NUMBER_AFTER_SPACE = re.compile(r"[ \u00a0]{1,3}[1-9]")
_LAST_WORD = re.compile(r"(?<![\w])[^\W\d_][\w\-:]{0,40}\.?\Z")
_POSTCODE_HINT = re.compile(r"[1-9][0-9]{2}[ \u00a0]?[0-9]{2}")


def _street_matches(text: str) -> list[re.Match[str]]:
    found: list[re.Match[str]] = []
    end = 0
    for number in _NUMBER_AFTER_SPACE.finditer(text):
        if number.start() < end:
            continue
        word = _LAST_WORD.search(text, max(0, number.start() - 42), number.start())
        if not word or not word.group().rstrip(".").lower().endswith(STREET_SUFFIXES):
            continue
        m = _STREET.match(text, word.start())
        if m:
            found.append(m)
            end = m.end()
    return found


def find(text: str) -> list[tuple[int, int]]:
    """Address spans in `text`, in order, merged where only ", " or spaces separate parts."""
    spans: list[tuple[int, int]] = []
    for m in _street_matches(text):
        begin = _street_start(text, m.start("word"), m.group("word"))
        if begin is None:
            continue
        if len(m.group("num")) == 4 and m.group("num")[:2] in ("19", "20"):
            continue  # a year ("verksamhetsplan 2025"), not a house number
        end = m.end("rest")
        after = _NEXT_WORD.match(text, end)
        if after and after.group(1).lower() in _UNITS:
            continue
        end = _AFTER_NUMBER.match(text, end).end()  # type: ignore[union-attr]
        spans.append((begin, end))
    if _POSTCODE_HINT.search(text):
        spans.extend((m.start(), m.end()) for m in _POSTTOWN.finditer(text))
    if "c/" in text or "C/" in text:
        spans.extend((m.start(), m.end()) for m in _CO.finditer(text))
    if not spans:
        return []
    spans.sort()
    merged: list[tuple[int, int]] = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end or not text[last_end:start].strip(" ,\u00a0"):
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged
