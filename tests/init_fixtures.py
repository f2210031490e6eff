"""The steward's 20-row grants list as Excel exports it (issue 12): Windows-1252, `;`, decimal
comma with a space between thousands, Swedish dates, ja/nej, a personnummer column, and free
text. Fictitious: the personnummer are test numbers (tests/helpers.py), names and associations
invented. The XLSX twin is built with openpyxl, with the same rows as typed cells.

The shape (semicolon, decimal comma, cp1252, CRLF) is what Excel's "CSV (semikolonavgränsad)"
writes on a Swedish Windows; pandas' and frictionless' CSV readers and Python's csv.Sniffer
handle it, and opengov's readers follow frictionless (sources/readers.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from helpers import PNR, PNR_12, SAMNR

MARKER = "Planterad-Text-91ab"  # a value no draft may contain
HEADER = ["Diarienummer", "Mottagare", "Personnummer", "Belopp (kr)", "Beslutsdatum",
          "Utbetalt", "Beskrivning"]  # fmt: skip
_PNRS = [PNR, PNR_12.replace("-", ""), SAMNR, "640823-3234", "19811228-9874"]
_NAMES = ["Ängsbackens IF", "Öbergs Kulturförening", "Föreningen Åkerbruk", "Västra Schack",
          "Barnens Ö", "Kören Stämman", "Fältbiologerna i Exempelby"]  # fmt: skip


def rows() -> list[list[object]]:
    out: list[list[object]] = []
    for i in range(20):
        amount = 1250 + i * 5237.5
        out.append([
            f"KS 2024/{101 + i}",
            _NAMES[i % len(_NAMES)],
            _PNRS[i % len(_PNRS)],
            amount,
            dt.date(2024, 1 + i % 12, 1 + (i * 3) % 28),
            i % 3 != 0,
            MARKER if i == 7 else f"Bidrag till verksamhet {i}, kontakt via kansliet",
        ])  # fmt: skip
    return out


def _swedish_number(value: float) -> str:
    whole, frac = f"{value:.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return "\u00a0".join(groups) + "," + frac


def write_csv(path: Path) -> Path:
    lines = [";".join(HEADER)]
    for r in rows():
        cells = [str(r[0]), str(r[1]), str(r[2]), _swedish_number(float(r[3])),  # type: ignore[arg-type]
                 r[4].isoformat(), "ja" if r[5] else "nej", str(r[6])]  # type: ignore[attr-defined]  # fmt: skip
        lines.append(";".join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def write_xlsx(path: Path, *, extra_sheet: bool = False) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Bidrag 2024"
    sheet.append(HEADER)
    for r in rows():
        sheet.append([r[0], r[1], r[2], r[3], r[4], "ja" if r[5] else "nej", r[6]])
    if extra_sheet:
        book.create_sheet("Instruktioner").append(["Fyll i en rad per bidrag"])
    book.save(path)
    return path
