"""Long posts: X keeps a post over 280 characters cut ("…") in tweets.js and its full text in
note-tweet.js. The two are joined here, so a record holds what was published.

A note is `{"noteTweet": {"noteTweetId", "createdAt": "2023-08-12T16:10:37.000Z", "core":
{"text", "urls", "mentions", "hashtags", ...}}}`; some archives write `noteTweetResults` for
`core`, and some name the post (`tweetId`). The note names no post in most archives, so a note
belongs to the post made within two seconds of it whose cut text begins the note's text (links
and the closing "…" set aside). More than one such post is an error (nothing is guessed); a note
with no post (the post is gone from the archive) becomes a record of its own, `twn-<note id>`,
so its text is not lost.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from opengov.errors import ImportFailed
from opengov.importers.social.archive import Export
from opengov.importers.social.common import hashtags_in, load_json_text, text_or_none, unique
from opengov.importers.social.records import Post, default_classification
from opengov.importers.social.twitter import Context, mentions_in, parse_ytd, unescape

_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?Z$")
_LINK = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")
_ID = re.compile(r"^[0-9]{1,25}$")
_WINDOW_SECONDS = 2


@dataclass(frozen=True)
class Note:
    position: int
    note_id: str
    created_at: str  # YYYY-MM-DDTHH:MM:SSZ
    text: str
    tweet_id: str | None
    urls: tuple[str, ...]
    mentions: tuple[str, ...]
    hashtags: tuple[str, ...]


def read_notes(export: Export, name: str) -> list[Note]:
    items = parse_ytd(load_json_text(export, name), name, export.label)
    return [_note(item, f"{export.label}: {name}, entry {i}", i) for i, item in enumerate(items, 1)]


def _note(item: Any, where: str, position: int) -> Note:
    note = item.get("noteTweet") if isinstance(item, dict) else None
    if not isinstance(note, dict):
        raise ImportFailed(f"{where} is not a noteTweet object")
    note_id = note.get("noteTweetId")
    if not isinstance(note_id, str) or not _ID.match(note_id):
        raise ImportFailed(f"{where}: noteTweetId is missing or not a number")
    core = note.get("core", note.get("noteTweetResults"))
    text = core.get("text") if isinstance(core, dict) else None
    if not isinstance(text, str):
        raise ImportFailed(f"{where}: the note has no text")
    created = _iso(note.get("createdAt"), where)
    tweet_id = note.get("tweetId")
    entities = core.get("entitySet", core) if isinstance(core, dict) else {}
    return Note(
        position=position,
        note_id=note_id,
        created_at=created,
        text=unescape(text),
        tweet_id=tweet_id if isinstance(tweet_id, str) and _ID.match(tweet_id) else None,
        urls=_values(entities, "urls", ("expandedUrl", "expanded_url")),
        mentions=tuple(
            f"@{m}"
            for m in _values(entities, ("mentions", "userMentions"), ("screenName", "screen_name"))
        ),
        hashtags=_values(entities, "hashtags", ("text", "tag")),
    )


def _values(entities: Any, keys: str | tuple[str, ...], fields: tuple[str, ...]) -> tuple[str, ...]:
    """Entity values, whether the list holds strings or objects naming them."""
    if not isinstance(entities, dict):
        return ()
    keys = (keys,) if isinstance(keys, str) else keys
    out: list[str] = []
    for key in keys:
        items = entities.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, str):
                out.append(item.lstrip("@#"))
            elif isinstance(item, dict):
                out.extend(item[f] for f in fields if isinstance(item.get(f), str))
    return unique(out)


def _iso(value: Any, where: str) -> str:
    match = _ISO.match(value) if isinstance(value, str) else None
    if match is None:
        raise ImportFailed(f"{where}: createdAt is missing or not an ISO 8601 UTC time")
    try:
        y, mo, d, h, mi, se = (int(g) for g in match.groups())
        datetime(y, mo, d, h, mi, se)
    except ValueError:
        raise ImportFailed(f"{where}: createdAt is not a real time") from None
    return "{}-{}-{}T{}:{}:{}Z".format(*match.groups())


def _seconds(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def _stem(text: str | None) -> str:
    """What a cut post and its full text share: no links, one space, no closing ellipsis."""
    cleaned = _SPACE.sub(" ", _LINK.sub(" ", text or "")).strip()
    return cleaned.rstrip("…").rstrip(".").strip()


def join_notes(
    export: Export, name: str, notes: list[Note], posts: dict[str, Post], ctx: Context,
    deleted: bool,
) -> tuple[int, list[Post]]:  # fmt: skip
    """Put each note's full text into its post (in `posts`); return how many were joined and
    the notes without a post, as records of their own."""
    joined = 0
    orphans: list[Post] = []
    sha = export.files_read[name].sha256
    for note in notes:
        where = f"{export.label}: {name}, entry {note.position}"
        target = _post_for(note, posts, where)
        if target is None:
            orphans.append(_orphan(note, ctx, name, sha, deleted))
            continue
        post = posts[target]
        posts[target] = replace(
            post,
            text=note.text,
            urls=unique([*post.urls, *note.urls]),
            mentions=unique([*post.mentions, *note.mentions, *mentions_in(note.text)]),
            hashtags=unique([*post.hashtags, *note.hashtags, *hashtags_in(note.text)]),
        )
        joined += 1
    return joined, orphans


def _post_for(note: Note, posts: dict[str, Post], where: str) -> str | None:
    if note.tweet_id and f"tw-{note.tweet_id}" in posts:
        return f"tw-{note.tweet_id}"
    when = _seconds(note.created_at)
    full = _stem(note.text)
    candidates = [
        record_id
        for record_id, post in posts.items()
        if post.platform_post_id
        and abs(_seconds(post.created_at) - when) <= _WINDOW_SECONDS
        and full.startswith(_stem(post.text))
    ]
    if len(candidates) > 1:
        raise ImportFailed(
            f"{where}: the long text fits {len(candidates)} posts made at the same time; "
            "opengov does not guess which"
        )
    return candidates[0] if candidates else None


def _orphan(note: Note, ctx: Context, name: str, sha256: str, deleted: bool) -> Post:
    cls = default_classification(ctx.account_type, "own_post", note.created_at)
    return Post(
        record_id=f"twn-{note.note_id}",
        platform="twitter",
        platform_post_id=None,
        account=ctx.account,
        account_type=ctx.account_type,
        classification=cls.classification,
        classified_by=cls.classified_by,
        classified_at=cls.classified_at,
        reason=cls.reason,
        direction="own_post",
        created_at=note.created_at,
        updated_at=None,
        text=text_or_none(note.text),
        title=None,
        in_reply_to=None,
        in_reply_to_account=None,
        in_reply_to_external=None,
        author=ctx.account,
        is_retweet=False,
        attachments=(),
        urls=note.urls,
        mentions=unique([*note.mentions, *mentions_in(note.text)]),
        hashtags=unique([*note.hashtags, *hashtags_in(note.text)]),
        lang=None,
        favorite_count=None,
        retweet_count=None,
        source_file=name,
        source_sha256=sha256,
        deleted=deleted,
    )
