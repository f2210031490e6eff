"""Every forgery of issue 14 fails `opengov verify` with its own message and exit code.

Each was tried as an attacker with write access to the portal would: rewrite provenance so it
is consistent, cut the history, plant files, replace the folder with a chain of one's own,
re-sign with another key, replay an old release, remove an approval.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory, write_csv
from signing_helpers import (
    changed_rows,
    forge_data,
    make_key,
    publish_releases,
    read_doc,
    signer,
    write_doc,
)

from opengov import errors
from opengov.cli import cli
from opengov.signing import SIGNATURE, KeyInfo, read_public_key
from opengov.targets.static import publish_static
from opengov.trust import Trust, TrustStore
from opengov.verify import verify_folder


def pinned(key_file: Path) -> Trust:
    info = read_public_key(f"{key_file}.pub")
    assert isinstance(info, KeyInfo)
    return Trust(keys=(info.key,))


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    return {
        "kommun": make_key(tmp_path / "keys", "Exempelby kommun"),
        "attacker": make_key(tmp_path / "attacker", "Angripare AB"),
    }


@pytest.fixture
def signed(make_package: PackageFactory, tmp_path: Path, key: str, keys: dict[str, Path]) -> Path:
    """A two-release signed dataset."""
    return publish_releases(make_package(), tmp_path / "portal", [keys["kommun"]] * 2)


def run_verify(dataset: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", str(dataset), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def assert_fails(
    dataset: Path, trust_key: Path, error: type[errors.OpengovError], message: str
) -> None:
    """The library names the problem; the CLI exits with the error's own code."""
    result = verify_folder(dataset, pinned(trust_key))
    assert not result.ok
    failure = result.error()
    assert type(failure) is error, result.mismatches
    assert message in str(failure)
    code, output = run_verify(dataset, "--trust", f"{trust_key}.pub")
    assert code == error.exit_code, output
    assert message in output


def test_a_signed_portal_verifies(signed: Path, keys: dict[str, Path], tmp_path: Path) -> None:
    result = verify_folder(signed, pinned(keys["kommun"]))
    assert result.ok, result.mismatches
    assert result.signatures_checked and result.trust == "pinned"
    assert [s["release"] for s in result.signers] == [1, 2]
    assert {s["publisher"] for s in result.signers} == {"Exempelby kommun"}
    code, output = run_verify(signed, "--trust", f"{keys['kommun']}.pub")
    assert code == 0, output
    assert "every release signed" in output
    code, output = run_verify(signed, "--trust", f"{keys['kommun']}.pub", "--json")
    data = json.loads(output)
    assert data["ok"] and data["signatures_checked"] and data["chain_length"] == 2


def test_csv_edited_and_provenance_rehashed(signed: Path, keys: dict[str, Path]) -> None:
    forge_data(signed, descriptor_too=False)
    assert_fails(
        signed, keys["kommun"], errors.DescriptorMismatch, "datapackage.json gives hash sha256:"
    )
    # Without signatures the stale descriptor alone gives it away.
    code, output = run_verify(signed, "--allow-unsigned")
    assert code == errors.DescriptorMismatch.exit_code, output


def test_a_fully_consistent_rewrite_breaks_the_signature(
    signed: Path, keys: dict[str, Path]
) -> None:
    forge_data(signed, descriptor_too=True)
    assert_fails(signed, keys["kommun"], errors.SignatureInvalid, "for other provenance.json bytes")
    # Consistency alone cannot see this one: which is why verify fails closed.
    code, output = run_verify(signed, "--allow-unsigned")
    assert code == 0 and "CONSISTENCY ONLY" in output


def test_history_cut_and_previous_nulled(signed: Path, keys: dict[str, Path]) -> None:
    shutil.rmtree(signed / "history")
    doc = read_doc(signed)
    doc["previous"] = None
    doc.pop("wasRevisionOf")
    write_doc(signed, doc)
    assert_fails(signed, keys["kommun"], errors.ChainBroken, "release 2 has no link to release 1")
    code, _ = run_verify(signed, "--allow-unsigned")
    assert code == errors.ChainBroken.exit_code


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("history/index.html", b"<html><script>alert(1)</script></html>"),
        ("history/personal-unredacted.csv", b"id;personnummer\n1;811228-9874\n"),
        ("history/" + "0" * 64 + ".json", b"{}"),
        ("extra.html", b"<p>hej</p>"),
    ],
)
def test_planted_files_are_named(
    signed: Path, keys: dict[str, Path], name: str, content: bytes
) -> None:
    (signed / name).write_bytes(content)
    assert_fails(signed, keys["kommun"], errors.UnlistedFiles, f"{name}: present but not listed")
    code, _ = run_verify(signed, "--allow-unsigned")
    assert code == errors.UnlistedFiles.exit_code


def test_folder_replaced_by_an_attackers_own_chain(
    make_package: PackageFactory,
    tmp_path: Path,
    key: str,
    signed: Path,
    keys: dict[str, Path],
) -> None:
    theirs = publish_releases(
        make_package(folder=tmp_path / "their-package"),
        tmp_path / "their-portal",
        [keys["attacker"]] * 2,
    )
    shutil.rmtree(signed)
    shutil.copytree(theirs, signed)
    assert verify_folder(signed, pinned(keys["attacker"])).ok  # consistent, and signed
    assert_fails(signed, keys["kommun"], errors.UntrustedKey, "which is not a key you trust")


def test_an_unsigned_chain_of_ones_own_is_unsigned(
    make_package: PackageFactory, tmp_path: Path, key: str, keys: dict[str, Path]
) -> None:
    theirs = publish_releases(make_package(), tmp_path / "portal", [None, None])
    assert_fails(theirs, keys["kommun"], errors.Unsigned, "release 1 is not signed")
    code, output = run_verify(theirs, "--allow-unsigned")
    assert code == 0 and "CONSISTENCY ONLY" in output and "not checked" in output


def test_resigned_by_another_key(signed: Path, keys: dict[str, Path]) -> None:
    forge_data(signed, descriptor_too=True, resign=signer(keys["attacker"]))
    assert_fails(signed, keys["kommun"], errors.UntrustedKey, "never handed over to")


def test_signature_file_removed_or_swapped(signed: Path, keys: dict[str, Path]) -> None:
    envelope = (signed / SIGNATURE).read_bytes()
    (signed / SIGNATURE).unlink()
    assert_fails(signed, keys["kommun"], errors.Unsigned, "the signature is gone")
    # The signature of release 1 put in place of release 2's.
    doc = read_doc(signed)
    old = json.dumps(doc["previous"]["signature"], ensure_ascii=False, indent=2, sort_keys=True)
    (signed / SIGNATURE).write_text(old + "\n", encoding="utf-8")
    assert_fails(signed, keys["kommun"], errors.SignatureInvalid, "release 2:")
    # Reformatted (same JSON): not the bytes opengov wrote.
    (signed / SIGNATURE).write_bytes(json.dumps(json.loads(envelope)).encode())
    assert_fails(signed, keys["kommun"], errors.SignatureInvalid, "changed after signing")


def test_a_replayed_old_release_is_noticed_by_the_trust_store(
    make_package: PackageFactory, tmp_path: Path, key: str, keys: dict[str, Path]
) -> None:
    store = tmp_path / "auditor" / "trust.json"
    package, portal = make_package(), tmp_path / "portal"
    dataset = publish_releases(package, portal, [keys["kommun"]])
    old = tmp_path / "release-1"
    shutil.copytree(dataset, old)  # release 1, byte for byte as it was signed and served
    write_csv(package / "data" / "personal.csv", changed_rows(1))
    assert publish_static(package, portal, signing_key=keys["kommun"]).release == 2
    trust = ["--trust", f"{keys['kommun']}.pub", "--trust-store", str(store)]
    code, output = run_verify(dataset, *trust)
    assert code == 0, output
    shutil.rmtree(dataset)
    shutil.copytree(old, dataset)
    # Genuine and signed: only the auditor's memory of release 2 tells it apart.
    assert verify_folder(dataset, pinned(keys["kommun"])).ok
    result = verify_folder(dataset, Trust(store=TrustStore.open(store)))
    assert type(result.error()) is errors.ReplayDetected
    code, output = run_verify(dataset, *trust)
    assert code == errors.ReplayDetected.exit_code, output
    assert "release 1 is older than release 2" in output


def test_another_datasets_release_in_the_folder(signed: Path, keys: dict[str, Path]) -> None:
    moved = signed.with_name("budget")
    signed.rename(moved)
    assert_fails(moved, keys["kommun"], errors.ReplayDetected, "holds a release of another dataset")


def test_first_use_pins_with_a_warning_then_holds(
    signed: Path, keys: dict[str, Path], tmp_path: Path, make_package: PackageFactory, key: str
) -> None:
    store = tmp_path / "auditor.json"
    result = CliRunner().invoke(cli, ["verify", str(signed), "--trust-store", str(store)])
    assert result.exit_code == 0, result.output
    assert "trusting key" in result.output and "on first use" in result.output
    pins = json.loads(store.read_text())["origins"]
    assert [k["how"] for o in pins.values() for k in o["keys"].values()] == ["first-use"]
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    again = CliRunner().invoke(cli, ["verify", str(signed), "--trust-store", str(store)])
    assert again.exit_code == 0 and "first use" not in again.output
    theirs = publish_releases(
        make_package(folder=tmp_path / "their-package"),
        tmp_path / "their-portal",
        [keys["attacker"]] * 3,
    )
    shutil.rmtree(signed)
    shutil.copytree(theirs, signed)
    swapped = CliRunner().invoke(cli, ["verify", str(signed), "--trust-store", str(store)])
    assert swapped.exit_code == errors.UntrustedKey.exit_code, swapped.output


def test_without_any_trust_verify_fails_closed(signed: Path) -> None:
    result = verify_folder(signed)
    assert type(result.error()) is errors.UntrustedKey
    assert "pin the publisher's key with --trust" in str(result.error())
