"""Keys, envelopes and key rotation: `opengov key`, publish --signing-key, keys.json."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import PackageFactory, write_csv
from hypothesis import given, settings
from hypothesis import strategies as st
from signing_helpers import changed_rows, make_key, publish_releases, read_doc
from test_verify_forgery import pinned, run_verify

from opengov import errors
from opengov.cli import cli
from opengov.redact.keys import load_key
from opengov.signing import (
    KEY_TYPE,
    SIGNATURE,
    STATEMENT_TYPE,
    EnvelopeError,
    KeyInfo,
    load_signer,
    new_signing_key,
    parse_key_statement,
    read_public_key,
    verify_envelope,
)
from opengov.targets.static import publish_static
from opengov.verify import verify_folder


def test_key_new_signing_writes_a_private_and_a_public_file(tmp_path: Path) -> None:
    out = tmp_path / "kommun.key"
    result = CliRunner().invoke(
        cli, ["key", "new", "--signing", "--out", str(out), "--name", "Exempelby kommun", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert b"PRIVATE KEY" in out.read_bytes()
    pub = Path(f"{out}.pub")
    assert b"PRIVATE" not in pub.read_bytes()
    info = read_public_key(pub)
    assert isinstance(info, KeyInfo)
    assert data["key_id"] == info.key_id and data["publisher"] == "Exempelby kommun"
    assert info.valid_from < info.valid_until
    assert load_signer(out).key_id == info.key_id
    shown = CliRunner().invoke(cli, ["key", "show", str(pub)])
    assert info.key.text in shown.output and "name: Exempelby kommun" in shown.output


@pytest.mark.parametrize("existing", ["key", "pub"])
def test_key_new_never_overwrites(tmp_path: Path, existing: str) -> None:
    out = tmp_path / "k.key"
    target = out if existing == "key" else Path(f"{out}.pub")
    target.write_text("keep me")
    result = CliRunner().invoke(cli, ["key", "new", "--signing", "--out", str(out), "--name", "X"])
    assert result.exit_code == errors.KeyFileExists.exit_code, result.output
    assert target.read_text() == "keep me"
    assert not (Path(f"{out}.pub") if existing == "key" else out).exists()


def test_key_new_pseudonym(tmp_path: Path) -> None:
    out = tmp_path / "pseudo.key"
    result = CliRunner().invoke(cli, ["key", "new", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    text = out.read_text().strip()
    assert len(text) == 64 and int(text, 16) >= 0
    key = load_key(out)
    assert key is not None and key.fingerprint in result.output
    assert text not in result.output
    again = CliRunner().invoke(cli, ["key", "new", "--out", str(out)])
    assert again.exit_code == errors.KeyFileExists.exit_code
    assert out.read_text().strip() == text
    other = tmp_path / "other.key"
    CliRunner().invoke(cli, ["key", "new", "--out", str(other)])
    assert other.read_text() != out.read_text()


@pytest.mark.parametrize(
    "content",
    [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
)
def test_a_bad_signing_key_file_is_refused(
    tmp_path: Path, content: bytes, make_package: PackageFactory, key: str
) -> None:
    bad = tmp_path / "bad.key"
    bad.write_bytes(content)
    result = CliRunner().invoke(
        cli, ["publish", str(make_package()), "--to", str(tmp_path / "portal"),
              "--signing-key", str(bad)],
    )  # fmt: skip
    assert result.exit_code == errors.SigningKeyError.exit_code, result.output
    assert not (tmp_path / "portal").exists()


def test_a_key_without_its_statement_or_with_anothers_is_refused(tmp_path: Path) -> None:
    a, b = make_key(tmp_path / "a", "A kommun"), make_key(tmp_path / "b", "B kommun")
    Path(f"{a}.pub").unlink()
    with pytest.raises(errors.SigningKeyError, match="missing"):
        load_signer(a)
    Path(f"{a}.pub").write_bytes(Path(f"{b}.pub").read_bytes())
    with pytest.raises(errors.SigningKeyError, match="another key"):
        load_signer(a)


def _envelope(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(f"{path}.pub").read_text())
    return data


def test_a_key_statement_checks_its_own_signature(tmp_path: Path) -> None:
    a, b = make_key(tmp_path / "a", "A kommun"), make_key(tmp_path / "b", "B kommun")
    envelope = _envelope(a)
    assert parse_key_statement(envelope).name == "A kommun"
    body = json.loads(base64.b64decode(envelope["payload"]))
    body["name"] = "Någon annan"
    forged = dict(envelope, payload=base64.b64encode(json.dumps(body).encode()).decode())
    with pytest.raises(EnvelopeError, match="does not match"):
        parse_key_statement(forged)
    other = _envelope(b)
    mixed = dict(envelope, signatures=other["signatures"])
    with pytest.raises(EnvelopeError, match="no signature by key"):
        parse_key_statement(mixed)
    with pytest.raises(EnvelopeError, match="payloadType"):
        verify_envelope(envelope, STATEMENT_TYPE, parse_key_statement(envelope).key)


def test_a_rotation_the_old_key_did_not_sign_is_refused(tmp_path: Path) -> None:
    old = make_key(tmp_path / "old", "Gammal")
    attacker = make_key(tmp_path / "e", "Angripare")
    # The attacker writes a statement claiming to replace the old key, signed only by itself.
    signer = load_signer(attacker)
    info = parse_key_statement(_envelope(attacker))
    body = json.loads(base64.b64decode(info.envelope["payload"]))
    old_info = parse_key_statement(_envelope(old))
    body["replaces"] = {"key_id": old_info.key_id, "public_key": old_info.key.text}
    payload = json.dumps(body).encode()
    forged = signer.sign(KEY_TYPE, payload)
    with pytest.raises(EnvelopeError, match="did not sign the rotation"):
        parse_key_statement(forged)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_change_to_an_envelope_breaks_it(tmp_path_factory: Any, data: Any) -> None:
    folder = tmp_path_factory.mktemp("k")
    path = make_key(folder, "Exempelby kommun")
    envelope = _envelope(path)
    key = parse_key_statement(envelope).key
    field = data.draw(st.sampled_from(["payload", "payloadType", "sig", "keyid"]))
    changed = copy.deepcopy(envelope)
    if field in ("payload", "sig"):
        holder = changed if field == "payload" else changed["signatures"][0]
        raw = bytearray(base64.b64decode(holder[field]))
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
        holder[field] = base64.b64encode(bytes(raw)).decode()
    elif field == "payloadType":
        changed["payloadType"] = data.draw(st.text(min_size=1, max_size=40).filter(
            lambda t: t != KEY_TYPE))  # fmt: skip
    else:
        changed["signatures"][0]["keyid"] = data.draw(
            st.text(min_size=1, max_size=40).filter(lambda t: t != key.key_id)
        )
    with pytest.raises(EnvelopeError):
        verify_envelope(changed, KEY_TYPE, key)


def test_key_rotation_verifies_with_either_key(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    old = make_key(tmp_path / "old", "Exempelby kommun")
    package, portal = make_package(), tmp_path / "portal"
    dataset = publish_releases(package, portal, [old])
    new = tmp_path / "new" / "kommun-2027.key"
    new.parent.mkdir()
    result = CliRunner().invoke(
        cli, ["key", "new", "--signing", "--out", str(new), "--name", "Exempelby kommun",
              "--replaces", str(old)],
    )  # fmt: skip
    assert result.exit_code == 0 and "replaces key" in result.output, result.output
    write_csv(package / "data" / "personal.csv", changed_rows(1))
    assert publish_static(package, portal, signing_key=new).release == 2
    for trusted in (old, new):
        verified = verify_folder(dataset, pinned(trusted))
        assert verified.ok, verified.mismatches
        assert [s["key_id"] for s in verified.signers] == [
            load_signer(old).key_id,
            load_signer(new).key_id,
        ]
    keys = json.loads((portal / "keys.json").read_text())
    assert keys["current"] == load_signer(new).key_id
    by_id = {k["key_id"]: k for k in keys["keys"]}
    assert by_id[load_signer(new).key_id]["replaces"] == load_signer(old).key_id
    assert set(by_id) == {load_signer(old).key_id, load_signer(new).key_id}
    for entry in keys["keys"]:
        assert entry["publisher"] == "Exempelby kommun" and entry["valid_until"]
    # An unrelated key cannot take over the chain: publish refuses and writes nothing.
    stranger = make_key(tmp_path / "s", "Exempelby kommun")
    write_csv(package / "data" / "personal.csv", changed_rows(2))
    before = (dataset / "provenance.json").read_bytes()
    refused = CliRunner().invoke(
        cli, ["publish", str(package), "--to", str(portal), "--signing-key", str(stranger)]
    )
    assert refused.exit_code == errors.PublishError.exit_code, refused.output
    assert "does not take over" in refused.output
    assert (dataset / "provenance.json").read_bytes() == before
    # Nor can an unsigned release follow a signed one.
    unsigned = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal)])
    assert unsigned.exit_code == errors.PublishError.exit_code, unsigned.output
    assert (dataset / "provenance.json").read_bytes() == before


def test_a_key_that_changes_without_rotation_is_untrusted_even_if_pinned(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    """Both keys pinned, but the chain switches between them with no rotation statement."""
    a, b = make_key(tmp_path / "a", "Exempelby kommun"), make_key(tmp_path / "b", "Exempelby")
    package, portal = make_package(), tmp_path / "portal"
    dataset = publish_releases(package, portal, [a, a])
    # Forge what publish refuses: release 2 signed by b, which a never introduced.
    from signing_helpers import forge_data

    forge_data(dataset, descriptor_too=True, resign=load_signer(b))
    trust = pinned(a)
    trust = type(trust)(keys=trust.keys + pinned(b).keys)
    error = verify_folder(dataset, trust).error()
    assert type(error) is errors.UntrustedKey
    assert "never handed over" in str(error)


def test_an_expired_key_cannot_publish(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    old = tmp_path / "old.key"
    new_signing_key(old, name="Exempelby kommun", valid_days=1, now=dt.datetime(2020, 1, 1))
    result = CliRunner().invoke(
        cli, ["publish", str(make_package()), "--to", str(tmp_path / "p"), "--signing-key",
              str(old)],
    )  # fmt: skip
    assert result.exit_code == errors.SigningKeyError.exit_code
    assert "not now" in result.output and "--replaces" in result.output
    assert not (tmp_path / "p").exists()


def test_signing_an_unchanged_package_makes_a_signed_release(
    make_package: PackageFactory, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    package, portal = make_package(), tmp_path / "portal"
    publish_static(package, portal)
    k = make_key(tmp_path / "k")
    monkeypatch.setenv("OPENGOV_SIGNING_KEY_FILE", str(k))
    first = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal), "--json"])
    assert json.loads(first.output)["release"] == 2, first.output
    again = CliRunner().invoke(cli, ["publish", str(package), "--to", str(portal), "--json"])
    assert json.loads(again.output)["status"] == "unchanged"
    # Release 1 predates signing; release 2's signature covers it through the chain's hashes.
    result = verify_folder(portal / "personal", pinned(k))
    assert result.ok, result.mismatches
    assert [s["release"] for s in result.signers] == [2]
    assert "published before signing began" in result.warnings[0]
    # But once signing began, every release must be signed: the head may not drop it.
    (portal / "personal" / SIGNATURE).unlink()
    result = verify_folder(portal / "personal", pinned(k))
    assert type(result.error()) is errors.Unsigned
    assert [m.detail for m in result.mismatches if m.problem == "unsigned"] == [
        "release 2 is not signed (its provenance names a signing key, but the signature is gone)"
    ]


def test_no_private_key_material_is_published(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    k = make_key(tmp_path / "k")
    portal = tmp_path / "portal"
    publish_static(make_package(), portal, signing_key=k, base_url="https://data.exempelby.se/")
    signer = load_signer(k)
    from cryptography.hazmat.primitives import serialization

    raw = signer.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    secrets = [raw, base64.b64encode(raw), raw.hex().encode(), b"PRIVATE KEY"]
    for path in portal.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secrets), path
    assert signer.key_id in repr(signer) and "private" not in repr(signer)


def test_keys_json_is_referenced_from_dcat_and_the_catalogue(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    import rdflib

    k = make_key(tmp_path / "k")
    portal = tmp_path / "portal"
    publish_static(make_package(), portal, signing_key=k, base_url="https://data.exempelby.se/")
    graph = rdflib.Graph().parse(portal / "dcat.rdf", format="xml")
    see_also = set(graph.objects(None, rdflib.RDFS.seeAlso))
    assert rdflib.URIRef("https://data.exempelby.se/keys.json") in see_also
    assert 'href="keys.json"' in (portal / "index.html").read_text()
    doc = read_doc(portal / "personal")
    assert doc["signing"]["key_id"] == load_signer(k).key_id
    assert (portal / "personal" / SIGNATURE).is_file()


def test_trust_file_forms(tmp_path: Path) -> None:
    k = make_key(tmp_path / "k")
    info = read_public_key(f"{k}.pub")
    assert isinstance(info, KeyInfo)
    line = tmp_path / "line.pub"
    line.write_text(info.key.text + "\n")
    assert read_public_key(line) == info.key
    from cryptography.hazmat.primitives import serialization

    pem = tmp_path / "pem.pub"
    pem.write_bytes(
        load_signer(k)
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert read_public_key(pem) == info.key
    for bad in (b"", b"{}", b"ed25519:AAAA", b"ssh-ed25519 AAAA"):
        path = tmp_path / "bad.pub"
        path.write_bytes(bad)
        with pytest.raises(errors.SigningKeyError):
            read_public_key(path)
    code, output = run_verify(tmp_path, "--trust", str(tmp_path / "missing.pub"))
    assert code == errors.SigningKeyError.exit_code, output


def test_the_trust_store_follows_a_rotation(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    old = make_key(tmp_path / "old", "Exempelby kommun")
    package, portal = make_package(), tmp_path / "portal"
    dataset = publish_releases(package, portal, [old])
    store = tmp_path / "auditor.json"
    code, output = run_verify(dataset, "--trust", f"{old}.pub", "--trust-store", str(store))
    assert code == 0, output
    new = tmp_path / "new.key"
    new_signing_key(new, name="Exempelby kommun", replaces=old)
    write_csv(package / "data" / "personal.csv", changed_rows(1))
    assert publish_static(package, portal, signing_key=new).release == 2
    code, output = run_verify(dataset, "--trust-store", str(store))
    assert code == 0 and "(trust-store)" in output, output
    pins = next(iter(json.loads(store.read_text())["origins"].values()))["keys"]
    assert {v["how"] for v in pins.values()} == {"explicit", "rotation"}
    assert load_signer(new).key_id in pins
