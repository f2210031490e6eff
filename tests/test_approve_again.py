"""`opengov approve` again by the same approver for the same inputs: nothing written.

Found by a README walkthrough: each repeated `approve` signed and wrote a fresh approval (a new
time, new bytes) though nothing it binds to (dataset, inputs fingerprint, the review shown)
had changed. Now the earlier approval is kept and the command says so, exit 0, without asking;
anything else at PACKAGE/approvals/<key id>.json is replaced as before.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory
from signing_helpers import make_key
from test_approve import approve, rules_requiring

from opengov.approvals import sign_approval
from opengov.cli import cli
from opengov.signing import canonical, load_signer


def _state(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


@pytest.fixture
def people(tmp_path: Path) -> dict[str, Path]:
    return {
        "anna": make_key(tmp_path / "anna", "Anna Andersson, kommunjurist"),
        "bo": make_key(tmp_path / "bo", "Bo Berg, registrator"),
    }


@pytest.mark.parametrize("required", [True, False], ids=["rules require", "not required"])
def test_approving_the_same_inputs_again_writes_nothing(
    make_package: PackageFactory,
    tmp_path: Path,
    key: str,
    people: dict[str, Path],
    required: bool,
) -> None:
    rules = rules_requiring(1, people["anna"], people["bo"]) if required else None
    package = make_package(rules=rules) if rules else make_package()
    portal = tmp_path / "portal"
    first = approve(package, people["anna"], portal, "--yes")
    assert first.exit_code == 0 and "approved:" in first.output, first.output
    (file,) = (package / "approvals").glob("*.json")
    before = _state(file)
    # Without --yes and no answer given: it must not even ask.
    for extra in (["--yes"], [], ["--json"]):
        again = approve(package, people["anna"], portal, *extra)
        assert again.exit_code == 0, again.output
        assert _state(file) == before
        assert sorted(p.name for p in (package / "approvals").iterdir()) == [file.name]
        if extra == ["--json"]:
            data = json.loads(again.output)["approval"]
            assert data["written"] is False and data["file"] == str(file)
        else:
            assert "already approved" in again.output and "nothing written" in again.output
            assert "Approve publishing" not in again.output


def _other_data(package: Path) -> None:
    csv = package / "data" / "personal.csv"
    csv.write_bytes(csv.read_bytes().replace(b"Skola", b"Ekonomi", 1))


def _damaged(file: Path) -> None:
    file.write_bytes(file.read_bytes()[:-5])


def _other_summary(file: Path, signer_key: Path) -> None:
    """The same dataset and fingerprint, validly signed, over another review's summary."""
    body = json.loads(base64.b64decode(json.loads(file.read_bytes())["payload"]))
    envelope = sign_approval(
        load_signer(signer_key), dataset=body["dataset"],
        fingerprint=body["inputs_fingerprint"], summary_sha256="0" * 64,
    )  # fmt: skip
    file.write_bytes(canonical(envelope))


def _anothers_file(file: Path, people: dict[str, Path], package: Path, portal: Path) -> None:
    """Bo's approval copied over Anna's file name."""
    assert approve(package, people["bo"], portal, "--yes").exit_code == 0
    bos = next(p for p in (package / "approvals").glob("*.json") if p != file)
    os.replace(bos, file)


CHANGES: dict[str, Callable[[Path, Path, dict[str, Path], Path], None]] = {
    "other data": lambda package, file, people, portal: _other_data(package),
    "damaged file": lambda package, file, people, portal: _damaged(file),
    "another summary": lambda package, file, people, portal: _other_summary(file, people["anna"]),
    "another key's approval": lambda package, file, people, portal: _anothers_file(
        file, people, package, portal
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_anything_but_the_same_approval_is_signed_anew(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path], change: str
) -> None:
    package = make_package(rules=rules_requiring(1, people["anna"], people["bo"]))
    portal = tmp_path / "portal"
    assert approve(package, people["anna"], portal, "--yes").exit_code == 0
    (file,) = (package / "approvals").glob("*.json")
    CHANGES[change](package, file, people, portal)
    before = _state(file)
    again = approve(package, people["anna"], portal, "--yes")
    assert again.exit_code == 0 and "approved:" in again.output, again.output
    assert "already approved" not in again.output
    assert _state(file) != before
    # ... and that one is then kept.
    kept = _state(file)
    assert "already approved" in approve(package, people["anna"], portal, "--yes").output
    assert _state(file) == kept


def test_another_approver_still_approves(
    make_package: PackageFactory, tmp_path: Path, key: str, people: dict[str, Path]
) -> None:
    package = make_package(rules=rules_requiring(2, people["anna"], people["bo"]))
    portal = tmp_path / "portal"
    assert approve(package, people["anna"], portal, "--yes").exit_code == 0
    result = CliRunner().invoke(
        cli, ["approve", str(package), "--key", str(people["bo"]), "--to", str(portal)],
        input="y\n",
    )  # fmt: skip
    assert result.exit_code == 0 and "approved:" in result.output, result.output
    assert len(list((package / "approvals").glob("*.json"))) == 2
