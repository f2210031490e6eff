"""Names of private persons in Swedish registry text.

A name is found from list membership and context together; neither alone is enough:

- the lists (data/first-names.txt, data/surnames.txt; data/README.md says where they come
  from) say which capitalised tokens can be a first name or a surname;
- the shape says which tokens belong together: capitalised tokens joined by single spaces,
  hyphenated parts ("Anna-Karin", "Svensson-Holm"), initials ("K. Svensson", "Karin S."),
  particles ("von", "af", "al-", "bin"), a possessive "s" ("Karin Svenssons");
- the context says whose name it is: a role word right before ("sökande", "barnet", "grannen",
  "vårdnadshavare") makes even an unknown capitalised token a name; a preposition ("från",
  "gällande", "och") lets a lone known name through; an official's title ("handläggare",
  "rektor") or a party letter after the name ("(S)") marks a person acting in office, which is
  reported as `official` and not as a private name.

What is never a name: a place (data/places.txt, also multi-word places like "Upplands Väsby"),
a token with an organisation or street ending ("-förvaltningen", "-skolan", "-gatan"), a run
followed by a company form ("Anders Byggfirma AB"), a possessive before a street or building
noun ("Olof Palmes gata"), Swedish function words. A lone capitalised token with no context is
never taken: "Björn", "Rosa", "Sten", "Maj" at the start of a sentence are words.

Every rule needs either a listed token or a role word (`STRONG_CUES`), so an RE2 prefilter over
those two is a superset of what this module finds (see `persons.py`).

Offsets are Python string indices. Work is linear in the text: one tokenising regex, and
runs are capped at `_MAX_RUN` tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, NamedTuple

NameRole = Literal["private", "official"]

_MAX_RUN = 5

# Person-role words: the capitalised tokens right after one are a name even when unknown.
STRONG_CUES: frozenset[str] = frozenset(
    """
    sökande sökanden klagande klaganden anmälare anmälaren anmälarna förslagsställare
    förslagsställaren vårdnadshavare vårdnadshavaren vårdnadshavarna barn barnet barnen elev
    eleven eleverna brukare brukaren patient patienten granne grannen grannarna hyresgäst
    hyresgästen fastighetsägare fastighetsägaren medborgare medborgaren klient klienten familjen
    make maken maka makan sambo sambon mor modern far fadern mamma mamman pappa pappan dotter
    dottern son sonen syster systern bror brodern herr fru fröken avlidne avlidna dödsbo dödsboet
    motpart motparten arbetstagare arbetstagaren anhörig anhörige anhöriga ombud ombudet
    personen kvinnan mannen pojken flickan ungdomen den enskilde enskilde
    """.split()
)
# Prepositions and conjunctions: a lone listed name after one is taken ("från Lisa").
WEAK_CUES: frozenset[str] = frozenset(
    """
    från gällande angående avseende rörande beträffande ang bet om för till mot med av hos och
    samt eller åt via
    """.split()
)
# Titles of people acting in office: the name after one is an official's.
TITLES: frozenset[str] = frozenset(
    """
    handläggare handläggaren bygglovshandläggare bygglovshandläggaren socialsekreterare
    socialsekreteraren rektor rektorn förskolechef förskolechefen enhetschef enhetschefen
    avdelningschef avdelningschefen verksamhetschef verksamhetschefen förvaltningschef
    förvaltningschefen kommundirektör kommundirektören kommunchef kommunchefen stadsdirektör
    stadsdirektören ekonomichef ekonomichefen personalchef personalchefen hr-chef hr-chefen
    hr-specialist hr-specialisten registrator registratorn nämndsekreterare nämndsekreteraren
    kommunsekreterare kommunsekreteraren sekreterare sekreteraren utredare utredaren
    kommunalråd kommunalrådet oppositionsråd oppositionsrådet ordförande ordföranden ledamot
    ledamoten ersättare ersättaren kommunjurist kommunjuristen inspektör inspektören
    miljöinspektör miljöinspektören livsmedelsinspektör livsmedelsinspektören bygginspektör
    bygginspektören stadsarkitekt stadsarkitekten planarkitekt planarkitekten tjänsteperson
    landshövding landshövdingen statsminister statsministern minister ministern statsråd
    statsrådet riksdagsledamot riksdagsledamoten
    tjänstepersonen tjänsteman tjänstemannen chef chefen lärare läraren förskollärare
    förskolläraren skolsköterska skolsköterskan kurator kuratorn specialpedagog
    specialpedagogen biståndshandläggare biståndshandläggaren kontaktperson nämndordförande
    """.split()
)
# Capitalised words that end a name run and are never part of a name.
_FUNCTION_WORDS = frozenset(
    """
    om till från med av på i för och men eller vid mot hos under efter inför genom enligt andra
    alla bara man vi som mitt min din sin den det de dem en ett vill ska har kan är var blev
    inte ingen nej ja här där när då nu sedan samt ang bet re angående gällande avseende
    beträffande rörande ärende ärendet svar begäran ansökan beslut anmälan klagomål synpunkt
    yttrande remiss protokoll kallelse dom överklagande tjänsteskrivelse utredning
    stora lilla nya gamla norra södra östra västra övre nedre yttre inre sankt s:t svenska
    svenskt svensk sveriges kungliga statens allmänna nationella regionala kommunala
    kommun kommunen region regionen länsstyrelsen stiftelsen föreningen förbundet bolaget
    ab hb kb aktiebolag handelsbolag kommanditbolag enskild firma pizzeria restaurang café
    kafé frisör salong butik bageri konditori kiosk hotell vandrarhem
    januari februari mars april maj juni juli augusti september oktober november december
    måndag tisdag onsdag torsdag fredag lördag söndag
    jul påsk midsommar nyår
    """.split()
)
# Common nouns and adjectives that are also names: alone they are words, in a pair with a
# capitalised listed token they are names ("Sten Holm", "Rosa Berg").
_COMMON_WORDS = frozenset(
    """
    björn sten rosa ros lilja viola klara saga stig sol tuva vide ebba lina linda lisa hans
    bo per dag finn frank fred hall mark maj juni vera liv signe inga rut alm asp berg blom
    borg ek falk fors frid frost gren hjort hult kvist lind ljung lund malm nord palm ring skog
    storm strand strid vik villa post polis pastor major master junior
    """.split()
)
# Token endings of organisations, buildings and streets: such a token is never a name.
_NON_NAME_SUFFIXES = (
    "förvaltningen", "förvaltning", "nämnden", "nämnd", "myndigheten", "verket", "styrelsen",
    "rätten", "skolan", "skola", "förskolan", "förskola", "gymnasiet", "kommun", "kommunen",
    "bolaget", "föreningen", "förening", "klubb", "klubben", "kyrkan", "kyrka", "församling",
    "sjukhuset", "centralen", "huset", "hallen", "parken", "badet", "biblioteket", "enheten",
    "avdelningen", "boendet", "förbundet", "fonden", "institutet", "universitet",
    "universitetet", "högskolan", "byrå", "byrån", "firma", "firman", "service", "bygg",
    "konsult", "fastigheter", "bostäder", "gatan", "gata", "vägen", "väg", "gränd", "gränden",
    "stigen", "torget", "torg", "backen", "allén", "platsen", "leden", "stråket", "kajen",
    "promenaden", "länet", "landet", "staden", "byn", "området", "centrum",
)  # fmt: skip
# Trades in a sole trader's firm name ("Sara Hjalmarsson Foto & Film"): they end the name, so
# the tag covers the person and the trade stays readable.
_TRADE_WORDS = frozenset(
    """
    foto film måleri snickeri bygg städ städning service transport åkeri taxi vvs el design
    media redovisning juridik data it konsult konsulting trädgård trädgårdstjänst tolkservice
    catering frisör massage hantverk plåt golv kakel musik reklam tryck elinstallation
    """.split()
)
# Business words: a name run followed by one, then a company form, is a company.
_COMPANY_FORMS = frozenset({"AB", "HB", "KB", "Aktiebolag", "Handelsbolag", "Kommanditbolag"})
# Endings of nouns after a possessive that make the run a street, building, foundation or
# prize named after a person ("Olof Palmes plats", "Anna Lindhs minnesfond").
_PLACE_NOUNS = (
    "gata", "gatan", "väg", "vägen", "torg", "torget", "plats", "platsen", "gränd", "allé",
    "park", "parken", "skola", "skolan", "gymnasium", "gymnasiet", "stiftelse", "stiftelsen",
    "minne", "hus", "huset", "backe", "kaj", "bro", "bron", "fond", "fonden", "pris", "priset",
    "sal", "salen", "hall", "hallen", "gård", "gården", "museum", "museet",
)  # fmt: skip
_PARTICLES = frozenset(
    {"von", "af", "de", "van", "der", "den", "da", "di", "del", "la", "le", "bin", "ibn", "abu"}
)
_PARTY = re.compile(r"\s*\((?:S|M|C|V|L|KD|MP|SD|FP|Fi)\)")

# Tokens: only what a name can be made of, so a cell costs little beyond its capitalised
# words: initials ("K.", "A.-L."), capitalised words with inner hyphens or apostrophes, and
# lower-case particles. Every other word, and the masked spans of earlier detectors (NUL), sit
# in the gaps between tokens, where they break runs. The first-letter class is a superset of
# Latin capitals; `_tokens` drops the lower-case letters it lets through.
_TOKEN = re.compile(
    r"(?P<init>(?<![^\W\d_])[A-ZÅÄÖÉ]\.(?:-?[A-ZÅÄÖÉ]\.){0,2})"
    r"|(?<![^\W_])(?P<word>[A-ZÀ-ÖØ-ÞĀ-ɏ][^\W\d_]*(?:['’\-][^\W\d_]+)*)"
    r"|(?<![^\W_])(?P<part>von|af|de|van|der|den|da|di|del|la|le|bin|ibn|abu)(?![^\W_])"
)
_WORD_BEFORE = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*)[ \u00a0:]*\Z")
_NEXT_WORD = re.compile(r"[ \u00a0]+([^\W\d_]+)")
_ARTICLE_GAP = frozenset({" al-", " el-", " Al-", " El-", " abu-", " bin-"})
_SENTENCE_END = frozenset(".!?:;\n")


@dataclass(frozen=True)
class NameHit:
    start: int
    end: int
    role: NameRole


class _Tok(NamedTuple):
    start: int
    end: int
    text: str
    key: str  # the form looked up: capitalised when the text is all capitals
    initial: bool


def _read_list(name: str) -> list[str]:
    text = resources.files("opengov.redact.detectors").joinpath("data", name).read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def first_names() -> frozenset[str]:
    return frozenset(_read_list("first-names.txt"))


@cache
def surnames() -> frozenset[str]:
    return frozenset(_read_list("surnames.txt"))


@cache
def _places() -> tuple[frozenset[str], dict[str, list[tuple[str, ...]]]]:
    """Single-word places, and multi-word places by their first word."""
    single: set[str] = set()
    multi: dict[str, list[tuple[str, ...]]] = {}
    for place in _read_list("places.txt"):
        words = tuple(place.split())
        if len(words) == 1:
            single.add(place)
        else:
            multi.setdefault(words[0], []).append(words)
    return frozenset(single), multi


@cache
def prefilter_tokens() -> frozenset[str]:
    """Every token form that can make a cell a name candidate without a role word.

    The Arrow stage splits cells on non-letters and looks the pieces up in this set, so it
    holds the listed names, their possessive forms and their all-capitals forms. A set, not a
    sorted list: a lookup's answer does not depend on the order, and sorting the 58,000 forms
    took 0.05 s of every publish that scans free text.
    """
    names = first_names() | surnames()
    forms = set(names)
    forms.update(n + "s" for n in names if not n.endswith(("s", "x", "z")))
    forms.update(f.upper() for f in list(forms))
    return frozenset(forms)


# RE2 (pyarrow.compute): every text a non-role-word rule accepts has one of these shapes:
# two capitalised tokens joined by a space (or an initial's dot, or a particle), a surname,
# comma, first name, or a preposition before a capitalised token. Superset: it ignores lists.
_PARTICLE_ALT = "|".join(sorted(_PARTICLES))


def shape_prefilter() -> str:
    weak = "|".join(sorted(WEAK_CUES, key=len, reverse=True))
    return (
        r"\p{Lu}[^\s,;:()\[\]/]*[ \x{a0}]\p{Lu}"
        r"|\p{Lu}\.-?\p{Lu}"
        rf"|\p{{Lu}}[^\s,;:()\[\]/]*[ \x{{a0}}](?i:{_PARTICLE_ALT})[ \x{{a0}}]\p{{Lu}}"
        r"|\p{Lu}[^\s,;:()\[\]/]*[ \x{a0}](?i:al|el|abu|bin)-\p{Lu}"
        r"|\p{Lu}[^\s,]*, ?\p{Lu}"
        rf"|(?:^|[^\p{{L}}])(?i:{weak})[ \x{{a0}}:]+\p{{Lu}}"
    )


def _key(text: str) -> str:
    if len(text) > 1 and text.isupper():
        return "-".join(part.capitalize() for part in text.split("-"))
    return text


def _tokens(text: str) -> list[_Tok]:
    toks = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        kind = m.lastgroup
        if kind == "word" and not word[0].isupper():
            continue
        key = _key(word) if kind == "word" and word.isupper() else word
        toks.append(_Tok(m.start(), m.end(), word, key, kind == "init"))
    return toks


def _parts(key: str) -> list[str]:
    return [p for p in key.replace("’", "-").replace("'", "-").split("-") if p]


def _lookup(key: str, names: frozenset[str]) -> bool:
    if key in names:
        return True
    parts = _parts(key)
    if len(parts) > 1:
        # "Anna-Karin", "Svensson-Holm", "Al-Hassan", "al-Hassan": a listed last part is enough,
        # and a leading Arabic article counts as a particle.
        if parts[0].lower() in ("al", "el", "abu", "abd", "bin", "ibn"):
            return parts[-1] in names or parts[-1].capitalize() in names
        return all(p in names for p in parts if p[:1].isupper()) and parts[0][:1].isupper()
    return False


def _possessive_stem(key: str) -> str | None:
    if len(key) > 3 and key.endswith("s"):
        stem = key[:-1]
        if _lookup(stem, first_names()) or _lookup(stem, surnames()):
            return stem
    return None


class _Info(NamedTuple):
    first: bool
    sur: bool
    common: bool  # also a Swedish word: only counts as one at a sentence start
    breaks: bool  # never part of a name
    place: bool  # a place: never starts a name, may end one ("Karin Lund")
    possessive: bool


# Token facts depend on the token's text only; registry text repeats its words, so they are
# kept, up to a bound, instead of looked up again.
_INFO_CACHE: dict[str, _Info] = {}
_INFO_CACHE_MAX = 200_000


def _info(tok: _Tok) -> _Info:
    info = _INFO_CACHE.get(tok.text)
    if info is None:
        if len(_INFO_CACHE) >= _INFO_CACHE_MAX:
            _INFO_CACHE.clear()
        info = _INFO_CACHE[tok.text] = _token_info(tok)
    return info


def _token_info(tok: _Tok) -> _Info:
    key = tok.key
    lower = key.lower()
    places, _ = _places()
    breaks = (
        lower in _FUNCTION_WORDS
        or lower in STRONG_CUES
        or lower in WEAK_CUES
        or lower in TITLES
        or tok.text in _COMPANY_FORMS
        or lower in _TRADE_WORDS
        or (len(lower) >= 4 and lower.endswith(_NON_NAME_SUFFIXES))
    )
    first = _lookup(key, first_names())
    sur = _lookup(key, surnames())
    possessive = False
    if not first and not sur:
        stem = _possessive_stem(key)
        if stem is not None:
            possessive = True
            first = _lookup(stem, first_names())
            sur = _lookup(stem, surnames())
    return _Info(first, sur, lower in _COMMON_WORDS, breaks, key in places, possessive)


def _joined(text: str, left: _Tok, right: _Tok) -> bool:
    """Tokens of one name are separated by one space (after an initial, by its dot's space)."""
    gap = text[left.end : right.start]
    return (
        gap in (" ", "\u00a0")
        or (left.initial and gap in ("", " ", "-"))
        or (gap in _ARTICLE_GAP and right.key[:1].isupper())
    )


def _sentence_initial(text: str, tok: _Tok) -> bool:
    # A bounded look back, so long cells stay linear.
    before = text[max(0, tok.start - 16) : tok.start].rstrip(" \t\u00a0\"'(«»”“")
    return not before or before[-1] in _SENTENCE_END


def _word_before(text: str, toks: list[_Tok], i: int) -> str | None:
    """The lower-cased word right before token i, if only spaces (or ':') separate them."""
    start = toks[i].start
    m = _WORD_BEFORE.search(text, max(0, start - 40), start)
    return m.group(1).lower() if m else None


def _is_official(text: str, toks: list[_Tok], i: int, j: int, before: str | None) -> bool:
    if before in TITLES:
        return True
    tail = text[toks[j - 1].end : toks[j - 1].end + 48]
    if _PARTY.match(tail):
        return True
    # Apposition: "Karin Svensson, rektor" / "Karin Svensson (handläggare)".
    m = re.match(r"\s*[,(]\s*([^\W\d_][\w\-]*)", tail[:40])
    return bool(m and m.group(1).lower() in TITLES)


def _inverted(text: str, sur: _Tok, sur_info: _Info, first: _Tok, first_info: _Info) -> bool:
    """A listed surname, a comma, a listed first name that ends the phrase."""
    if text[sur.end : first.start] not in (", ", ",") or not first.key[:1].isupper():
        return False
    if not (sur_info.sur and first_info.first) or sur_info.breaks or first_info.breaks:
        return False
    if sur_info.common and first_info.common:
        return False
    # "Lund, Malmö och Ystad" or "Berg, Anna och ..." : the first name must not start a run of
    # capitalised words (then it is a list of names or places, judged on its own).
    rest = text[first.end : first.end + 2]
    return not (rest[:1] == " " and rest[1:2].isupper())


def _company_after(toks: list[_Tok], j: int, text: str) -> bool:
    """A company form within the next three tokens on the same line ("Byggfirma AB")."""
    for k in range(j, min(j + 3, len(toks))):
        gap = text[toks[k - 1].end : toks[k].start]
        if gap.strip(" \u00a0&") or "\n" in gap:
            return False
        if toks[k].text in _COMPANY_FORMS:
            return True
    return False


def _accept(run: list[tuple[_Tok, _Info]], cue: str | None, sentence_start: bool) -> bool:
    """Whether a run of joined capitalised tokens is a person's name.

    Mid-sentence, a capital letter already says "proper noun", so words that are also names
    ("Sten", "Rosa", "Maj") count as names there; at a sentence start they need a partner.
    """
    infos = [info for _, info in run]
    toks = [tok for tok, _ in run]
    head, last = infos[0], infos[-1]
    head_word = head.common and sentence_start
    if cue in STRONG_CUES:
        # After a role word a capitalised run is a name unless it is a place.
        return not (len(run) == 1 and head.place and not (head.first or head.sur))
    if len(run) == 1:
        if toks[0].initial or head.place:
            return False
        return cue in WEAK_CUES and (head.first or head.sur)
    head_tok, last_tok = toks[0], toks[-1]
    if head_tok.initial:
        return last.sur and not last_tok.initial
    if last_tok.initial:
        return head.first and not head_word
    if head.first and last.sur:
        return True
    if last.place or last.common:
        return False
    if head.first and not head_word:
        # "Karin Gebremedhin": a listed first name, then an unlisted capitalised token.
        return True
    if last.sur and not head.common and not head.place:
        # "Tesfalem Andersson": unlisted first name, listed surname; not at a sentence start,
        # where any word is capitalised.
        return not sentence_start
    return False


def find(text: str) -> list[NameHit]:
    """Names in `text`, private and official, in order; spans never overlap."""
    toks = _tokens(text)
    if not toks:
        return []
    _, multi_places = _places()
    infos = [_info(t) for t in toks]
    hits: list[NameHit] = []
    i = 0
    n = len(toks)
    while i < n:
        tok = toks[i]
        # A multi-word place ("Upplands Väsby", "Lilla Edet") is skipped whole.
        skip = 0
        for place in multi_places.get(tok.key, ()):
            k = len(place)
            if i + k <= n and tuple(t.key for t in toks[i : i + k]) == place:
                skip = k
                break
        if skip:
            i += skip
            continue
        capital = tok.key[:1].isupper()
        if (
            capital
            and i + 1 < n
            and text[tok.end : tok.end + 1] == ","
            and _inverted(text, tok, infos[i], toks[i + 1], infos[i + 1])
        ):
            # "Svensson, Karin": surname first, as registers and ledgers sort people.
            role: NameRole = "private"
            if _is_official(text, toks, i, i + 2, _word_before(text, toks, i)):
                role = "official"
            hits.append(NameHit(tok.start, toks[i + 1].end, role))
            i += 2
            continue
        if not capital or infos[i].breaks or (infos[i].place and not infos[i].first):
            i += 1
            continue
        # Grow the run: joined capitalised tokens (particles allowed inside).
        j = i + 1
        while j < n and j - i < _MAX_RUN and _joined(text, toks[j - 1], toks[j]):
            if infos[j - 1].possessive:
                break
            nxt = toks[j]
            if nxt.key.lower() in _PARTICLES and j + 1 < n and _joined(text, nxt, toks[j + 1]):
                j += 1
                continue
            if not nxt.key[:1].isupper() or infos[j].breaks:
                break
            j += 1
        # Trailing particles are not part of the name.
        while j - 1 > i and toks[j - 1].key.lower() in _PARTICLES:
            j -= 1
        run = [(toks[k], infos[k]) for k in range(i, j) if toks[k].key.lower() not in _PARTICLES]
        if not run:  # a particle on its own ("VON")
            i = j
            continue
        before = _word_before(text, toks, i)
        if _company_after(toks, j, text):
            i = j
            continue
        if toks[j - 1].key.endswith("s"):
            after = _NEXT_WORD.match(text, toks[j - 1].end)
            if after and after.group(1).lower().endswith(_PLACE_NOUNS):
                # "Olof Palmes plats", "Astrid Lindgrens skola": named after a person, a place.
                i = j
                continue
        if _accept(run, before, _sentence_initial(text, tok)):
            role = "official" if _is_official(text, toks, i, j, before) else "private"
            hits.append(NameHit(toks[i].start, toks[j - 1].end, role))
        i = j
    return hits


def private_spans(text: str) -> list[tuple[int, int]]:
    return [(h.start, h.end) for h in find(text) if h.role == "private"]
