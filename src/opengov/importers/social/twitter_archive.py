"""The files of a current (2019-) X archive: posts, long texts, the account, the manifest.

`manifest.js` lists every data file with its record count. Where it names a file of posts,
the count is checked against what was read, and a listed file that is missing stops the import:
an archive that lost a part must not import as if it were whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from opengov.errors import ImportFailed
from opengov.importers.social import twitter_layout as layout
from opengov.importers.social.archive import Export
from opengov.importers.social.common import load_json_text
from opengov.importers.social.records import Post
from opengov.importers.social.report import FileReport
from opengov.importers.social.twitter import (
    Context,
    parse_js_assignment,
    parse_ytd,
    repair_note,
    tweet_post,
)
from opengov.importers.social.twitter_notes import join_notes, read_notes

_MANIFEST = re.compile(r"\A\s*window\.__THAR_CONFIG\s*=\s*")
_POST_ROLES: dict[layout.Role, str] = {
    "tweets": "posts",
    "deleted": "deleted posts",
    "community": "posts in Communities",
    "circle": "posts to a Circle",
}
# manifest.js data types whose files hold the account's posts or their long texts.
_MANIFEST_TYPES = (
    "tweets", "deletedTweets", "communityTweet", "noteTweet", "deletedNoteTweet",
    "twitterCircleTweet",
)  # fmt: skip


def add(posts: dict[str, Post], post: Post) -> None:
    """First copy wins, except that being listed as deleted anywhere marks the post deleted."""
    earlier = posts.get(post.record_id)
    if earlier is None:
        posts[post.record_id] = post
    elif post.deleted and not earlier.deleted:
        posts[post.record_id] = replace(earlier, deleted=True)


def _ordered(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda n: (layout.part_number(n), n))


def own_account(
    export: Export, names: list[str], roles: dict[str, layout.Role]
) -> tuple[set[str], set[str]]:
    """The archive owner's handles (as written) and account ids, from account.js, the manifest
    and, in old archives, user_details.js."""
    handles: set[str] = set()
    ids: set[str] = set()
    for name in names:
        role = roles[name]
        if role == "account":
            for entry in parse_ytd(load_json_text(export, name), name, export.label):
                account = entry.get("account") if isinstance(entry, dict) else None
                if isinstance(account, dict):
                    _collect(account.get("username"), account.get("accountId"), handles, ids)
        elif role == "manifest":
            manifest = _manifest(export, name)
            info = manifest.get("userInfo") if isinstance(manifest, dict) else None
            if isinstance(info, dict):
                _collect(info.get("userName"), info.get("accountId"), handles, ids)
        elif role == "grailbird_user":
            from opengov.importers.social.grailbird import user_details

            _collect(*user_details(export, name), handles, ids)
    return handles, ids


def _collect(handle: Any, account_id: Any, handles: set[str], ids: set[str]) -> None:
    if isinstance(handle, str) and handle:
        handles.add(handle.lstrip("@"))
    if isinstance(account_id, (str, int)) and str(account_id).isdigit():
        ids.add(str(account_id))


def _manifest(export: Export, name: str) -> Any:
    """manifest.js parsed, or None when it is not in the expected form."""
    try:
        return parse_js_assignment(load_json_text(export, name), name, export.label, _MANIFEST)
    except ImportFailed:
        return None


def read(
    export: Export, names: list[str], roles: dict[str, layout.Role], ctx: Context
) -> tuple[dict[str, Post], dict[str, FileReport]]:
    posts: dict[str, Post] = {}
    reports: dict[str, FileReport] = {}
    counts: dict[str, int] = {}
    for role, what in _POST_ROLES.items():
        for name in _ordered(n for n in names if roles[n] == role):
            repaired = [0]
            items = parse_ytd(load_json_text(export, name), name, export.label, repaired)
            sha = export.files_read[name].sha256
            for position, item in enumerate(items, start=1):
                where = f"{export.label}: {name}, entry {position}"
                post = tweet_post(item, where, ctx, name=name, sha256=sha,
                                  deleted=role == "deleted")  # fmt: skip
                earlier = posts.get(post.record_id)
                if earlier is not None and earlier.text != post.text:
                    # One id, two texts: which is the record? Keeping the first dropped the
                    # other in silence (files of two archives merged, or edited by hand).
                    raise ImportFailed(
                        f"{where} has the id of a post in {earlier.source_file} but another "
                        "text; an archive holds one text per post, so nothing is guessed"
                    )
                add(posts, post)
            counts[name] = len(items)
            reports[name] = FileReport(name, "read", what, len(items), repair_note(repaired))
    for role in ("notes", "deleted_notes"):
        for name in _ordered(n for n in names if roles[n] == role):
            notes = read_notes(export, name)
            joined, orphans = join_notes(export, name, notes, posts, ctx, role == "deleted_notes")
            for post in orphans:
                add(posts, post)
            counts[name] = len(notes)
            note = f"{joined} joined to their posts"
            if orphans:
                note += f"; {len(orphans)} whose post is not in the archive, imported on their own"
            reports[name] = FileReport(name, "read", "full texts of long posts", len(notes), note)
    for name in names:
        if roles[name] == "account":
            reports[name] = FileReport(name, "read", "the account (its handle)", None)
        elif roles[name] == "manifest":
            reports[name] = _check_manifest(export, name, names, counts)
    return posts, reports


def _check_manifest(
    export: Export, name: str, names: list[str], counts: dict[str, int]
) -> FileReport:
    manifest = _manifest(export, name)
    types = manifest.get("dataTypes") if isinstance(manifest, dict) else None
    if not isinstance(types, dict):
        return FileReport(name, "not_understood", "manifest.js in an unknown form")
    problems: list[str] = []
    checked = 0
    for data_type in _MANIFEST_TYPES:
        spec = types.get(data_type)
        files = spec.get("files") if isinstance(spec, dict) else None
        for entry in files if isinstance(files, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("fileName"), str):
                continue
            listed = entry["fileName"]
            count = entry.get("count")
            expected = (
                int(count) if isinstance(count, (int, str)) and str(count).isdigit() else None
            )
            present = [n for n in names if n == listed or n.endswith("/" + listed)]
            if not present:
                if expected:
                    problems.append(f"{listed} holds {expected} records by the manifest but is "
                                    "not in the archive")  # fmt: skip
                continue
            got = counts.get(present[0])
            if expected is not None and got is not None and got != expected:
                problems.append(f"{present[0]}: {got} records read, the manifest says {expected}")
            checked += 1
    if problems:
        raise ImportFailed(
            f"{export.label} is incomplete: its manifest lists more than the archive holds",
            details=problems,
        )
    return FileReport(name, "read", "manifest (record counts checked)", None, f"{checked} files")


def other_file(export: Export, name: str, role: layout.Role) -> FileReport:
    """A file that is not read for records: what it is, and whether it is empty."""
    if role == "media":
        return FileReport(name, "known", "media or other file (not decompressed)")
    if role == "viewer":
        return FileReport(name, "known", "the archive's web viewer")
    if role == "known_data":
        return FileReport(name, "known", "not relevant (no posts of the account)")
    # Unknown data files: empty ones are harmless; others may hold posts nobody reads.
    try:
        items = parse_ytd(load_json_text(export, name), name, export.label)
    except ImportFailed:
        items = None
    if items == []:
        return FileReport(name, "known", "empty data file", 0)
    looks = layout.name_looks_like_records(name)
    note = f"{len(items)} entries" if items is not None else "not a window.YTD data file"
    return FileReport(name, "not_understood", "unknown data file", None, note, looks)
