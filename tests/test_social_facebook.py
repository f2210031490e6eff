"""Facebook exports: both layouts, folder and ZIP, mojibake, attachments, comments, bad input."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opengov.errors import ImportFailed, InputError
from opengov.importers.social import import_facebook
from opengov.importers.social.facebook import repair, repair_mojibake

FIXTURES = Path(__file__).parent / "fixtures" / "social"
PAGE = FIXTURES / "facebook-page"
PERSONAL = FIXTURES / "facebook-personal"
TWITTER = FIXTURES / "twitter-official"


def zip_dir(src: Path, dest: Path, prefix: str = "") -> Path:
    """Zip a fixture folder the way the platform would deliver it."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(src).as_posix())
    return dest


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def all_output_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*")) if p.is_file())


@pytest.fixture
def page(tmp_path: Path) -> Path:
    out = tmp_path / "page"
    import_facebook(PAGE, account="Kommunchefen (Facebook)", account_type="official", out=out)
    return out


@pytest.fixture
def personal(tmp_path: Path) -> Path:
    out = tmp_path / "personal"
    archive = zip_dir(PERSONAL, tmp_path / "facebook-hakan.zip")
    import_facebook(archive, account="Håkan Öberg (privat)", out=out)
    return out


# --- mojibake ----------------------------------------------------------------------------


def test_fixture_really_is_mojibake() -> None:
    raw = (PAGE / "posts" / "your_posts_1.json").read_text(encoding="utf-8")
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
    assert texts[-1] == "Nu är höstens medborgardialoger klara.\n\nTack alla som deltog! 🍂👏"
    comment_authors = {r["author"] for r in rows(page / "comments.csv")}
    assert {"Bertil Åkesson", "Cecilia Öst", "Anna Andersson"} <= comment_authors
    personal_rows = rows(personal / "posts.csv")
    assert personal_rows[0]["account"] == "Håkan Öberg (privat)"
    # The one post written without mojibake comes out unchanged.
    assert "Kör försiktigt på E6 i kväll, halt väglag ❄️" in [r["text"] for r in personal_rows]
    for out in (page, personal):
        text = all_output_text(out)
        assert "Ã" not in text and "Â" not in text and "ð\x9f" not in text


# --- posts -------------------------------------------------------------------------------


def test_old_layout_posts(page: Path) -> None:
    posts = rows(page / "posts.csv")
    assert len(posts) == 4
    first = posts[0]
    assert first["created_at"] == "2023-08-20T16:00:00Z"  # epoch 1692547200
    assert first["updated_at"] == "2023-08-20T17:00:00Z"
    assert first["platform"] == "facebook"
    assert first["platform_post_id"] == ""
    assert re.fullmatch(r"fb-[0-9a-f]{16}", first["record_id"])
    assert json.loads(first["hashtags"]) == ["Exempelby", "budget2024"]
    assert first["deleted"] == "false" and first["is_retweet"] == "false"
    assert first["source_file"] == "posts/your_posts_1.json"
    # A post with no text (only a photo) is still a record.
    assert posts[2]["text"] == "" and "3311223355.jpg" in posts[2]["attachments"]


def test_new_layout_split_files_zipped(personal: Path) -> None:
    posts = rows(personal / "posts.csv")
    sources = {r["source_file"] for r in posts}
    assert sources == {
        "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json",
        "your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_2.json",
    }
    assert len(posts) == 7
    assert json.loads(posts[1]["hashtags"]) == ["förskola", "Exempelby"]


def test_export_inside_a_top_folder_of_the_zip(tmp_path: Path) -> None:
    archive = zip_dir(PAGE, tmp_path / "fb.zip", prefix="facebook-kommunchef-2024/")
    result = import_facebook(archive, account="Sida", account_type="official", out=tmp_path / "o")
    assert result.posts.read == 4 and result.comments.read == 5


def test_attachments_keep_uri_type_place_and_link_only(page: Path, personal: Path) -> None:
    first = rows(page / "posts.csv")[0]
    assert json.loads(first["attachments"]) == [
        {
            "kind": "media",
            "media_type": "image/jpeg",
            "uri": "posts/media/YourPosts_1/3311223344.jpg",
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
        # The data and the descriptor: the schemas' documentation mentions EXIF by name.
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


def test_record_ids_are_stable_across_layouts_and_packaging(tmp_path: Path) -> None:
    folder = import_facebook(PERSONAL, account="A", out=tmp_path / "a")
    zipped = import_facebook(zip_dir(PERSONAL, tmp_path / "p.zip"), account="A", out=tmp_path / "b")
    assert folder.posts.read == zipped.posts.read
    assert (tmp_path / "a" / "posts.csv").read_bytes() == (
        tmp_path / "b" / "posts.csv"
    ).read_bytes()


# --- comments ----------------------------------------------------------------------------


def test_received_comments_linked_to_their_post(page: Path) -> None:
    posts = rows(page / "posts.csv")
    comments = rows(page / "comments.csv")
    by_author = {c["author"]: c for c in comments}
    anna = by_author["Anna Andersson"]
    assert anna["post_record_id"] == posts[0]["record_id"]
    assert anna["direction"] == "received_comment"
    assert anna["classification"] == "official"
    assert "2 kap. 9 § TF" in anna["reason"]
    assert "070-123 45 67" in anna["text"]  # kept in the record; the rules scan it on publish
    assert by_author["Cecilia Öst"]["post_record_id"] == posts[1]["record_id"]
    assert all(re.fullmatch(r"fbc-[0-9a-f]{16}", c["record_id"]) for c in comments)


def test_own_reply_appears_once_linked_and_own(page: Path) -> None:
    own = [c for c in rows(page / "comments.csv") if c["direction"] == "own_comment"]
    assert len(own) == 2
    reply = next(c for c in own if c["text"].startswith("Tack Bertil"))
    assert reply["post_record_id"] != ""  # the nested copy won over comments.json's
    elsewhere = next(c for c in own if c["text"].startswith("Grattis till invigningen"))
    assert elsewhere["post_record_id"] == ""
    assert elsewhere["source_file"] == "comments/comments.json"


def test_personal_account_is_undecided_throughout(personal: Path) -> None:
    for path in (personal / "posts.csv", personal / "comments.csv"):
        for row in rows(path):
            assert row["classification"] == "undecided"
            assert row["classified_by"] == "opengov import (account type personal)"
            assert row["classified_at"] == row["created_at"]
    comment = rows(personal / "comments.csv")[0]
    assert comment["text"] == "Grattis på födelsedagen, Cecilia! 🎂"
    assert comment["author"] == "Håkan Öberg"


def test_official_account_posts_are_official(page: Path) -> None:
    for row in rows(page / "posts.csv"):
        assert row["classification"] == "official"
        assert row["classified_by"] == "opengov import (account type official)"
        assert "2 kap. 10 § TF" in row["reason"]


# --- bad input ---------------------------------------------------------------------------


def _copy_with(tmp_path: Path, rel: str, data: bytes) -> Path:
    export = tmp_path / "export"
    for path in PAGE.rglob("*"):
        if path.is_file():
            target = export / path.relative_to(PAGE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (export / rel).write_bytes(data)
    return export


def test_truncated_json(tmp_path: Path) -> None:
    original = (PAGE / "posts" / "your_posts_1.json").read_bytes()
    export = _copy_with(tmp_path, "posts/your_posts_1.json", original[: len(original) // 2])
    zipped = zip_dir(export, tmp_path / "cut.zip")
    with pytest.raises(ImportFailed) as caught:
        import_facebook(zipped, account="Sida", out=tmp_path / "out")
    message = str(caught.value)
    assert caught.value.exit_code == 15
    assert "posts/your_posts_1.json is not valid JSON (line" in message
    assert "truncated" in message
    assert "budget" not in message.lower()  # no content in messages
    assert not (tmp_path / "out").exists()


def test_empty_posts_file(tmp_path: Path) -> None:
    export = _copy_with(tmp_path, "posts/your_posts_1.json", b"  \n")
    with pytest.raises(ImportFailed, match=r"your_posts_1\.json is empty"):
        import_facebook(export, account="Sida", out=tmp_path / "out")


def test_post_without_timestamp_named_by_position(tmp_path: Path) -> None:
    posts = b'[{"timestamp": 1692547200, "data": []}, {"data": [{"post": "Hemligt"}]}]'
    export = _copy_with(tmp_path, "posts/your_posts_1.json", posts)
    with pytest.raises(ImportFailed, match="post 2: timestamp") as caught:
        import_facebook(export, account="Sida", out=tmp_path / "out")
    assert "Hemligt" not in str(caught.value)


def test_posts_file_of_wrong_shape(tmp_path: Path) -> None:
    export = _copy_with(tmp_path, "posts/your_posts_1.json", b'{"status_updates": []}')
    with pytest.raises(ImportFailed, match="not a list of posts"):
        import_facebook(export, account="Sida", out=tmp_path / "out")


def test_twitter_archive_given_to_facebook_importer(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="X/Twitter archive") as caught:
        import_facebook(zip_dir(TWITTER, tmp_path / "x.zip"), account="Sida", out=tmp_path / "o")
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


@pytest.mark.parametrize(("account", "kind"), [("", "personal"), ("  ", "official"), ("A", "x")])
def test_bad_account_arguments(tmp_path: Path, account: str, kind: str) -> None:
    with pytest.raises(InputError):
        import_facebook(PAGE, account=account, account_type=kind, out=tmp_path / "o")  # type: ignore[arg-type]
