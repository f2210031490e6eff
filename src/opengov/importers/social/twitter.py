"""X/Twitter archive to post records.

The archive's data files are JavaScript: `window.YTD.tweets.part0 = [ ... ]`. They are never
executed: the assignment prefix is stripped with a regex, exactly one JSON value is parsed,
and anything after it other than `;` and whitespace (trailing code) rejects the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from opengov.errors import ImportFailed
from opengov.importers.social.archive import ArchiveLimits, Export, open_export
from opengov.importers.social.common import (
    FACEBOOK_MARKERS,
    Parsed,
    load_json_text,
    media_type,
    text_or_none,
    unique,
    wrong_platform,
)
from opengov.importers.social.package import ImportResult, PackageInfo, check_account, write_import
from opengov.importers.social.records import (
    AccountType,
    Attachment,
    Post,
    default_classification,
    iso_utc,
)

_PREFIX = re.compile(r"\A\s*window\.YTD\.[A-Za-z_]+\.part\d+\s*=\s*")
_TAIL = re.compile(r"\A\s*;?\s*\Z")
_TWEET_FILE = re.compile(r"(?:^|/)(?:tweets?|tweets-part\d+)\.js$")
_DELETED_FILE = re.compile(r"(?:^|/)deleted-tweets(?:-part\d+)?\.js$")
_ID = re.compile(r"^[0-9]{1,25}$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_DATE = re.compile(
    r"^[A-Z][a-z]{2} (?P<mon>[A-Z][a-z]{2}) (?P<day>\d{1,2}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) "
    r"(?P<sign>[+-])(?P<oh>\d\d)(?P<om>\d\d) (?P<year>\d{4})$"
)
# Twitter stores full_text HTML-escaped for exactly these three; the record keeps what was shown.
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def parse_ytd(text: str, name: str, label: str) -> list[Any]:
    """The JSON array assigned in a `window.YTD.<x>.partN = [...]` file, without running it."""
    text = text.lstrip("\ufeff")
    prefix = _PREFIX.match(text)
    if prefix is None:
        raise ImportFailed(f"{label}: {name} does not start with window.YTD.<name>.part<N> =")
    try:
        value, end = json.JSONDecoder().raw_decode(text, prefix.end())
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"{label}: {name} is not valid JSON after the window.YTD prefix (line {exc.lineno}, "
            f"column {exc.colno}: {exc.msg}); the archive may be truncated"
        ) from None
    if not _TAIL.match(text[end:]):
        line = text.count("\n", 0, end) + 1
        raise ImportFailed(
            f"{label}: {name} has code after its data (line {line}); refusing to import it"
        )
    if not isinstance(value, list):
        raise ImportFailed(f"{label}: {name} does not hold a list")
    return value


def parse_twitter_date(value: Any, where: str) -> str:
    """`Sat Aug 12 16:10:37 +0000 2023` to `2023-08-12T16:10:37Z`, independent of locale."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None or match["mon"] not in _MONTHS:
        raise ImportFailed(f"{where}: created_at is missing or not a Twitter date")
    offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"]))
    try:
        moment = datetime(
            int(match["year"]), _MONTHS[match["mon"]], int(match["day"]),
            int(match["h"]), int(match["m"]), int(match["s"]),
            tzinfo=timezone(-offset if match["sign"] == "-" else offset),
        )  # fmt: skip
    except ValueError:
        raise ImportFailed(f"{where}: created_at is not a real date") from None
    return iso_utc(moment.astimezone(UTC))


def _count(value: Any, where: str, key: str) -> int | None:
    """Counts arrive as strings ("12"); anything else than a whole number is a broken file."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        number = value
    elif isinstance(value, str) and value.isdigit():
        number = int(value)
    else:
        raise ImportFailed(f"{where}: {key} is not a whole number")
    return number


def _unescape(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _entities(tweet: dict[str, Any], key: str, field: str) -> tuple[str, ...]:
    entities = tweet.get("entities")
    items = entities.get(key) if isinstance(entities, dict) else None
    if not isinstance(items, list):
        return ()
    return unique(
        item[field] for item in items if isinstance(item, dict) and isinstance(item.get(field), str)
    )


def _media(tweet: dict[str, Any]) -> tuple[Attachment, ...]:
    """Photos and videos by their URL and type; Twitter archives hold no EXIF to strip."""
    out: list[Attachment] = []
    for holder in ("extended_entities", "entities"):
        block = tweet.get(holder)
        media = block.get("media") if isinstance(block, dict) else None
        if not isinstance(media, list):
            continue
        for item in media:
            url = item.get("media_url_https") if isinstance(item, dict) else None
            if not isinstance(url, str):
                continue
            kind = item.get("type")
            mime = "video/mp4" if kind in ("video", "animated_gif") else media_type(url)
            entry = {"kind": "media", "uri": url}
            if mime:
                entry["media_type"] = mime
            if entry not in out:
                out.append(entry)
        if out:
            break  # extended_entities repeats entities.media with more items; one is enough
    return tuple(out)


def _tweet(
    item: Any, where: str, *, account: str, account_type: AccountType, name: str, sha256: str,
    deleted: bool,
) -> Post:  # fmt: skip
    if isinstance(item, dict) and isinstance(item.get("tweet"), dict):
        item = item["tweet"]
    if not isinstance(item, dict):
        raise ImportFailed(f"{where} is not a tweet object")
    tweet_id = item.get("id_str", item.get("id"))
    if isinstance(tweet_id, int) and not isinstance(tweet_id, bool):
        tweet_id = str(tweet_id)
    if not isinstance(tweet_id, str) or not _ID.match(tweet_id):
        raise ImportFailed(f"{where}: id_str is missing or not a number")
    created = parse_twitter_date(item.get("created_at"), where)
    raw_text = item.get("full_text", item.get("text"))
    text = _unescape(raw_text) if isinstance(raw_text, str) and raw_text else None
    reply_to = item.get("in_reply_to_status_id_str")
    cls = default_classification(account_type, "own_post", created)
    return Post(
        record_id=f"tw-{tweet_id}",
        platform="twitter",
        platform_post_id=tweet_id,
        account=account,
        account_type=account_type,
        classification=cls.classification,
        classified_by=cls.classified_by,
        classified_at=cls.classified_at,
        reason=cls.reason,
        direction="own_post",
        created_at=created,
        updated_at=None,
        text=text,
        in_reply_to=reply_to if isinstance(reply_to, str) and _ID.match(reply_to) else None,
        author=account,
        is_retweet=bool(text and text.startswith("RT @")),
        attachments=_media(item),
        urls=_entities(item, "urls", "expanded_url"),
        mentions=_entities(item, "user_mentions", "screen_name"),
        hashtags=_entities(item, "hashtags", "text"),
        lang=text_or_none(item.get("lang")),
        favorite_count=_count(item.get("favorite_count"), where, "favorite_count"),
        retweet_count=_count(item.get("retweet_count"), where, "retweet_count"),
        source_file=name,
        source_sha256=sha256,
        deleted=deleted,
    )


def _file_key(name: str) -> tuple[int, str]:
    part = re.search(r"-part(\d+)\.js$", name)
    return (int(part.group(1)) if part else 0, name)


def import_twitter(
    archive: Path,
    *,
    account: str,
    account_type: AccountType = "personal",
    out: Path,
    limits: ArchiveLimits | None = None,
    pseudonymize_authors: bool | None = None,
    info: PackageInfo | None = None,
) -> ImportResult:
    """Import an X/Twitter archive (ZIP or folder) into the data package at `out`.

    As `import_facebook`: everything is read and checked before `out` is touched.
    """
    account = check_account(account, account_type)
    archive = Path(archive)
    with open_export(archive, limits) as opened:
        parsed = parse_twitter(opened, account=account, account_type=account_type)
    return write_import(
        parsed,
        export=archive,
        account=account,
        account_type=account_type,
        out=Path(out),
        pseudonymize_authors=pseudonymize_authors,
        info=info,
    )


def parse_twitter(export: Export, *, account: str, account_type: AccountType) -> Parsed:
    names = export.names()
    tweet_files = sorted((n for n in names if _TWEET_FILE.search(n)), key=_file_key)
    deleted_files = sorted((n for n in names if _DELETED_FILE.search(n)), key=_file_key)
    if not tweet_files and not deleted_files:
        wrong_platform(export, "an X/Twitter archive", FACEBOOK_MARKERS, "a Facebook export")
        raise ImportFailed(
            f"{export.label}: no tweets found (expected data/tweets.js, tweet.js, "
            "tweets-part<N>.js or deleted-tweets.js)"
        )
    posts: dict[str, Post] = {}
    for name in tweet_files + deleted_files:
        deleted = name in deleted_files
        for post in _read_file(export, name, account=account, account_type=account_type,
                               deleted=deleted):  # fmt: skip
            _add(posts, post)
    if not posts:
        raise ImportFailed(f"{export.label}: the archive holds no tweets")
    files = sorted(export.files_read.values(), key=lambda f: f.path)
    return Parsed("twitter", list(posts.values()), [], files)


def _read_file(
    export: Export, name: str, *, account: str, account_type: AccountType, deleted: bool
) -> list[Post]:
    items = parse_ytd(load_json_text(export, name), name, export.label)
    sha256 = export.files_read[name].sha256
    return [
        _tweet(item, f"{export.label}: {name}, entry {position}", account=account,
               account_type=account_type, name=name, sha256=sha256, deleted=deleted)
        for position, item in enumerate(items, start=1)
    ]  # fmt: skip


def _add(posts: dict[str, Post], post: Post) -> None:
    """First copy wins, except that being listed as deleted anywhere marks the tweet deleted."""
    earlier = posts.get(post.record_id)
    if earlier is None:
        posts[post.record_id] = post
    elif post.deleted and not earlier.deleted:
        posts[post.record_id] = replace(earlier, deleted=True)
