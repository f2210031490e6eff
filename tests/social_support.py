"""Shared by the social-media test modules: fixture paths, the test key, small helpers."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from opengov.redact.keys import KEY_ENV

FIXTURES = Path(__file__).parent / "fixtures" / "social"
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "datapackages" / "kommunchef-sociala-medier"
# Random, and published only for the tests and the example: never a municipality's key.
TEST_KEY = "9f3c0a5be1d7426f8a0c3e5b7d9f1a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f"

FB_2018 = FIXTURES / "facebook-2018"
FB_2019 = FIXTURES / "facebook-2019"
FB_2023 = FIXTURES / "facebook-2023"
FB_PERSONAL = FIXTURES / "facebook-personal"
FB_PAGE = FIXTURES / "facebook-page-2025"
FB_HTML = FIXTURES / "facebook-html"
X_2019 = FIXTURES / "twitter-2019"
X_2024 = FIXTURES / "twitter-2024"
X_GRAILBIRD = FIXTURES / "twitter-grailbird"

PRIVATE_NAMES = (
    "Anna Andersson",
    "Bertil Åkesson",
    "Cecilia Öst",
    "Dragan Petrović",
    "Fatima Hassan",
    "Erik Lind",
)
PRIVATE_HANDLES = ("anna_andersson", "bertil_ak", "cecilia_ost", "dragan_p", "fatima_h")
# Ids of private persons' posts the fixtures reply to or quote; never to be published.
PRIVATE_POST_IDS = (
    "1690100000000000001",
    "1692099999999999999",
    "1099999999999999999",
    "15899999999",
)


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(KEY_ENV, TEST_KEY)
    yield TEST_KEY


def zip_dir(src: Path, dest: Path, prefix: str = "") -> Path:
    """Zip a fixture folder the way the platform delivers it."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(src).as_posix())
    return dest


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def by_id(path: Path) -> dict[str, dict[str, str]]:
    return {r["record_id"]: r for r in rows(path)}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def copy_tree(src: Path, dest: Path) -> Path:
    for path in src.rglob("*"):
        if path.is_file():
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return dest
