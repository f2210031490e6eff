"""The form a value is pseudonymised in: one person, one pseudonym, however the number is written.

`700101-1233`, `7001011233`, `19700101-1233`, `197001011233`, `700101 - 1233` and the same with
fullwidth digits are one person; pseudonymising the text as written would make them four, so a
register that writes numbers two ways would split people and a reader could tell the forms
apart. Personnummer and samordningsnummer become their twelve digits (century included);
other text is compared as a reader sees it (NFKC, no invisible format characters, one space
for any white space, trimmed).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

# Hyphens and minus signs a form, a spreadsheet or a word processor may put in a number.
_DASHES = dict.fromkeys(
    map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"
)
_PNR = re.compile(
    r"(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})(?P<sep>[-+]?)(?P<serial>\d{4})"
)


def reader_text(value: str) -> str:
    """Text as a reader sees it: NFKC, format characters gone, white space collapsed, trimmed."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return " ".join(text.split())


def _digits_of_any_script(text: str) -> str:
    return "".join(
        str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text
    )


def _luhn_ok(ten: str) -> bool:
    total = 0
    for index, char in enumerate(ten):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def personnummer(value: str, today: dt.date | None = None) -> str | None:
    """The twelve digits of a personnummer or samordningsnummer written in any usual form, or
    None when `value` is not one (wrong check digit, no such date).

    A ten-digit number gets the latest century that does not put the birth in the future, or
    the one before with `+` (the sign used from the year a person turns 100).
    """
    text = _digits_of_any_script(reader_text(value).translate(_DASHES))
    text = re.sub(r"\s*([-+])\s*", r"\1", text).replace(" ", "")
    match = _PNR.fullmatch(text)
    if match is None:
        return None
    yy, mm, dd, serial = match["yy"], match["mm"], match["dd"], match["serial"]
    if not _luhn_ok(yy + mm + dd + serial):
        return None
    day = int(dd) - 60 if int(dd) > 60 else int(dd)  # samordningsnummer: day + 60
    today = today or dt.date.today()
    if match["century"]:
        year = int(match["century"] + yy)
    else:
        reference = today.year - (100 if match["sep"] == "+" else 0)
        year = reference - (reference - int(yy)) % 100
    try:
        born = dt.date(year, int(mm), day)
    except ValueError:
        return None
    if born > today:
        return None
    return f"{year:04d}{mm}{dd}{serial}"


def canonical(value: str, mode: str) -> str | None:
    """The form `value` is keyed in under `canonical: mode` (rules.yaml); None when mode is
    `personnummer` and the value is not one."""
    if mode == "exact":
        return value
    number = personnummer(value)
    if number is not None:
        return number
    return None if mode == "personnummer" else reader_text(value)
