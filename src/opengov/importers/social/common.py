"""Pieces both importers share: what a parsed export is, JSON loading, text helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opengov.errors import ImportFailed
from opengov.importers.social.archive import Export, FileRead
from opengov.importers.social.records import Comment, Platform, Post
from opengov.importers.social.report import FileReport

_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_URL = re.compile(r"https?://[^\s<>\"']+")
_URL_TRAILING = ".,;:!?)]}»”’"

# Extensions to MIME types, fixed here rather than taken from `mimetypes`, whose answers depend
# on the machine's /etc/mime.types (the same export must give the same bytes everywhere).
_MEDIA_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".heic": "image/heic", ".mp4": "video/mp4", ".mov": "video/quicktime",
    ".m4a": "audio/mp4", ".mp3": "audio/mpeg",
}  # fmt: skip

TWITTER_MARKERS = re.compile(
    r"(?:^|/)(?:tweets?(?:-part\d+)?|deleted-tweets?|manifest|account)\.js$"
    r"|(?:^|/)data/js/tweets/\d{4}_\d{2}\.js$|(?:^|/)tweets\.csv$"
)
FACEBOOK_MARKERS = re.compile(
    r"(?:^|/)(?:your_posts[^/]*\.json|profile_posts[^/]*\.json|comments\.json"
    r"|your_facebook_activity/|your_activity_across_facebook/"
    r"|this_profile's_activity_across_facebook/|comments_and_reactions/|profile_information/)"
)


@dataclass
class Parsed:
    """What one export yielded, before it is merged into a package."""

    platform: Platform
    posts: list[Post] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    files: list[FileRead] = field(default_factory=list)
    reports: list[FileReport] = field(default_factory=list)
    # Handles of the exported account itself, from the export (X: account.js, user details).
    own_handles: tuple[str, ...] = ()


def load_json_text(export: Export, name: str) -> str:
    """The file as text; empty or non-UTF-8 files are broken exports."""
    data = export.read(name)
    if not data.strip():
        raise ImportFailed(f"{export.label}: {name} is empty (truncated export?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            f"{export.label}: {name} is not UTF-8 (byte offset {exc.start})"
        ) from None


def json_error(export: Export, name: str, exc: json.JSONDecodeError) -> ImportFailed:
    # Position only: the message must not quote the export's content.
    return ImportFailed(
        f"{export.label}: {name} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
        f"{exc.msg}); the export may be truncated"
    )


def hashtags_in(text: str | None) -> tuple[str, ...]:
    return unique(_HASHTAG.findall(text or ""))


def urls_in(text: str | None) -> list[str]:
    return [url.rstrip(_URL_TRAILING) for url in _URL.findall(text or "")]


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Values in first-seen order without repeats or empties."""
    return tuple(dict.fromkeys(v for v in values if v))


def media_type(uri: str) -> str | None:
    lowered = uri.lower().split("?", 1)[0]
    for ext, mime in _MEDIA_TYPES.items():
        if lowered.endswith(ext):
            return mime
    return None


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def record_text(value: Any, where: str, what: str) -> str | None:
    """A record's own text: None when absent or empty, `ImportFailed` when it is there but not
    text (a number, a list): left out, the record would import without its content, exit 0."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ImportFailed(f"{where}: {what} is not text (a JSON {type(value).__name__})")
    return value


def wrong_platform(export: Export, expected: str, markers: re.Pattern[str], other: str) -> None:
    """Raise a clear error when the export is empty or belongs to the other platform."""
    names = export.names()
    if not names:
        raise ImportFailed(f"{export.label} is empty: no files in the export")
    hit = next((n for n in names if markers.search(n)), None)
    if hit is not None:
        raise ImportFailed(
            f"{export.label} looks like {other} (found {hit}), not {expected}; "
            "use the importer for that platform"
        )
