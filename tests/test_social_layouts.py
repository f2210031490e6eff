"""Every export layout: records in and out, the per-file report, byte-identical re-imports,
and no file that looks like posts or comments passed over in silence."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from social_support import (
    FB_2018,
    FB_2019,
    FB_2023,
    FB_HTML,
    FB_PAGE,
    FB_PERSONAL,
    X_2019,
    X_2024,
    X_GRAILBIRD,
    copy_tree,
    key_env,  # noqa: F401  (a fixture)
    rows,
    snapshot,
    zip_dir,
)

from opengov.errors import ImportFailed, UnreadExportFiles
from opengov.importers.social import import_facebook, import_twitter
from opengov.importers.social.report import STATUSES

pytestmark = pytest.mark.usefixtures("key_env")
FB23 = "your_activity_across_facebook"

# layout: (importer, posts read, comments read, {file: records} for every file read)
LAYOUTS = {
    "facebook-2018": (
        FB_2018,
        import_facebook,
        4,
        5,
        {
            "posts/your_posts.json": 4,
            "comments/comments.json": 2,
            "photos_and_videos/album/0.json": 2,
            "posts/other_people's_posts_to_your_timeline.json": 1,
        },
    ),
    "facebook-2019": (
        FB_2019,
        import_facebook,
        5,
        4,
        {
            "posts/your_posts_1.json": 2,
            "posts/your_posts_2.json": 3,
            "posts/album/0.json": 1,
            "posts/your_videos.json": 2,
            "comments_and_reactions/comments.json": 2,
        },
    ),
    "facebook-2023": (
        FB_2023,
        import_facebook,
        2,
        1,
        {
            f"{FB23}/posts/your_posts__check_ins__photos_and_videos_1.json": 2,
            f"{FB23}/comments_and_reactions/comments.json": 1,
        },
    ),
    "facebook-personal": (
        FB_PERSONAL,
        import_facebook,
        7,
        1,
        {
            "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json": 3,
            "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_2.json": 4,
            "your_facebook_activity/comments_and_reactions/comments.json": 1,
        },
    ),
    "facebook-page-2025": (
        FB_PAGE,
        import_facebook,
        5,
        6,
        {
            "this_profile's_activity_across_facebook/posts/profile_posts_1.json": 2,
            "this_profile's_activity_across_facebook/posts/profile_posts_2.json": 3,
            "this_profile's_activity_across_facebook/posts/album/0.json": 5,
            "this_profile's_activity_across_facebook/comments_and_reactions/comments.json": 2,
        },
    ),
    "twitter-2019": (
        X_2019,
        import_twitter,
        4,
        0,
        {
            "data/tweet.js": 2,
            "data/tweet-part1.js": 1,
            "data/deleted-tweet.js": 1,
            "data/account.js": None,
            "data/manifest.js": None,
        },
    ),
    "twitter-2024": (
        X_2024,
        import_twitter,
        15,
        0,
        {
            "data/tweets.js": 9,
            "data/tweets-part1.js": 2,
            "data/deleted-tweets.js": 1,
            "data/deleted-tweets-part1.js": 1,
            "data/note-tweet.js": 2,
            "data/community-tweet.js": 1,
            "data/twitter-circle-tweet.js": 0,
            "data/account.js": None,
            "data/manifest.js": None,
        },
    ),
    "twitter-grailbird": (
        X_GRAILBIRD,
        import_twitter,
        6,
        0,
        {
            "data/js/tweets/2009_07.js": 1,
            "data/js/tweets/2010_06.js": 2,
            "data/js/tweets/2012_03.js": 2,
            "tweets.csv": 6,
            "data/js/tweet_index.js": None,
            "data/js/user_details.js": None,
        },
    ),
}
# Records each layout's package holds, after merging copies (an own comment that is also on a
# photo is one record; a post repeated in its long text's note is one record).
PACKAGE_ROWS = {
    "facebook-2018": (4, 5),
    "facebook-2019": (5, 4),
    "facebook-2023": (2, 1),
    "facebook-personal": (7, 1),
    "facebook-page-2025": (5, 6),
    "twitter-2019": (4, 0),
    "twitter-2024": (15, 0),
    "twitter-grailbird": (6, 0),
}


def _import(layout: str, export: Path, out: Path, **kw: object):  # type: ignore[no-untyped-def]
    _, importer, *_ = LAYOUTS[layout]
    return importer(export, account="Konto", account_type="official", out=out, **kw)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_record_in_is_a_record_out(layout: str, tmp_path: Path) -> None:
    export, _, posts_in, comments_in, read = LAYOUTS[layout]
    result = _import(layout, export, tmp_path / "pkg")
    assert (result.posts.read, result.comments.read) == (posts_in, comments_in)
    posts_out, comments_out = PACKAGE_ROWS[layout]
    assert len(rows(tmp_path / "pkg" / "posts.csv")) == posts_out == result.posts.total
    assert len(rows(tmp_path / "pkg" / "comments.csv")) == comments_out == result.comments.total
    reported = {f.path: f.records for f in result.files if f.status == "read"}
    assert reported == read


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_file_of_the_export_is_in_the_report(layout: str, tmp_path: Path) -> None:
    export = LAYOUTS[layout][0]
    result = _import(layout, export, tmp_path / "pkg")
    on_disk = sorted(p.relative_to(export).as_posix() for p in export.rglob("*") if p.is_file())
    assert sorted(f.path for f in result.files) == on_disk
    assert all(f.status in STATUSES for f in result.files)
    assert not [f for f in result.files if f.status == "not_understood"]
    data = result.to_dict()
    assert data["files_by_status"]["read"] == len(LAYOUTS[layout][4])
    assert sum(data["files_by_status"].values()) == len(on_disk)
    # Provenance lists exactly the files read, with their hashes.
    sources = json.loads((tmp_path / "pkg" / "datapackage.json").read_text(encoding="utf-8"))
    assert sorted(s["path"] for s in sources["sources"]) == sorted(LAYOUTS[layout][4])


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_reimport_and_fresh_import_are_byte_identical(layout: str, tmp_path: Path) -> None:
    export = LAYOUTS[layout][0]
    _import(layout, export, tmp_path / "1" / "pkg")
    first = snapshot(tmp_path / "1" / "pkg")
    again = _import(layout, export, tmp_path / "1" / "pkg")
    assert (again.posts.added, again.posts.updated, again.comments.added) == (0, 0, 0)
    assert snapshot(tmp_path / "1" / "pkg") == first
    # A fresh import of the same export as the platform's ZIP: the same bytes.
    _import(layout, zip_dir(export, tmp_path / "e.zip"), tmp_path / "2" / "pkg")
    assert snapshot(tmp_path / "2" / "pkg") == first


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_zip_with_a_top_folder_gives_the_same_records(layout: str, tmp_path: Path) -> None:
    export = LAYOUTS[layout][0]
    _import(layout, export, tmp_path / "a")
    _import(layout, zip_dir(export, tmp_path / "e.zip", prefix="export-2025/"), tmp_path / "b")
    for name in ("posts.csv", "comments.csv"):
        a, b = rows(tmp_path / "a" / name), rows(tmp_path / "b" / name)
        assert [r["record_id"] for r in a] == [r["record_id"] for r in b]
        assert [r["text"] for r in a] == [r["text"] for r in b]
        assert all(r["source_file"].startswith("export-2025/") for r in b)


def test_html_export_is_refused_with_how_to_get_json(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as caught:
        import_facebook(FB_HTML, account="Sida", out=tmp_path / "o")
    assert caught.value.exit_code == 15
    assert "HTML export" in str(caught.value) and "JSON" in str(caught.value)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("rel", "content"),
    [
        # A posts file under a name no layout uses yet, in a shape not seen yet.
        (
            "this_profile's_activity_across_facebook/posts/page_posts_1.json",
            b'[{"created": "2025-01-01", "message": "Hej"}]',
        ),
        # An unknown file whose entries are shaped like posts.
        (
            "your_facebook_activity/new_things/items.json",
            b'{"v3": [{"timestamp": 1700000000, "data": [{"post": "Hej"}]}]}',
        ),
        # An unknown file whose entries are shaped like comments.
        (
            "your_facebook_activity/new_things/replies.json",
            b'[{"timestamp": 1700000000, "comment": "Hej", "author": "N"}]',
        ),
    ],
)
def test_a_facebook_file_like_posts_that_is_not_read_stops_the_import(
    tmp_path: Path, rel: str, content: bytes
) -> None:
    export = copy_tree(FB_PAGE, tmp_path / "export")
    (export / rel).parent.mkdir(parents=True, exist_ok=True)
    (export / rel).write_bytes(content)
    with pytest.raises(UnreadExportFiles) as caught:
        import_facebook(export, account="Sida", account_type="official", out=tmp_path / "o")
    assert caught.value.exit_code == 50
    assert rel in str(caught.value)
    assert "Hej" not in str(caught.value)
    assert not (tmp_path / "o").exists()


def test_an_unknown_file_unlike_posts_is_reported_not_fatal(tmp_path: Path) -> None:
    export = copy_tree(FB_PAGE, tmp_path / "export")
    (export / "new_section").mkdir()
    (export / "new_section" / "settings.json").write_text('{"dark_mode": true}')
    # An empty file named like posts loses nothing.
    (export / "new_section" / "page_posts_1.json").write_text('{"page_posts_v2": []}')
    result = import_facebook(export, account="Sida", account_type="official", out=tmp_path / "o")
    unknown = [f for f in result.files if f.status == "not_understood"]
    assert [f.path for f in unknown] == ["new_section/settings.json"]
    assert result.to_dict()["files_by_status"]["not_understood"] == 1
    empty = next(f for f in result.files if f.path == "new_section/page_posts_1.json")
    assert (empty.status, empty.records) == ("known", 0)


@pytest.mark.parametrize(
    ("name", "text", "fatal"),
    [
        ("data/twitter-article.js", 'window.YTD.twitter_article.part0 = [{"article": {}}]', True),
        ("data/twitter-article.js", "window.YTD.twitter_article.part0 = []", False),
        ("data/grok-chat-item.js", 'window.YTD.grok_chat_item.part0 = [{"x": 1}]', False),
        ("data/new-thing.js", 'window.YTD.new_thing.part0 = [{"x": 1}]', False),
        ("data/periscope-comments-made-by-user.js", "window.YTD.x.part0 = [{}]", True),
    ],
)
def test_unknown_x_data_files(tmp_path: Path, name: str, text: str, fatal: bool) -> None:
    export = copy_tree(X_2019, tmp_path / "export")
    (export / name).write_text(text, encoding="utf-8")
    if fatal:
        with pytest.raises(UnreadExportFiles, match=name):
            import_twitter(export, account="X", account_type="official", out=tmp_path / "o")
        assert not (tmp_path / "o").exists()
        return
    result = import_twitter(export, account="X", account_type="official", out=tmp_path / "o")
    report = next(f for f in result.files if f.path == name)
    assert report.status in ("known", "not_understood")


# --- generated layouts -------------------------------------------------------------------


def _fb_post(ts: int, text: str) -> dict[str, object]:
    return {"timestamp": ts, "data": [{"post": text}], "title": "Sidan uppdaterade sin status."}


_FB_FOLDERS = st.sampled_from(
    [
        ("posts/your_posts_{n}.json", False),
        (
            "your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_{n}.json",
            False,
        ),
        ("your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_{n}.json", False),
        ("this_profile's_activity_across_facebook/posts/profile_posts_{n}.json", False),
        ("posts/your_posts.json", True),
    ]
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    layout=_FB_FOLDERS,
    parts=st.lists(st.integers(1, 40), min_size=1, max_size=5, unique=True),
    per_part=st.integers(0, 4),
    prefix=st.sampled_from(["", "facebook-sida-2025-01-01/"]),
)
def test_facebook_posts_in_any_part_and_folder_are_all_read(
    tmp_path_factory: pytest.TempPathFactory,
    layout: tuple[str, bool],
    parts: list[int],
    per_part: int,
    prefix: str,
) -> None:
    template, wrapped = layout
    if wrapped:
        parts = parts[:1]
    tmp = tmp_path_factory.mktemp("fb")
    archive = tmp / "export.zip"
    expected = 0
    with zipfile.ZipFile(archive, "w") as zf:
        for n in parts:
            posts = [
                _fb_post(1_600_000_000 + n * 1000 + i, f"Del {n} inlägg {i}")
                for i in range(per_part)
            ]
            expected += len(posts)
            body = {"status_updates": posts} if wrapped else posts
            zf.writestr(prefix + template.format(n=n), json.dumps(body))
        zf.writestr(prefix + "comments_and_reactions/comments.json", '{"comments_v2": []}')
        zf.writestr(prefix + "posts/media/x/1.jpg", b"JPEG")
    if expected == 0:
        with pytest.raises(ImportFailed, match="no posts and no comments"):
            import_facebook(archive, account="Sida", account_type="official", out=tmp / "o")
        return
    result = import_facebook(archive, account="Sida", account_type="official", out=tmp / "o")
    assert result.posts.read == expected == len(rows(tmp / "o" / "posts.csv"))
    read = [f for f in result.files if f.status == "read" and f.what == "posts"]
    assert len(read) == len(parts)
    assert sum(f.records or 0 for f in read) == expected


def _tweet(tweet_id: int, wrap: bool) -> dict[str, object]:
    body = {
        "id_str": str(tweet_id),
        "created_at": "Sat Aug 12 16:10:37 +0000 2023",
        "full_text": f"Inlägg {tweet_id}",
    }
    return {"tweet": body} if wrap else body


@settings(max_examples=25, deadline=None)
@given(
    stem=st.sampled_from(["tweet", "tweets"]),
    parts=st.lists(st.integers(1, 30), max_size=4, unique=True),
    per_part=st.integers(1, 4),
    deleted_parts=st.lists(st.integers(1, 5), max_size=2, unique=True),
    deleted_stem=st.sampled_from(["deleted-tweet", "deleted-tweets"]),
    wrap=st.booleans(),
)
def test_x_posts_in_any_part_file_are_all_read(
    stem: str,
    parts: list[int],
    per_part: int,
    deleted_parts: list[int],
    deleted_stem: str,
    wrap: bool,
) -> None:
    import tempfile

    files: dict[str, list[dict[str, object]]] = {}
    next_id = 1_700_000_000_000_000_000
    for n in [0, *parts]:
        name = f"data/{stem}.js" if n == 0 else f"data/{stem}-part{n}.js"
        files[name] = [_tweet(next_id + i + n * 100, wrap) for i in range(per_part)]
    for n in [0, *deleted_parts]:
        name = f"data/{deleted_stem}.js" if n == 0 else f"data/{deleted_stem}-part{n}.js"
        files[name] = [_tweet(next_id + 10_000 + n * 100, wrap)]
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "x.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for name, items in files.items():
                zf.writestr(name, f"window.YTD.x.part0 = {json.dumps(items)};")
        result = import_twitter(archive, account="X", account_type="official", out=Path(tmp) / "o")
        expected = sum(len(items) for items in files.values())
        assert result.posts.read == expected
        out = rows(Path(tmp) / "o" / "posts.csv")
        assert len(out) == expected
        assert sum(r["deleted"] == "true" for r in out) == 1 + len(deleted_parts)
        assert {f.path for f in result.files if f.status == "read"} == set(files)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("posts/your_posts.json", "posts"),
        ("posts/your_posts_12.json", "posts"),
        ("your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_3.json", "posts"),
        ("this_profile's_activity_across_facebook/posts/profile_posts_1.json", "posts"),
        ("groups/your_posts_in_groups.json", "posts"),
        ("posts/other_people's_posts_to_your_timeline.json", "visitor_posts"),
        ("comments/comments.json", "comments"),
        ("your_facebook_activity/comments_and_reactions/comments.json", "comments"),
        ("groups/your_comments_in_groups.json", "comments"),
        ("photos_and_videos/album/0.json", "media_comments"),
        ("your_facebook_activity/posts/your_videos.json", "media_comments"),
        ("likes_and_reactions/pages.json", "known"),
        ("comments_and_reactions/posts_and_comments.json", "known"),
        ("your_facebook_activity/comments_and_reactions/likes_and_reactions_1.json", "known"),
        ("messages/inbox/anna_1/message_1.json", "known"),
        ("security_and_login_information/logins_and_logouts.json", "known"),
        ("posts/media/Album_1/1.jpg", "media"),
        ("start_here.html", "html"),
        ("new_section/thing.json", "unknown"),
    ],
)
def test_facebook_file_roles(path: str, expected: str) -> None:
    from opengov.importers.social.facebook_layout import role

    assert role(path) == expected
    assert role("facebook-sida-2025/" + path) == expected  # inside a top folder


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data/tweets.js", "tweets"),
        ("data/tweet.js", "tweets"),
        ("data/tweets-part3.js", "tweets"),
        ("data/tweet-part1.js", "tweets"),
        ("data/deleted-tweets-part2.js", "deleted"),
        ("data/deleted-tweet.js", "deleted"),
        ("data/community-tweet.js", "community"),
        ("data/note-tweet.js", "notes"),
        ("data/deleted-note-tweet.js", "deleted_notes"),
        ("data/account.js", "account"),
        ("data/manifest.js", "manifest"),
        ("data/js/tweets/2012_03.js", "grailbird_month"),
        ("tweets.csv", "grailbird_csv"),
        ("data/js/user_details.js", "grailbird_user"),
        ("data/js/tweet_index.js", "grailbird_index"),
        ("data/js/payload_details.js", "known_data"),
        ("data/like.js", "known_data"),
        ("data/direct-messages-group.js", "known_data"),
        ("data/tweets_media/1-a.jpg", "media"),
        ("assets/js/main.js", "viewer"),
        ("js/app.js", "viewer"),
        ("data/twitter-article.js", "unknown"),
    ],
)
def test_x_file_roles(path: str, expected: str) -> None:
    from opengov.importers.social.twitter_layout import role

    assert role(path) == expected
    assert role("twitter-2024-11-01/" + path) == expected
