"""Red team 4: exports whose files are not what their names say.

Two entries that unpack to one file (`data/tweets.js` and `./data/tweets.js`, `data//tweets.js`,
`data\\tweets.js`, `data/Tweets.js`) made what was imported depend on which entry opengov read,
and a backslashed name was not even recognised: its posts were reported as "the archive's web
viewer" and left out, exit 0. In a folder export, a pipe named like a posts file was skipped
in silence (and would hang any reader), as was a link to nothing.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import struct
import threading
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from social_support import FB_2023, X_2019, X_2024, key_env  # noqa: F401  (a fixture)

from opengov.errors import ImportFailed, UnsafeArchive
from opengov.importers.social import import_facebook, import_twitter
from opengov.importers.social import package as social_package
from opengov.importers.social.archive import ArchiveLimits, open_export

pytestmark = pytest.mark.usefixtures("key_env")

TWEETS = "data/tweets.js"
EMPTY_TWEETS = b"window.YTD.tweets.part0 = []"


def _zip(src: Path, dest: Path, rename: dict[str, str] | None = None) -> Path:
    rename = rename or {}
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                rel = path.relative_to(src).as_posix()
                zf.write(path, rename.get(rel, rel))
    return dest


@st.composite
def other_spellings(draw: st.DrawFn) -> str:
    """A spelling of data/tweets.js that an unzip tool writes to the same file (on Windows or
    macOS, where case does not tell files apart)."""
    separators = st.sampled_from(["/", "//", "\\", "/./", "\\.\\"])
    name = "".join(
        draw(separators) if c == "/" else (c.swapcase() if draw(st.booleans()) else c)
        for c in TWEETS
    )
    if draw(st.booleans()) or name == TWEETS:
        name = draw(st.sampled_from(["./", ".\\"])) + name
    return name


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spelling=other_spellings())
def test_two_entries_for_one_file_are_refused(tmp_path_factory: pytest.TempPathFactory,
                                              spelling: str) -> None:  # fmt: skip
    tmp = tmp_path_factory.mktemp("dup")
    archive = _zip(X_2024, tmp / "x.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(spelling, EMPTY_TWEETS)
    out = tmp / "out"
    with pytest.raises(UnsafeArchive, match="same file as entry") as caught:
        import_twitter(archive, account="Kommunen (X)", account_type="official", out=out)
    assert spelling not in str(caught.value)
    assert not out.exists()


def test_a_zip_made_with_backslashes_reads_as_its_folder(tmp_path: Path) -> None:
    """PowerShell's Compress-Archive (Windows PowerShell 5) writes `data\\tweets.js`."""
    for source, run in ((X_2024, import_twitter), (FB_2023, import_facebook)):
        names = [p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()]
        archive = _zip(source, tmp_path / f"{source.name}.zip",
                       {n: n.replace("/", "\\") for n in names})  # fmt: skip
        from_zip = run(archive, account="Kommunen", account_type="official",
                       out=tmp_path / f"{source.name}-zip")  # fmt: skip
        from_folder = run(source, account="Kommunen", account_type="official",
                          out=tmp_path / f"{source.name}-folder")  # fmt: skip
        assert from_zip.posts == from_folder.posts
        assert from_zip.comments == from_folder.comments
        assert [f.to_dict() for f in from_zip.files] == [f.to_dict() for f in from_folder.files]


def test_a_backslashed_posts_file_beside_others_is_read(tmp_path: Path) -> None:
    """One entry with a backslash was 'the archive's web viewer', its posts left out, exit 0."""
    archive = _zip(X_2024, tmp_path / "x.zip", {"data/tweets-part1.js": "data\\tweets-part1.js"})
    result = import_twitter(
        archive, account="Kommunen (X)", account_type="official", out=tmp_path / "out"
    )
    whole = import_twitter(
        X_2024, account="Kommunen (X)", account_type="official", out=tmp_path / "whole"
    )
    assert result.posts == whole.posts
    assert {f.path: f.status for f in result.files}["data/tweets-part1.js"] == "read"


def test_media_names_differing_in_case_are_distinct_files(tmp_path: Path) -> None:
    # X media names end in case-sensitive ids; a real archive may hold both.
    archive = _zip(X_2024, tmp_path / "x.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("data/tweets_media/1-AbC.jpg", b"\xff\xd8a")
        zf.writestr("data/tweets_media/1-abc.jpg", b"\xff\xd8b")
    with open_export(archive) as export:
        assert {"data/tweets_media/1-AbC.jpg", "data/tweets_media/1-abc.jpg"} <= set(export.names())


def _folder(tmp_path: Path) -> Path:
    export = tmp_path / "export"
    export.mkdir()
    for path in FB_2023.rglob("*"):
        target = export / path.relative_to(FB_2023)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return export


POSTS_DIR = "your_activity_across_facebook/posts"


def test_a_pipe_in_a_folder_export_is_refused_not_skipped(tmp_path: Path) -> None:
    export = _folder(tmp_path)
    os.mkfifo(export / POSTS_DIR / "your_posts_2.json")
    with pytest.raises(UnsafeArchive, match="not a regular file"):
        import_facebook(export, account="Sidan", account_type="official", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", ["nowhere.json", "loop.json"])
def test_a_link_to_nothing_in_a_folder_export_is_refused_not_skipped(
    tmp_path: Path, target: str
) -> None:
    export = _folder(tmp_path)
    (export / POSTS_DIR / "loop.json").symlink_to("loop.json")
    if target != "loop.json":
        (export / POSTS_DIR / "your_posts_2.json").symlink_to(target)
    with pytest.raises(ImportFailed, match="link to nothing"):
        import_facebook(export, account="Sidan", account_type="official", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- one post id, two texts ---------------------------------------------------------------


def _ytd(path: Path) -> tuple[str, list[dict[str, object]]]:
    text = path.read_text(encoding="utf-8")
    prefix, _, body = text.partition("= ")
    return prefix + "= ", json.loads(body)


def _copy_x(tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(X_2024, tmp_path / "x"))


POST_FILES = ["tweets-part1.js", "community-tweet.js", "deleted-tweets.js",
              "twitter-circle-tweet.js"]  # fmt: skip


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    into=st.sampled_from(POST_FILES),
    which=st.integers(0, 8),
    text=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40),
)
def test_one_post_id_with_two_texts_is_refused(
    tmp_path_factory: pytest.TempPathFactory, into: str, which: int, text: str
) -> None:
    """Files merged from two archives, or edited by hand: keeping the first text dropped the
    other in silence, exit 0."""
    export = _copy_x(tmp_path_factory.mktemp("x"))
    _, tweets = _ytd(export / "data" / TWEETS.split("/")[1])
    copy = json.loads(json.dumps(tweets[which]))
    original = copy["tweet"]["full_text"]  # type: ignore[index]
    text = "Ändrad text: " + text  # long enough that the message cannot hold it by chance
    copy["tweet"]["full_text"] = text  # type: ignore[index]
    prefix, entries = _ytd(export / "data" / into)
    (export / "data" / into).write_text(prefix + json.dumps([copy, *entries]), encoding="utf-8")
    out = export.parent / "out"
    with pytest.raises(ImportFailed, match="another text") as caught:
        import_twitter(export, account="Kommunen (X)", account_type="official", out=out)
    assert text not in str(caught.value) and original not in str(caught.value)
    assert not out.exists()


@pytest.mark.parametrize("into", POST_FILES)
def test_the_same_post_in_two_files_with_the_same_text_still_imports(
    tmp_path: Path, into: str
) -> None:
    export = _copy_x(tmp_path)
    _, tweets = _ytd(export / "data" / "tweets.js")
    prefix, entries = _ytd(export / "data" / into)
    (export / "data" / into).write_text(prefix + json.dumps([tweets[0], *entries]))
    manifest = export / "data" / "manifest.js"
    prefix, config = manifest.read_text(encoding="utf-8").split("= ", 1)
    data = json.loads(config)
    for spec in data["dataTypes"].values():  # the manifest counts each file's entries
        for listed in spec.get("files", []):
            if listed["fileName"] == f"data/{into}":
                listed["count"] = str(int(listed["count"]) + 1)
    manifest.write_text(prefix + "= " + json.dumps(data), encoding="utf-8")
    result = import_twitter(
        export, account="Kommunen (X)", account_type="official", out=tmp_path / "out"
    )
    whole = import_twitter(
        X_2024, account="Kommunen (X)", account_type="official", out=tmp_path / "whole"
    )
    assert result.posts.total == whole.posts.total


# --- two imports into one package at once -------------------------------------------------


def test_two_imports_into_one_package_at_once_keep_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first import is held just before its swap while the second runs: the second read
    the package before the first's swap, and its own swap dropped the first one's records."""
    out = tmp_path / "pkg"
    import_twitter(X_2024, account="Kommunen (X)", account_type="official", out=out)
    inside_swap, release = threading.Event(), threading.Event()
    real_replace = social_package.replace_files

    def held(target: Path, files: object) -> None:
        if threading.current_thread().name == "first":
            inside_swap.set()
            assert release.wait(30)
        real_replace(target, files)  # type: ignore[arg-type]

    monkeypatch.setattr(social_package, "replace_files", held)
    errors: list[BaseException] = []

    def run(export: Path, account: str) -> None:
        try:
            if "Facebook" in account:
                import_facebook(export, account=account, account_type="official", out=out)
            else:
                import_twitter(export, account=account, account_type="official", out=out)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    first = threading.Thread(target=run, args=(FB_2023, "Sidan (Facebook)"), name="first")
    second = threading.Thread(target=run, args=(X_2019, "Gamla kontot (X)"), name="second")
    first.start()
    assert inside_swap.wait(30)
    second.start()
    second.join(2)  # with the lock it waits for the first; without, it ran to its swap
    release.set()
    first.join(30)
    second.join(30)
    assert not errors, errors
    with (out / "posts.csv").open(encoding="utf-8") as handle:
        accounts = {row["account"] for row in csv.DictReader(handle)}
    assert accounts == {"Kommunen (X)", "Sidan (Facebook)", "Gamla kontot (X)"}


def test_an_import_beside_classify_keeps_the_decisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """classify held just before its swap while an import runs: the import had read the
    package before the decisions and swapped them away (a record decided private was back to
    its default, official, and would publish)."""
    # The package exports a function of the module's name: the module itself, by its path.
    social_classify = importlib.import_module("opengov.importers.social.classify")

    out = tmp_path / "pkg"
    import_twitter(X_2024, account="Kommunen (X)", account_type="official", out=out)
    with (out / "posts.csv").open(encoding="utf-8") as handle:
        record = next(csv.DictReader(handle))["record_id"]
    decisions = tmp_path / "beslut.csv"
    decisions.write_text(
        "record_id,classification,classified_by,reason\n"
        f"{record},private,Registrator,Privat inlägg\n",
        encoding="utf-8",
    )
    inside_swap, release = threading.Event(), threading.Event()
    real_replace = social_classify._replace_files

    def held(target: Path, files: object) -> None:
        inside_swap.set()
        assert release.wait(30)
        real_replace(target, files)  # type: ignore[arg-type]

    monkeypatch.setattr(social_classify, "_replace_files", held)
    errors: list[BaseException] = []

    def run(action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    first = threading.Thread(target=run, args=(lambda: social_classify.classify(out, decisions),))
    second = threading.Thread(target=run, args=(lambda: import_twitter(
        X_2019, account="Gamla kontot (X)", account_type="official", out=out),))  # fmt: skip
    first.start()
    assert inside_swap.wait(30)
    second.start()
    second.join(2)
    release.set()
    first.join(30)
    second.join(30)
    assert not errors, errors
    with (out / "posts.csv").open(encoding="utf-8") as handle:
        rows = {row["record_id"]: row for row in csv.DictReader(handle)}
    assert rows[record]["classification"] == "private"
    assert {row["account"] for row in rows.values()} == {"Kommunen (X)", "Gamla kontot (X)"}


# --- the entry limit before the central directory is parsed -------------------------------


def _many(path: Path, count: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(count):
            zf.writestr(zipfile.ZipInfo(f"{i:x}.txt"), b"")
    return path


@pytest.mark.parametrize(("count", "limit"), [(20, 10), (70_000, 65_000)])
def test_too_many_entries_are_refused_before_zipfile_parses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, limit: int
) -> None:
    """ZipFile makes an object per entry when it opens an archive: 600,000 empty entries (a
    49 MB ZIP) took 320 MB before the limit was even looked at. 70,000 entries need the ZIP64
    end record."""
    archive = _many(tmp_path / "many.zip", count)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    with (
        pytest.raises(UnsafeArchive, match=f"{count} entries, more than the limit {limit}"),
        open_export(archive, ArchiveLimits(max_entries=limit)),
    ):
        pass


# --- a record's text that is not text --------------------------------------------------------

not_text = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.text(max_size=5), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), min_size=1, max_size=2),
)

FB_POSTS = "your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_1.json"
FB_COMMENTS = "your_activity_across_facebook/comments_and_reactions/comments.json"


def _with_value(data: object, key: str, value: object) -> object:
    """`data` with the first `key` (depth first) set to `value`."""
    done = False

    def walk(node: object) -> object:
        nonlocal done
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == key and not done and isinstance(v, str):
                    out[k], done = value, True
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    changed = walk(data)
    assert done
    return changed


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(where=st.sampled_from(["x full_text", "fb post", "fb comment"]), value=not_text)
def test_a_text_that_is_not_text_is_refused_not_dropped(
    tmp_path_factory: pytest.TempPathFactory, where: str, value: object
) -> None:
    """`"post": 5` imported the post without its text, exit 0 (X's full_text, a comment, too)."""
    import shutil

    tmp = tmp_path_factory.mktemp("text")
    if where == "x full_text":
        export = Path(shutil.copytree(X_2024, tmp / "x"))
        prefix, entries = _ytd(export / "data" / "tweets.js")
        changed = _with_value(entries, "full_text", value)
        (export / "data" / "tweets.js").write_text(prefix + json.dumps(changed), encoding="utf-8")
        run = import_twitter
    else:
        export = Path(shutil.copytree(FB_2023, tmp / "fb"))
        rel, key = (FB_POSTS, "post") if where == "fb post" else (FB_COMMENTS, "comment")
        data = json.loads((export / rel).read_text(encoding="utf-8"))
        (export / rel).write_text(json.dumps(_with_value(data, key, value)), encoding="utf-8")
        run = import_facebook
    out = tmp / "out"
    with pytest.raises(ImportFailed, match="is not text"):
        run(export, account="Kommunen", account_type="official", out=out)
    assert not out.exists()


def _declare(path: Path, entries: int) -> Path:
    """Rewrite the end record's entry counts (and the ZIP64 end record's) to `entries`: the
    central directory still holds every entry, and ZipFile parses all of them."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    if data[end + 10 : end + 12] != b"\xff\xff":
        data[end + 8 : end + 12] = struct.pack("<HH", entries, entries)
    end64 = data.rfind(b"PK\x06\x06")
    if end64 >= 0:
        data[end64 + 24 : end64 + 40] = struct.pack("<QQ", entries, entries)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("count", "limit"), [(20, 10), (70_000, 65_000)])
@pytest.mark.parametrize("declared", [0, 1, 5])
def test_an_end_record_that_understates_its_entries_is_refused_before_zipfile_parses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, limit: int, declared: int
) -> None:
    """The end record's count is the archive's word only: ZipFile reads the central directory
    by its size, whatever count the record declares, so a record declaring 1 entry let any
    number of them be parsed (memory grows with the file) before the limit was looked at."""
    archive = _declare(_many(tmp_path / "many.zip", count), declared)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    with (
        pytest.raises(UnsafeArchive, match=f"more than {limit} entries"),
        open_export(archive, ArchiveLimits(max_entries=limit)),
    ):
        pass
