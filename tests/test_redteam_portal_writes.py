"""Red team: a link planted in a portal never redirects a write outside it.

Found: the portal-level files (index.html, catalog.json, dcat.rdf, portal.json, keys.json) were
written through fixed temporary names (`.index.html.tmp`, ...). Someone who can write to the
portal (the threat model of docs/provenance.md) planted `.catalog.json.tmp -> /elsewhere/file`,
and the next publish, `opengov catalog`, `portal init` or `withdraw` overwrote that file with the
catalogue and then replaced the portal's own file with the link. Every command that writes
portal-level files is tried with a link planted at every fixed name it used, and at the final
names too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PackageFactory
from hostile import invoke, snapshot
from signing_helpers import make_key

BASE = "https://data.exempelby.se/"
PORTAL_FILES = ("index.html", "catalog.json", "dcat.rdf", "portal.json", "keys.json")
# The fixed temporary names, and the final names of the files opengov only writes (a link at
# portal.json is read as the settings, and refused there if it is not them).
PLANTED_NAMES = [f".{n}.tmp" for n in PORTAL_FILES] + [
    n for n in PORTAL_FILES if n != "portal.json"
]


def _commands(package: Path, portal: Path, signing: Path) -> dict[str, list[str]]:
    return {
        "publish": ["publish", str(package), "--to", str(portal), "--signing-key", str(signing)],
        "catalog": ["catalog", str(portal), "--base-url", BASE],
        "portal init": ["portal", "init", str(portal), "--title", "Exempelby öppna data"],
        "withdraw": [
            "withdraw",
            "personal",
            "--to",
            str(portal),
            "--reason",
            "Fel urval.",
            "--signing-key",
            str(signing),
        ],
    }


@pytest.mark.parametrize("command", ["publish", "catalog", "portal init", "withdraw"])
def test_links_planted_at_portal_file_names_redirect_nothing(
    make_package: PackageFactory, tmp_path: Path, key: str, command: str
) -> None:
    signing = make_key(tmp_path / "keys", "Exempelby kommun")
    package = make_package()
    portal = tmp_path / "portal"
    first = invoke(
        [
            "publish",
            str(package),
            "--to",
            str(portal),
            "--base-url",
            BASE,
            "--signing-key",
            str(signing),
        ]
    )
    assert first.exit_code == 0, first.output
    if command == "publish":  # a change, so the publish writes a release and the catalogue
        csv = package / "data" / "personal.csv"
        csv.write_bytes(csv.read_bytes().replace(b"Skola", b"Ekonomi", 1))
    victims = tmp_path / "victims"
    victims.mkdir()
    for name in PLANTED_NAMES:
        victim = victims / name.strip(".")
        victim.write_text("the steward's own file", encoding="utf-8")
        target = portal / name
        target.unlink(missing_ok=True)
        target.symlink_to(victim)
    before = snapshot(victims)

    run = invoke(_commands(package, portal, signing)[command])

    assert run.exit_code == 0, run.output
    assert snapshot(victims) == before, "a write went through a link to outside the portal"
    for name in _written(command):
        path = portal / name
        assert path.is_file() and not path.is_symlink(), f"{name} is not the portal's own file"
    assert not [
        p.name for p in portal.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()
    ], "a temporary file was left behind"


def _written(command: str) -> set[str]:
    """The portal files each command rewrites."""
    catalogue = {"index.html", "catalog.json", "dcat.rdf"}
    return {
        "publish": catalogue | {"keys.json"},
        "catalog": catalogue,
        "portal init": catalogue | {"portal.json"},
        "withdraw": catalogue | {"keys.json"},
    }[command]
