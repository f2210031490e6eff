"""The same checks as the benchmark package's Table Schema, with pandera's polars backend.

    python benchmarks/pandera_check.py DATA.csv

Reads the `;`-separated invoice CSV with polars (every column as text, as a validator must to
report bad cells), parses dates and decimal-comma amounts, and checks with pandera: required,
unique, the two patterns, the enum, the amount range, and the e-mail format (a regex: polars
runs Rust's regex engine). Prints the number of failure cases. Needs `pip install
'pandera[polars]'` (the `bench` extra).
"""

from __future__ import annotations

import sys

import pandera.polars as pa
import polars as pl

CATEGORIES = ["Bygg", "Städ", "IT", "Konsult", "Livsmedel", "Transport", "Övrigt"]
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = rf"^{ATOM}(\.{ATOM})*@({LABEL}\.)+[A-Za-z0-9][A-Za-z0-9-]{{0,61}}[A-Za-z]$"


def main() -> None:
    raw = pl.read_csv(sys.argv[1], separator=";", infer_schema=False)

    def amount(name: str) -> pl.Expr:
        text = pl.col(name).str.replace_all(" ", "").str.replace(",", ".")
        return text.cast(pl.Float64, strict=False).alias(name)

    frame = raw.with_columns(
        pl.col("fakturadatum").str.to_date("%Y-%m-%d", strict=False),
        pl.col("forfallodatum").str.to_date("%Y-%m-%d", strict=False),
        amount("belopp"),
    )
    schema = pa.DataFrameSchema(
        {
            "fakturanummer": pa.Column(
                str, pa.Check.str_matches(r"^F[0-9]{10}$"), unique=True, nullable=False
            ),
            "leverantor": pa.Column(str, nullable=False),
            "organisationsnummer": pa.Column(
                str, pa.Check.str_matches(r"^[0-9]{6}-[0-9]{4}$"), nullable=True
            ),
            "fakturadatum": pa.Column(pl.Date, nullable=True),
            "forfallodatum": pa.Column(pl.Date, nullable=True),
            "belopp": pa.Column(pl.Float64, pa.Check.in_range(0, 5_000_000), nullable=True),
            "kategori": pa.Column(str, pa.Check.isin(CATEGORIES), nullable=True),
            "beskrivning": pa.Column(str, nullable=True),
            "epost": pa.Column(str, pa.Check.str_matches(EMAIL), nullable=True),
        }
    )
    try:
        schema.validate(frame, lazy=True)
        print(0)
    except pa.errors.SchemaErrors as exc:
        print(len(exc.failure_cases))


if __name__ == "__main__":
    main()
