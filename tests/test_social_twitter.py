"""X/Twitter archives: current and pre-2019, the window.YTD files (never executed), long
texts, Communities, video, replies and mentions, manifest checks, bad input."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from social_support import FB_PAGE, X_2019, X_2024, X_GRAILBIRD, copy_tree, zip_dir

from opengov.errors import ImportFailed
from opengov.importers.social import import_twitter
from opengov.importers.social.twitter import parse_twitter_date, parse_ytd


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
        zip_dir(X_2024, tmp_path / "twitter-2024.zip"),
        account="ExempelbyKC (X)",
        account_type="official",
        out=out,
    )
    assert result.platform == "twitter"
    assert result.own_accounts == ("ExempelbyKC",)  # from account.js
    return out, rows(out / "posts.csv")


def test_all_posts_from_all_files(imported: tuple[Path, dict[str, dict[str, str]]]) -> None:
    out, posts = imported
    assert len(posts) == 15
    assert (out / "comments.csv").read_text(encoding="utf-8").count("\n") == 1  # header only
    assert posts["tw-2510048712"]["source_file"] == "data/tweets-part1.js"
    assert posts["tw-1710000000000000013"]["source_file"] == "data/community-tweet.js"
    assert posts["tw-1696100000000000007"]["source_file"] == "data/deleted-tweets-part1.js"


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
            "alt_text": "Barn som badar i den nya simhallen",
            "kind": "media",
            "media_type": "image/jpeg",
            "uri": "https://pbs.twimg.com/media/F3xYzAbCdE.jpg",
        }
    ]
    assert first["classification"] == "official"
    assert first["deleted"] == "false" and first["is_retweet"] == "false"


def test_video_and_gif_keep_the_best_video_and_the_alt_text(
    imported: tuple[Path, dict[str, dict[str, str]]],
) -> None:
    _, posts = imported
    (video,) = json.loads(posts["tw-1700000000000000010"]["attachments"])
    assert video == {
        "alt_text": "Kommunchefen visar den nya simhallen",
        "kind": "media",
        "media_type": "video/mp4",
        "uri": "https://video.twimg.com/ext_tw_video/1700000000000000099/pu/vid/1280x720/c.mp4",
    }
    (gif,) = json.loads(posts["tw-1700000000000000011"]["attachments"])
    assert gif["uri"] == "https://video.twimg.com/tweet_video/GiF.mp4"
    assert gif["media_type"] == "video/mp4"
    assert "thumb" not in json.dumps([video, gif])


def test_long_post_gets_its_full_text(imported: tuple[Path, dict[str, dict[str, str]]]) -> None:
    _, posts = imported
    long_post = posts["tw-1705000000000000012"]
    assert not long_post["text"].endswith("…")
    assert len(long_post["text"]) > 500
    assert long_post["text"].endswith("#förskola #Exempelby @ExempelbyKommun")
    assert json.loads(long_post["mentions"]) == ["@ExempelbyKommun"]
    assert json.loads(long_post["hashtags"]) == ["förskola", "Exempelby"]
    # A long text whose post is gone from the archive is kept as its own record.
    orphan = posts["twn-1706000000000000200"]
    assert orphan["text"].startswith("En lång text om vinterväghållningen")
    assert orphan["platform_post_id"] == "" and orphan["created_at"] == "2023-10-10T08:00:00Z"


def test_replies_to_others_and_to_own_posts_are_kept_apart(
    imported: tuple[Path, dict[str, dict[str, str]]],
) -> None:
    _, posts = imported
    to_private = posts["tw-1690112345678901235"]
    assert to_private["in_reply_to"] == ""
    assert to_private["in_reply_to_external"] == "1690100000000000001"
    assert to_private["in_reply_to_account"] == "@anna_andersson"
    assert json.loads(to_private["mentions"]) == ["@anna_andersson"]
    thread = posts["tw-1690212345678901236"]
    assert thread["in_reply_to"] == "1690012345678901234"
    assert thread["in_reply_to_external"] == ""
    retweet = posts["tw-1691000000000000003"]
    assert retweet["is_retweet"] == "true"
    assert json.loads(retweet["mentions"]) == ["@ExempelbyKommun"]
    deleted = [p for p in posts.values() if p["deleted"] == "true"]
    assert sorted(p["record_id"] for p in deleted) == [
        "tw-1696000000000000006",
        "tw-1696100000000000007",
    ]


def test_html_entities_unescaped(imported: tuple[Path, dict[str, dict[str, str]]]) -> None:
    _, posts = imported
    assert posts["tw-1692000000000000004"]["text"].startswith("Budget & verksamhetsplan")


def test_personal_twitter_account_is_undecided(tmp_path: Path) -> None:
    result = import_twitter(X_2024, account="privat", out=tmp_path / "p")
    assert result.posts.by_classification == {"official": 0, "private": 0, "undecided": 15}
    assert result.own_accounts == ()  # a personal account's handle is not the authority's


def test_2019_names_tweet_js_and_unwrapped_entries(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = import_twitter(X_2019, account="X", account_type="official", out=out)
    posts = rows(out / "posts.csv")
    assert result.posts.read == 4
    assert posts["tw-1000000000000000003"]["source_file"] == "data/tweet-part1.js"
    assert posts["tw-1100000000000000004"]["deleted"] == "true"


def test_grailbird_archive(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = import_twitter(X_GRAILBIRD, account="X", account_type="official", out=out)
    assert result.own_accounts == ("ExempelbyKC",)  # from user_details.js
    posts = rows(out / "posts.csv")
    assert sorted(posts) == [
        "tw-15800000005",
        "tw-15900000002",
        "tw-16000000001",
        "tw-180000000000000003",
        "tw-180000000000000004",
        "tw-2510048719",
    ]
    summer = posts["tw-16000000001"]
    assert summer["created_at"] == "2010-06-14T09:12:33Z"
    assert summer["text"].endswith("& glassen är köpt.")
    reply = posts["tw-15900000002"]
    assert reply["in_reply_to_external"] == "15899999999" and reply["in_reply_to"] == ""
    assert json.loads(reply["mentions"]) == ["@fatima_h"]
    assert posts["tw-180000000000000004"]["is_retweet"] == "true"
    only_in_csv = posts["tw-15800000005"]
    assert only_in_csv["source_file"] == "tweets.csv"
    assert json.loads(only_in_csv["mentions"]) == ["@cecilia_ost"]
    assert json.loads(only_in_csv["hashtags"]) == ["trafiksäkerhet"]
    assert json.loads(posts["tw-180000000000000003"]["urls"]) == [
        "http://www.exempelby.se/tidningen"
    ]


def test_grailbird_csv_alone(tmp_path: Path) -> None:
    export = tmp_path / "csv-only"
    export.mkdir()
    (export / "tweets.csv").write_bytes((X_GRAILBIRD / "tweets.csv").read_bytes())
    result = import_twitter(export, account="X", account_type="official", out=tmp_path / "o")
    assert result.posts.read == 6


@pytest.mark.parametrize(
    ("rel", "change", "message"),
    [
        ("data/manifest.js", ('"count": "9"', '"count": "10"'), "9 records read, the manifest"),
        (
            "data/manifest.js",
            ('"data/note-tweet.js"', '"data/note-tweet-part9.js"'),
            "not in the archive",
        ),
    ],
)
def test_manifest_counts_are_checked(
    tmp_path: Path, rel: str, change: tuple[str, str], message: str
) -> None:
    export = copy_tree(X_2024, tmp_path / "export")
    text = (export / rel).read_text(encoding="utf-8")
    assert change[0] in text
    (export / rel).write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ImportFailed, match=message) as caught:
        import_twitter(export, account="X", account_type="official", out=tmp_path / "o")
    assert "incomplete" in str(caught.value)
    assert not (tmp_path / "o").exists()


def test_a_missing_month_of_a_grailbird_archive_is_an_error(tmp_path: Path) -> None:
    export = copy_tree(X_GRAILBIRD, tmp_path / "export")
    (export / "data/js/tweets/2010_06.js").unlink()
    with pytest.raises(ImportFailed, match=r"2010_06\.js is listed in the index"):
        import_twitter(export, account="X", account_type="official", out=tmp_path / "o")


def test_a_long_text_that_fits_two_posts_is_not_guessed(tmp_path: Path) -> None:
    cut = {
        "id_str": "1800000000000000001",
        "created_at": "Tue Oct 03 06:30:00 +0000 2023",
        "full_text": "Samma början…",
    }
    twin = dict(cut, id_str="1800000000000000002")
    note = {
        "noteTweet": {
            "noteTweetId": "1800000000000000009",
            "createdAt": "2023-10-03T06:30:01.000Z",
            "core": {"text": "Samma början, och sedan mycket mer text."},
        }
    }
    files = {
        "data/tweets.js": "window.YTD.tweets.part0 = " + json.dumps([{"tweet": cut}, twin]),
        "data/note-tweet.js": "window.YTD.note_tweet.part0 = " + json.dumps([note]),
    }
    with pytest.raises(ImportFailed, match="fits 2 posts"):
        import_twitter(archive_with(tmp_path, files), account="X", out=tmp_path / "o")


def test_a_note_naming_its_post_is_joined_by_id(tmp_path: Path) -> None:
    cut = {
        "id_str": "1800000000000000001",
        "created_at": "Tue Oct 03 06:30:00 +0000 2023",
        "full_text": "Kort…",
    }
    note = {
        "noteTweet": {
            "noteTweetId": "1800000000000000009",
            "tweetId": "1800000000000000001",
            "createdAt": "2023-10-05T06:30:00.000Z",
            "noteTweetResults": {"text": "Helt annan &amp; lång text"},
        }
    }
    files = {
        "data/tweets.js": "window.YTD.tweets.part0 = " + json.dumps([{"tweet": cut}]),
        "data/note-tweet.js": "window.YTD.note_tweet.part0 = " + json.dumps([note]),
    }
    out = tmp_path / "o"
    import_twitter(archive_with(tmp_path, files), account="X", out=out)
    assert rows(out / "posts.csv")["tw-1800000000000000001"]["text"] == "Helt annan & lång text"


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
    full = (X_2024 / "data" / "tweets.js").read_text(encoding="utf-8")
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
        ({"created_at": "2023-02-30 16:10:37 +0000"}, "not a real date"),
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
        import_twitter(zip_dir(FB_PAGE, tmp_path / "fb.zip"), account="X", out=tmp_path / "o")
    assert caught.value.exit_code == 15
    assert not (tmp_path / "o").exists()


def test_empty_archive_and_empty_tweets(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    with pytest.raises(ImportFailed, match="is empty"):
        import_twitter(tmp_path / "empty.zip", account="X", out=tmp_path / "o")
    no_tweets = archive_with(tmp_path, {"data/tweets.js": "window.YTD.tweets.part0 = []"})
    with pytest.raises(ImportFailed, match="holds no posts"):
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
    assert parse_twitter_date("2012-03-14 08:12:33 +0000", "w") == "2012-03-14T08:12:33Z"
    assert parse_twitter_date("2012-03-14 08:12:33 +0100", "w") == "2012-03-14T07:12:33Z"
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


@given(
    st.datetimes(min_value=datetime(2006, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_grailbird_dates_round_trip(naive: datetime, offset_minutes: int) -> None:
    moment = naive.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=offset_minutes)))
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = f"{moment:%Y-%m-%d %H:%M:%S} {sign}{hours:02d}{minutes:02d}"
    expected = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse_twitter_date(text, "w") == expected
