"""Red team: every JSON document opengov reads goes through its limits, whoever wrote it.

docs/security.md: "Every JSON and YAML document opengov reads from a user or an export goes
through `opengov.limits`". Found: a dozen readers called `json.loads` themselves and caught only
syntax errors, so a number of 5,000 digits (Python refuses ints past 4,300 digits with a
ValueError) or 100,000 levels of nesting (RecursionError) ended in exit 70: portal.json,
provenance.json and its signature in a portal, keys.json, an approval, a public key file, the
auditor's trust store, the payload inside a signature, datapackage.json in a published folder,
an unknown JSON file in a Facebook export, and the descriptor or import.json of a package being
re-imported. Each is planted here with each hostile variant, and every command that reads it
must end with its own exit code and a message, never exit 70 or a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import PackageFactory
from hostile import Run, invoke
from signing_helpers import make_key, read_doc, write_doc

from opengov import errors
from opengov.signing import SIGNATURE, canonical

SOCIAL = Path(__file__).parent / "fixtures" / "social"
HUGE_NUMBER = '{"release": ' + "9" * 5000 + ', "generated": []}'
DEEP_LIST = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000
VARIANTS = {"huge number": HUGE_NUMBER, "deep list": DEEP_LIST, "deep object": DEEP_OBJECT}


@pytest.fixture
def world(make_package: PackageFactory, tmp_path: Path, key: str) -> dict[str, Path]:
    """A package published, signed, to a portal; its key; a trust store."""
    signing = make_key(tmp_path / "keys", "Exempelby kommun")
    package = make_package()
    portal = tmp_path / "portal"
    run = invoke(
        [
            "publish",
            str(package),
            "--to",
            str(portal),
            "--signing-key",
            str(signing),
            "--base-url",
            "https://data.exempelby.se/",
        ]
    )
    assert run.exit_code == 0, run.output
    return {
        "package": package,
        "portal": portal,
        "signing": signing,
        "store": tmp_path / "trust.json",
        "tmp": tmp_path,
    }


def _changed(world: dict[str, Path]) -> None:
    csv = world["package"] / "data" / "personal.csv"
    csv.write_bytes(csv.read_bytes().replace(b"Skola", b"Ekonomi", 1))


def _publish(world: dict[str, Path]) -> Run:
    _changed(world)
    return invoke(
        [
            "publish",
            str(world["package"]),
            "--to",
            str(world["portal"]),
            "--signing-key",
            str(world["signing"]),
        ]
    )


def _verify(world: dict[str, Path], *extra: str) -> Run:
    return invoke(
        ["verify", str(world["portal"] / "personal"), "--trust-store", str(world["store"]), *extra]
    )


def _verify_pinned(world: dict[str, Path]) -> Run:
    return _verify(world, "--trust", f"{world['signing']}.pub")


def _forged_signature(world: dict[str, Path], text: str) -> None:
    envelope = json.loads((world["portal"] / "personal" / SIGNATURE).read_text("utf-8"))
    envelope["payload"] = base64.b64encode(text.encode()).decode()
    (world["portal"] / "personal" / SIGNATURE).write_bytes(canonical(envelope))


def _forged_descriptor(world: dict[str, Path], text: str) -> None:
    # A consistent forgery of an unsigned folder: provenance re-hashed to the new descriptor.
    dataset = world["portal"] / "personal"
    (dataset / "datapackage.json").write_text(text, encoding="utf-8")
    doc = read_doc(dataset)
    for entity in doc["generated"]:
        if entity["og:path"] == "datapackage.json":
            entity["og:sha256"] = hashlib.sha256(text.encode()).hexdigest()
    doc.pop("signing", None)
    write_doc(dataset, doc)
    (dataset / SIGNATURE).unlink()


def _write(path_of: Callable[[dict[str, Path]], Path]) -> Callable[[dict[str, Path], str], None]:
    def plant(world: dict[str, Path], text: str) -> None:
        path = path_of(world)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return plant


# (where the document is planted, the command that reads it, the exit code it must end with)
CASES: dict[str, tuple[Callable[[dict[str, Path], str], None], Callable[..., Run], int]] = {
    "portal.json, portal show": (
        _write(lambda w: w["portal"] / "portal.json"),
        lambda w: invoke(["portal", "show", str(w["portal"])]),
        errors.ConfigError.exit_code,
    ),
    "portal.json, publish": (
        _write(lambda w: w["portal"] / "portal.json"),
        _publish,
        errors.ConfigError.exit_code,
    ),
    "provenance.json, verify": (
        _write(lambda w: w["portal"] / "personal" / "provenance.json"),
        lambda w: _verify(w, "--allow-unsigned"),
        errors.VerifyFailed.exit_code,
    ),
    "provenance.json, publish": (
        _write(lambda w: w["portal"] / "personal" / "provenance.json"),
        _publish,
        errors.PublishError.exit_code,
    ),
    "provenance.dsse.json, verify": (
        _write(lambda w: w["portal"] / "personal" / SIGNATURE),
        _verify_pinned,
        errors.SignatureInvalid.exit_code,
    ),
    "provenance.dsse.json, publish": (
        _write(lambda w: w["portal"] / "personal" / SIGNATURE),
        _publish,
        errors.PublishError.exit_code,
    ),
    "signature payload, verify": (
        _forged_signature,
        _verify_pinned,
        errors.SignatureInvalid.exit_code,
    ),
    "datapackage.json, verify": (
        _forged_descriptor,
        lambda w: _verify(w, "--allow-unsigned"),
        errors.DescriptorMismatch.exit_code,
    ),
    "keys.json, publish": (_write(lambda w: w["portal"] / "keys.json"), _publish, 0),
    "approval, publish": (
        _write(lambda w: w["package"] / "approvals" / ("0" * 32 + ".json")),
        _publish,
        0,  # rules.yaml asks for no approval: the file is not read as one
    ),
    "public key file, verify": (
        _write(lambda w: w["tmp"] / "hostile.pub"),
        lambda w: _verify(w, "--trust", str(w["tmp"] / "hostile.pub")),
        errors.SigningKeyError.exit_code,
    ),
    "trust store, verify": (
        _write(lambda w: w["store"]),
        _verify,
        errors.InputError.exit_code,
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_json_in_every_document_read(
    world: dict[str, Path], case: str, variant: str
) -> None:
    plant, command, expected = CASES[case]
    plant(world, VARIANTS[variant])
    run = command(world)
    assert run.exit_code != 70, (case, variant, run.output[-800:])
    assert "Traceback" not in run.output and "internal error" not in run.output
    assert run.exit_code == expected, (case, variant, run.output[-800:])
    assert "9" * 100 not in run.output, "the document was echoed"


def test_an_approval_with_hostile_json_is_refused_not_crashed(
    world: dict[str, Path], tmp_path: Path
) -> None:
    import yaml

    anna = make_key(tmp_path / "anna", "Anna Andersson, kommunjurist")
    from opengov.signing import load_signer

    rules_path = world["package"] / "rules.yaml"
    rules = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    info = load_signer(anna).info
    rules["approvals"] = {"required": 1, "keys": [{"name": info.name, "key": info.key.text}]}
    rules_path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    for variant, text in VARIANTS.items():
        approvals = world["package"] / "approvals"
        approvals.mkdir(exist_ok=True)
        (approvals / f"{info.key_id}.json").write_text(text, encoding="utf-8")
        run = _publish(world)
        assert run.exit_code == errors.ApprovalsMissing.exit_code, (variant, run.output[-500:])
        # An envelope whose signed payload is the hostile document.
        payload = base64.b64encode(text.encode()).decode()
        envelope = {
            "payloadType": "application/vnd.opengov.approval+json",
            "payload": payload,
            "signatures": [{"keyid": info.key_id, "sig": "AAAA"}],
        }
        (approvals / f"{info.key_id}.json").write_bytes(canonical(envelope))
        run = _publish(world)
        assert run.exit_code == errors.ApprovalsMissing.exit_code, (variant, run.output[-500:])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_an_unknown_json_file_in_a_facebook_export(tmp_path: Path, key: str, variant: str) -> None:
    export = tmp_path / "export"
    shutil.copytree(SOCIAL / "facebook-page-2025", export)
    (export / "okand_fil.json").write_text(VARIANTS[variant], "utf-8")
    run = invoke(
        [
            "import",
            "facebook",
            str(export),
            "--account",
            "Kommunen",
            "--account-type",
            "official",
            "--out",
            str(tmp_path / "pkg"),
            "--json",
        ]
    )
    assert run.exit_code == 0, run.output[-800:]
    files = {f["path"]: f for f in json.loads(run.stdout)["files"]}
    assert files["okand_fil.json"]["status"] == "not_understood"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("what", ["social datapackage.json", "init import.json"])
def test_a_hostile_document_in_a_package_being_reimported(
    tmp_path: Path, key: str, variant: str, what: str
) -> None:
    out = tmp_path / "pkg"
    if what == "social datapackage.json":
        args = [
            "import",
            "twitter",
            str(SOCIAL / "twitter-2024"),
            "--account",
            "Kommunen",
            "--account-type",
            "official",
            "--out",
            str(out),
        ]
        planted = out / "datapackage.json"
    else:
        source = tmp_path / "bidrag.csv"
        source.write_text("id;belopp\n1;100\n2;200\n", encoding="utf-8")
        args = ["init", str(source), "--out", str(out)]
        planted = out / "import.json"
    assert invoke(args).exit_code == 0
    planted.write_text(VARIANTS[variant], encoding="utf-8")
    run = invoke(args)
    assert run.exit_code in (errors.InputError.exit_code, errors.LimitExceeded.exit_code), (
        run.output[-800:]
    )
    assert "internal error" not in run.output
