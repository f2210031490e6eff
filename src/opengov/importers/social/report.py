"""What happened to every file of an export: read (with counts), known and not relevant, or not
understood. Nothing in an export is passed over without a line in this report, and a file that
looks like posts or comments but was not read stops the import (`UnreadExportFiles`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from opengov.errors import UnreadExportFiles

FileStatus = Literal["read", "known", "not_understood"]
STATUSES: tuple[FileStatus, ...] = ("read", "known", "not_understood")


@dataclass(frozen=True)
class FileReport:
    """One file of the export and what the importer made of it.

    `what` says what the file holds ("posts", "comments", "media", "direct messages", ...);
    `records` counts what was read from it (None for files that are not read); `note` adds
    what a reader needs, for example how many long texts were joined to their posts.
    """

    path: str
    status: FileStatus
    what: str
    records: int | None = None
    note: str | None = None
    looks_like_records: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "what": self.what,
            "records": self.records,
            "note": self.note,
        }


def counts_by_status(files: Iterable[FileReport]) -> dict[str, int]:
    counts = Counter(f.status for f in files)
    return {status: counts.get(status, 0) for status in STATUSES}


def check_nothing_left_unread(label: str, files: Sequence[FileReport]) -> None:
    """Stop the import when a file that looks like posts or comments was not read."""
    unread = [f for f in files if f.status != "read" and f.looks_like_records]
    if not unread:
        return
    raise UnreadExportFiles(
        f"{label}: {len(unread)} file(s) look like posts or comments but opengov cannot read "
        "them; nothing was imported (report the export's layout so it can be supported)",
        details=[f"{f.path}: {f.note or f.what}" for f in unread],
    )
