"""Facebook "Download your information" (JSON) to post and comment records.

What the export holds and what this module assumes (docs/social-media.md says more):

- Posts are in every `your_posts*_<n>.json` (old `posts/your_posts_1.json`, new
  `your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json`).
- `comments.json` (`comments_and_reactions/` or `comments/`, key `comments_v2` or `comments`)
  holds comments the account itself wrote, anywhere. They carry no reference to a post, so
  they are `own_comment` with no `post_record_id` (and the publish rules drop them).
- Comments others wrote on the account's posts are not in the standard export. When a page
  export carries them, they come as a `comments` list inside the post entry, each shaped like a
  `comments.json` comment; those are linked to their post. A nested comment whose author also
  wrote comments in `comments.json` is the account's own reply, otherwise it was received.
- Facebook writes UTF-8 bytes as Latin-1 code points (mojibake); every string, keys included,
  is repaired by an exact round trip before anything else looks at it.
- There is no post id and no audience: ids are derived from the content, and audience comes
  from classification only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from opengov.errors import ImportFailed
from opengov.importers.social.archive import ArchiveLimits, Export, open_export
from opengov.importers.social.common import (
    TWITTER_MARKERS,
    Parsed,
    hashtags_in,
    json_error,
    load_json_text,
    media_type,
    text_or_none,
    unique,
    urls_in,
    wrong_platform,
)
from opengov.importers.social.package import ImportResult, PackageInfo, check_account, write_import
from opengov.importers.social.records import (
    AccountType,
    Attachment,
    Comment,
    Direction,
    Post,
    default_classification,
    epoch_to_iso,
    short_hash,
)

_POST_FILE = re.compile(r"(?:^|/)your_posts[^/]*_(\d+)\.json$")
_COMMENT_FILE = re.compile(r"(?:^|/)comments(?:_and_reactions)?/comments\.json$")
_COMMENT_KEYS = ("comments_v2", "comments")


def repair_mojibake(value: str) -> str:
    """Undo Facebook's Latin-1 rendering of UTF-8 bytes; keep strings that were not mojibake.

    Deterministic rather than heuristic: a string is changed only when it encodes to Latin-1 and
    those bytes are valid UTF-8. Proper Swedish text ("å" as U+00E5 alone) fails the UTF-8
    decode and is kept as it is.
    """
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def repair(value: Any) -> Any:
    """`repair_mojibake` on every string of a parsed JSON document, keys included."""
    if isinstance(value, str):
        return repair_mojibake(value)
    if isinstance(value, list):
        return [repair(item) for item in value]
    if isinstance(value, dict):
        return {repair_mojibake(str(k)): repair(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class _Source:
    """Where records come from and whose they are."""

    account: str
    account_type: AccountType
    file: str
    sha256: str


@dataclass(frozen=True)
class _RawComment:
    created_at: str
    author: str | None
    text: str | None
    attachments: tuple[Attachment, ...]


def import_facebook(
    export: Path,
    *,
    account: str,
    account_type: AccountType = "personal",
    out: Path,
    limits: ArchiveLimits | None = None,
    pseudonymize_authors: bool | None = None,
    info: PackageInfo | None = None,
) -> ImportResult:
    """Import a Facebook export (ZIP or folder) into the data package at `out`.

    The whole export is read and checked before anything is written; on any error `out` is
    left as it was. `pseudonymize_authors` (default: whether OPENGOV_PSEUDONYM_KEY is set)
    chooses the rule for commenters' names: pseudonymize, or drop.
    """
    account = check_account(account, account_type)
    export = Path(export)
    with open_export(export, limits) as opened:
        parsed = parse_facebook(opened, account=account, account_type=account_type)
    return write_import(
        parsed,
        export=export,
        account=account,
        account_type=account_type,
        out=Path(out),
        pseudonymize_authors=pseudonymize_authors,
        info=info,
    )


def parse_facebook(export: Export, *, account: str, account_type: AccountType) -> Parsed:
    names = export.names()
    numbered = [(m, n) for n in names if (m := _POST_FILE.search(n))]
    post_files = [n for m, n in sorted(numbered, key=lambda mn: (int(mn[0].group(1)), mn[1]))]
    comment_files = [n for n in names if _COMMENT_FILE.search(n)]
    if not post_files and not comment_files:
        wrong_platform(export, "a Facebook export", TWITTER_MARKERS, "an X/Twitter archive")
        raise ImportFailed(
            f"{export.label}: no Facebook posts or comments found "
            "(expected your_posts*_<n>.json or comments.json)"
        )
    own: list[tuple[_RawComment, _Source]] = []
    for name in comment_files:
        own.extend(_read_comment_file(export, name, account, account_type))
    own_authors = {raw.author for raw, _ in own if raw.author}
    posts: list[Post] = []
    comments: list[Comment] = []
    for name in post_files:
        file_posts, file_comments = _read_post_file(
            export, name, account, account_type, own_authors
        )
        posts.extend(file_posts)
        comments.extend(file_comments)
    # Own comments last: a nested copy of the same comment (linked to its post) wins the merge.
    comments.extend(_comment(raw, src, None, "own_comment") for raw, src in own)
    if not posts and not comments:
        raise ImportFailed(f"{export.label}: the export holds no posts and no comments")
    files = sorted(export.files_read.values(), key=lambda f: f.path)
    return Parsed("facebook", _dedupe_posts(posts), _merge_comments(comments), files)


def _load(export: Export, name: str) -> Any:
    text = load_json_text(export, name)
    try:
        return repair(json.loads(text))
    except json.JSONDecodeError as exc:
        raise json_error(export, name, exc) from None


def _source(export: Export, name: str, account: str, account_type: AccountType) -> _Source:
    return _Source(account, account_type, name, export.files_read[name].sha256)


def _read_post_file(
    export: Export, name: str, account: str, account_type: AccountType, own_authors: set[str]
) -> tuple[list[Post], list[Comment]]:
    data = _load(export, name)
    if not isinstance(data, list):
        raise ImportFailed(f"{export.label}: {name} is not a list of posts")
    src = _source(export, name, account, account_type)
    posts: list[Post] = []
    comments: list[Comment] = []
    for position, entry in enumerate(data, start=1):
        where = f"{export.label}: {name}, post {position}"
        post = _post(entry, src, where)
        posts.append(post)
        for c_pos, item in enumerate(_list(entry.get("comments"), where), start=1):
            raw = _raw_comment(item, f"{where}, comment {c_pos}")
            direction: Direction = (
                "own_comment" if raw.author in own_authors else "received_comment"
            )
            comments.append(_comment(raw, src, post.record_id, direction))
    return posts, comments


def _read_comment_file(
    export: Export, name: str, account: str, account_type: AccountType
) -> list[tuple[_RawComment, _Source]]:
    data = _load(export, name)
    if isinstance(data, dict):
        key = next((k for k in _COMMENT_KEYS if k in data), None)
        if key is None:
            raise ImportFailed(f"{export.label}: {name} has neither comments_v2 nor comments")
        data = data[key]
    entries = _list(data, f"{export.label}: {name}")
    src = _source(export, name, account, account_type)
    return [
        (_raw_comment(entry, f"{export.label}: {name}, comment {position}"), src)
        for position, entry in enumerate(entries, start=1)
    ]


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportFailed(f"{where}: expected a list")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFailed(f"{where} is not a JSON object")
    return value


def _post(entry: Any, src: _Source, where: str) -> Post:
    entry = _object(entry, where)
    created = epoch_to_iso(entry.get("timestamp"), where)
    texts: list[str] = []
    updated: str | None = None
    for item in _list(entry.get("data"), where):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("post"), str) and item["post"]:
            texts.append(item["post"])
        if "update_timestamp" in item:
            updated = epoch_to_iso(item["update_timestamp"], where)
    text = "\n".join(texts) or None
    attachments = _attachments(entry.get("attachments"), where)
    links = [a["url"] for a in attachments if "url" in a]
    cls = default_classification(src.account_type, "own_post", created)
    return Post(
        record_id="fb-" + short_hash("facebook", src.account, created, text or ""),
        platform="facebook",
        platform_post_id=None,
        account=src.account,
        account_type=src.account_type,
        classification=cls.classification,
        classified_by=cls.classified_by,
        classified_at=cls.classified_at,
        reason=cls.reason,
        direction="own_post",
        created_at=created,
        updated_at=updated,
        text=text,
        in_reply_to=None,
        author=src.account,
        is_retweet=False,
        attachments=attachments,
        urls=unique([*urls_in(text), *links]),
        # Facebook `tags` name private friends: left out (data minimisation), see the docs.
        mentions=(),
        hashtags=hashtags_in(text),
        lang=None,
        favorite_count=None,
        retweet_count=None,
        source_file=src.file,
        source_sha256=src.sha256,
        deleted=False,
    )


def _raw_comment(item: Any, where: str) -> _RawComment:
    """A comment in comments.json shape (`data[].comment`) or bare (`{timestamp, comment}`)."""
    item = _object(item, where)
    inner: dict[str, Any] = item
    for datum in _list(item.get("data"), where):
        if isinstance(datum, dict) and isinstance(datum.get("comment"), dict):
            inner = datum["comment"]
            break
    stamp = inner.get("timestamp", item.get("timestamp"))
    return _RawComment(
        created_at=epoch_to_iso(stamp, where),
        author=text_or_none(inner.get("author")),
        text=text_or_none(inner.get("comment")),
        attachments=_attachments(item.get("attachments"), where),
    )


def _comment(
    raw: _RawComment, src: _Source, post_record_id: str | None, direction: Direction
) -> Comment:
    cls = default_classification(src.account_type, direction, raw.created_at)
    key = short_hash(
        "facebook", "comment", src.account, raw.created_at, raw.author or "", raw.text or ""
    )
    return Comment(
        record_id="fbc-" + key,
        post_record_id=post_record_id,
        platform="facebook",
        account=src.account,
        account_type=src.account_type,
        classification=cls.classification,
        classified_by=cls.classified_by,
        classified_at=cls.classified_at,
        reason=cls.reason,
        direction=direction,
        created_at=raw.created_at,
        author=raw.author,
        text=raw.text,
        attachments=raw.attachments,
        source_file=src.file,
        source_sha256=src.sha256,
    )


def _attachments(raw: Any, where: str) -> tuple[Attachment, ...]:
    out: list[Attachment] = []
    for attachment in _list(raw, where):
        if not isinstance(attachment, dict):
            continue
        for item in _list(attachment.get("data"), where):
            if isinstance(item, dict):
                out.extend(_attachment(str(kind), value) for kind, value in item.items())
    return tuple(out)


def _attachment(kind: str, value: Any) -> Attachment:
    """Keep what identifies the attachment; never `media_metadata` (EXIF, upload_ip, GPS)
    nor a place's coordinate and address."""
    spec = value if isinstance(value, dict) else {}
    if kind == "media":
        uri = text_or_none(spec.get("uri"))
        kept = {"kind": "media", "uri": uri, "media_type": media_type(uri) if uri else None}
    elif kind == "place":
        kept = {"kind": "place", "name": text_or_none(spec.get("name"))}
    elif kind == "external_context":
        kept = {
            "kind": "link",
            "url": text_or_none(spec.get("url")),
            "name": text_or_none(spec.get("name")),
        }
    elif kind in ("event", "note"):
        kept = {"kind": kind, "name": text_or_none(spec.get("name") or spec.get("title"))}
    else:
        # Unknown attachment kinds: record that there was one, keep none of its content.
        kept = {"kind": kind}
    return {k: v for k, v in kept.items() if v is not None}


def _dedupe_posts(posts: list[Post]) -> list[Post]:
    """One record per id. Exact repeats (Facebook repeats posts across split files) collapse;
    different posts with the same time and text (a batch of photos) get `-2`, `-3`, ... in
    export order."""
    kept: dict[str, Post] = {}
    for post in posts:
        if post.record_id not in kept:
            kept[post.record_id] = post
            continue
        if _same_content(kept[post.record_id], post):
            continue
        suffix = 2
        while f"{post.record_id}-{suffix}" in kept:
            suffix += 1
        new_id = f"{post.record_id}-{suffix}"
        kept[new_id] = replace(post, record_id=new_id)
    return list(kept.values())


def _same_content(a: Post, b: Post) -> bool:
    return replace(a, source_file="", source_sha256="") == replace(
        b, source_file="", source_sha256=""
    )


def _merge_comments(comments: list[Comment]) -> list[Comment]:
    """The comment id hashes time, author and text, so one id is one comment: keep the copy
    that knows its post (nested comments come before comments.json's)."""
    kept: dict[str, Comment] = {}
    for comment in comments:
        if comment.record_id not in kept:
            kept[comment.record_id] = comment
    return list(kept.values())
