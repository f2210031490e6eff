"""Docs that cannot drift: the CLI reference is generated, every command documented."""

from __future__ import annotations

from pathlib import Path

import click

from opengov.cli import cli
from opengov.cli.doc import render

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "run: python -m opengov.cli.doc > docs/cli.md"


def test_every_command_is_in_the_reference() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in cli.list_commands(click.Context(cli)):
        assert f"`opengov {name}`" in text


def test_docs_exist_for_each_format() -> None:
    for name in ("rules.md", "provenance.md", "report.md", "ckan.md", "changelog.md"):
        assert (DOCS / name).is_file(), name
