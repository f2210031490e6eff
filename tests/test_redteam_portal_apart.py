"""Red team 4: a portal folder that holds the package, or lies inside it.

`opengov publish . --to .` in the package folder, or `--to www` for a package in `www/pkg`,
published: the portal folder a web server serves then held the package's unredacted data files
and rules.yaml beside the release. `--to pkg/data` put a portal among the package's own files.
Refused now (exit 7), before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory

from opengov.cli import cli
from opengov.errors import PublishError

# Each layout: where the package goes (under tmp_path) and the portal given for it.
LAYOUTS: dict[str, tuple[str, Callable[[Path], str]]] = {
    "the package itself": ("pkg", lambda pkg: str(pkg)),
    "the package, spelled with ..": ("pkg", lambda pkg: str(pkg / "data" / "..")),
    "its parent": ("www/pkg", lambda pkg: str(pkg.parent)),
    "its grandparent": ("www/a/pkg", lambda pkg: str(pkg.parent.parent)),
    "its data folder": ("pkg", lambda pkg: str(pkg / "data")),
    "a new folder inside it": ("pkg", lambda pkg: str(pkg / "portal")),
    "a link to it": ("pkg", lambda pkg: _link(pkg.parent / "link", pkg)),
    "a link to its parent": ("www/pkg", lambda pkg: _link(pkg.parent.parent / "srv", pkg.parent)),
}


def _link(link: Path, target: Path) -> str:
    link.symlink_to(target)
    return str(link)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("plan", [False, True])
def test_a_portal_that_holds_or_sits_in_the_package_is_refused(
    tmp_path: Path, make_package: PackageFactory, key: str, layout: str, plan: bool
) -> None:
    where, portal_of = LAYOUTS[layout]
    package = make_package(folder=tmp_path / where)
    portal = portal_of(package)
    before = _files(tmp_path)
    args = ["publish", str(package), "--to", portal, *(["--plan"] if plan else [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == PublishError.exit_code, result.output
    assert "outside the package" in result.output
    assert _files(tmp_path) == before


def test_a_portal_beside_the_package_still_publishes(
    tmp_path: Path, make_package: PackageFactory, key: str
) -> None:
    package = make_package(folder=tmp_path / "www" / "pkg")
    result = CliRunner().invoke(cli, ["publish", str(package), "--to", str(tmp_path / "www2")])
    assert result.exit_code == 0, result.output
    # A name that merely starts like the package's is not inside it.
    result = CliRunner().invoke(cli, ["publish", str(package), "--to", f"{package}-portal"])
    assert result.exit_code == 0, result.output
