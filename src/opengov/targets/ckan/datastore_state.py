"""What opengov records about the DataStore tables it loads: the dataset extra
`opengov_datastore`, `{csv path: {"state": "complete", parquet, rows, content, shape,
dictionary}}` or `{csv path: {"state": "writing"}}`.

A complete entry says "this resource's DataStore table holds exactly the rows of the Parquet
file with this sha256, this many, with this content hash, under this definition". Entries are
made complete only when a release is complete (read back); the marking request of an update
turns the entries of the tables it will write into "writing", so a complete entry on the
portal can always be trusted (a person changing the table by hand is `verify`'s to find, as
for files). Every entry, complete or not, says the table is opengov's: `verify` checks those
and leaves alone tables others loaded (XLoader's, say).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TableRecord:
    parquet: str  # sha256 of the published Parquet the rows came from
    rows: int
    content: str  # rows.content_hash of what the table holds
    shape: str  # dictionary.TableDefinition.shape_hash
    dictionary: str  # dictionary.TableDefinition.dictionary_hash

    def to_dict(self) -> dict[str, Any]:
        return {
            "parquet": self.parquet,
            "rows": self.rows,
            "content": self.content,
            "shape": self.shape,
            "dictionary": self.dictionary,
        }

    @classmethod
    def from_dict(cls, data: Any) -> TableRecord | None:
        if not isinstance(data, dict):
            return None
        try:
            record = cls(
                parquet=str(data["parquet"]),
                rows=int(data["rows"]),
                content=str(data["content"]),
                shape=str(data["shape"]),
                dictionary=str(data["dictionary"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return record if record.rows >= 0 else None


COMPLETE = "complete"
WRITING = "writing"


def _entries(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(path): entry for path, entry in data.items() if isinstance(entry, dict)}


def parse_records(text: str | None) -> dict[str, TableRecord]:
    """The complete entries of the extra; anything unreadable counts as not recorded."""
    out = {}
    for path, entry in _entries(text).items():
        record = TableRecord.from_dict(entry) if entry.get("state") == COMPLETE else None
        if record is not None:
            out[path] = record
    return out


def listed_tables(text: str | None) -> set[str]:
    """Every table the extra names as opengov's, complete or being written."""
    return set(_entries(text))


def dump_records(records: dict[str, TableRecord], writing: set[str] | None = None) -> str:
    entries: dict[str, dict[str, Any]] = {p: {"state": WRITING} for p in writing or ()}
    for path, record in records.items():
        entries[path] = {"state": COMPLETE, **record.to_dict()}
    return json.dumps(dict(sorted(entries.items())), separators=(",", ":"), sort_keys=True)
