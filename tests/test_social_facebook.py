"""Facebook exports: each layout since 2018, mojibake, attachments, comments a Page received,
activity lines, keyed ids, bad input."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from social_support import (
    FB_2018,
    FB_2019,
    FB_2023,
    FB_PAGE,
    FB_PERSONAL,
    TEST_KEY,
    X_2024,
    by_id,
    copy_tree,
    key_env,  # noqa: F401  (a fixture)
    rows,
    zip_dir,
)

from opengov.errors import ImportFailed, InputError, KeyMissing, LimitExceeded
from opengov.importers.social import import_facebook
from opengov.importers.social.facebook import repair, repair_mojibake
from opengov.redact.keys import KEY_ENV, PseudonymKey

pytestmark = pytest.mark.usefixtures("key_env")

POSTS_1 = "this_profile's_activity_across_facebook/posts/profile_posts_1.json"


def all_output_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*")) if p.is_file())


@pytest.fixture
def page(tmp_path: Path) -> Path:
    out = tmp_path / "page"
    import_facebook(FB_PAGE, account="Kommunchefen (Facebook)", account_type="official", out=out)
    return out


@pytest.fixture
def personal(tmp_path: Path) -> Path:
    out = tmp_path / "personal"
    archive = zip_dir(FB_PERSONAL, tmp_path / "facebook-hakan.zip")
    import_facebook(archive, account="Håkan Öberg (privat)", out=out)
    return out


# --- mojibake ----------------------------------------------------------------------------


def test_fixture_really_is_mojibake() -> None:
    raw = (FB_PAGE / POSTS_1).read_text(encoding="utf-8")
    assert "\\u00c3\\u00a5" in raw  # "å" as Facebook writes it
    assert "å" not in raw


def test_mojibake_repaired_in_every_string() -> None:
    assert repair_mojibake("H\u00c3\u00a5kan") == "Håkan"
    assert repair_mojibake("\u00f0\u009f\u008e\u0082") == "🎂"
    fixed = repair({"f\u00c3\u00b6rfattare": ["\u00c3\u0096berg", 3, None]})
    assert fixed == {"författare": ["Öberg", 3, None]}


@pytest.mark.parametrize("kept", ["Håkan", "Kör ❄️", "plain ascii", "é", "Ã alone", ""])
def test_strings_that_are_not_mojibake_are_kept(kept: str) -> None:
    assert repair_mojibake(kept) == kept


@given(st.text())
def test_mojibake_round_trip(text: str) -> None:
    assert repair_mojibake(text.encode("utf-8").decode("latin-1")) == text


def test_swedish_text_and_emoji_in_output(page: Path, personal: Path) -> None:
    texts = [r["text"] for r in rows(page / "posts.csv")]
    assert any("Välkommen till årets budgetdialog" in t and "🏛️" in t for t in texts)
    assert "Nu är höstens medborgardialoger klara.\n\nTack alla som deltog! 🍂👏" in texts
    comment_authors = {r["author"] for r in rows(page / "comments.csv")}
    assert {"Bertil Åkesson", "Cecilia Öst", "Anna Andersson"} <= comment_authors
    personal_rows = rows(personal / "posts.csv")
    assert personal_rows[0]["account"] == "Håkan Öberg (privat)"
    # The one post written without mojibake comes out unchanged.
    assert "Kör försiktigt på E6 i kväll, halt väglag ❄️" in [r["text"] for r in personal_rows]
    for out in (page, personal):
        text = all_output_text(out)
        assert "Ã" not in text and "Â" not in text and "ð\x9f" not in text


# --- posts in every layout ---------------------------------------------------------------


def test_2025_page_layout_posts(page: Path) -> None:
    posts = rows(page / "posts.csv")
    assert len(posts) == 5
    first = posts[0]
    assert first["created_at"] == "2023-08-20T16:00:00Z"  # epoch 1692547200
    assert first["updated_at"] == "2023-08-20T17:00:00Z"
    assert first["platform"] == "facebook" and first["platform_post_id"] == ""
    assert re.fullmatch(r"fb-[0-9a-f]{16}", first["record_id"])
    assert json.loads(first["hashtags"]) == ["Exempelby", "budget2024"]
    assert first["title"] == "Kommunchefen i Exempelby uppdaterade sin status."
    assert first["source_file"] == POSTS_1
    assert {r["source_file"].rsplit("/", 1)[1] for r in posts} == {
        "profile_posts_1.json",
        "profile_posts_2.json",
    }


def test_posts_with_only_an_activity_line_carry_it(page: Path, tmp_path: Path) -> None:
    only_title = [r for r in rows(page / "posts.csv") if not r["text"]]
    assert [r["title"] for r in only_title] == [
        "Kommunchefen i Exempelby uppdaterade sin profilbild.",
        "Kommunchefen i Exempelby delade ett minne.",
    ]
    out = tmp_path / "y2019"
    import_facebook(FB_2019, account="Kommunen", account_type="official", out=out)
    titles = {r["title"] for r in rows(out / "posts.csv") if not r["text"]}
    assert titles == {
        "Exempelby kommun uppdaterade sin omslagsbild.",
        "Exempelby kommun delade en länk.",
    }


def test_2018_layout_status_updates_and_timeline_posts(tmp_path: Path) -> None:
    out = tmp_path / "y2018"
    result = import_facebook(FB_2018, account="Håkan (privat)", out=out)
    assert result.posts.read == 4
    posts = rows(out / "posts.csv")
    assert {r["source_file"] for r in posts} == {"posts/your_posts.json"}
    assert posts[2]["updated_at"] == "2018-06-26T09:00:00Z"
    wall = [c for c in rows(out / "comments.csv") if c["direction"] == "received_post"]
    assert len(wall) == 1
    assert wall[0]["author"] == ""  # the writer is named only in the title, which is not kept
    assert wall[0]["text"].startswith("Grattis till nya jobbet!")
    assert "Fatima" not in all_output_text(out)


def test_2023_layout(tmp_path: Path) -> None:
    out = tmp_path / "y2023"
    import_facebook(FB_2023, account="Sidan", account_type="official", out=out)
    posts = rows(out / "posts.csv")
    assert all(r["source_file"].startswith("your_activity_across_facebook/") for r in posts)
    two_photos = next(r for r in posts if not r["text"])
    assert len(json.loads(two_photos["attachments"])) == 2


def test_2024_layout_split_files_zipped(personal: Path) -> None:
    posts = rows(personal / "posts.csv")
    assert {r["source_file"] for r in posts} == {
        "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json",
        "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_2.json",
    }
    assert len(posts) == 7
    assert json.loads(posts[1]["hashtags"]) == ["förskola", "Exempelby"]


def test_attachments_keep_uri_type_place_and_link_only(page: Path, personal: Path) -> None:
    first = rows(page / "posts.csv")[0]
    assert json.loads(first["attachments"]) == [
        {
            "kind": "media",
            "media_type": "image/jpeg",
            "uri": "this_profile's_activity_across_facebook/posts/media/Budgetdialog_9876/"
            "3311223344.jpg",
        },
        {"kind": "place", "name": "Stadshuset Exempelby"},
    ]
    link_post = rows(page / "posts.csv")[1]
    assert json.loads(link_post["attachments"]) == [
        {
            "kind": "link",
            "name": "Budget 2024 – Exempelby kommun",
            "url": "https://www.exempelby.se/budget2024",
        }
    ]
    assert json.loads(link_post["urls"]) == ["https://www.exempelby.se/budget2024"]
    for out in (page, personal):
        text = "".join(
            (out / n).read_text("utf-8") for n in ("posts.csv", "comments.csv", "datapackage.json")
        )
        for leaked in (
            "192.0.2.44",
            "upload_ip",
            "exif",
            "57.12",
            "12.65",
            "latitude",
            "longitude",
            "coordinate",
            "Storgatan 1",
            "camera_make",
        ):
            assert leaked not in text, leaked


def test_tagged_friends_are_not_carried_over(personal: Path) -> None:
    assert "Cecilia Öst" not in all_output_text(personal)


def test_photo_batch_with_same_time_gets_distinct_ids(personal: Path) -> None:
    ids = [r["record_id"] for r in rows(personal / "posts.csv")]
    assert len(set(ids)) == len(ids)
    batch = [i for i in ids if i.startswith(ids[-1].split("-2")[0])]
    assert len(batch) == 2 and batch[1] == batch[0] + "-2"


def test_record_ids_are_stable_across_packaging(tmp_path: Path) -> None:
    folder = import_facebook(FB_PERSONAL, account="A", out=tmp_path / "a")
    zipped = import_facebook(
        zip_dir(FB_PERSONAL, tmp_path / "p.zip"), account="A", out=tmp_path / "b"
    )
    assert folder.posts.read == zipped.posts.read
    assert (tmp_path / "a" / "posts.csv").read_bytes() == (
        tmp_path / "b" / "posts.csv"
    ).read_bytes()


# --- comments ----------------------------------------------------------------------------


def test_comments_the_page_received_on_its_photo_are_linked_to_the_post(page: Path) -> None:
    posts = rows(page / "posts.csv")
    comments = rows(page / "comments.csv")
    by_author = {c["author"]: c for c in comments}
    anna = by_author["Anna Andersson"]
    assert anna["post_record_id"] == posts[0]["record_id"]  # the post with the same photo
    assert anna["direction"] == "received_comment"
    assert anna["classification"] == "official"
    assert "2 kap. 9 § TF" in anna["reason"]
    assert "070-174 06 50" in anna["text"]  # kept in the record; the rules scan it on publish
    assert by_author["Cecilia Öst"]["post_record_id"] == posts[0]["record_id"]
    # A comment on the whole album has no post to belong to: kept, never published by default.
    assert by_author["Erik Lind"]["post_record_id"] == ""
    assert all(re.fullmatch(r"fbc-[0-9a-f]{16}", c["record_id"]) for c in comments)


def test_own_reply_on_a_photo_appears_once_linked_and_own(page: Path) -> None:
    own = [c for c in rows(page / "comments.csv") if c["direction"] == "own_comment"]
    assert len(own) == 2
    reply = next(c for c in own if c["text"].startswith("Tack för frågan"))
    assert reply["post_record_id"] != ""  # the copy on the photo won over comments.json's
    elsewhere = next(c for c in own if c["text"].startswith("Grattis till invigningen"))
    assert elsewhere["post_record_id"] == ""
    assert elsewhere["source_file"].endswith("comments_and_reactions/comments.json")


def test_video_comments_are_linked_to_the_video_post(tmp_path: Path) -> None:
    out = tmp_path / "y2019"
    import_facebook(FB_2019, account="Kommunen", account_type="official", out=out)
    posts = rows(out / "posts.csv")
    video_post = next(r for r in posts if "biblioteket" in r["text"])
    comments = {c["author"]: c for c in rows(out / "comments.csv")}
    assert comments["Cecilia Öst"]["post_record_id"] == video_post["record_id"]
    assert comments["Bertil Åkesson"]["source_file"] == "posts/album/0.json"


def test_personal_account_is_undecided_throughout(personal: Path) -> None:
    for path in (personal / "posts.csv", personal / "comments.csv"):
        for row in rows(path):
            assert row["classification"] == "undecided"
            assert row["classified_by"] == "opengov import (account type personal)"
            assert row["classified_at"] == row["created_at"]
    comment = rows(personal / "comments.csv")[0]
    assert comment["text"] == "Grattis på födelsedagen! 🎂"
    assert comment["author"] == "Håkan Öberg"


def test_official_account_posts_are_official(page: Path) -> None:
    for row in rows(page / "posts.csv"):
        assert row["classification"] == "official"
        assert row["classified_by"] == "opengov import (account type official)"
        assert "2 kap. 10 § TF" in row["reason"]


# --- keyed ids ---------------------------------------------------------------------------


def test_no_key_no_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(KeyMissing) as caught:
        import_facebook(FB_PAGE, account="Sida", out=tmp_path / "o")
    assert caught.value.exit_code == 10
    assert not (tmp_path / "o").exists()


def test_ids_follow_the_key(tmp_path: Path) -> None:
    import_facebook(FB_PAGE, account="Sida", out=tmp_path / "a")
    other = PseudonymKey(b"an-entirely-different-test-key-0123456789")
    import_facebook(FB_PAGE, account="Sida", out=tmp_path / "b", key=other)
    given_key = PseudonymKey(TEST_KEY.encode())
    import_facebook(FB_PAGE, account="Sida", out=tmp_path / "c", key=given_key)
    a, b, c = (set(by_id(tmp_path / x / "posts.csv")) for x in "abc")
    assert a == c  # the environment's key and the same key given: the same ids
    assert a.isdisjoint(b)


# --- bad input ---------------------------------------------------------------------------


def _copy_with(tmp_path: Path, rel: str, data: bytes) -> Path:
    export = copy_tree(FB_PAGE, tmp_path / "export")
    (export / rel).write_bytes(data)
    return export


def test_truncated_json(tmp_path: Path) -> None:
    original = (FB_PAGE / POSTS_1).read_bytes()
    export = _copy_with(tmp_path, POSTS_1, original[: len(original) // 2])
    zipped = zip_dir(export, tmp_path / "cut.zip")
    with pytest.raises(ImportFailed) as caught:
        import_facebook(zipped, account="Sida", out=tmp_path / "out")
    message = str(caught.value)
    assert caught.value.exit_code == 15
    assert "profile_posts_1.json is not valid JSON (line" in message
    assert "truncated" in message
    assert "budget" not in message.lower()  # no content in messages
    assert not (tmp_path / "out").exists()


def test_empty_posts_file(tmp_path: Path) -> None:
    export = _copy_with(tmp_path, POSTS_1, b"  \n")
    with pytest.raises(ImportFailed, match=r"profile_posts_1\.json is empty"):
        import_facebook(export, account="Sida", out=tmp_path / "out")


def test_post_without_timestamp_named_by_position(tmp_path: Path) -> None:
    posts = b'[{"timestamp": 1692547200, "data": []}, {"data": [{"post": "Hemligt"}]}]'
    export = _copy_with(tmp_path, POSTS_1, posts)
    with pytest.raises(ImportFailed, match="post 2: timestamp") as caught:
        import_facebook(export, account="Sida", out=tmp_path / "out")
    assert "Hemligt" not in str(caught.value)


@pytest.mark.parametrize("body", [b'{"a": [], "b": []}', b'"posts"', b"42", b'{"x": {}}'])
def test_posts_file_of_wrong_shape(tmp_path: Path, body: bytes) -> None:
    export = _copy_with(tmp_path, POSTS_1, body)
    with pytest.raises(ImportFailed, match="not a list of posts"):
        import_facebook(export, account="Sida", out=tmp_path / "out")


def test_twitter_archive_given_to_facebook_importer(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="X/Twitter archive") as caught:
        import_facebook(zip_dir(X_2024, tmp_path / "x.zip"), account="Sida", out=tmp_path / "o")
    assert caught.value.exit_code == 15
    assert not (tmp_path / "o").exists()


def test_empty_export_folder_and_zip(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportFailed, match="is empty"):
        import_facebook(tmp_path / "empty", account="Sida", out=tmp_path / "o")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    with pytest.raises(ImportFailed, match="is empty"):
        import_facebook(tmp_path / "empty.zip", account="Sida", out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_export_without_any_posts_or_comments(tmp_path: Path) -> None:
    export = tmp_path / "export" / "posts"
    export.mkdir(parents=True)
    (export / "your_posts_1.json").write_bytes(b"[]")
    with pytest.raises(ImportFailed, match="no posts and no comments"):
        import_facebook(tmp_path / "export", account="Sida", out=tmp_path / "o")


def test_unrelated_folder(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "notes.txt").write_text("hej")
    with pytest.raises(ImportFailed, match="no Facebook posts or comments found"):
        import_facebook(tmp_path / "export", account="Sida", out=tmp_path / "o")


def test_deeply_nested_json_is_refused_not_a_crash(tmp_path: Path) -> None:
    export = _copy_with(tmp_path, POSTS_1, b"[" * 100_000 + b"]" * 100_000)
    # The JSON depth limit every hostile document meets (limits.py, exit 30).
    with pytest.raises(LimitExceeded):
        import_facebook(export, account="Sida", out=tmp_path / "out")


@pytest.mark.parametrize(("account", "kind"), [("", "personal"), ("  ", "official"), ("A", "x")])
def test_bad_account_arguments(tmp_path: Path, account: str, kind: str) -> None:
    with pytest.raises(InputError):
        import_facebook(FB_PAGE, account=account, account_type=kind, out=tmp_path / "o")  # type: ignore[arg-type]
