"""Shared fixtures: tiny packages built in tmp_path, and the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from helpers import STAFF_ROWS, STAFF_RULES, STAFF_SCHEMA, PackageFactory, write_csv


@pytest.fixture(autouse=True)
def _publish_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test its own cache of published folders (targets/folder_state.py), never ~/.cache."""
    cache = tmp_path_factory.mktemp("opengov-cache")
    monkeypatch.setenv("OPENGOV_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def make_package(tmp_path: Path) -> PackageFactory:
    """Write a one-resource package; every part can be overridden."""

    def make(
        name: str = "personal",
        *,
        rows: list[list[str]] | None = None,
        schema: dict[str, Any] | None = None,
        rules: dict[str, Any] | None = STAFF_RULES,
        encoding: str = "utf-8",
        folder: Path | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Path:
        root = folder or tmp_path / name
        write_csv(root / "data" / f"{name}.csv", rows or STAFF_ROWS, encoding=encoding)
        descriptor = {
            "name": name,
            "title": "Personal (test)",
            "description": "Testpaket med påhittade anställda.",
            "licenses": [
                {
                    "name": "CC0-1.0",
                    "path": "http://creativecommons.org/publicdomain/zero/1.0/",
                    "title": "CC0 1.0",
                }
            ],
            "resources": [
                {
                    "name": name,
                    "path": f"data/{name}.csv",
                    "format": "csv",
                    "encoding": encoding,
                    "dialect": {"delimiter": ";"},
                    "schema": schema or STAFF_SCHEMA,
                }
            ],
            **(extra or {}),
        }
        (root / "datapackage.json").write_text(
            json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        if rules is not None:
            (root / "rules.yaml").write_text(
                yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        return root

    return make


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# 256 random bits as hex, as `opengov key new` writes them (a weak key is refused when loaded).
TEST_KEY = "4d459b5539fc67f5ff933064c6d5b5379d647c7d265d2f8f8bac6ba303be5d89"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fixed pseudonym key in the environment, as a steward would set it."""
    monkeypatch.setenv("OPENGOV_PSEUDONYM_KEY", TEST_KEY)
    return TEST_KEY


@pytest.fixture(autouse=True)
def _agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENGOV_AGENT", "test-suite")


@pytest.fixture(autouse=True)
def _trust_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """verify keeps pinned keys in a trust store: each test its own, never the user's."""
    monkeypatch.setenv("OPENGOV_TRUST_STORE", str(tmp_path / "auditor-trust.json"))
