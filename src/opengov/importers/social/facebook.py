"""Facebook "Download your information" (JSON) to post and comment records.

Which file holds what, in each layout since 2018, is in `facebook_layout`; this module reads
them. What it assumes (docs/social-media.md says more):

- A posts file is a list of posts, or an object holding one (`{"status_updates": [...]}` in
  2018, `{"group_posts_v2": [...]}` for posts in groups). A post is `{"timestamp", "data":
  [{"post"}, {"update_timestamp"}], "attachments", "title"}`; any part but the timestamp may be
  missing, and a post may have nothing but its `title` line.
- `comments.json` (key `comments`, `comments_v2` or `group_comments_v2`) holds comments the
  account wrote, anywhere; they name no post, so they get no `post_record_id`.
- Comments others wrote reach the export on photos and videos: every item of `album/<n>.json`,
  `your_videos.json` and `your_uncategorized_photos.json` may carry a `comments` list. They are
  linked to the post whose attachment is the same media file. A commenter who also wrote
  comments in `comments.json` is the account itself (`own_comment`).
- Posts others wrote on the timeline (`other_people's_posts_to_your_timeline.json`, until 2020)
  become comments with direction `received_post`; their title line, which names the writer, is
  not kept.
- Facebook writes UTF-8 bytes as Latin-1 code points (mojibake); every string, keys included,
  is repaired by an exact round trip before anything else looks at it.
- There are no ids: records get keyed ids (`ids.py`), so the pseudonym key is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from opengov.errors import ImportFailed, LimitExceeded
from opengov.importers.social import facebook_layout as layout
from opengov.importers.social.archive import ArchiveLimits, Export, open_export
from opengov.importers.social.common import (
    TWITTER_MARKERS,
    Parsed,
    hashtags_in,
    json_error,
    load_json_text,
    media_type,
    record_text,
    text_or_none,
    unique,
    urls_in,
    wrong_platform,
)
from opengov.importers.social.ids import keyed_id, require_key
from opengov.importers.social.package import ImportResult, PackageInfo, check_account, write_import
from opengov.importers.social.records import (
    AccountType,
    Attachment,
    Comment,
    Direction,
    Post,
    default_classification,
    epoch_to_iso,
)
from opengov.importers.social.report import FileReport, check_nothing_left_unread
from opengov.limits import load_json
from opengov.redact.keys import PseudonymKey, load_key

# Keys under which an export wraps its list of records, by kind of file.
_POST_KEYS = ("status_updates", "group_posts_v2", "archived_stories_v2", "posts_v2", "posts")
_COMMENT_KEYS = ("comments_v2", "comments", "group_comments_v2")
_VISITOR_KEYS = ("wall_posts_sent_to_you", "activity_log_data")
_MEDIA_KEYS = ("photos", "videos_v2", "other_photos_v2", "photos_v2")


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
    """Where records come from, whose they are, and the key their ids are made with."""

    account: str
    account_type: AccountType
    file: str
    sha256: str
    key: PseudonymKey


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
    key: PseudonymKey | None = None,
    own_handles: tuple[str, ...] = (),
) -> ImportResult:
    """Import a Facebook export (ZIP or folder) into the data package at `out`.

    The whole export is read and checked before anything is written; on any error `out` is
    left as it was. `key` (default: OPENGOV_PSEUDONYM_KEY) makes the record ids; without one
    the import stops with `KeyMissing`. `pseudonymize_authors` (default: whether a key is at
    hand) chooses the rule for commenters' names: pseudonymize, or drop.
    """
    account = check_account(account, account_type)
    key = require_key(key or load_key(), "Facebook")
    export = Path(export)
    with open_export(export, limits) as opened:
        parsed = parse_facebook(opened, account=account, account_type=account_type, key=key)
    return write_import(
        parsed,
        export=export,
        account=account,
        account_type=account_type,
        out=Path(out),
        pseudonymize_authors=True if pseudonymize_authors is None else pseudonymize_authors,
        info=info,
        own_handles=own_handles,
    )


def parse_facebook(
    export: Export, *, account: str, account_type: AccountType, key: PseudonymKey
) -> Parsed:
    names = export.names()
    roles = {name: layout.role(name) for name in names}
    by_role: dict[str, list[str]] = {}
    for name in names:
        by_role.setdefault(roles[name], []).append(name)
    readable = ("posts", "visitor_posts", "comments", "media_comments")
    if not any(by_role.get(r) for r in ("posts", "visitor_posts", "comments")):
        wrong_platform(export, "a Facebook export", TWITTER_MARKERS, "an X/Twitter archive")
        if layout.is_html_export(names):
            raise ImportFailed(
                f"{export.label} is Facebook's HTML export, which opengov cannot read: request "
                "the download again in Facebook (Download your information) choosing the "
                "format JSON"
            )
        raise ImportFailed(
            f"{export.label}: no Facebook posts or comments found (expected your_posts*.json, "
            "profile_posts_<n>.json or comments.json, in any layout since 2018)"
        )
    reader = _Reader(export, account, account_type, key)
    reports: dict[str, FileReport] = {}
    for name in _in_order(by_role.get("comments", [])):
        reports[name] = reader.own_comment_file(name)
    for name in _in_order(by_role.get("posts", [])):
        reports[name] = reader.post_file(name)
    for name in _in_order(by_role.get("visitor_posts", [])):
        reports[name] = reader.visitor_post_file(name)
    for name in _in_order(by_role.get("media_comments", [])):
        reports[name] = reader.media_file(name)
    for name in names:
        if roles[name] not in readable:
            reports[name] = _other_file(export, name, roles[name])
    files = [reports[name] for name in names]
    check_nothing_left_unread(export.label, files)
    posts, comments = reader.records()
    if not posts and not comments:
        raise ImportFailed(f"{export.label}: the export holds no posts and no comments")
    read = sorted(export.files_read.values(), key=lambda f: f.path)
    read = [f for f in read if reports[f.path].status == "read"]
    return Parsed("facebook", posts, comments, read, files)


def _in_order(names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: (n.rsplit("/", 1)[0], layout.part_number(n), n))


def _other_file(export: Export, name: str, role: layout.Role) -> FileReport:
    if role == "media":
        return FileReport(name, "known", "media or other file (not decompressed)")
    if role == "html":
        return FileReport(name, "known", "HTML page (the JSON files hold the same)")
    if role == "known":
        return FileReport(name, "known", "not relevant (no posts or comments of the account)")
    # An unknown JSON file: read it to tell whether it holds posts or comments.
    try:
        value = repair(load_json(load_json_text(export, name), f"{export.label}: {name}"))
    except (ImportFailed, ValueError, RecursionError, LimitExceeded):
        return FileReport(name, "not_understood", "unreadable JSON file", None, None,
                          layout.name_looks_like_records(name))  # fmt: skip
    if not layout.has_entries(value):
        return FileReport(name, "known", "empty data file", 0)
    if layout.looks_like_records(value):
        shaped = "holds entries shaped like posts or comments"
        return FileReport(name, "not_understood", "unknown JSON file", None, shaped, True)
    looks = layout.name_looks_like_records(name)
    named = "its name says posts or comments" if looks else None
    return FileReport(name, "not_understood", "unknown JSON file", None, named, looks)


class _Reader:
    """Reads the files of one export into records, keeping what links them."""

    def __init__(
        self, export: Export, account: str, account_type: AccountType, key: PseudonymKey
    ) -> None:
        self.export = export
        self.account = account
        self.account_type = account_type
        self.key = key
        self.posts: list[Post] = []
        self.nested: list[Comment] = []  # comments that know their post: they win the merge
        self.loose: list[Comment] = []
        self.own_authors: set[str] = set()
        self.post_by_media: dict[str, str] = {}
        self.media_items: list[tuple[dict[str, Any], _Source, str]] = []

    def _source(self, name: str) -> _Source:
        sha = self.export.files_read[name].sha256
        return _Source(self.account, self.account_type, name, sha, self.key)

    def _load(self, name: str) -> Any:
        text = load_json_text(self.export, name)
        try:
            return repair(load_json(text, f"{self.export.label}: {name}"))
        except json.JSONDecodeError as exc:
            raise json_error(self.export, name, exc) from None
        except RecursionError:
            raise ImportFailed(
                f"{self.export.label}: {name} nests too deeply to be a Facebook export file"
            ) from None

    def own_comment_file(self, name: str) -> FileReport:
        data = self._load(name)
        entries = _records_list(data, _COMMENT_KEYS, f"{self.export.label}: {name}", "comments")
        src = self._source(name)
        for position, entry in enumerate(entries, start=1):
            raw = _raw_comment(entry, f"{self.export.label}: {name}, comment {position}")
            if raw.author:
                self.own_authors.add(raw.author)
            self.loose.append(_comment(raw, src, None, "own_comment"))
        return FileReport(name, "read", "comments written by the account", len(entries))

    def post_file(self, name: str) -> FileReport:
        data = self._load(name)
        where = f"{self.export.label}: {name}"
        entries = _records_list(data, _POST_KEYS, where, "posts")
        src = self._source(name)
        nested = title_only = 0
        for position, entry in enumerate(entries, start=1):
            post_where = f"{where}, post {position}"
            post = _post(entry, src, post_where)
            self.posts.append(post)
            title_only += not post.text and post.title is not None
            for attachment in post.attachments:
                if attachment.get("kind") == "media" and "uri" in attachment:
                    self.post_by_media.setdefault(attachment["uri"], post.record_id)
            # Comments inside a post entry are not in any layout seen so far; should one carry
            # them, they are read rather than lost.
            for c_pos, item in enumerate(_list(entry.get("comments"), post_where), start=1):
                raw = _raw_comment(item, f"{post_where}, comment {c_pos}")
                self.nested.append(_comment(raw, src, post.record_id, self._direction(raw)))
                nested += 1
        notes = []
        if title_only:
            notes.append(f"{title_only} without text, with an activity line")
        if nested:
            notes.append(f"{nested} comments inside posts")
        return FileReport(name, "read", "posts", len(entries), "; ".join(notes) or None)

    def visitor_post_file(self, name: str) -> FileReport:
        data = self._load(name)
        where = f"{self.export.label}: {name}"
        entries = _records_list(data, _VISITOR_KEYS, where, "posts")
        src = self._source(name)
        for position, entry in enumerate(entries, start=1):
            entry = _object(entry, f"{where}, post {position}")
            created = epoch_to_iso(entry.get("timestamp"), f"{where}, post {position}")
            text = "\n".join(_post_texts(entry, f"{where}, post {position}")) or None
            attachments = _attachments(entry.get("attachments"), where)
            raw = _RawComment(created, None, text, attachments)
            self.loose.append(_comment(raw, src, None, "received_post"))
        return FileReport(name, "read", "posts others wrote on the timeline", len(entries))

    def media_file(self, name: str) -> FileReport:
        data = self._load(name)
        where = f"{self.export.label}: {name}"
        if isinstance(data, list):
            items = data
        elif isinstance(data, dict):
            key = next((k for k in _MEDIA_KEYS if isinstance(data.get(k), list)), None)
            items = data[key] if key else []
            # Comments on a whole album.
            if isinstance(data.get("comments"), list):
                items = [*items, {"comments": data["comments"]}]
        else:
            raise ImportFailed(f"{where} is neither a list nor an object of photos or videos")
        src = self._source(name)
        count = 0
        for position, item in enumerate(items, start=1):
            item = _object(item, f"{where}, item {position}")
            comments = _list(item.get("comments"), f"{where}, item {position}")
            count += len(comments)
            self.media_items.append((item, src, f"{where}, item {position}"))
        what = "photos or videos (read for the comments on them)"
        return FileReport(name, "read", what, count, f"{len(items)} items")

    def _direction(self, raw: _RawComment) -> Direction:
        return "own_comment" if raw.author in self.own_authors else "received_comment"

    def records(self) -> tuple[list[Post], list[Comment]]:
        # Media comments last: only now are all posts (and their media) and own authors known.
        for item, src, where in self.media_items:
            uri = text_or_none(item.get("uri"))
            post_id = self.post_by_media.get(uri) if uri else None
            for c_pos, entry in enumerate(_list(item.get("comments"), where), start=1):
                raw = _raw_comment(entry, f"{where}, comment {c_pos}")
                self.nested.append(_comment(raw, src, post_id, self._direction(raw)))
        posts = _dedupe_posts(self.posts)
        return posts, _merge_comments([*self.nested, *self.loose])


def _records_list(data: Any, keys: tuple[str, ...], where: str, what: str) -> list[Any]:
    """The list of records in a file: the file itself, or under one of the wrapping keys."""
    for _ in range(2):  # {"wall_posts_sent_to_you": {"activity_log_data": [...]}} nests twice
        if isinstance(data, list):
            return data
        if not isinstance(data, dict):
            break
        key = next((k for k in keys if k in data), None)
        if key is None:
            lists = [k for k, v in data.items() if isinstance(v, list)]
            if len(lists) != 1:
                break
            key = lists[0]
        data = data[key]
    raise ImportFailed(f"{where} is not a list of {what} (nor an object holding one)")


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


def _post_texts(entry: dict[str, Any], where: str) -> list[str]:
    texts = (
        record_text(item.get("post"), where, "post")
        for item in _list(entry.get("data"), where)
        if isinstance(item, dict)
    )
    return [t for t in texts if t]


def _post(entry: Any, src: _Source, where: str) -> Post:
    entry = _object(entry, where)
    created = epoch_to_iso(entry.get("timestamp"), where)
    updated: str | None = None
    for item in _list(entry.get("data"), where):
        if isinstance(item, dict) and "update_timestamp" in item:
            updated = epoch_to_iso(item["update_timestamp"], where)
    text = "\n".join(_post_texts(entry, where)) or None
    title = text_or_none(entry.get("title"))
    attachments = _attachments(entry.get("attachments"), where)
    links = [a["url"] for a in attachments if "url" in a]
    cls = default_classification(src.account_type, "own_post", created)
    return Post(
        record_id="fb-" + keyed_id(src.key, "post", src.account, created, text or ""),
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
        title=title,
        in_reply_to=None,
        in_reply_to_account=None,
        in_reply_to_external=None,
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
        text=record_text(inner.get("comment"), where, "comment"),
        attachments=_attachments(item.get("attachments"), where),
    )


def _comment(
    raw: _RawComment, src: _Source, post_record_id: str | None, direction: Direction
) -> Comment:
    cls = default_classification(src.account_type, direction, raw.created_at)
    key = keyed_id(
        src.key, "comment", src.account, raw.created_at, raw.author or "", raw.text or ""
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
    """The comment id digests time, author and text, so one id is one comment: keep the copy
    that knows its post (nested and media comments come before comments.json's)."""
    kept: dict[str, Comment] = {}
    for comment in comments:
        if comment.record_id not in kept:
            kept[comment.record_id] = comment
    return list(kept.values())
