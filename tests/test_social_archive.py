"""Safe reading of exports: zip slip, zip bombs, size limits, damaged archives, links."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from social_support import key_env  # noqa: F401  (a fixture)

from opengov.errors import ImportFailed, InputError, UnsafeArchive
from opengov.importers.social import ArchiveLimits, import_facebook
from opengov.importers.social.archive import check_entry_name, open_export

pytestmark = pytest.mark.usefixtures("key_env")

POSTS = "posts/your_posts_1.json"
ONE_POST = b'[{"timestamp": 1692547200, "data": [{"post": "Hej"}]}]'


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.json", "'..'"),
        ("posts/../../evil.json", "'..'"),
        ("..\\..\\evil.json", "'..'"),
        ("/etc/passwd", "absolute"),
        ("\\windows\\system.ini", "absolute"),
        ("C:/Users/x.json", "drive letter"),
        ("c:evil.json", "drive letter"),
        ("posts/a\x00.json", "NUL"),
    ],
)
def test_unsafe_entry_names_are_named_why(name: str, problem: str) -> None:
    reason = check_entry_name(name)
    assert reason is not None and problem in reason


@pytest.mark.parametrize(
    "name", ["posts/your_posts_1.json", "a/b..c/d.json", "..hidden/x", "data/tweets.js"]
)
def test_safe_entry_names_pass(name: str) -> None:
    assert check_entry_name(name) is None


@pytest.mark.parametrize("evil", ["../../etc/cron.d/x", "/tmp/evil.json", "C:/evil.json"])
def test_zip_slip_is_refused_and_nothing_written(tmp_path: Path, evil: str) -> None:
    archive = make_zip(tmp_path / "export.zip", {POSTS: ONE_POST, evil: b"x"})
    out = tmp_path / "out"
    with pytest.raises(UnsafeArchive) as caught:
        import_facebook(archive, account="Sida", out=out)
    assert caught.value.exit_code == 16
    assert "zip slip" in str(caught.value)
    assert "entry 2" in str(caught.value)
    assert evil not in str(caught.value)  # the hostile name is not echoed
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]


def test_zip_bomb_by_ratio_is_refused_with_default_limits(tmp_path: Path) -> None:
    # 4 MB of one byte compresses about 1000 times: far past the default ratio of 100.
    archive = make_zip(tmp_path / "bomb.zip", {POSTS: b" " * (4 * 1024 * 1024)})
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        import_facebook(archive, account="Sida", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_ratio_limit_is_configurable(tmp_path: Path) -> None:
    padded = b"[" + b" " * 50_000 + ONE_POST[1:]
    archive = make_zip(tmp_path / "export.zip", {POSTS: padded})
    strict = ArchiveLimits(max_ratio=10, ratio_min_bytes=1000)
    with pytest.raises(UnsafeArchive, match="expands"):
        import_facebook(archive, account="Sida", out=tmp_path / "out", limits=strict)
    # The same archive within the default limits is an ordinary export.
    result = import_facebook(archive, account="Sida", out=tmp_path / "out")
    assert result.posts.read == 1


def test_total_unpacked_size_limit(tmp_path: Path) -> None:
    big = b"[" + b" " * 20_000 + ONE_POST[1:]
    archive = make_zip(tmp_path / "export.zip", {POSTS: big})
    small = ArchiveLimits(max_unpacked_bytes=10_000)
    with pytest.raises(UnsafeArchive, match="10000 unpacked bytes"):
        import_facebook(archive, account="Sida", out=tmp_path / "out", limits=small)
    assert not (tmp_path / "out").exists()


def test_size_limit_applies_to_folders_too(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "posts").mkdir(parents=True)
    (export / POSTS).write_bytes(b"[" + b" " * 20_000 + ONE_POST[1:])
    with pytest.raises(UnsafeArchive):
        import_facebook(
            export,
            account="Sida",
            out=tmp_path / "out",
            limits=ArchiveLimits(max_unpacked_bytes=1000),
        )


def test_duplicate_entry_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(path, "w") as zf,
    ):
        zf.writestr(POSTS, ONE_POST)
        zf.writestr(POSTS, b"[]")
    with pytest.raises(UnsafeArchive, match="same file as entry 1"), open_export(path):
        pass


def test_too_many_entries(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(20)})
    with (
        pytest.raises(UnsafeArchive, match="entries"),
        open_export(archive, ArchiveLimits(max_entries=10)),
    ):
        pass


def test_not_a_zip_nor_folder(tmp_path: Path) -> None:
    bogus = tmp_path / "export.zip"
    bogus.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(ImportFailed, match="neither a folder nor a ZIP") as caught:
        import_facebook(bogus, account="Sida", out=tmp_path / "out")
    assert caught.value.exit_code == 15


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "export.zip"
    empty.write_bytes(b"")
    with pytest.raises(ImportFailed, match="empty file"):
        import_facebook(empty, account="Sida", out=tmp_path / "out")


def test_truncated_zip(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "export.zip", {POSTS: ONE_POST * 200})
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFailed) as caught:
        import_facebook(archive, account="Sida", out=tmp_path / "out")
    assert caught.value.exit_code == 15
    assert not (tmp_path / "out").exists()


def test_damaged_entry_data(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "export.zip", {POSTS: ONE_POST * 50})
    data = bytearray(archive.read_bytes())
    data[60:70] = b"\xff" * 10  # inside the compressed stream of the only entry
    archive.write_bytes(bytes(data))
    with pytest.raises(ImportFailed, match="damaged"):
        import_facebook(archive, account="Sida", out=tmp_path / "out")


def test_missing_export(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        import_facebook(tmp_path / "nope.zip", account="Sida", out=tmp_path / "out")


def test_folder_link_outside_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_bytes(ONE_POST)
    export = tmp_path / "export"
    (export / "posts").mkdir(parents=True)
    (export / POSTS).symlink_to(secret)
    with pytest.raises(UnsafeArchive, match="outside the export"):
        import_facebook(export, account="Sida", out=tmp_path / "out")


def test_reading_records_provenance(tmp_path: Path) -> None:
    import hashlib

    archive = make_zip(tmp_path / "export.zip", {POSTS: ONE_POST, "other.txt": b"x"})
    with open_export(archive) as export:
        assert export.names() == ["other.txt", POSTS]
        assert export.read(POSTS) == ONE_POST
        read = export.files_read[POSTS]
    assert read.sha256 == hashlib.sha256(ONE_POST).hexdigest()
    assert read.bytes == len(ONE_POST)
