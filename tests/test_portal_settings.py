"""Portal settings (portal.json): set once, used by every publish and catalogue rewrite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory

from opengov.cli import cli
from opengov.errors import ConfigError
from opengov.release import portal as settings_

BASE = "https://data.exempelby.se/"


def test_init_writes_settings_and_the_catalogue_uses_them(tmp_path: Path) -> None:
    portal = tmp_path / "portal"
    result = CliRunner().invoke(
        cli,
        [
            "portal",
            "init",
            str(portal),
            "--title",
            "Exempelby öppna data",
            "--publisher",
            "Exempelby kommun",
            "--contact",
            "registrator@exempelby.se",
            "--base-url",
            BASE,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown == settings_.load(portal).to_dict()
    assert shown["title"] == "Exempelby öppna data" and shown["base_url"] == BASE
    index = (portal / "index.html").read_text(encoding="utf-8")
    assert "<title>Exempelby öppna data</title>" in index
    assert 'href="mailto:registrator@exempelby.se"' in index
    assert (portal / "dcat.rdf").is_file()
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert catalog["title"] == "Exempelby öppna data" and catalog["datasets"] == []
    # Changing one setting keeps the others.
    again = CliRunner().invoke(cli, ["portal", "init", str(portal), "--title", "Nytt namn"])
    assert again.exit_code == 0, again.output
    assert settings_.load(portal).publisher == "Exempelby kommun"
    show = CliRunner().invoke(cli, ["portal", "show", str(portal), "--json"])
    assert json.loads(show.output)["title"] == "Nytt namn"


def test_a_publish_uses_the_portal_title_and_url_without_options(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    portal = tmp_path / "portal"
    settings_.save(portal, settings_.PortalSettings(title="Kommunens data", base_url=BASE))
    result = CliRunner().invoke(cli, ["publish", str(make_package()), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    assert "<title>Kommunens data</title>" in (portal / "index.html").read_text("utf-8")
    assert "personal/" in (portal / "dcat.rdf").read_text(encoding="utf-8")


def test_the_first_base_url_is_recorded_and_the_environment_works(
    make_package: PackageFactory, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = tmp_path / "portal"
    monkeypatch.setenv("OPENGOV_PORTAL_URL", BASE)
    result = CliRunner().invoke(cli, ["publish", str(make_package()), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    assert settings_.load(portal).base_url == BASE
    monkeypatch.delenv("OPENGOV_PORTAL_URL")
    rebuilt = CliRunner().invoke(cli, ["catalog", str(portal)])
    assert rebuilt.exit_code == 0 and "dcat.rdf" in rebuilt.output


def test_a_plan_writes_no_settings(make_package: PackageFactory, tmp_path: Path, key: str) -> None:
    portal = tmp_path / "portal"
    result = CliRunner().invoke(
        cli, ["publish", str(make_package()), "--to", str(portal), "--base-url", BASE, "--plan"]
    )
    assert result.exit_code == 0, result.output
    assert not (portal / settings_.SETTINGS).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--base-url", "data.exempelby.se"],
        ["--base-url", "javascript:alert(1)"],
        ["--base-url", "https://data.exempelby.se/?q=1"],
        ["--base-url", "https://data exempelby.se/"],
        ["--contact", "inte en adress"],
        ["--contact", "a@b"],
        ["--title", ""],
        ["--title", "x" * 501],
        ["--title", "rad\nbrytning"],
        ["--publisher-uri", "mailto:a@b.se"],
        ["--publisher-uri", "ftp://x.se/"],
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, args: list[str]) -> None:
    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["portal", "init", str(portal), *args])
    assert result.exit_code == ConfigError.exit_code, result.output
    assert "Traceback" not in result.output
    assert not (portal / settings_.SETTINGS).exists()


@pytest.mark.parametrize(
    "content",
    [
        "inte json",
        "[1, 2]",
        '{"titel": "stavfel"}',
        '{"title": 5}',
        '{"base_url": "relativ/sokvag"}',
        "[" * 100_000,
    ],
)
def test_a_damaged_portal_json_is_a_clear_error(
    make_package: PackageFactory, tmp_path: Path, key: str, content: str
) -> None:
    portal = tmp_path / "portal"
    portal.mkdir()
    (portal / settings_.SETTINGS).write_text(content, encoding="utf-8")
    for args in (["publish", str(make_package()), "--to", str(portal)], ["catalog", str(portal)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == ConfigError.exit_code, result.output
        assert "portal.json" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in portal.iterdir()) == [settings_.SETTINGS]


def test_a_portal_from_before_portal_json_keeps_its_url_from_dcat_rdf(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    """dcat.rdf written by an earlier version, no portal.json: the URL is taken from it."""
    portal = tmp_path / "portal"
    result = CliRunner().invoke(
        cli, ["publish", str(make_package()), "--to", str(portal), "--base-url", BASE]
    )
    assert result.exit_code == 0, result.output
    (portal / settings_.SETTINGS).unlink()
    (portal / "dcat.rdf").write_text(
        (portal / "dcat.rdf").read_text(encoding="utf-8").replace("personal/", "gammal/"),
        encoding="utf-8",
    )
    rebuilt = CliRunner().invoke(cli, ["catalog", str(portal)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert settings_.load(portal).base_url == BASE
    text = (portal / "dcat.rdf").read_text(encoding="utf-8")
    assert BASE + "personal/" in text and "gammal/" not in text
