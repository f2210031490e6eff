"""Pre-2019 X/Twitter archives ("Grailbird"), where the posts of 2008-2012 usually are.

`data/js/tweets/YYYY_MM.js` holds one month: `Grailbird.data.tweets_YYYY_MM = [ {...} ]`, each
post in the API's own shape (`id_str`, `text`, `created_at` as "2012-03-14 08:12:33 +0000",
`entities`, `in_reply_to_*`, `retweeted_status`, `user`). `data/js/tweet_index.js` lists the
month files with their counts, which are checked. `tweets.csv` holds the same posts in ten
columns; a post found only there is imported from it, with mentions and hashtags taken from the
text (the CSV has no entities).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from opengov.errors import ImportFailed
from opengov.importers.social import twitter_layout as layout
from opengov.importers.social.archive import Export
from opengov.importers.social.common import hashtags_in, load_json_text, unique, urls_in
from opengov.importers.social.records import Post, default_classification
from opengov.importers.social.report import FileReport
from opengov.importers.social.twitter import (
    Context,
    mentions_in,
    parse_js_assignment,
    parse_twitter_date,
    repair_note,
    tweet_post,
    unescape,
)

_MONTH = re.compile(r"\A\s*Grailbird\.data\.tweets_\d{4}_\d{2}\s*=\s*")
_INDEX = re.compile(r"\A\s*var\s+tweet_index\s*=\s*")
_USER = re.compile(r"\A\s*var\s+user_details\s*=\s*")
_CSV_COLUMNS = ("tweet_id", "timestamp", "text")
_ID = re.compile(r"^[0-9]{1,25}$")


def user_details(export: Export, name: str) -> tuple[Any, Any]:
    """(screen_name, id) of the archive's account."""
    try:
        value = parse_js_assignment(load_json_text(export, name), name, export.label, _USER)
    except ImportFailed:
        return None, None
    if not isinstance(value, dict):
        return None, None
    return value.get("screen_name"), value.get("id_str", value.get("id"))


def read(
    export: Export, names: list[str], roles: dict[str, layout.Role], ctx: Context
) -> tuple[dict[str, Post], dict[str, FileReport]]:
    posts: dict[str, Post] = {}
    reports: dict[str, FileReport] = {}
    counts: dict[str, int] = {}
    for name in sorted(n for n in names if roles[n] == "grailbird_month"):
        repaired = [0]
        value = parse_js_assignment(
            load_json_text(export, name), name, export.label, _MONTH, repaired
        )
        if not isinstance(value, list):
            raise ImportFailed(f"{export.label}: {name} does not hold a list of posts")
        sha = export.files_read[name].sha256
        for position, item in enumerate(value, start=1):
            where = f"{export.label}: {name}, entry {position}"
            post = tweet_post(item, where, ctx, name=name, sha256=sha, deleted=False)
            posts.setdefault(post.record_id, post)
        counts[name] = len(value)
        reports[name] = FileReport(
            name,
            "read",
            "posts of one month (pre-2019 archive)",
            len(value),
            repair_note(repaired),
        )
    for name in sorted(n for n in names if roles[n] == "grailbird_csv"):
        rows = _csv_rows(export, name)
        sha = export.files_read[name].sha256
        added = 0
        for line, row in rows:
            post = _csv_post(row, f"{export.label}: {name}, line {line}", ctx, name, sha)
            if post.record_id not in posts:
                posts[post.record_id] = post
                added += 1
        note = f"{added} not in the month files" if counts else None
        reports[name] = FileReport(name, "read", "posts (pre-2019 archive)", len(rows), note)
    for name in names:
        if roles[name] == "grailbird_index":
            reports[name] = _check_index(export, name, names, counts)
        elif roles[name] == "grailbird_user":
            reports[name] = FileReport(name, "read", "the account (its handle)", None)
    return posts, reports


def _csv_rows(export: Export, name: str) -> list[tuple[int, dict[str, str]]]:
    text = load_json_text(export, name)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in _CSV_COLUMNS if c not in header]
        if missing:
            raise ImportFailed(
                f"{export.label}: {name} lacks the column(s) {', '.join(missing)} of tweets.csv"
            )
        return [(reader.line_num, dict(row)) for row in reader]
    except csv.Error:
        raise ImportFailed(f"{export.label}: {name} line {reader.line_num} is not CSV") from None


def _csv_post(row: dict[str, str], where: str, ctx: Context, name: str, sha256: str) -> Post:
    tweet_id = (row.get("tweet_id") or "").strip()
    if not _ID.match(tweet_id):
        raise ImportFailed(f"{where}: tweet_id is missing or not a number")
    created = parse_twitter_date((row.get("timestamp") or "").strip(), where)
    raw = row.get("text") or ""
    text = unescape(raw) if raw else None
    reply_id = (row.get("in_reply_to_status_id") or "").strip() or None
    reply_user = (row.get("in_reply_to_user_id") or "").strip() or None
    own_reply = ctx.is_own(None, reply_user)
    expanded = [u for u in (row.get("expanded_urls") or "").split(",") if u.strip()]
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
        in_reply_to=reply_id if own_reply and reply_id and _ID.match(reply_id) else None,
        in_reply_to_account=None,
        in_reply_to_external=None if own_reply or not reply_id else reply_id,
        author=ctx.account,
        is_retweet=bool((row.get("retweeted_status_id") or "").strip())
        or bool(text and text.startswith("RT @")),
        attachments=(),
        urls=unique([u.strip() for u in expanded] or urls_in(text)),
        mentions=mentions_in(text),
        hashtags=hashtags_in(text),
        lang=None,
        favorite_count=None,
        retweet_count=None,
        source_file=name,
        source_sha256=sha256,
        deleted=False,
    )


def _check_index(export: Export, name: str, names: list[str], counts: dict[str, int]) -> FileReport:
    try:
        index = parse_js_assignment(load_json_text(export, name), name, export.label, _INDEX)
    except ImportFailed:
        index = None
    if not isinstance(index, list):
        return FileReport(name, "not_understood", "tweet_index.js in an unknown form")
    problems: list[str] = []
    for entry in index:
        if not isinstance(entry, dict) or not isinstance(entry.get("file_name"), str):
            continue
        listed, expected = entry["file_name"], entry.get("tweet_count")
        present = [n for n in names if n == listed or n.endswith("/" + listed)]
        if not present:
            problems.append(f"{listed} is listed in the index but not in the archive")
        elif isinstance(expected, int) and counts.get(present[0]) != expected:
            problems.append(
                f"{present[0]}: {counts.get(present[0])} posts read, the index says {expected}"
            )
    if problems:
        raise ImportFailed(
            f"{export.label} is incomplete: its tweet index lists more than the archive holds",
            details=problems,
        )
    return FileReport(name, "read", "index of the month files (counts checked)", None)
