"""X/Twitter archive to post records.

The archive's data files are JavaScript: `window.YTD.tweets.part0 = [ ... ]`. They are never
executed: the assignment prefix is stripped with a regex, exactly one JSON value is parsed,
and anything after it other than `;` and whitespace (trailing code) rejects the file. Which
file holds what is in `twitter_layout`; long texts are joined in `twitter_notes`, pre-2019
archives are read by `grailbird`.

Replies are split by whom they answer: the id of one of the account's own posts (a thread) goes
to `in_reply_to`, the id of anyone else's post to `in_reply_to_external`, which the generated
rules do not publish (it is often a private person's post). Mentions keep their `@`, so the
handle detector can tell them from the account's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from opengov.errors import ImportFailed
from opengov.importers.social import twitter_layout as layout
from opengov.importers.social.archive import ArchiveLimits, Export, open_export
from opengov.importers.social.common import (
    FACEBOOK_MARKERS,
    Parsed,
    media_type,
    record_text,
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
from opengov.importers.social.report import check_nothing_left_unread
from opengov.limits import raw_decode_json

_PREFIX = re.compile(r"\A\s*window\.YTD\.[A-Za-z_]+\.part\d+\s*=\s*")
_TAIL = re.compile(r"\A\s*;?\s*\Z")
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
# Grailbird archives (before 2019) and tweets.csv write "2012-03-14 08:12:33 +0000".
_GRAILBIRD_DATE = re.compile(
    r"^(?P<year>\d{4})-(?P<mon>\d\d)-(?P<day>\d\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) "
    r"(?P<sign>[+-])(?P<oh>\d\d)(?P<om>\d\d)$"
)
# Twitter stores text HTML-escaped for exactly these three; the record keeps what was shown.
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_MENTION_IN_TEXT = re.compile(r"(?<![\w@])@(\w{1,15})\b")


@dataclass(frozen=True)
class Context:
    """Whose archive this is: the account as named at import and its own handles and ids."""

    account: str
    account_type: AccountType
    own_handles: frozenset[str]  # lower case, without "@"
    own_ids: frozenset[str]

    def is_own(self, handle: str | None, user_id: str | None) -> bool:
        if handle and handle.lstrip("@").lower() in self.own_handles:
            return True
        return bool(user_id) and user_id in self.own_ids


def parse_js_assignment(
    text: str,
    name: str,
    label: str,
    prefix: re.Pattern[str],
    repaired: list[int] | None = None,
) -> Any:
    """The one JSON value assigned by a data file, without running it. With `repaired`, lone
    surrogates (half an emoji) become U+FFFD and are counted there (`raw_decode_json`)."""
    text = text.lstrip("\ufeff")
    start = prefix.match(text)
    if start is None:
        raise ImportFailed(f"{label}: {name} does not start with the expected assignment")
    try:
        value, end = raw_decode_json(text, start.end(), f"{label}: {name}", repaired=repaired)
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"{label}: {name} is not valid JSON after its assignment (line {exc.lineno}, "
            f"column {exc.colno}: {exc.msg}); the archive may be truncated"
        ) from None
    except RecursionError:
        raise ImportFailed(f"{label}: {name} nests too deeply to be an archive file") from None
    if not _TAIL.match(text[end:]):
        line = text.count("\n", 0, end) + 1
        raise ImportFailed(
            f"{label}: {name} has code after its data (line {line}); refusing to import it"
        )
    return value


def parse_ytd(text: str, name: str, label: str, repaired: list[int] | None = None) -> list[Any]:
    """The JSON array assigned in a `window.YTD.<x>.partN = [...]` file, without running it."""
    if _PREFIX.match(text.lstrip("\ufeff")) is None:
        raise ImportFailed(f"{label}: {name} does not start with window.YTD.<name>.part<N> =")
    value = parse_js_assignment(text, name, label, _PREFIX, repaired)
    if not isinstance(value, list):
        raise ImportFailed(f"{label}: {name} does not hold a list")
    return value


def parse_twitter_date(value: Any, where: str) -> str:
    """`Sat Aug 12 16:10:37 +0000 2023` (or Grailbird's `2023-08-12 16:10:37 +0000`) to
    `2023-08-12T16:10:37Z`, independent of locale."""
    match = _DATE.match(value) if isinstance(value, str) else None
    month: int | None = None
    if match is not None:
        month = _MONTHS.get(match["mon"])
    elif isinstance(value, str) and (match := _GRAILBIRD_DATE.match(value)) is not None:
        month = int(match["mon"])
    if match is None or month is None:
        raise ImportFailed(f"{where}: created_at is missing or not a Twitter date")
    offset = timedelta(hours=int(match["oh"]), minutes=int(match["om"]))
    try:
        moment = datetime(
            int(match["year"]), month, int(match["day"]),
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


def repair_note(repaired: list[int]) -> str | None:
    """The file report's note on the broken characters replaced while reading it."""
    if not repaired[0]:
        return None
    return (
        f"{repaired[0]} broken character(s) replaced by U+FFFD (half an emoji, where X cut "
        "a text short)"
    )


def unescape(text: str) -> str:
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


def _bitrate(variant: dict[str, Any]) -> int:
    value = variant.get("bitrate")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else -1


def _video(item: dict[str, Any]) -> tuple[str, str] | None:
    """The best video URL of a video or GIF: the highest-bitrate MP4 (GIFs have bitrate 0),
    else any variant. `media_url_https` is only the thumbnail."""
    info = item.get("video_info")
    variants = info.get("variants") if isinstance(info, dict) else None
    if not isinstance(variants, list):
        return None
    usable = [v for v in variants if isinstance(v, dict) and isinstance(v.get("url"), str)]
    mp4 = [v for v in usable if v.get("content_type") == "video/mp4"]
    if mp4:
        best = max(mp4, key=_bitrate)
        return best["url"], "video/mp4"
    if usable:
        kind = usable[0].get("content_type")
        return usable[0]["url"], kind if isinstance(kind, str) else "video/mp4"
    return None


def _media(tweet: dict[str, Any]) -> tuple[Attachment, ...]:
    """Photos by their URL, videos and GIFs by their best video URL, each with its alt text;
    X archives hold no EXIF to strip."""
    out: list[Attachment] = []
    for holder in ("extended_entities", "entities"):
        block = tweet.get(holder)
        media = block.get("media") if isinstance(block, dict) else None
        if not isinstance(media, list):
            continue
        for item in media:
            if not isinstance(item, dict):
                continue
            thumb = item.get("media_url_https", item.get("media_url"))
            entry: dict[str, str] = {"kind": "media"}
            video = _video(item) if item.get("type") in ("video", "animated_gif") else None
            if video is not None:
                entry["uri"], entry["media_type"] = video
            elif isinstance(thumb, str):
                entry["uri"] = thumb
                mime = media_type(thumb)
                if mime:
                    entry["media_type"] = mime
            else:
                continue
            alt = item.get("ext_alt_text", item.get("media_alt"))
            if isinstance(alt, str) and alt:
                entry["alt_text"] = unescape(alt)
            if entry not in out:
                out.append(entry)
        if out:
            break  # extended_entities repeats entities.media with more items; one is enough
    return tuple(out)


def tweet_post(
    item: Any, where: str, ctx: Context, *, name: str, sha256: str, deleted: bool
) -> Post:
    """One tweet (current or Grailbird shape) as a post record."""
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
    raw_text = record_text(item.get("full_text", item.get("text")), where, "full_text")
    text = unescape(raw_text) if raw_text else None
    reply_id = _id_or_none(item.get("in_reply_to_status_id_str", item.get("in_reply_to_status_id")))
    reply_handle = text_or_none(item.get("in_reply_to_screen_name"))
    reply_user = _id_or_none(item.get("in_reply_to_user_id_str", item.get("in_reply_to_user_id")))
    own_reply = ctx.is_own(reply_handle, reply_user)
    cls = default_classification(ctx.account_type, "own_post", created)
    return Post(
        record_id=f"tw-{tweet_id}",
        platform="twitter",
        platform_post_id=tweet_id,
        account=ctx.account,
        account_type=ctx.account_type,
        classification=cls.classification,
        classified_by=cls.classified_by,
        classified_at=cls.classified_at,
        reason=cls.reason,
        direction="own_post",
        created_at=created,
        updated_at=None,
        text=text,
        title=None,
        in_reply_to=reply_id if own_reply else None,
        in_reply_to_account=f"@{reply_handle}" if reply_handle else None,
        in_reply_to_external=None if own_reply else reply_id,
        author=ctx.account,
        is_retweet=bool(text and text.startswith("RT @")) or "retweeted_status" in item,
        attachments=_media(item),
        urls=_entities(item, "urls", "expanded_url"),
        mentions=tuple(f"@{m}" for m in _entities(item, "user_mentions", "screen_name")),
        hashtags=_entities(item, "hashtags", "text"),
        lang=text_or_none(item.get("lang")),
        favorite_count=_count(item.get("favorite_count"), where, "favorite_count"),
        retweet_count=_count(item.get("retweet_count"), where, "retweet_count"),
        source_file=name,
        source_sha256=sha256,
        deleted=deleted,
    )


def _id_or_none(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and _ID.match(value) else None


def mentions_in(text: str | None) -> tuple[str, ...]:
    """@handles written in a text (for archives that list no entities: tweets.csv)."""
    return unique(f"@{m}" for m in _MENTION_IN_TEXT.findall(text or ""))


def import_twitter(
    archive: Path,
    *,
    account: str,
    account_type: AccountType = "personal",
    out: Path,
    limits: ArchiveLimits | None = None,
    pseudonymize_authors: bool | None = None,
    info: PackageInfo | None = None,
    own_handles: tuple[str, ...] = (),
) -> ImportResult:
    """Import an X/Twitter archive (ZIP or folder) into the data package at `out`.

    As `import_facebook`: everything is read and checked before `out` is touched.
    `own_handles` adds handles of the authority's own accounts to those the archive names.
    """
    account = check_account(account, account_type)
    archive = Path(archive)
    with open_export(archive, limits) as opened:
        parsed = parse_twitter(
            opened, account=account, account_type=account_type, own_handles=own_handles
        )
    return write_import(
        parsed,
        export=archive,
        account=account,
        account_type=account_type,
        out=Path(out),
        pseudonymize_authors=pseudonymize_authors,
        info=info,
        own_handles=own_handles,
    )


def parse_twitter(
    export: Export,
    *,
    account: str,
    account_type: AccountType,
    own_handles: Iterable[str] = (),
) -> Parsed:
    from opengov.importers.social import grailbird, twitter_archive

    names = export.names()
    roles = {name: layout.role(name) for name in names}
    record_roles = ("tweets", "deleted", "community", "circle", "grailbird_month", "grailbird_csv")
    if not any(roles[n] in record_roles for n in names):
        wrong_platform(export, "an X/Twitter archive", FACEBOOK_MARKERS, "a Facebook export")
        raise ImportFailed(
            f"{export.label}: no posts found (expected data/tweets.js, tweet.js, "
            "tweets-part<N>.js, deleted-tweets.js, or a pre-2019 archive's data/js/tweets/"
            "YYYY_MM.js or tweets.csv)"
        )
    handles, ids = twitter_archive.own_account(export, names, roles)
    handles |= {h.strip().lstrip("@") for h in own_handles}
    lowered = frozenset(h.lower() for h in handles)
    ctx = Context(account, account_type, lowered, frozenset(ids))
    if any(roles[n] in ("grailbird_month", "grailbird_csv") for n in names):
        posts, reports = grailbird.read(export, names, roles, ctx)
    else:
        posts, reports = {}, {}
    current, current_reports = twitter_archive.read(export, names, roles, ctx)
    for post in current.values():
        twitter_archive.add(posts, post)
    reports.update(current_reports)
    for name in names:
        reports.setdefault(name, twitter_archive.other_file(export, name, roles[name]))
    files = [reports[name] for name in names]
    check_nothing_left_unread(export.label, files)
    if not posts:
        raise ImportFailed(f"{export.label}: the archive holds no posts")
    read = [f for f in export.files_read.values() if reports[f.path].status == "read"]
    own = tuple(sorted(handles, key=str.lower))
    return Parsed(
        "twitter", list(posts.values()), [], sorted(read, key=lambda f: f.path), files, own
    )
