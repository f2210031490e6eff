"""Tables for the import tests, the same in PostgreSQL and (where SQLite can hold them) SQLite.

Fictitious Swedish grants: names with å, ä, ö; amounts with öre; decision dates; times with a
zone; NULLs; personnummer that are test numbers (tests/helpers.py); one planted marker value
that must never appear in a draft.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from helpers import PNR, PNR_12, SAMNR

MARKER = "Planterat-Värde-7f3a9c"  # a cell value no draft may contain
PERSONNUMMER = [PNR, PNR_12, SAMNR, "640823-3234"]

GRANTS = [
    # id, diarienummer, mottagare, belopp, andel, beslutad, registrerad, aktiv, personnummer,
    # kommentar
    (1, "KS 2024/101", "Föreningen Ängsbacken", "104824.50", 0.25, "2024-03-01",
     "2024-03-01 09:15:00+01", True, PNR, f"Beviljat. {MARKER}"),
    (2, "KS 2024/102", "Örebro Schackklubb", "5000.00", 0.5, "2024-03-04",
     "2024-03-04 14:00:00+01", False, PNR_12, "Ring 070-123 45 67 om utbetalningen"),
    (3, "KS 2024/103", None, None, None, "2024-04-15", None, None, SAMNR, None),
    (4, "KS 2024/104", "Åsa Öbergs stiftelse", "0.05", 1.0, "2024-06-30",
     "2024-06-30 23:59:59+02", True, "640823-3234", "Skickas till asa@example.se"),
]  # fmt: skip

PG_SETUP = """
CREATE TABLE bidrag (
  id integer PRIMARY KEY,
  diarienummer varchar(20) NOT NULL UNIQUE,
  "Mottagare" text,
  "Belopp (kr)" numeric(12,2),
  andel double precision,
  beslutad date NOT NULL,
  registrerad timestamptz,
  aktiv boolean,
  personnummer text,
  kommentar text,
  referens uuid,
  stort numeric,
  UNIQUE ("Mottagare", beslutad)
);
CREATE TABLE utan_nyckel (namn text, antal integer);
INSERT INTO utan_nyckel VALUES ('Östra', 2), ('Västra', 1), ('Östra', 1), (NULL, 3);
CREATE TABLE intervall (id integer, varaktighet interval);
CREATE TABLE binar (id integer, innehall bytea);
CREATE TABLE pengar (id integer, summa money);
CREATE TABLE listor (id integer, taggar text[]);
CREATE TABLE "Stora Bokstäver" ("Id" integer PRIMARY KEY);
INSERT INTO "Stora Bokstäver" VALUES (1);
CREATE TABLE stor AS
  SELECT g AS id,
         'Bidrag nummer ' || g || ' till förening för '
           || repeat('verksamhet för barn och unga i Exempelby kommun, ', 5) AS beskrivning,
         (g * 1.25)::numeric(12,2) AS belopp,
         date '2020-01-01' + (g % 1000) AS datum,
         timestamptz '2024-01-01 00:00+01' + g * interval '1 second' AS registrerad
  FROM generate_series(1, 1000000) AS g;
ALTER TABLE stor ADD PRIMARY KEY (id);
"""


def pg_insert_grants() -> str:
    def lit(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    rows = []
    for i, row in enumerate(GRANTS):
        uuid = f"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd38{i:04x}'"
        rows.append("(" + ", ".join(lit(v) for v in row) + f", {uuid}, 12345678901234567890.5)")
    return (
        'INSERT INTO bidrag (id, diarienummer, "Mottagare", "Belopp (kr)", andel, beslutad, '
        "registrerad, aktiv, personnummer, kommentar, referens, stort) VALUES\n"
        + ",\n".join(rows)
        + ";"
    )


SQLITE_SETUP = """
CREATE TABLE bidrag (
  id INTEGER PRIMARY KEY,
  diarienummer VARCHAR(20) NOT NULL UNIQUE,
  "Mottagare" TEXT,
  "Belopp (kr)" NUMERIC(12,2),
  andel REAL,
  beslutad DATE NOT NULL,
  registrerad DATETIME,
  aktiv BOOLEAN,
  personnummer TEXT,
  kommentar TEXT
);
CREATE TABLE bilagor (id INTEGER PRIMARY KEY, fil BLOB);
INSERT INTO bilagor VALUES (1, x'00ff');
"""


def make_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SQLITE_SETUP)
        conn.executemany(
            "INSERT INTO bidrag VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r[0], r[1], r[2], float(r[3]) if r[3] else None, r[4], r[5],
                    r[6][:19] if r[6] else None, None if r[7] is None else int(r[7]), r[8], r[9],
                )
                for r in GRANTS
            ],
        )  # fmt: skip
        conn.commit()
    finally:
        conn.close()
    return path
