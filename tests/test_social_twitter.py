"""X/Twitter archives: the window.YTD files, never executed; tweets to records; bad input."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opengov.errors import ImportFailed
from opengov.importers.social import import_twitter
from opengov.importers.social.twitter import parse_twitter_date, parse_ytd

FIXTURES = Path(__file__).parent / "fixtures" / "social"
TWITTER = FIXTURES / "twitter-official"
FACEBOOK = FIXTURES / "facebook-page"


def zip_dir(src: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(src).as_posix())
    return dest


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["record_id"]: r for r in csv.DictReader(fh)}


def archive_with(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "twitter.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text.encode("utf-8"))
    return path


TWEET = {
    "tweet": {
        "id_str": "1700000000000000001",
        "created_at": "Sat Aug 12 16:10:37 +0000 2023",
        "full_text": "Hej Åby",
        "favorite_count": "2",
        "retweet_count": "1",
    }
}


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    out = tmp_path / "x"
    result = import_twitter(
        zip_dir(TWITTER, tmp_path / "twitter-2024.zip"),
        account="ExempelbyKC (X)",
        account_type="official",
        out=out,
    )
    assert result.platform == "twitter"
    assert [f.path for f in result.files_read] == [
        "data/deleted-tweets.js",
        "data/tweets-part1.js",
        "data/tweets.js",
    ]
    return out, rows(out / "posts.csv")


def test_all_tweets_from_all_parts(imported: tuple[Path, dict[str, dict[str, str]]]) -> None:
    out, posts = imported
    assert sorted(posts) == [
        "tw-1672000000000000005",
        "tw-1690012345678901234",
        "tw-1690112345678901235",
        "tw-1691000000000000003",
        "tw-1692000000000000004",
        "tw-1696000000000000006",
    ]
    assert (out / "comments.csv").read_text(encoding="utf-8").count("\n") == 1  # header only
    assert posts["tw-1672000000000000005"]["source_file"] == "data/tweets-part1.js"


def test_tweet_fields(imported: tuple[Path, dict[str, dict[str, str]]]) -> None:
    _, posts = imported
    first = posts["tw-1690012345678901234"]
    assert first["platform"] == "twitter"
    assert first["platform_post_id"] == "1690012345678901234"
    assert first["created_at"] == "2023-08-12T16:10:37Z"
    assert first["text"].startswith("Idag invigde vi den nya simhallen i Åby 🏊‍♀️")
    assert json.loads(first["hashtags"]) == ["Exempelby", "simhall"]
    assert json.loads(first["urls"]) == ["https://www.exempelby.se/simhall"]
    assert first["favorite_count"] == "42" and first["retweet_count"] == "7"
    assert first["lang"] == "sv"
    assert json.loads(first["attachments"]) == [
        {
            "kind": "media",
            "media_type": "image/jpeg",
            "uri": "https://pbs.twimg.com/media/F3xYzAbCdE.jpg",
        }
    ]
    assert first["classification"] == "official"
    assert first["deleted"] == "false" and first["is_retweet"] == "false"


def test_reply_retweet_deleted(imported: tuple[Path, dict[str, dict[str, str]]]) -> None:
    _, posts = imported
    reply = posts["tw-1690112345678901235"]
    assert reply["in_reply_to"] == "1690100000000000001"
    assert json.loads(reply["mentions"]) == ["anna_andersson"]
    retweet = posts["tw-1691000000000000003"]
    assert retweet["is_retweet"] == "true"
    assert json.loads(retweet["mentions"]) == ["ExempelbyKommun"]
    deleted = posts["tw-1696000000000000006"]
    assert deleted["deleted"] == "true"
    assert deleted["source_file"] == "data/deleted-tweets.js"
    assert sum(p["deleted"] == "true" for p in posts.values()) == 1


def test_html_entities_unescaped(imported: tuple[Path, dict[str, dict[str, str]]]) -> None:
    _, posts = imported
    assert posts["tw-1692000000000000004"]["text"].startswith("Budget & verksamhetsplan")


def test_personal_twitter_account_is_undecided(tmp_path: Path) -> None:
    result = import_twitter(TWITTER, account="privat", out=tmp_path / "p")
    assert result.posts.by_classification == {"official": 0, "private": 0, "undecided": 6}


# --- window.YTD parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "window.YTD.tweets.part0 = []",
        "window.YTD.tweets.part0 = [];",
        "window.YTD.tweets.part0=[]\n",
        "\ufeffwindow.YTD.deleted_tweets.part12 = [ ] ;  \n",
    ],
)
def test_ytd_accepted_forms(text: str) -> None:
    assert parse_ytd(text, "data/tweets.js", "a.zip") == []


@pytest.mark.parametrize(
    "tail", ["; alert(1)", "\nfetch('https://evil.example')", "; window.x = 1;", "]", ",[]"]
)
def test_ytd_trailing_code_is_refused(tail: str) -> None:
    with pytest.raises(ImportFailed, match="code after its data"):
        parse_ytd("window.YTD.tweets.part0 = []" + tail, "data/tweets.js", "a.zip")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alert(1); window.YTD.tweets.part0 = []", "does not start with"),
        ("var x = []", "does not start with"),
        ('window.YTD.tweets.part0 = [{"tweet": {"id_str": "1"', "not valid JSON"),
        ('window.YTD.tweets.part0 = {"tweet": {}}', "does not hold a list"),
    ],
)
def test_ytd_bad_files(text: str, message: str) -> None:
    with pytest.raises(ImportFailed, match=message):
        parse_ytd(text, "data/tweets.js", "a.zip")


def test_trailing_code_refused_in_import_and_nothing_written(tmp_path: Path) -> None:
    text = "window.YTD.tweets.part0 = " + json.dumps([TWEET]) + "; alert(document.cookie)"
    archive = archive_with(tmp_path, {"data/tweets.js": text})
    with pytest.raises(ImportFailed) as caught:
        import_twitter(archive, account="X", out=tmp_path / "out")
    assert caught.value.exit_code == 15
    assert "data/tweets.js has code after its data (line 1)" in str(caught.value)
    assert "cookie" not in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_truncated_tweets_js(tmp_path: Path) -> None:
    full = (TWITTER / "data" / "tweets.js").read_text(encoding="utf-8")
    archive = archive_with(tmp_path, {"data/tweets.js": full[: len(full) // 3]})
    with pytest.raises(ImportFailed, match="truncated"):
        import_twitter(archive, account="X", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_older_tweet_js_and_unwrapped_entries(tmp_path: Path) -> None:
    bare = dict(TWEET["tweet"], id_str="1700000000000000002")
    text = "window.YTD.tweet.part0 = " + json.dumps([TWEET, bare])
    result = import_twitter(
        archive_with(tmp_path, {"data/tweet.js": text}), account="X", out=tmp_path / "o"
    )
    assert result.posts.read == 2


def test_deleted_anywhere_marks_the_tweet_deleted(tmp_path: Path) -> None:
    files = {
        "data/tweets.js": "window.YTD.tweets.part0 = " + json.dumps([TWEET]),
        "data/deleted-tweets.js": "window.YTD.deleted_tweets.part0 = " + json.dumps([TWEET]),
    }
    out = tmp_path / "o"
    result = import_twitter(archive_with(tmp_path, files), account="X", out=out)
    assert result.posts.read == 1
    (row,) = rows(out / "posts.csv").values()
    assert row["deleted"] == "true"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id_str": None}, "entry 1: id_str"),
        ({"id_str": "12abc"}, "entry 1: id_str"),
        ({"created_at": "2023-08-12 16:10:37"}, "entry 1: created_at"),
        ({"created_at": "Sat Feb 31 16:10:37 +0000 2023"}, "not a real date"),
        ({"favorite_count": "many"}, "favorite_count is not a whole number"),
        ({"retweet_count": -1}, "retweet_count"),
    ],
)
def test_bad_tweet_fields(tmp_path: Path, change: dict[str, object], message: str) -> None:
    tweet = {"tweet": {**TWEET["tweet"], **change}}
    tweet["tweet"] = {k: v for k, v in tweet["tweet"].items() if v is not None}
    text = "window.YTD.tweets.part0 = " + json.dumps([tweet])
    with pytest.raises(ImportFailed, match=message):
        import_twitter(
            archive_with(tmp_path, {"data/tweets.js": text}), account="X", out=tmp_path / "o"
        )


def test_facebook_export_given_to_twitter_importer(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="looks like a Facebook export") as caught:
        import_twitter(zip_dir(FACEBOOK, tmp_path / "fb.zip"), account="X", out=tmp_path / "o")
    assert caught.value.exit_code == 15
    assert not (tmp_path / "o").exists()


def test_empty_archive_and_empty_tweets(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    with pytest.raises(ImportFailed, match="is empty"):
        import_twitter(tmp_path / "empty.zip", account="X", out=tmp_path / "o")
    no_tweets = archive_with(tmp_path, {"data/tweets.js": "window.YTD.tweets.part0 = []"})
    with pytest.raises(ImportFailed, match="holds no tweets"):
        import_twitter(no_tweets, account="X", out=tmp_path / "o")
    zero_bytes = archive_with(tmp_path, {"data/tweets.js": ""})
    with pytest.raises(ImportFailed, match=r"tweets\.js is empty"):
        import_twitter(zero_bytes, account="X", out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


# --- dates -------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def twitter_format(moment: datetime) -> str:
    """Twitter's format, built without strftime's locale-dependent names."""
    offset = moment.utcoffset() or timedelta()
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment:%H:%M:%S} {sign}{minutes // 60:02d}{minutes % 60:02d} {moment.year}"
    )


def test_known_dates() -> None:
    assert parse_twitter_date("Sat Aug 12 16:10:37 +0000 2023", "w") == "2023-08-12T16:10:37Z"
    assert parse_twitter_date("Sun Jan 01 00:30:00 +0200 2023", "w") == "2022-12-31T22:30:00Z"
    assert parse_twitter_date("Sun Jan 01 23:30:00 -0130 2023", "w") == "2023-01-02T01:00:00Z"


@given(
    st.datetimes(min_value=datetime(2006, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_dates_round_trip(naive: datetime, offset_minutes: int) -> None:
    moment = naive.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=offset_minutes)))
    expected = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse_twitter_date(twitter_format(moment), "w") == expected
