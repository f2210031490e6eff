#!/usr/bin/env python3
"""Write the example packages' data files, deterministically.

    .venv/bin/python scripts/make_examples.py          # (re)write the files
    .venv/bin/python scripts/make_examples.py --check  # exit 1 if a file would change

Writes:
  datapackages/leverantorsreskontra-2024/data/leverantorsreskontra-2024.csv  (windows-1252, ";")
  datapackages/diarium-2024/data/diarium-2024.csv                             (UTF-8 with BOM, ";")
  tests/fixtures/planted-identifiers.json  (every test identifier planted, and where)

The datapackage.json and rules.yaml files beside the data are written by hand and committed.

Everything is fictional. Personnummer and samordningsnummer are test numbers: birth numbers
980-999 (the range Skatteverket's testpersonnummer use) with a correct Luhn check digit.
Organisationsnummer are synthetic (Luhn-valid, third digit >= 2, "99" in positions 5-6 so
they stay away from issued ranges). Phone numbers are from PTS's series reserved for fiction
(070-174 06 05 - 070-174 06 99); e-mail addresses use example.com.

Deterministic: one seeded random.Random, no clock, no set iteration, fixed line endings.
Running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240101
YEAR = 2024

LEV_CSV = ROOT / "datapackages/leverantorsreskontra-2024/data/leverantorsreskontra-2024.csv"
DIA_CSV = ROOT / "datapackages/diarium-2024/data/diarium-2024.csv"
PLANTED = ROOT / "tests/fixtures/planted-identifiers.json"

LEV_TARGET_ROWS = 3000
DIA_TARGET_ROWS = 1500


# --------------------------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------------------------


def luhn(digits: str) -> int:
    """Check digit, weights 2,1,2,1,... from the left (personnummer and orgnr, 9 digits)."""
    total = 0
    for i, ch in enumerate(digits):
        p = int(ch) * (2 if i % 2 == 0 else 1)
        total += p // 10 + p % 10
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class Person:
    """A fictional person with a test personnummer (or samordningsnummer)."""

    first: str
    last: str
    born: date
    birth_number: int  # 980-999: test range
    coordination: bool = False  # samordningsnummer: day + 60

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def kind(self) -> str:
        return "samordningsnummer" if self.coordination else "personnummer"

    def _nine(self) -> str:
        day = self.born.day + (60 if self.coordination else 0)
        return f"{self.born:%y%m}{day:02d}{self.birth_number:03d}"

    @property
    def check(self) -> int:
        return luhn(self._nine())

    def number(self, form: str = "short") -> str:
        """short: YYMMDD-NNNN; long: YYYYMMDD-NNNN; digits10; digits12."""
        nine = self._nine()
        ten = nine + str(self.check)
        century = f"{self.born.year // 100:02d}"
        if form == "short":
            return f"{ten[:6]}-{ten[6:]}"
        if form == "long":
            return f"{century}{ten[:6]}-{ten[6:]}"
        if form == "digits10":
            return ten
        if form == "digits12":
            return century + ten
        raise ValueError(form)


def orgnr(prefix6: str, serial: int) -> str:
    """A synthetic organisationsnummer: prefix (third digit >= 2) + 3 digits + Luhn."""
    assert int(prefix6[2]) >= 2, prefix6
    nine = f"{prefix6}{serial:03d}"
    return f"{nine[:6]}-{nine[6:]}{luhn(nine)}"


# Fictional persons. Birth numbers: even for women, odd for men, all in 980-999.
# Diarium: children and adults named in secret or personal registry texts.
DIA_PEOPLE = [
    Person("Ellen", "Lindqvist", date(2015, 6, 8), 982),
    Person("Noah", "Berglund", date(2012, 3, 15), 981),
    Person("Saga", "Holmberg", date(2018, 11, 2), 984),
    Person("Liam", "Sandberg", date(2010, 1, 27), 985),
    Person("Maja", "Forsberg", date(2016, 9, 19), 986),
    Person("Hugo", "Lundgren", date(2009, 7, 4), 987),
    Person("Astrid", "Nyström", date(1941, 5, 30), 988),
    Person("Gunnar", "Åkesson", date(1938, 12, 11), 989),
    Person("Fatima", "Haddad", date(1987, 4, 16), 990),
    Person("Tomasz", "Wiśniewski", date(1985, 7, 13), 991, coordination=True),
    Person("Mirela", "Popescu", date(1992, 2, 21), 992, coordination=True),
    Person("Jonas", "Ekström", date(1979, 10, 5), 993),
    Person("Karin", "Sjögren", date(1968, 8, 23), 994),
    Person("Peter", "Wallin", date(1974, 3, 9), 995),
    Person("Sofia", "Björk", date(1990, 12, 1), 996),
    Person("Erik", "Dahlberg", date(1983, 6, 17), 997),
    Person("Linnéa", "Strand", date(2013, 4, 28), 998),
    Person("Oskar", "Hedlund", date(2011, 10, 10), 999),
    Person("Elsa", "Nordin", date(2017, 2, 14), 980),
    Person("Ali", "Hassan", date(2008, 8, 30), 983),
]

# Leverantörsreskontra: sole traders whose supplier id is their personnummer.
SOLE_TRADERS = [
    ("Anna Svensson Måleri", Person("Anna", "Svensson", date(1976, 4, 14), 982)),
    ("Lindholms Snickeri", Person("Mats", "Lindholm", date(1969, 11, 3), 983)),
    ("Birgitta Öhman Konsult", Person("Birgitta", "Öhman", date(1961, 1, 22), 984)),
    ("Kenneth Nords Trädgårdstjänst", Person("Kenneth", "Nord", date(1972, 5, 6), 985)),
    ("Sara Hjalmarsson Foto & Film", Person("Sara", "Hjalmarsson", date(1988, 9, 12), 986)),
    ("Ahmed Yusuf Tolkservice", Person("Ahmed", "Yusuf", date(1980, 2, 29), 987)),
    # A foreign craftsman registered with a samordningsnummer.
    ("Andrzej Kowalski Bygg", Person("Andrzej", "Kowalski", date(1983, 3, 18), 989, True)),
]
# A one-off private payee whose personnummer was typed into the supplier name (slip-up).
ONE_OFF_PAYEE = Person("Lars", "Persson", date(1958, 6, 14), 991)

# PTS's numbers reserved for fiction, and example.com addresses.
PHONE_DIA_1 = "070-174 06 42"
PHONE_DIA_2 = "+46 70 174 06 55"
PHONE_DIA_INTERN = "070-174 06 77"
PHONE_LEV = "070-174 06 18"
EMAIL_DIA = "jonas.ekstrom@example.com"


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


# Swedish public holidays and the eves offices close on, 2024.
HOLIDAYS_2024 = [
    date(2024, 1, 1), date(2024, 3, 29), date(2024, 4, 1), date(2024, 5, 1), date(2024, 5, 9),
    date(2024, 6, 6), date(2024, 6, 21), date(2024, 12, 24), date(2024, 12, 25),
    date(2024, 12, 26), date(2024, 12, 31),
]  # fmt: skip


def workdays(year: int) -> list[date]:
    assert year == 2024, "holiday list is for 2024"
    d, out = date(year, 1, 1), []
    while d.year == year:
        if d.weekday() < 5 and d not in HOLIDAYS_2024:
            out.append(d)
        d += timedelta(days=1)
    return out


def next_workday(d: date) -> date:
    """The registrar registers on the first working day on or after `d`."""
    while d.weekday() >= 5 or d in HOLIDAYS_2024:
        d += timedelta(days=1)
    return d


def fmt_amount(value: float) -> str:
    """Decimal comma, no thousands separator, two decimals: 12345,67 / -99,00."""
    return f"{value:.2f}".replace(".", ",")


def write_csv(rows: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)  # strict: a character cp1252 lacks is a bug here


class Planted:
    """Records where each test identifier went, for the leak tests."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str, str, str], list[int]] = {}

    def add(self, value: str, kind: str, package: str, resource: str, field: str, row: int):
        self.items.setdefault((value, kind, package, resource, field), []).append(row)

    def to_json(self) -> str:
        values = [
            {
                "value": value,
                "kind": kind,
                "package": package,
                "resource": resource,
                "field": field,
                "rows": rows,
            }
            for (value, kind, package, resource, field), rows in self.items.items()
        ]
        values.sort(key=lambda v: (v["package"], v["field"], v["kind"], v["value"]))
        doc = {
            "about": (
                "Every test identifier and private-person name planted in the example packages "
                "by scripts/make_examples.py. None of them may appear in published output: the "
                "fields are dropped or masked, or scanned and tagged. Rows are 1-based data rows "
                "(the header is row 0). Regenerate with scripts/make_examples.py; do not edit."
            ),
            "values": values,
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------------------------
# Leverantörsreskontra
# --------------------------------------------------------------------------------------------

KOPARE = "Exempelby kommun"
KOPARE_ID = orgnr("212000", 990)  # fictional municipality, kommun orgnr series 212000-
KOMMUN_ID = "9999"  # fictional kommunkod

FORVALTNINGAR = [
    ("Kommunledningsförvaltningen", 14),
    ("Barn- och utbildningsförvaltningen", 30),
    ("Socialförvaltningen", 24),
    ("Samhällsbyggnadsförvaltningen", 18),
    ("Kultur- och fritidsförvaltningen", 8),
    ("Tekniska förvaltningen", 16),
]

# Kommun-Bas-like accounts (illustrative: not an official chart of accounts).
KONTON = {
    "livsmedel": [(6440, "Livsmedel")],
    "material": [(6420, "Förbrukningsmaterial"), (6410, "Förbrukningsinventarier")],
    "kontor": [(6510, "Kontorsmaterial"), (6520, "Trycksaker"), (6550, "Böcker och tidningar")],
    "it": [(6560, "Programvarulicenser"), (6710, "Datakommunikation"), (6570, "IT-utrustning")],
    "bygg": [(6610, "Reparation och underhåll av fastigheter"), (7430, "Entreprenader – bygg")],
    "el": [(6110, "El"), (6610, "Reparation och underhåll av fastigheter")],
    "energi": [(6110, "El"), (6120, "Fjärrvärme"), (6130, "Vatten och avlopp")],
    "stad": [(6150, "Städtjänster")],
    "transport": [(7410, "Skolskjutsar"), (7420, "Transporter och frakter")],
    "konsult": [(7310, "Konsulttjänster"), (7320, "Juridiska tjänster")],
    "utbildning": [(7050, "Kurs- och konferensavgifter")],
    "vard": [(4610, "Köp av huvudverksamhet från privata företag"), (4620, "Köp av platser")],
    "tradgard": [(6630, "Skötsel av grönytor")],
    "lokal": [(5110, "Hyra av lokaler")],
    "reklam": [(7610, "Annonsering"), (7620, "Representation")],
    "porto": [(6920, "Porto")],
    "tolk": [(7350, "Tolktjänster")],
    "foto": [(7620, "Representation"), (7610, "Annonsering")],
    "skadestand": [(7960, "Skadestånd och ersättningar")],
}

PLACES = [
    "Norrbacka", "Sjövik", "Ekdala", "Björkå", "Granlid", "Älvnäs", "Lindö", "Kvarnby",
    "Hedås", "Furulund", "Tallbacken", "Åsbro", "Strömsvik", "Östanå", "Bergslund", "Källby",
    "Rönnäs", "Ängby", "Högberga", "Skogslund",
]  # fmt: skip

TRADES = [
    ("Bygg", "bygg", 40000),
    ("El & Tele", "el", 12000),
    ("VVS", "bygg", 15000),
    ("Måleri", "bygg", 18000),
    ("Städservice", "stad", 9000),
    ("Livs", "livsmedel", 6000),
    ("Grönsaksgrossisten", "livsmedel", 7500),
    ("Åkeri", "transport", 14000),
    ("Buss & Taxi", "transport", 22000),
    ("Konsult", "konsult", 25000),
    ("IT-tjänster", "it", 16000),
    ("Kontorsvaror", "kontor", 2500),
    ("Förlag", "kontor", 1800),
    ("Trädgård", "tradgard", 11000),
    ("Omsorg", "vard", 85000),
    ("Utbildning", "utbildning", 6500),
    ("Fastigheter", "lokal", 60000),
    ("Reklambyrå", "reklam", 12000),
    ("Material", "material", 3500),
]

# Suppliers every municipality has: fixed names, synthetic orgnr.
FIXED_SUPPLIERS = [
    ("Exempelby Energi AB", "556", "energi", 45000),
    ("Exempelby Vatten AB", "556", "energi", 30000),
    ("Region Exempel", "232", "vard", 120000),
    ("Café Ängen – Catering AB", "556", "livsmedel", 4500),
    ('Föreningen "Gläntan" Kursgård', "802", "utbildning", 9000),
    ("Postgirot Distribution AB", "556", "porto", 3000),
    ("Advokatfirman Lagerkvist & Öst KB", "969", "konsult", 35000),
]

GRUND = [
    ("", 80),
    ("Ramavtal", 8),
    ("Avrop från ramavtal", 4),
    ("Direktupphandling", 5),
    ("Förnyad konkurrensutsättning", 2),
    ("Dynamiskt inköpssystem", 1),
]


@dataclass
class Supplier:
    name: str
    ident: str
    category: str
    typical: float
    invoice_style: int
    person: Person | None = None
    counter: int = 0

    def next_invoice(self, rng: random.Random) -> str:
        self.counter += rng.randint(1, 40)
        n = self.counter
        style = self.invoice_style
        # No long digit runs and no digit-dash-digit forms: nothing that looks like a
        # personnummer or a phone number to a scanner.
        if style == 0:
            return f"F{10000 + n}"
        if style == 1:
            return f"{YEAR}F{n:04d}"
        if style == 2:
            return f"INV{n:06d}"
        if style == 3:
            return f"{3000 + n}"
        return f"A{n:05d}/{YEAR % 100}"


def make_suppliers(rng: random.Random) -> tuple[list[Supplier], list[Supplier]]:
    companies: list[Supplier] = []
    used_names: list[str] = []
    serial = 100
    for name, prefix, cat, typical in FIXED_SUPPLIERS:
        serial += rng.randint(1, 7)
        pre = {"556": "559990", "232": "232199", "802": "802999", "969": "969990"}[prefix]
        companies.append(Supplier(name, orgnr(pre, serial), cat, typical, rng.randint(0, 4)))
        used_names.append(name)
    while len(companies) < 130:
        place = rng.choice(PLACES)
        trade, cat, typical = rng.choice(TRADES)
        form = rng.choices(["AB", "HB", "KB"], weights=[85, 12, 3])[0]
        name = f"{place} {trade} {form}"
        if name in used_names:
            continue
        used_names.append(name)
        serial += rng.randint(1, 7)
        pre = "559990" if form == "AB" else "969990"
        if serial > 999:
            serial, pre = serial - 900, ("559991" if form == "AB" else "969991")
        typical *= rng.uniform(0.5, 1.8)
        companies.append(Supplier(name, orgnr(pre, serial), cat, typical, rng.randint(0, 4)))
    cats = {
        "Anna Svensson Måleri": "bygg",
        "Lindholms Snickeri": "bygg",
        "Birgitta Öhman Konsult": "konsult",
        "Kenneth Nords Trädgårdstjänst": "tradgard",
        "Sara Hjalmarsson Foto & Film": "foto",
        "Ahmed Yusuf Tolkservice": "tolk",
        "Andrzej Kowalski Bygg": "bygg",
    }
    sole = [
        Supplier(name, p.number("short"), cats[name], 9000, rng.randint(0, 4), person=p)
        for name, p in SOLE_TRADERS
    ]
    return companies, sole


def make_leverantorsreskontra(rng: random.Random, planted: Planted) -> bytes:
    pkg, res = "leverantorsreskontra-2024", "fakturor"
    companies, sole = make_suppliers(rng)
    # Skewed supplier popularity: a few suppliers get most invoices.
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(companies))]
    days = workdays(YEAR)

    invoices = []  # (datum, supplier, lines, fakturanummer)
    n_lines = 0
    while n_lines < LEV_TARGET_ROWS:
        if rng.random() < 0.05:
            sup = rng.choice(sole)
            k = 1
        else:
            sup = rng.choices(companies, weights=weights)[0]
            k = rng.choices([1, 2, 3, 4], weights=[55, 25, 13, 7])[0]
        datum = rng.choice(days)
        invoices.append((datum, sup, k, sup.next_invoice(rng)))
        n_lines += k
    # One-off private payee: the personnummer typed into the supplier name.
    payee = Supplier(
        f"Persson, Lars {ONE_OFF_PAYEE.number('short')}",
        ONE_OFF_PAYEE.number("short"),
        "skadestand",
        4000,
        0,
        person=ONE_OFF_PAYEE,
    )
    invoices.append((date(YEAR, 9, 17), payee, 1, "Skadeersättning"))

    invoices.sort(key=lambda inv: (inv[0], inv[1].name, inv[3]))
    rows = [
        [
            "kopare_id", "kopare", "verifikationsnummer", "leverantor", "leverantor_id",
            "konto_nr", "konto_text", "belopp", "datum", "forvaltning", "fakturanummer",
            "grund", "avtal", "kommun_id", "s_kod_nr",
        ]
    ]  # fmt: skip
    forv_names = [f for f, _ in FORVALTNINGAR]
    forv_weights = [w for _, w in FORVALTNINGAR]
    grund_values = [g for g, _ in GRUND]
    grund_weights = [w for _, w in GRUND]
    contracts: dict[str, str] = {}
    phone_slip_done = False
    for ver_index, (datum, sup, k, faktnr) in enumerate(invoices, start=1):
        verifikation = f"LF{YEAR % 100}{ver_index:05d}"
        forv = rng.choices(forv_names, weights=forv_weights)[0]
        credit = rng.random() < 0.03 and sup is not payee
        if sup is payee:
            grund, avtal = "Skadeersättning enligt beslut", ""
        else:
            grund = rng.choices(grund_values, weights=grund_weights)[0]
            avtal = ""
            if grund in ("Ramavtal", "Avrop från ramavtal", "Förnyad konkurrensutsättning"):
                if sup.name not in contracts:
                    contracts[sup.name] = f"AVT-{rng.randint(2019, 2024)}-{len(contracts) + 1:03d}"
                avtal = contracts[sup.name]
            if credit:
                grund = "Kreditfaktura"
        if not phone_slip_done and sup.person is None and datum >= date(YEAR, 5, 1):
            grund = f"Ersättning enligt överenskommelse, kontakt {PHONE_LEV}"
            phone_slip_done = True
        for line in range(k):
            konto_nr, konto_text = rng.choice(KONTON[sup.category])
            amount = rng.lognormvariate(0, 0.9) * sup.typical / (1 + line)
            if amount > 2_000_000:
                amount = 2_000_000 * rng.uniform(0.5, 1)
            amount = round(amount, rng.choice([0, 2, 2, 2]))
            if credit:
                amount = -amount
            row = [
                KOPARE_ID,
                KOPARE,
                verifikation,
                sup.name,
                sup.ident,
                str(konto_nr),
                konto_text,
                fmt_amount(amount),
                datum.isoformat(),
                forv,
                faktnr,
                grund,
                avtal,
                KOMMUN_ID,
                "",
            ]
            rows.append(row)
            rownum = len(rows) - 1
            if sup.person is not None:
                planted.add(sup.ident, sup.person.kind, pkg, res, "leverantor_id", rownum)
            if sup is payee:
                planted.add(sup.ident, "personnummer", pkg, res, "leverantor", rownum)
                planted.add("Persson, Lars", "name", pkg, res, "leverantor", rownum)
            if PHONE_LEV in grund:
                planted.add(PHONE_LEV, "phone", pkg, res, "grund", rownum)
    return write_csv(rows, "cp1252")


# --------------------------------------------------------------------------------------------
# Diarium
# --------------------------------------------------------------------------------------------

WITHHELD_SUBJECT = "Sekretessbelagd handling"

ENHETER = {
    "KS": ("Kommunledningsförvaltningen", ["Helena Brandt", "Magnus Öberg", "Lena Qvist"]),
    "SN": ("Socialförvaltningen", ["Camilla Jansson", "Robert Lind", "Therese Ahlgren"]),
    "BUN": ("Barn- och utbildningsförvaltningen", ["Per-Olof Sundin", "Marie Eklund"]),
    "SBN": ("Samhällsbyggnadsförvaltningen", ["Daniel Westin", "Emma Blom", "Jörgen Falk"]),
    "KFN": ("Kultur- och fritidsförvaltningen", ["Ingrid Sjöholm"]),
}
HR_HANDLAGGARE = "Annika Rask"  # HR specialist at Kommunledningsförvaltningen

PRIVATE_FIRST = [
    "Anders", "Eva", "Mikael", "Maria", "Johan", "Karin", "Lars", "Sara", "Björn", "Åsa",
    "Göran", "Märta", "Örjan", "Ulla", "Stefan", "Lena", "Thomas", "Elin", "Patrik", "Malin",
    # Names of immigrant origin, as common in Swedish registries as the rest.
    "Ahmed", "Fatima", "Abdirahman", "Hodan", "Reza", "Shirin", "Mehmet", "Zeynep", "Tesfay",
    "Semhar", "Emina", "Dragan", "Rojin", "Somchai", "Agnieszka", "Matti",
]  # fmt: skip
PRIVATE_LAST = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindström", "Holm", "Sjöberg",
    "Åberg", "Engström", "Hellström", "Fransson", "Mattsson", "Bergqvist",
    "Yusuf", "Warsame", "Hosseini", "Yilmaz", "Gebremedhin", "Hadžić", "Barzani", "Saetang",
    "Nowak", "Virtanen", "Al-Rashid", "Mohamud",
]  # fmt: skip
# Home streets of private persons (fictional), for the addresses registrars type into subjects.
HOME_STREETS = [
    "Kvarnvägen", "Björkvägen", "Skolgatan", "Tallstigen", "Åsgränd", "Ringvägen",
    "Lindallén", "Sjöstigen", "Granbacken", "Drottning Kristinas väg",
]  # fmt: skip
HOME_TOWN = "Exempelby"

POLITICIANS = [
    "Anna-Karin Höglund (S)",
    "Fredrik Ström (M)",
    "Gunilla Berg (C)",
    "Hassan Ali (V)",
    "Kristina Ek (L)",
    "Mattias Roos (SD)",
    "Sven Palm (KD)",
]

MEDBORGARFORSLAG = [
    "belysning längs gång- och cykelvägen vid Ekdalsskolan", "fler parkbänkar på Stortorget",
    "hundrastgård i Norrbacka", "utegym vid Sjöviks badplats", "farthinder på Kvarnvägen",
    "laddstolpar vid simhallen", "längre öppettider på biblioteket", "pumptrack i Åsbro",
    "offentlig toalett vid hamnen", "återvinningsstation i Lindö",
]  # fmt: skip
MOTIONER = [
    "gratis kollektivtrafik för pensionärer", "solceller på kommunens fastigheter",
    "minskad matsvinn i skolmåltiderna", "fler platser i kulturskolan",
    "trygghetsvandringar i centrum", "öppna data om kommunens inköp",
]  # fmt: skip
REMISSER = [
    ("Regeringskansliet, Finansdepartementet",
     "Betänkandet En ny lag om informationsförvaltning i kommuner och regioner"),
    ("Region Exempel", "Regional transportinfrastrukturplan 2026–2037"),
    ("Boverket", "Promemoria om ändrade regler för bostadsanpassningsbidrag"),
    ("Region Exempel", "Förslag till regional utvecklingsstrategi"),
    ("Länsstyrelsen i Exempellän", "Vattenförvaltningens åtgärdsprogram"),
    ("Myndigheten för digital förvaltning",
     "Förslag till föreskrifter om tillgänglig digital offentlig service"),
    ("Naturvårdsverket", "Vägledning om kommunal avfallsplanering"),
]  # fmt: skip
UPPHANDLINGAR = [
    ("KS", "Upphandling av företagshälsovård"),
    ("KS", "Upphandling av ekonomisystem"),
    ("BUN", "Upphandling av skolskjutstrafik 2025–2029"),
    ("BUN", "Upphandling av livsmedel till skolmåltider"),
    ("SN", "Upphandling av hemtjänst enligt LOV"),
    ("SBN", "Upphandling av vinterväghållning 2024–2027"),
    ("KFN", "Upphandling av konstgräsplan i Bergslund"),
]  # fmt: skip
BYGGLOV = [
    "nybyggnad av enbostadshus", "tillbyggnad av enbostadshus", "nybyggnad av garage",
    "installation av eldstad", "rivning av förråd", "nybyggnad av fritidshus",
    "fasadändring", "uppförande av plank",
]  # fmt: skip
KLAGOMAL = [
    "Klagomål på buller från verkstad", "Klagomål på nedskräpning vid återvinningsstation",
    "Klagomål på snöröjning", "Klagomål på eldning i villaområde",
    "Klagomål på skymd sikt i korsning", "Klagomål på lukt från avlopp",
]  # fmt: skip
FORENINGAR = [
    "Exempelby IF", "Sjöviks Scoutkår", "Hedås Hembygdsförening", "PRO Exempelby",
    "Kvarnby Ridklubb", "Exempelby Konstförening", "Norrbacka Schackklubb",
]  # fmt: skip
SKOLOR = ["Ekdalsskolan", "Norrbackaskolan", "Sjöviks förskola", "Åsbro skola"]


@dataclass
class Doc:
    offset: int  # days after the case opened
    riktning: str
    handlingstyp: str
    party: str  # avsandare/mottagare; "" for upprättad
    lagrum_osl: str = ""
    public_subject: str | None = None  # overrides the case's public subject
    intern_extra: str = ""


@dataclass
class Case:
    series: str
    opened: date
    public_subject: str
    intern_subject: str
    docs: list[Doc]
    handlaggare: str
    enhet: str
    private_names: tuple[str, ...] = ()
    people: tuple[tuple[Person, str], ...] = ()  # (person, written form) in the intern text
    number: int = 0
    # Private names and addresses the registrar wrote into the public subject: (value, kind).
    public_people: tuple[tuple[str, str], ...] = ()


def make_diarium(rng: random.Random, planted: Planted) -> bytes:
    pkg, res = "diarium-2024", "handlingar"
    days = workdays(YEAR)

    def private_name() -> str:
        return f"{rng.choice(PRIVATE_FIRST)} {rng.choice(PRIVATE_LAST)}"

    def home_address() -> str:
        """A fictional home address, written as registrars write them."""
        street = f"{rng.choice(HOME_STREETS)} {rng.randint(1, 60)}"
        form = rng.random()
        if form < 0.2:
            street += rng.choice(["A", " B", ", lgh 1102", ", 2 tr"])
        if form > 0.7:
            street += f", {rng.randint(100, 985)} {rng.randint(10, 99)} {HOME_TOWN}"
        return street

    def company() -> str:
        return f"{rng.choice(PLACES)} {rng.choice(['Bygg', 'Konsult', 'Fastigheter', 'Åkeri', 'IT-tjänster', 'Livs'])} AB"  # noqa: E501

    def officer(series: str) -> tuple[str, str]:
        enhet, names = ENHETER[series]
        return rng.choice(names), enhet

    people_forms = ["short", "short", "short", "long", "digits12", "digits10"]
    person_cycle = list(DIA_PEOPLE)
    rng.shuffle(person_cycle)
    person_index = 0

    def next_person(who: str) -> Person:
        """The next fictional person of the kind: child, adult or employee (working age)."""
        nonlocal person_index
        for _ in range(len(person_cycle)):
            p = person_cycle[person_index % len(person_cycle)]
            person_index += 1
            fits = {
                "child": p.born.year >= 2006,
                "adult": p.born.year < 2006,
                "employee": 1960 <= p.born.year < 2002,
            }[who]
            if fits:
                return p
        raise AssertionError("no person fits")

    def case_medborgarforslag() -> Case:
        who = private_name()
        subject = f"Medborgarförslag om {rng.choice(MEDBORGARFORSLAG)}"
        public_people: tuple[tuple[str, str], ...] = ()
        if rng.random() < 0.3:
            # The registrar named the proposer in the public subject.
            subject = f"Medborgarförslag från {who} om {rng.choice(MEDBORGARFORSLAG)}"
            public_people = ((who, "name"),)
        h, e = officer("KS")
        docs = [
            Doc(0, "inkommande", "Medborgarförslag", who),
            Doc(rng.randint(20, 60), "upprättad", "Tjänsteskrivelse", ""),
            Doc(rng.randint(61, 120), "upprättad", "Protokollsutdrag", ""),
            Doc(rng.randint(121, 130), "utgående", "Beslut", who),
        ]
        return Case(
            "KS",
            date.min,
            subject,
            f"{subject}, förslagsställare {who}",
            docs,
            h,
            e,
            (who,),
            public_people=public_people,
        )

    def case_motion() -> Case:
        who = rng.choice(POLITICIANS)
        subject = f"Motion om {rng.choice(MOTIONER)}"
        h, e = officer("KS")
        docs = [
            Doc(0, "inkommande", "Motion", who),
            Doc(rng.randint(30, 90), "upprättad", "Tjänsteskrivelse", ""),
            Doc(rng.randint(91, 150), "upprättad", "Protokollsutdrag", ""),
        ]
        return Case("KS", date.min, subject, subject, docs, h, e)

    def case_remiss() -> Case:
        who, what = rng.choice(REMISSER)
        subject = f"Remiss: {what}"
        h, e = officer("KS")
        docs = [
            Doc(0, "inkommande", "Remiss", who),
            Doc(rng.randint(10, 40), "upprättad", "Tjänsteskrivelse", ""),
            Doc(rng.randint(41, 60), "utgående", "Yttrande", who),
        ]
        return Case("KS", date.min, subject, subject, docs, h, e)

    def case_allman_handling() -> Case:
        series = rng.choice(["KS", "KS", "SN", "BUN", "SBN"])
        journalist = rng.random() < 0.3
        who = "Exempelbladet, redaktionen" if journalist else private_name()
        subject = "Begäran om utlämnande av allmän handling"
        h, e = officer(series)
        docs = [
            Doc(0, "inkommande", "Begäran", who),
            Doc(rng.randint(0, 3), "utgående", "Svar", who),
        ]
        if rng.random() < 0.15:
            docs.append(Doc(rng.randint(3, 6), "utgående", "Beslut om avslag", who))
        names = () if journalist else (who,)
        return Case(series, date.min, subject, f"{subject} från {who}", docs, h, e, names)

    def case_upphandling() -> Case:
        series, subject = rng.choice(UPPHANDLINGAR)
        h, e = officer(series)
        docs = [Doc(0, "upprättad", "Upphandlingsdokument", "")]
        deadline = rng.randint(30, 45)
        bidders = []
        while len(bidders) < rng.randint(2, 5):
            c = company()
            if c not in bidders:
                bidders.append(c)
        for c in bidders:
            docs.append(
                Doc(
                    deadline - rng.randint(0, 5),
                    "inkommande",
                    "Anbud",
                    c,
                    lagrum_osl="19 kap. 3 § andra stycket OSL",
                    intern_extra=f", anbud från {c}",
                )
            )
        docs.append(Doc(deadline + rng.randint(10, 25), "upprättad", "Tilldelningsbeslut", ""))
        for c in bidders:
            docs.append(Doc(docs[-1].offset, "utgående", "Underrättelse om tilldelning", c))
        return Case(series, date.min, subject, subject, docs, h, e)

    def case_markanvisning() -> Case:
        c = company()
        subject = f"Markanvisning inom {rng.choice(PLACES)} verksamhetsområde"
        h, e = officer("KS")
        intern = f"{subject}, förhandling med {c} om pris och etableringsvillkor"
        docs = [
            Doc(0, "inkommande", "Intresseanmälan", c),
            Doc(rng.randint(10, 30), "inkommande", "Affärsplan och kalkyl", c,
                lagrum_osl="31 kap. 16 § OSL"),
            Doc(rng.randint(31, 60), "upprättad", "Förhandlingsprotokoll", "",
                lagrum_osl="31 kap. 16 § OSL"),
            Doc(rng.randint(61, 90), "upprättad", "Markanvisningsavtal", ""),
        ]  # fmt: skip
        return Case("KS", date.min, subject, intern, docs, h, e)

    def case_personal() -> Case:
        p = next_person("employee")
        form = rng.choice(people_forms)
        kind = rng.choice(["rehab", "disciplin"])
        if kind == "rehab":
            lagrum = "39 kap. 2 § OSL"
            intern = f"Rehabiliteringsärende, {p.name}, {p.number(form)}"
            docs = [
                Doc(0, "inkommande", "Läkarintyg", p.name, lagrum_osl=lagrum),
                Doc(rng.randint(5, 20), "upprättad", "Rehabiliteringsplan", "",
                    lagrum_osl=lagrum),
                Doc(rng.randint(21, 60), "inkommande", "Beslut om sjukpenning",
                    "Försäkringskassan", lagrum_osl=lagrum),
            ]  # fmt: skip
        else:
            lagrum = "39 kap. 3 § OSL"
            intern = f"Utredning om misskötsamhet i anställningen, {p.name}, {p.number(form)}"
            docs = [
                Doc(0, "upprättad", "Utredning", "", lagrum_osl=lagrum),
                Doc(rng.randint(5, 20), "utgående", "Kallelse till överläggning", p.name,
                    lagrum_osl=lagrum),
                Doc(rng.randint(21, 40), "upprättad", "Beslut om skriftlig varning", "",
                    lagrum_osl=lagrum),
            ]  # fmt: skip
        return Case(
            "KS",
            date.min,
            WITHHELD_SUBJECT,
            intern,
            docs,
            HR_HANDLAGGARE,
            "Kommunledningsförvaltningen",
            (p.name,),
            ((p, form),),
        )

    def case_hot() -> Case:
        p = next_person("employee")
        lagrum = "21 kap. 3 § OSL"
        intern = f"Hot mot anställd, {p.name}; skyddade kontaktuppgifter, mobil {PHONE_DIA_INTERN}"
        docs = [
            Doc(0, "inkommande", "Kopia av polisanmälan", "Polismyndigheten",
                lagrum_osl=lagrum),
            Doc(rng.randint(1, 10), "upprättad", "Riskbedömning", "", lagrum_osl=lagrum),
        ]  # fmt: skip
        return Case(
            "KS",
            date.min,
            WITHHELD_SUBJECT,
            intern,
            docs,
            HR_HANDLAGGARE,
            "Kommunledningsförvaltningen",
            (p.name,),
        )

    def case_orosanmalan() -> Case:
        p = next_person("child")
        form = rng.choice(people_forms)
        reporter = rng.choice(
            [f"{s}, rektor" for s in SKOLOR]
            + ["Polismyndigheten", "Region Exempel, Vårdcentralen Norrbacka", private_name()]
        )
        lagrum = "26 kap. 1 § OSL"
        intern = f"Orosanmälan gällande {p.name} {p.number(form)}"
        h, e = officer("SN")
        docs = [Doc(0, "inkommande", "Orosanmälan", reporter, lagrum_osl=lagrum)]
        if rng.random() < 0.6:
            docs.append(
                Doc(rng.randint(1, 14), "upprättad", "Förhandsbedömning", "", lagrum_osl=lagrum)
            )
        names = [p.name]
        if "," not in reporter and reporter not in ("Polismyndigheten",):
            names.append(reporter)
        return Case(
            "SN", date.min, WITHHELD_SUBJECT, intern, docs, h, e, tuple(names), ((p, form),)
        )

    def case_overklagande() -> Case:
        p = next_person("adult")
        form = rng.choice(people_forms)
        lagrum = "26 kap. 1 § OSL"
        intern = f"Överklagande av beslut om ekonomiskt bistånd, {p.name}, {p.number(form)}"
        h, e = officer("SN")
        court = "Förvaltningsrätten i Exempelstad"
        docs = [
            Doc(0, "inkommande", "Överklagande", p.name, lagrum_osl=lagrum),
            Doc(rng.randint(1, 7), "utgående", "Yttrande", court, lagrum_osl=lagrum),
            Doc(rng.randint(30, 90), "inkommande", "Dom", court, lagrum_osl=lagrum),
        ]
        return Case("SN", date.min, WITHHELD_SUBJECT, intern, docs, h, e, (p.name,), ((p, form),))

    def case_lex_sarah() -> Case:
        p = next_person("adult")
        form = rng.choice(people_forms)
        lagrum = "26 kap. 1 § OSL"
        unit = rng.choice(["hemtjänsten Norrbacka", "Björkå särskilda boende", "LSS-boendet Lindö"])
        subject = f"Lex Sarah-rapport, {unit}"
        intern = f"{subject}, brukare {p.name} {p.number(form)}"
        h, e = officer("SN")
        docs = [
            Doc(0, "upprättad", "Lex Sarah-rapport", "", lagrum_osl=lagrum),
            Doc(rng.randint(10, 40), "upprättad", "Utredning", "", lagrum_osl=lagrum),
        ]
        if rng.random() < 0.3:
            docs.append(
                Doc(
                    docs[-1].offset + 2,
                    "utgående",
                    "Anmälan",
                    "Inspektionen för vård och omsorg",
                    lagrum_osl=lagrum,
                )
            )
        return Case("SN", date.min, subject, intern, docs, h, e, (p.name,), ((p, form),))

    def case_ivo() -> Case:
        unit = rng.choice(["hemtjänsten", "LSS-verksamheten", "HVB-hemmet Tallbacken"])
        subject = f"Tillsyn av {unit}"
        h, e = officer("SN")
        ivo = "Inspektionen för vård och omsorg"
        docs = [
            Doc(0, "inkommande", "Begäran om yttrande", ivo),
            Doc(rng.randint(10, 25), "upprättad", "Tjänsteskrivelse", ""),
            Doc(rng.randint(26, 30), "utgående", "Yttrande", ivo),
            Doc(rng.randint(60, 120), "inkommande", "Beslut", ivo),
        ]
        return Case("SN", date.min, subject, subject, docs, h, e)

    def case_skolskjuts() -> Case:
        p = next_person("child")
        form = rng.choice(people_forms)
        guardian = private_name()
        h, e = officer("BUN")
        subject = "Ansökan om skolskjuts"
        intern = f"{subject} för {p.name} {p.number(form)}, vårdnadshavare {guardian}"
        docs = [
            Doc(0, "inkommande", "Ansökan", guardian),
            Doc(rng.randint(3, 20), "utgående", "Delegationsbeslut", guardian),
        ]
        return Case("BUN", date.min, subject, intern, docs, h, e, (guardian, p.name), ((p, form),))

    def case_skolinspektion() -> Case:
        school = rng.choice(SKOLOR)
        h, e = officer("BUN")
        subject = f"Regelbunden tillsyn av {school}"
        who = "Statens skolinspektion"
        docs = [
            Doc(0, "inkommande", "Underrättelse om tillsyn", who),
            Doc(rng.randint(20, 40), "utgående", "Redovisning", who),
            Doc(rng.randint(60, 100), "inkommande", "Beslut", who),
        ]
        return Case("BUN", date.min, subject, subject, docs, h, e)

    def case_kvalitet() -> Case:
        h, e = officer(rng.choice(["BUN", "SN", "KFN"]))
        series = next(k for k, v in ENHETER.items() if v[0] == e)
        subject = rng.choice(
            [
                "Systematiskt kvalitetsarbete 2024",
                "Internkontrollplan 2024",
                "Verksamhetsplan 2025",
                "Delårsrapport augusti 2024",
            ]
        )
        docs = [
            Doc(0, "upprättad", "Tjänsteskrivelse", ""),
            Doc(rng.randint(10, 40), "upprättad", "Protokollsutdrag", ""),
        ]
        return Case(series, date.min, subject, subject, docs, h, e)

    def case_bygglov() -> Case:
        private = rng.random() < 0.75
        who = private_name() if private else company()
        fastighet = f"{rng.choice(PLACES)} {rng.randint(1, 30)}:{rng.randint(1, 250)}"
        subject = f"Bygglov för {rng.choice(BYGGLOV)}, {fastighet}"
        h, e = officer("SBN")
        docs = [
            Doc(0, "inkommande", "Ansökan", who),
            Doc(rng.randint(1, 10), "utgående", "Mottagningsbekräftelse", who),
        ]
        if rng.random() < 0.4:
            docs.append(Doc(rng.randint(11, 25), "utgående", "Begäran om komplettering", who))
            docs.append(Doc(rng.randint(26, 40), "inkommande", "Komplettering", who))
        docs.append(Doc(rng.randint(41, 70), "utgående", "Delegationsbeslut", who))
        intern = f"{subject}, sökande {who}"
        public_people: tuple[tuple[str, str], ...] = ()
        if private and rng.random() < 0.25:
            home = home_address()
            subject = f"{subject}, sökande {who}, {home}"
            public_people = ((who, "name"), (home, "address"))
        return Case(
            "SBN",
            date.min,
            subject,
            intern,
            docs,
            h,
            e,
            (who,) if private else (),
            public_people=public_people,
        )

    def case_klagomal() -> Case:
        who = private_name()
        subject = rng.choice(KLAGOMAL)
        h, e = officer("SBN")
        docs = [
            Doc(0, "inkommande", "Klagomål", who),
            Doc(rng.randint(5, 20), "utgående", "Svar", who),
        ]
        intern = f"{subject}, anmälare {who}"
        public_people: tuple[tuple[str, str], ...] = ()
        if rng.random() < 0.4:
            # As registrars write them when in a hurry: complainant, address and neighbour.
            home = home_address()
            neighbour = private_name()
            while neighbour == who:
                neighbour = private_name()
            what = subject.removeprefix("Klagomål på ")
            subject = f"Klagomål från {who}, {home}, om grannen {neighbour}: {what}"
            intern = subject
            public_people = ((who, "name"), (home, "address"), (neighbour, "name"))
        return Case(
            "SBN", date.min, subject, intern, docs, h, e, (who,), public_people=public_people
        )

    def case_detaljplan() -> Case:
        area = rng.choice(PLACES)
        subject = f"Detaljplan för {area} centrum, del av {area} 1:1"
        h, e = officer("SBN")
        docs = [Doc(0, "upprättad", "Planuppdrag", "")]
        for who in rng.sample(
            [
                "Lantmäteriet",
                "Länsstyrelsen i Exempellän",
                "Trafikverket",
                "Exempelby Energi AB",
                "Region Exempel",
            ],
            3,
        ):
            docs.append(Doc(rng.randint(40, 70), "inkommande", "Samrådsyttrande", who))
        docs.append(Doc(rng.randint(71, 100), "upprättad", "Samrådsredogörelse", ""))
        return Case("SBN", date.min, subject, subject, docs, h, e)

    def case_foreningsbidrag() -> Case:
        who = rng.choice(FORENINGAR)
        subject = f"Ansökan om föreningsbidrag 2024, {who}"
        h, e = officer("KFN")
        docs = [
            Doc(0, "inkommande", "Ansökan", who),
            Doc(rng.randint(10, 40), "utgående", "Delegationsbeslut", who),
        ]
        return Case("KFN", date.min, subject, subject, docs, h, e)

    kinds = [
        (case_medborgarforslag, 6), (case_motion, 3), (case_remiss, 6),
        (case_allman_handling, 14), (case_upphandling, 2), (case_markanvisning, 1),
        (case_personal, 4), (case_hot, 1), (case_orosanmalan, 8), (case_overklagande, 3),
        (case_lex_sarah, 2), (case_ivo, 2), (case_skolskjuts, 8), (case_skolinspektion, 2),
        (case_kvalitet, 3), (case_bygglov, 14), (case_klagomal, 8), (case_detaljplan, 2),
        (case_foreningsbidrag, 6),
    ]  # fmt: skip
    makers = [k for k, _ in kinds]
    weights = [w for _, w in kinds]

    cases: list[Case] = []
    total = 0
    while total < DIA_TARGET_ROWS:
        case = rng.choices(makers, weights=weights)[0]()
        case.opened = rng.choice(days)
        case.docs = [d for d in case.docs if case.opened + timedelta(d.offset) <= days[-1]]
        case.docs.sort(key=lambda d: d.offset)  # handlingsnummer follow registration order
        cases.append(case)
        total += len(case.docs)
    cases.sort(key=lambda c: (c.opened, c.series, c.public_subject, c.intern_subject))
    counters: dict[str, int] = {}
    for case in cases:
        counters[case.series] = counters.get(case.series, 0) + 1
        case.number = counters[case.series]

    # Registrar slip-ups: identifiers typed into the public subject of a few cases.
    slips = [
        (case_skolskjuts, lambda p: f"Ansökan om skolskjuts för elev {p.number('short')}"),
        (case_klagomal, lambda p: f"Klagomål på snöröjning på Kvarnvägen, ring {PHONE_DIA_1}"),
        (case_allman_handling,
         lambda p: f"Begäran om utlämnande av allmän handling, svar till {EMAIL_DIA}"),
        (case_bygglov, lambda p: f"Ansökan om bostadsanpassningsbidrag {p.number('short')}"),
        (case_klagomal, lambda p: f"Synpunkt på gatubelysning, kontakt {PHONE_DIA_2}"),
        (case_bygglov,
         lambda p: f"Ansökan om parkeringstillstånd för rörelsehindrad, {p.number('long')}"),
    ]  # fmt: skip
    # Which cases get the slip-ups: a separate seeded generator, so the choice is stable.
    slip_people = {
        0: next(p for p in DIA_PEOPLE if p.first == "Noah"),
        3: next(p for p in DIA_PEOPLE if p.first == "Mirela"),
        5: next(p for p in DIA_PEOPLE if p.first == "Astrid"),
    }
    slip_cases: dict[int, tuple[str, Person | None]] = {}
    rng_slip = random.Random(SEED + 1)
    for i, (maker, text) in enumerate(slips):
        candidates = [
            idx
            for idx, c in enumerate(cases)
            if c.public_subject != WITHHELD_SUBJECT
            and idx not in slip_cases
            and _made_by(c, maker.__name__)
        ]
        idx = rng_slip.choice(candidates)
        person = slip_people.get(i)
        slip_cases[idx] = (text(person), person)

    rows = [
        [
            "diarienummer", "handlingsnummer", "datum", "riktning", "avsandare_mottagare",
            "arende_mening", "arende_mening_intern", "handlingstyp", "sekretess",
            "sekretess_lagrum", "handlaggare", "enhet",
        ]
    ]  # fmt: skip
    records = []
    for idx, case in enumerate(cases):
        dnr = f"{case.series} {YEAR}/{case.number}"
        public = case.public_subject
        intern = case.intern_subject
        slip_person = None
        if idx in slip_cases:
            public, slip_person = slip_cases[idx]
            intern = public
        for n, doc in enumerate(case.docs, start=1):
            datum = next_workday(case.opened + timedelta(doc.offset))
            secret = bool(doc.lagrum_osl)
            records.append(
                (
                    datum,
                    case.series,
                    case.number,
                    n,
                    case,
                    doc,
                    dnr,
                    public,
                    intern + doc.intern_extra,
                    secret,
                    slip_person,
                )
            )
    records.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    private_names_seen: dict[str, list[int]] = {}
    for datum, _s, _num, n, case, doc, dnr, public, intern, secret, slip_person in records:
        rows.append(
            [
                dnr,
                str(n),
                datum.isoformat(),
                doc.riktning,
                doc.party,
                doc.public_subject or public,
                intern,
                doc.handlingstyp,
                "ja" if secret else "nej",
                doc.lagrum_osl,
                case.handlaggare,
                case.enhet,
            ]
        )
        rownum = len(rows) - 1
        for person, form in case.people:
            planted.add(person.number(form), person.kind, pkg, res, "arende_mening_intern", rownum)
        if PHONE_DIA_INTERN in intern:
            planted.add(PHONE_DIA_INTERN, "phone", pkg, res, "arende_mening_intern", rownum)
        if slip_person is not None:
            value = next(
                slip_person.number(f)
                for f in ("long", "short")  # long first: the short form is inside it
                if slip_person.number(f) in public
            )
            for fld in ("arende_mening", "arende_mening_intern"):
                planted.add(value, slip_person.kind, pkg, res, fld, rownum)
        for token, kind in ((PHONE_DIA_1, "phone"), (PHONE_DIA_2, "phone"), (EMAIL_DIA, "email")):
            if token in public:
                for fld in ("arende_mening", "arende_mening_intern"):
                    planted.add(token, kind, pkg, res, fld, rownum)
        for value, kind in case.public_people:
            if value in (doc.public_subject or public):
                planted.add(value, kind, pkg, res, "arende_mening", rownum)
        for name in case.private_names:
            if doc.party == name:
                private_names_seen.setdefault(name, []).append(rownum)
    for name, rownums in private_names_seen.items():
        for r in rownums:
            planted.add(name, "name", pkg, res, "avsandare_mottagare", r)
    return write_csv(rows, "utf-8-sig")


def _made_by(case: Case, maker_name: str) -> bool:
    """Which kind of case this is, judged from its shape (makers are closures)."""
    tests = {
        "case_skolskjuts": case.public_subject == "Ansökan om skolskjuts",
        "case_klagomal": case.public_subject.startswith("Klagomål på"),
        "case_allman_handling": case.public_subject.startswith("Begäran om utlämnande"),
        "case_bygglov": case.public_subject.startswith("Bygglov för"),
    }
    return tests[maker_name]


# --------------------------------------------------------------------------------------------


def build() -> dict[Path, bytes]:
    rng = random.Random(SEED)
    planted = Planted()
    lev = make_leverantorsreskontra(rng, planted)
    dia = make_diarium(rng, planted)
    return {LEV_CSV: lev, DIA_CSV: dia, PLANTED: planted.to_json().encode("utf-8")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if any file would change")
    args = parser.parse_args(argv)
    outputs = build()
    changed = []
    for path, data in outputs.items():
        if path.exists() and path.read_bytes() == data:
            continue
        changed.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in outputs:
        rel = path.relative_to(ROOT)
        state = "changed" if path in changed else "unchanged"
        print(f"{rel}: {len(outputs[path]):,} bytes, {state}")
    if args.check and changed:
        print("out of date: run scripts/make_examples.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
