"""Seeded, deterministic corpus of synthetic identifiers in Swedish sentences.

Every number here is generated (random date, random birth number, computed check digit): none is
copied from a person. Phone numbers come from the ranges PTS reserves for fiction (070-174 06 05
to 070-174 06 99, 08-465 004 00 to 08-465 004 99, 031-390 06 00 to 031-390 06 99). Used by
tests/test_detect.py (recall and false positives) and benchmarks/bench_scan.py (cells to scan).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

SEED = 20240115

# Forms a personnummer is written in. "+" marks a person of 100 or more; the last three are the
# word-processor and export variants the detector also accepts.
FORMS = (
    "YYMMDD-NNNC",
    "YYMMDD+NNNC",
    "YYMMDDNNNC",
    "YYYYMMDDNNNC",
    "YYYYMMDD-NNNC",
    "YYMMDD NNNC",
    "YYMMDD\u2013NNNC",
    "YYMMDD\u00a0NNNC",
)
PLUS_MAX_YEAR = 1925

# Sentences with the distractors the detector must leave alone: dates, amounts, case numbers,
# times, years. "{x}" is where an identifier goes.
TEMPLATES = (
    "Sökanden {x} har ansökt om bygglov för ett fritidshus på Ängsvägen 4 i Åre.",
    "Ärendet KS/2013:428 gäller {x}, som begärt utdrag ur registret den 2024-01-15.",
    "Beslut: bidrag om 12 345,50 kr beviljas till {x} (handläggare Åsa Öberg).",
    "{x} överklagade beslutet från 2023-11-30 till förvaltningsrätten i Göteborg.",
    "Personnummer: {x}",
    "Kontrollera uppgiften ({x}) mot folkbokföringen före mötet kl. 08.30-10.00.",
    "Mötet hölls 15/3 2024; närvarande var bland andra {x}; protokollet justeras senare.",
    "Fakturan avser {x} och förfaller den 30 april, belopp 1 250 kr inkl. moms.",
    "Enligt skrivelse dnr 2022/01234 önskar {x} att ärendet prövas på nytt.",
    "Hemtjänst beviljas för {x} under perioden 2024-02-01–2024-06-30 med 12 timmar i veckan.",
    "pnr:{x}",
    "{x}",
    "Ansökan från {x}.",
    "Föräldrarna till barnet med nr {x} har kontaktats av skolan på Björkängsgatan 12.",
)

PLAIN = (
    "Kommunfullmäktige beslutade att anta budgeten för år 2025.",
    "Återvinningscentralen på Ängsvägen är stängd under helgdagar.",
    "Ärendet KS/2013:428 bordlades till nästa sammanträde den 2024-03-12.",
    "Bidraget uppgår till 12 345,50 kr och betalas ut i två delar.",
    "Förskolan Björken öppnar klockan 06.30 och stänger 18.00.",
    "Snöröjningen prioriterar gång- och cykelvägar före bostadsgator.",
    "Byggnadsnämnden beviljade 42 av 57 ansökningar under första kvartalet.",
    "Protokollet justerades 2024-01-15 av ordföranden och två ledamöter.",
    "Vattenledningen på Storgatan byts ut under vecka 34, se dnr 2022/01234.",
    "Årets medborgardialog om översiktsplanen lockade fler deltagare än väntat.",
    "Skolskjutsen till Östra skolan avgår 07:45 från busshållplatsen vid kyrkan.",
    "Kostnaden beräknas till 1 250 000 kr exklusive moms för hela projektet.",
    "Biblioteket har öppet måndag–torsdag 10–19 och fredag 10–16.",
    "Detaljplanen för kvarteret Älgen vann laga kraft den 3 maj.",
)


@dataclass(frozen=True)
class Case:
    text: str
    planted: str
    start: int
    end: int
    kind: str | None  # None: must not be found
    form: str
    reason: str


def luhn_check_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        value = int(ch) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _random_date(rng: random.Random, first_year: int, last_year: int) -> dt.date:
    start = dt.date(first_year, 1, 1).toordinal()
    end = dt.date(last_year, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))


def render(year: int, ten: str, form: str) -> str:
    short, long_ = ten, f"{year // 100:02d}{ten}"
    return {
        "YYMMDD-NNNC": f"{short[:6]}-{short[6:]}",
        "YYMMDD+NNNC": f"{short[:6]}+{short[6:]}",
        "YYMMDDNNNC": short,
        "YYYYMMDDNNNC": long_,
        "YYYYMMDD-NNNC": f"{long_[:8]}-{long_[8:]}",
        "YYMMDD NNNC": f"{short[:6]} {short[6:]}",
        "YYMMDD\u2013NNNC": f"{short[:6]}\u2013{short[6:]}",
        "YYMMDD\u00a0NNNC": f"{short[:6]}\u00a0{short[6:]}",
    }[form]


def _ten(yy: int, month: int, day: int, birth: int) -> str:
    nine = f"{yy:02d}{month:02d}{day:02d}{birth:03d}"
    return nine + luhn_check_digit(nine)


def _place(rng: random.Random, planted: str) -> tuple[str, int, int]:
    template = rng.choice(TEMPLATES)
    start = template.index("{x}")
    return template.replace("{x}", planted), start, start + len(planted)


def _case(rng: random.Random, planted: str, kind: str | None, form: str, reason: str) -> Case:
    text, start, end = _place(rng, planted)
    return Case(text, planted, start, end, kind, form, reason)


def valid_identifier(rng: random.Random, kind: str, form: str) -> tuple[int, str]:
    """(birth year, ten digits) of a valid personnummer or samordningsnummer for `form`."""
    if form == "YYMMDD+NNNC":
        date = _random_date(rng, 1890, PLUS_MAX_YEAR)
    elif form.startswith("YYYY"):
        date = _random_date(rng, 1890, 2024)
    else:
        date = _random_date(rng, 1926, 2024)
    day = date.day + (60 if kind == "samordningsnummer" else 0)
    return date.year, _ten(date.year % 100, date.month, day, rng.randint(1, 999))


def positives(per_kind: int = 1200, seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for kind in ("personnummer", "samordningsnummer"):
        for i in range(per_kind):
            form = FORMS[i % len(FORMS)]
            year, ten = valid_identifier(rng, kind, form)
            cases.append(_case(rng, render(year, ten, form), kind, form, "valid"))
    return cases


def _bad_date_ten(rng: random.Random) -> tuple[int, str, str]:
    """A Luhn-valid ten-digit string whose date part is impossible (never an orgnr: month < 20)."""
    yy = rng.randint(0, 99)
    year = 1900 + yy if yy > 24 else 2000 + yy
    choice = rng.randrange(8)
    month, day = rng.randint(1, 12), 1
    if choice == 0:
        month, reason = rng.choice([0, 13, 14, 15, 16, 17, 18, 19]), "month out of range"
        day = rng.randint(1, 28)
    elif choice == 1:
        day, reason = 0, "day 00"
    elif choice == 2:
        day, reason = rng.randint(32, 60), "day 32-60"
    elif choice == 3:
        month = rng.choice([4, 6, 9, 11])
        day, reason = 31, "day 31 in a 30-day month"
    elif choice == 4:
        yy = rng.choice([y for y in range(1, 100) if y % 4])
        year = 1900 + yy
        month, day, reason = 2, 29, "29 February in a common year"
    elif choice == 5:
        day, reason = rng.randint(92, 99), "samordning day above 91"
    elif choice == 6:
        month = rng.choice([2, 4, 6, 9, 11])
        limit = calendar.monthrange(year, month)[1]
        day, reason = 60 + limit + 1, "samordning day past month end"
        if day > 91:
            day = 60
    else:
        day, reason = 60, "samordning day 60"
    return year, _ten(yy, month, day, rng.randint(1, 999)), reason


def negatives(count: int = 1500, seed: int = SEED + 1) -> list[Case]:
    """Digit strings that look like identifiers but fail Luhn, the date check or a boundary."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for i in range(count):
        form = FORMS[i % len(FORMS)]
        kind = rng.choice(("personnummer", "samordningsnummer"))
        mode = i % 4
        if mode == 0:
            year, ten = valid_identifier(rng, kind, form)
            wrong = str((int(ten[9]) + rng.randint(1, 9)) % 10)
            planted, reason = render(year, ten[:9] + wrong, form), "Luhn fails"
        elif mode == 1:
            year, ten, reason = _bad_date_ten(rng)
            if form == "YYMMDD+NNNC" and year > PLUS_MAX_YEAR:
                year -= 100
            planted = render(year, ten, form)
        elif mode == 2:
            year, ten = valid_identifier(rng, kind, form)
            planted = render(year, ten, form)
            digit = str(rng.randint(0, 9))
            if rng.random() < 0.5:
                planted, reason = digit + planted, "valid number after a digit"
            else:
                planted, reason = planted + digit, "valid number before a digit"
        else:
            year, ten = valid_identifier(rng, kind, "YYYYMMDDNNNC")
            century = rng.choice(["10", "11", "12", "13", "14", "15", "16", "17", "21", "99"])
            sep = rng.choice(["", "-"])
            planted, reason = f"{century}{ten[:6]}{sep}{ten[6:]}", "century not 18/19/20"
            form = "YYYYMMDD-NNNC" if sep else "YYYYMMDDNNNC"
        cases.append(_case(rng, planted, None, form, reason))
    return cases


def synthetic_orgnr(rng: random.Random) -> str:
    nine = (
        f"{rng.choice('25789')}{rng.randint(0, 9)}{rng.randint(2, 9)}{rng.randint(0, 999999):06d}"
    )
    ten = nine + luhn_check_digit(nine)
    return f"{ten[:6]}-{ten[6:]}"


def fiction_phone(rng: random.Random) -> str:
    """A phone number from the PTS fiction ranges in one of the usual written forms.

    Written bare, a mobile number can also pass as a samordningsnummer ("0701740607": day 74,
    Luhn-valid one time in ten) and is then reported as one, by design; those are skipped here
    so that the planted kind is the only right answer.
    """
    bare = f"07017406{rng.randint(5, 99):02d}"
    while luhn_check_digit(bare[:9]) == bare[9]:
        bare = f"07017406{rng.randint(5, 99):02d}"
    forms = (
        f"070-174 06 {rng.randint(5, 99):02d}",
        f"+46 70 174 06 {rng.randint(5, 99):02d}",
        f"08-465 004 {rng.randint(0, 99):02d}",
        f"031-390 06 {rng.randint(0, 99):02d}",
        bare,
    )
    return rng.choice(forms)


def benchmark_cells(
    count: int,
    seed: int = SEED,
    identifier_share: float = 0.02,
    null_share: float = 0.01,
    planted: Counter[str] | None = None,
) -> list[str | None]:
    """Free-text cells: mostly plain sentences (with dates, amounts, case numbers), some null,
    about `identifier_share` carrying one personnummer, samordningsnummer, e-mail, phone or
    orgnr; `planted` (if given) counts the cells per kind."""
    rng = random.Random(seed)
    kinds = ("personnummer", "samordningsnummer", "email", "phone", "organisationsnummer")
    cells: list[str | None] = []
    for _ in range(count):
        draw = rng.random()
        if draw < null_share:
            cells.append(None)
        elif draw < null_share + identifier_share:
            what = rng.randrange(5)
            if planted is not None:
                planted[kinds[what]] += 1
            if what < 2:
                kind = "samordningsnummer" if what else "personnummer"
                form = rng.choice(FORMS)
                year, ten = valid_identifier(rng, kind, form)
                text = render(year, ten, form)
            elif what == 2:
                text = f"handlaggare.{rng.randint(1, 999)}@example.se"
            elif what == 3:
                text = fiction_phone(rng)
            else:
                text = synthetic_orgnr(rng)
            cells.append(_place(rng, text)[0])
        else:
            parts = rng.randint(1, 3)
            cells.append(" ".join(rng.choice(PLAIN) for _ in range(parts)))
    return cells


# --- realistic text that is not personal data (issue 10: precision) ----------------------

# Words around the numbers; no digits, so any hit comes from the planted number.
CONTEXT_BEFORE = (
    "",
    "Se ",
    "Ärende ",
    "Referens: ",
    "Enligt beslut ",
    "Länk: https://exempelby.se/nyheter/",
    "(",
    "Betala till ",
    "Fakturanummer ",
    "Koordinater ",
    "ISBN ",
    "kl. ",
    "Belopp: ",
)
CONTEXT_AFTER = ("", ".", " i ärendet.", ")", ", se bilaga.", " kr", "\n", "; justerat.")

_ISBN_PREFIXES = ("978-91", "978-91-7", "91", "978-1")


def _luhn_tail(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


def _isbn13(rng: random.Random) -> str:
    body = "97891" + "".join(str(rng.randint(0, 9)) for _ in range(7))
    check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body)) % 10) % 10
    digits = body + str(check)
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:9]}-{digits[9:12]}-{digits[12]}"


def realistic_negatives(per_category: int = 400, seed: int = SEED + 2) -> dict[str, list[str]]:
    """Cells, by category, that hold numbers which are not personal data but look the part:
    platform ids, invoice and case numbers, dates in URLs, times, amounts, bankgiro, OCR
    references, ISBNs, coordinates. The shapes follow what municipal registers, supplier
    ledgers and social-media exports hold (fictitious values)."""
    rng = random.Random(seed)

    def place(text: str) -> str:
        return rng.choice(CONTEXT_BEFORE) + text + rng.choice(CONTEXT_AFTER)

    def digits(count: int) -> str:
        return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(count - 1))

    def date() -> dt.date:
        return _random_date(rng, 2008, 2026)

    makers = {
        "status id, 8-9 digits": lambda: digits(rng.randint(8, 9)),
        "status id, 10 digits": lambda: digits(10),
        "status id, 11-17 digits": lambda: digits(rng.randint(11, 17)),
        "status id, 18-19 digits": lambda: digits(rng.randint(18, 19)),
        "invoice number": lambda: rng.choice(
            [f"{date().year}-{rng.randint(1, 99999):05d}", f"F{digits(8)}", f"{digits(8)}"]
        ),
        "invoice number, letter + 10 digits": lambda: f"{rng.choice('FKL')}{digits(10)}",
        "case number": lambda: rng.choice(
            [
                f"KS/{date().year}:{rng.randint(1, 999)}",
                f"KS {date().year}/{rng.randint(1, 9999):04d}",
                f"Dnr {date().year}.{rng.randint(1, 9999):04d}",
                f"BN-{date().year}-{rng.randint(1, 99999):05d}",
            ]
        ),
        "date in a URL path": lambda: (
            f"https://exempelby.se/{rng.choice(['blogg', 'nyheter', f'{date():%Y/%m}'])}/"
            f"{date():{rng.choice(['%d-%m-%Y', '%m-%d-%Y', '%d.%m.%Y', '%Y-%m-%d'])}}-"
            f"{rng.choice(['join-bluesky', 'nytt-om-skolan', 'vattenlaeckan'])}"
        ),
        "date": lambda: rng.choice(
            [f"{date():%Y-%m-%d}", f"{date():%d/%m/%Y}", f"{date():%y%m%d}"]
        ),
        "time": lambda: rng.choice(
            [
                f"{rng.randint(0, 23):02d}.{rng.randint(0, 59):02d}-{rng.randint(0, 23):02d}.00",
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            ]
        ),
        "amount": lambda: rng.choice(
            [
                f"{rng.randint(1, 999)} {rng.randint(0, 999):03d},{rng.randint(0, 99):02d}",
                f"{rng.randint(1, 99)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d} kr",
                f"{rng.randint(1, 999999)}.{rng.randint(0, 99):02d}",
            ]
        ),
        "bankgiro": lambda: (lambda n: f"{n[:-4]}-{n[-4:]}")(_luhn_tail(digits(rng.randint(6, 7)))),
        "plusgiro": lambda: (lambda n: f"{n[:-1]}-{n[-1]}")(_luhn_tail(digits(rng.randint(5, 7)))),
        "OCR reference": lambda: _luhn_tail(digits(rng.randint(4, 24))),
        "ISBN": lambda: rng.choice(
            [
                _isbn13(rng),
                f"91-{rng.randint(1000, 9999)}-{rng.randint(100, 999)}-{rng.randint(0, 9)}",
            ]
        ),
        "coordinates": lambda: rng.choice(
            [
                f"{rng.uniform(55, 69):.4f}, {rng.uniform(11, 24):.4f}",
                f"N {rng.randint(6100000, 7700000)} E {rng.randint(260000, 920000)}",
                f"{rng.randint(55, 69)}°{rng.randint(0, 59)}′{rng.randint(0, 59)}″N",
            ]
        ),
        "IBAN": lambda: (
            f"SE{rng.randint(10, 99)} {digits(4)} {digits(4)} {digits(4)} {digits(4)} {digits(4)}"
        ),
        "postal box and street": lambda: (
            f"Box {rng.randint(1, 9999)}, Storgatan {rng.randint(1, 99)}"
        ),
    }
    return {name: [place(make()) for _ in range(per_category)] for name, make in makers.items()}
