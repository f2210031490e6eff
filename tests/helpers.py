"""Test data shared by test modules: test identifiers, a staff table, its rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "datapackages"

# Test numbers from ../shared/reference/swedish-identifiers.md: never a real person's.
PNR = "811228-9874"
PNR_12 = "19640823-3234"
SAMNR = "701063-2391"

STAFF_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "namn", "type": "string"},
        {"name": "personnummer", "type": "string"},
        {"name": "lon", "type": "number", "decimalChar": ","},
        {"name": "anstalld", "type": "date"},
        {
            "name": "avdelning",
            "type": "string",
            "constraints": {"enum": ["Ekonomi", "Skola", "Vård"]},
        },
        {"name": "skyddad", "type": "boolean", "trueValues": ["ja"], "falseValues": ["nej"]},
        {"name": "kommentar", "type": "string"},
    ],
    "primaryKey": ["id"],
}

STAFF_ROWS = [
    ["id", "namn", "personnummer", "lon", "anstalld", "avdelning", "skyddad", "kommentar"],
    ["1", "Håkan Åström", PNR, "32500,50", "2019-03-01", "Ekonomi", "nej", "Ring 070-123 45 67"],
    ["2", "Åsa Öberg", PNR_12, "41000,00", "2020-08-15", "Skola", "nej", '=HYPERLINK("x")'],
    ["3", "Örjan Ek", SAMNR, "29999,99", "2021-01-10", "Vård", "ja", "Skyddad adress"],
    ["4", "Lena Berg", "640823-3234", "35000,00", "2018-11-30", "Skola", "nej", ""],
]

STAFF_RULES: dict[str, Any] = {
    "version": 1,
    "decided_by": "Personalavdelningen",
    "resources": {
        "personal": {
            "fields": {
                "id": {"class": "public"},
                "namn": {
                    "class": "personal",
                    "action": "pseudonymize",
                    "basis": "39 kap. 3 § OSL",
                    "reason": "Anställdas namn i lönelistor",
                },
                "personnummer": {
                    "class": "personal",
                    "action": "drop",
                    "basis": "21 kap. 7 § OSL",
                },
                "lon": {
                    "class": "confidential",
                    "action": "generalize",
                    "to": "band",
                    "width": 10000,
                    "basis": "39 kap. 3 § OSL",
                },
                "anstalld": {
                    "class": "personal",
                    "action": "generalize",
                    "to": "year",
                    "basis": "39 kap. 3 § OSL",
                },
                "avdelning": {"class": "public"},
                "skyddad": {"class": "secret", "action": "drop", "basis": "22 kap. 1 § OSL"},
                "kommentar": {
                    "class": "public",
                    "scan": ["personnummer", "samordningsnummer", "email", "phone"],
                },
            },
            "rows": [
                {
                    "drop_when": {"field": "skyddad", "equals": True},
                    "basis": "22 kap. 1 § OSL",
                    "reason": "Sekretessmarkering",
                }
            ],
        }
    },
}


def write_csv(
    path: Path, rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8"
) -> None:
    text = "\r\n".join(delimiter.join(_quote(c, delimiter) for c in row) for row in rows) + "\r\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def _quote(cell: str, delimiter: str) -> str:
    if any(ch in cell for ch in (delimiter, '"', "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


PackageFactory = Callable[..., Path]


def free_text_by_counting(values: list[str | None]) -> bool:
    """The free-text rule of free_text.py's docstring, by counting words in every cell (the
    reference the byte shortcuts are checked against)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    words = pc.count_substring_regex(pa.array(values, pa.string()), pattern=r"\p{L}{2,}")
    non_null = len(words) - words.null_count
    if not non_null:
        return False
    multi = int(pc.sum(pc.greater_equal(words, 2)).as_py() or 0)
    return multi >= 0.5 * non_null or int(pc.max(words).as_py() or 0) >= 5


def logged(action: Callable[[], Any]) -> list[str]:
    """The messages the "opengov" loggers emit at INFO while `action` runs."""
    import logging

    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("opengov")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        action()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return messages
