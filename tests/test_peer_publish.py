"""Peer contract: publishing to a static portal, provenance, verify and its exit codes per
tampering (docs/provenance.md "Verifying"), withdraw, approvals and redact --out, as README.md
and docs/ describe them; black-box, on packages built here."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from peer_support import (
    GRANTS_ROWS,
    OPENGOV,
    PHONE,
    PNR,
    PNR_12,
    RULES,
    as_json,
    environment,
    grants_package,
    library_publish,
    og,
    ok,
    tree,
)


def readable(folder: Path) -> Iterator[tuple[str, str]]:
    """Every file under folder as a reader sees it: Parquet as its values, XLSX as its XML."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            yield str(path), repr(pq.read_table(path).to_pylist())
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                yield str(path), " ".join(book.read(n).decode() for n in book.namelist())
        else:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A portal with two signed releases of `bidrag` (the second changes one row), made as the
    README's tour makes one; each test copies it."""
    home = tmp_path_factory.mktemp("signed")
    grants_package(home / "bidrag")
    ok("key", "new", "--signing", "--out", "kommun.key", "--name", "Exempelby kommun", cwd=home)
    sign = {"signing_key": home / "kommun.key"}
    library_publish(home / "bidrag", home / "portal", home, **sign)
    shutil.copytree(home / "portal", home / "portal-release-1")
    rows = [*GRANTS_ROWS[:2], GRANTS_ROWS[2].replace("12 000,00", "13 000,00")]
    grants_package(home / "bidrag", rows=rows)
    second = library_publish(home / "bidrag", home / "portal", home, **sign)
    (home / "release-2.json").write_text(json.dumps(second), "utf-8")
    # Untouched, it verifies (a trust store of its own: the tests below start afresh).
    ok(
        "verify",
        "portal/bidrag",
        "--trust",
        "kommun.key.pub",
        cwd=home,
        env=environment(home / "x"),
    )
    return home


def copy(signed: Path, tmp_path: Path) -> Path:
    for name in ("portal", "portal-release-1", "bidrag", "kommun.key", "kommun.key.pub"):
        source = signed / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, tmp_path / name)
    return tmp_path


def test_a_release_withholds_what_the_rules_withhold(signed: Path) -> None:
    portal = signed / "portal"
    for path, text in readable(portal):
        for secret in (PNR, PNR_12, "640823-3234", PHONE, "0701234567"):
            assert secret not in text, f"{path} holds {secret}"
    assert "kommun.key" not in {p.name for p in portal.rglob("*")}
    header = (portal / "bidrag" / "data" / "bidrag.csv").read_text("utf-8").splitlines()[0]
    assert "personnummer" not in header
    assert "[telefonnummer borttaget]" in (portal / "bidrag" / "data" / "bidrag.csv").read_text()
    manifest = json.loads((portal / "bidrag" / "redactions.json").read_text("utf-8"))
    rules = {r["field"]: r for r in manifest["rules"]}
    assert rules["personnummer"]["action"] == "drop"
    assert rules["personnummer"]["basis"] == "21 kap. 7 § OSL"
    assert rules["personnummer"]["lagrum"]["chapter"] == 21
    assert rules["kommentar"]["action"] == "scan" and rules["kommentar"]["detectors"] == {
        "phone": 1
    }
    (resource,) = manifest["resources"]
    assert resource["rows_in_source"] == 3 == resource["rows_published"]
    assert "personnummer" not in resource["fields_published"]


def test_the_portal_holds_the_documented_files(signed: Path) -> None:
    portal = signed / "portal"
    for name in ("index.html", "catalog.json", "keys.json"):
        assert (portal / name).is_file(), name
    dataset = portal / "bidrag"
    for name in (
        "index.html", "history.html", "history.json", "validation.html", "validation.json",
        "data/bidrag.csv", "data/bidrag.parquet", "data/bidrag.xlsx", "datapackage.json",
        "redactions.json", "provenance.json", "provenance.dsse.json",
    ):  # fmt: skip
        assert (dataset / name).is_file(), name
    # The CSV is the standard form: UTF-8 without BOM, comma, decimal point, ISO dates.
    csv = (dataset / "data" / "bidrag.csv").read_bytes()
    assert not csv.startswith(b"\xef\xbb\xbf")
    assert b"1250.5" in csv and b"2024-03-01" in csv and b";" not in csv
    published = json.loads((dataset / "datapackage.json").read_text("utf-8"))
    fields = published["resources"][0]["schema"]["fields"]
    assert all("decimalChar" not in f and "groupChar" not in f for f in fields)
    # The published validation report leaves the timings out (an unchanged input, same file).
    assert '"seconds"' not in (dataset / "validation.json").read_text("utf-8")
    history = json.loads((dataset / "history.json").read_text("utf-8"))
    newest = history["releases"][0]
    assert newest["release"] == 2
    assert [(c["added"], c["removed"], c["changed"]) for c in newest["changes"]] == [(0, 0, 1)]


def test_a_release_lists_only_what_changed(signed: Path) -> None:
    """Release 2 changed one amount: the data files, the pages and the signature changed; the
    redaction manifest did not (nothing withheld changed); nothing is "added" that release 1
    already had (the signature once was, on every signed release)."""
    result = json.loads((signed / "release-2.json").read_text("utf-8"))
    changes = {c["path"]: c["change"] for c in result["changes"]}
    assert changes["data/bidrag.csv"] == "changed"
    assert changes["redactions.json"] == "unchanged"
    assert changes["provenance.dsse.json"] == "changed"
    assert "added" not in changes.values() and "removed" not in changes.values(), changes


def test_provenance_chains_the_releases_and_lists_inputs_without_their_content(
    signed: Path,
) -> None:
    dataset = signed / "portal" / "bidrag"
    doc = json.loads((dataset / "provenance.json").read_text("utf-8"))
    first = (signed / "portal-release-1" / "bidrag" / "provenance.json").read_bytes()
    assert doc["release"] == 2 and doc["dataset"] == "bidrag"
    assert doc["previous"]["sha256"] == hashlib.sha256(first).hexdigest()
    kept = dataset / doc["previous"]["path"]
    assert kept.read_bytes() == first
    assert kept.name == hashlib.sha256(first).hexdigest() + ".json"
    roles = {u["og:role"] for u in doc["used"]}
    assert {"descriptor", "rules", "data"} <= roles
    for used in doc["used"]:
        # Without a pseudonym key an input carries nothing derived from its content, no size.
        assert used["og:digest"] == "withheld", used
        assert "og:sha256" not in used and "og:bytes" not in used and "og:hmacSha256" not in used
    generated = {g["og:path"]: g["og:sha256"] for g in doc["generated"]}
    assert "provenance.json" not in generated and "provenance.dsse.json" not in generated
    for path, digest in generated.items():
        assert hashlib.sha256((dataset / path).read_bytes()).hexdigest() == digest, path
    assert (
        doc["signing"]["key_id"]
        == json.loads((dataset / "provenance.dsse.json").read_text("utf-8"))["signatures"][0][
            "keyid"
        ]
    )


def test_publishing_again_writes_nothing_and_only_the_changed_package_changes(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path)
    grants_package(tmp_path / "bidrag")
    grants_package(tmp_path / "stod", name="stod")
    for name in ("bidrag", "stod"):
        library_publish(tmp_path / name, tmp_path / "portal", tmp_path)
    before = tree(tmp_path / "portal")
    out = ok("publish", "bidrag", "stod", "--to", "portal", cwd=tmp_path, env=env)
    assert out.count("unchanged") == 2, out
    assert tree(tmp_path / "portal") == before
    rows = [*GRANTS_ROWS[:2], GRANTS_ROWS[2].replace("Lokalhyra", "Lokalhyra och el")]
    grants_package(tmp_path / "stod", rows=rows, name="stod")
    results = json.loads(
        ok("publish", "bidrag", "stod", "--to", "portal", "--json", cwd=tmp_path, env=env)
    )
    by_name = {r["dataset"]: r for r in (results if isinstance(results, list) else [results])}
    assert by_name["bidrag"]["status"] == "unchanged"
    assert by_name["stod"]["status"] == "published" and by_name["stod"]["release"] == 2
    after = tree(tmp_path / "portal")
    assert {k: v for k, v in after.items() if k.startswith("bidrag/")} == {
        k: v for k, v in before.items() if k.startswith("bidrag/")
    }
    # Without a pseudonym key the inputs are fingerprinted by their file times: a touched file
    # and a fresh copy of the package are still the same content, so still unchanged.
    os.utime(tmp_path / "bidrag" / "data" / "bidrag.csv")
    shutil.copytree(tmp_path / "bidrag", tmp_path / "kopia")
    out = ok("publish", "kopia", "--to", "portal", cwd=tmp_path, env=env)
    assert "unchanged" in out and tree(tmp_path / "portal") == after, out
    # A published file changed behind the publisher's back is not "unchanged": the publish
    # makes a release that repairs it, and verify holds.
    (tmp_path / "portal" / "bidrag" / "data" / "bidrag.csv").write_text("förfalskad\n", "utf-8")
    out = ok("publish", "bidrag", "--to", "portal", cwd=tmp_path, env=env)
    assert "published release 2" in out, out
    ok("verify", "portal/bidrag", "--allow-unsigned", cwd=tmp_path, env=env)


def test_a_publish_that_stops_writes_nothing(tmp_path: Path) -> None:
    env = environment(tmp_path)
    grants_package(tmp_path / "bidrag")
    library_publish(tmp_path / "bidrag", tmp_path / "portal", tmp_path)
    before = tree(tmp_path / "portal")
    # (A rules error, exit 4, over an empty portal: tests/test_peer_contract.py.)
    broken = {
        1: dict(rows=["1;A B;x;inte ett tal;2024-03-01;a"]),
        5: dict(rules=RULES.replace("      id: {class: public}\n", "")),
    }
    for code, change in broken.items():
        grants_package(tmp_path / "bidrag", **change)  # type: ignore[arg-type]
        done = og("publish", "bidrag", "--to", "portal", cwd=tmp_path, env=env)
        assert done.returncode == code, done.stdout + done.stderr
        assert tree(tmp_path / "portal") == before, code
        assert not (tmp_path / "portal" / ".opengov-staging").exists() or not any(
            (tmp_path / "portal" / ".opengov-staging").iterdir()
        )


def test_a_pseudonym_key_makes_inputs_checkable(tmp_path: Path) -> None:
    from opengov.redact import load_key
    from opengov.release.provenance import check_inputs

    env = environment(tmp_path)
    ok("key", "new", "--out", "nyckel.txt", cwd=tmp_path)
    assert (tmp_path / "nyckel.txt").stat().st_mode & 0o777 == 0o600
    rules = RULES.replace(
        'action: drop\n        basis: "21 kap. 7 § OSL"',
        'action: pseudonymize\n        basis: "21 kap. 7 § OSL"',
    )
    grants_package(tmp_path / "bidrag", rules=rules)
    ok("publish", "bidrag", "--to", "portal", "--key-file", "nyckel.txt",
       "--agent", "registrator@exempelby", cwd=tmp_path, env=env)  # fmt: skip
    doc = json.loads((tmp_path / "portal/bidrag/provenance.json").read_text("utf-8"))
    assert all("og:hmacSha256" in u for u in doc["used"])
    # Who published, and on whose behalf (the rules' decided_by).
    assert doc["agent"]["og:name"] == "registrator@exempelby"
    assert doc["agent"]["og:onBehalfOf"] == "Kultur- och fritidsförvaltningen, registrator"
    assert doc["pseudonym_key_fingerprint"] and len(doc["pseudonym_key_fingerprint"]) == 16
    key_text = (tmp_path / "nyckel.txt").read_text("utf-8").strip()
    for path, text in readable(tmp_path / "portal"):
        assert key_text not in text, path
    key = load_key(tmp_path / "nyckel.txt")
    assert key is not None
    checks = check_inputs(doc, tmp_path / "bidrag", key)
    assert checks and all(c.ok for c in checks), [(c.path, c.problem) for c in checks]
    csv = (tmp_path / "portal/bidrag/data/bidrag.csv").read_text("utf-8")
    pseudonyms = [line.split(",")[2] for line in csv.splitlines()[1:]]
    assert all(p.strip('"').startswith("p-") and len(p.strip('"')) == 22 for p in pseudonyms), csv
    # An input changed after the release no longer checks.
    data = tmp_path / "bidrag" / "data" / "bidrag.csv"
    data.write_text(data.read_text("utf-8").replace("Lokalhyra", "Lokalhyror"), "utf-8")
    assert not all(c.ok for c in check_inputs(doc, tmp_path / "bidrag", key))
    # A publish with the key, and without it, of a pseudonymising package: exit 10 without.
    done = og("publish", "bidrag", "--to", "portal", cwd=tmp_path, env=env)
    assert done.returncode == 10, done.stdout + done.stderr


# --- verify: every kind of tampering, its own exit code ----------------------------------------


def tamper_changed(dataset: Path) -> None:
    path = dataset / "data" / "bidrag.csv"
    path.write_bytes(path.read_bytes().replace(b"Lokalhyra", b"Lokalhyrx"))


def tamper_missing(dataset: Path) -> None:
    (dataset / "data" / "bidrag.xlsx").unlink()


def tamper_unexpected(dataset: Path) -> None:
    (dataset / "data" / "extra.csv").write_text("a\n1\n", "utf-8")


def tamper_descriptor(dataset: Path) -> None:
    """A forger changes a resource's size in datapackage.json and re-hashes datapackage.json in
    provenance (an edit of datapackage.json alone is a changed file, exit 8)."""
    doc = json.loads((dataset / "datapackage.json").read_text("utf-8"))
    doc["resources"][0]["bytes"] += 1
    data = json.dumps(doc).encode()
    (dataset / "datapackage.json").write_bytes(data)
    provenance = json.loads((dataset / "provenance.json").read_text("utf-8"))
    for entity in provenance["generated"]:
        if entity["og:path"] == "datapackage.json":
            entity["og:sha256"] = hashlib.sha256(data).hexdigest()
            entity["og:bytes"] = len(data)
    (dataset / "provenance.json").write_text(json.dumps(provenance), "utf-8")


def tamper_chain(dataset: Path) -> None:
    for entry in (dataset / "history").iterdir():
        entry.unlink()


def tamper_signature(dataset: Path) -> None:
    path = dataset / "provenance.dsse.json"
    envelope = json.loads(path.read_text("utf-8"))
    sig = envelope["signatures"][0]["sig"]
    envelope["signatures"][0]["sig"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    path.write_text(json.dumps(envelope), "utf-8")


TAMPERING = {
    "changed": (tamper_changed, 8),
    "missing": (tamper_missing, 8),
    "unexpected": (tamper_unexpected, 41),
    "descriptor": (tamper_descriptor, 42),
    "chain": (tamper_chain, 40),
    "signature": (tamper_signature, 44),
}


@pytest.fixture(scope="module")
def tampered(
    signed: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each kind of tampering on a copy of the signed portal, verified with the publisher's key
    pinned in a fresh trust store (one that remembered release 2 would report any rewrite of it
    as a replay, exit 46, which comes first); the copies verify side by side."""

    def one(kind: str) -> subprocess.CompletedProcess[str]:
        home = copy(signed, tmp_path_factory.mktemp(f"tampered-{kind}"))
        TAMPERING[kind][0](home / "portal" / "bidrag")
        return subprocess.run(
            [OPENGOV, "verify", "portal/bidrag", "--trust", "kommun.key.pub", "--json"],
            cwd=home, env=environment(home), capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(TAMPERING, pool.map(one, TAMPERING), strict=True))


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_verify_detects_tampering(
    tampered: dict[str, subprocess.CompletedProcess[str]], kind: str
) -> None:
    done = tampered[kind]
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == TAMPERING[kind][1], done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is False and result["mismatches"], result


def test_verify_exit_codes_for_trust(signed: Path, tmp_path: Path) -> None:
    home = copy(signed, tmp_path)
    env = environment(home)
    # 45: signed by a key the auditor does not trust.
    ok("key", "new", "--signing", "--out", "other.key", "--name", "Någon annan", cwd=home)
    done = og("verify", "portal/bidrag", "--trust", "other.key.pub", cwd=home, env=env)
    assert done.returncode == 45, done.stdout + done.stderr
    # First use pins the key with a warning; then a replayed older release is 46.
    first = og("verify", "portal/bidrag", "--json", cwd=home, env=environment(home / "x"))
    assert first.returncode == 0 and json.loads(first.stdout)["warnings"], first.stdout
    ok("verify", "portal/bidrag", "--trust", "kommun.key.pub", cwd=home, env=env)
    shutil.rmtree(home / "portal" / "bidrag")
    shutil.copytree(home / "portal-release-1" / "bidrag", home / "portal" / "bidrag")
    done = og("verify", "portal/bidrag", cwd=home, env=env)
    assert done.returncode == 46, done.stdout + done.stderr
    # 43: an unsigned release, unless consistency only is asked for (and it says so).
    grants_package(home / "lista", name="lista")
    ok("publish", "lista", "--to", "unsigned", cwd=home, env=env)
    done = og("verify", "unsigned/lista", "--trust", "kommun.key.pub", cwd=home, env=env)
    assert done.returncode == 43, done.stdout + done.stderr
    done = og("verify", "unsigned/lista", "--allow-unsigned", cwd=home, env=env)
    assert done.returncode == 0 and "sign" in done.stdout + done.stderr


def test_an_unsigned_publish_over_a_signed_chain_is_refused(signed: Path, tmp_path: Path) -> None:
    home = copy(signed, tmp_path)
    env = environment(home)
    before = tree(home / "portal")
    done = og("publish", "bidrag", "--to", "portal", cwd=home, env=env)
    assert done.returncode != 0, done.stdout
    assert tree(home / "portal") == before


# --- withdraw --------------------------------------------------------------------------------


def test_withdraw_takes_a_dataset_out_and_verify_still_holds(signed: Path, tmp_path: Path) -> None:
    home = copy(signed, tmp_path)
    env = environment(home)
    sign = ("--signing-key", "kommun.key")
    before = tree(home / "portal")
    bad = og("withdraw", "bidrag", "--to", "portal", *sign, "--reason", f"Gäller {PNR}",
             cwd=home, env=env)  # fmt: skip
    assert bad.returncode == 9 and PNR not in bad.stdout + bad.stderr
    assert tree(home / "portal") == before
    # Line breaks in a reason are published as one line (docs/portal.md: "one line").
    reason = "Publicerad för tidigt. Beslut väntar."
    result = as_json("withdraw", "bidrag", "--to", "portal", *sign, "--reason",
                     "Publicerad för tidigt.\nBeslut väntar.", cwd=home, env=env)  # fmt: skip
    assert result, result
    catalog = json.loads((home / "portal" / "catalog.json").read_text("utf-8"))
    assert [d for d in catalog["datasets"] if "bidrag" in json.dumps(d)] == []
    assert not (home / "portal" / "bidrag" / "data").exists()
    assert reason in (home / "portal" / "bidrag" / "index.html").read_text("utf-8")
    doc = json.loads((home / "portal" / "bidrag" / "provenance.json").read_text("utf-8"))
    assert doc["release"] == 3 and doc["og:withdrawal"]["reason"] == reason
    assert doc["activity"]["og:command"] == "opengov withdraw"
    ok("verify", "portal/bidrag", "--trust", "kommun.key.pub", cwd=home, env=env)
    # A mistyped portal is refused, and no empty portal is left behind.
    done = og("withdraw", "bidrag", "--to", "portl", "--reason", reason, cwd=home, env=env)
    assert done.returncode == 6 and not (home / "portl").exists(), done.stderr
    again = tree(home / "portal")
    ok("withdraw", "bidrag", "--to", "portal", *sign, "--reason", reason, cwd=home, env=env)
    assert tree(home / "portal") == again
    ok("publish", "bidrag", "--to", "portal", *sign, cwd=home, env=env)
    doc = json.loads((home / "portal" / "bidrag" / "provenance.json").read_text("utf-8"))
    assert doc["release"] == 4
    ok("verify", "portal/bidrag", "--trust", "kommun.key.pub", cwd=home, env=env)


# --- portal settings and the catalogue ---------------------------------------------------------


def test_portal_settings_and_base_url(signed: Path, tmp_path: Path) -> None:
    home = copy(signed, tmp_path)
    env = environment(home)
    settings = as_json("portal", "init", "portal", "--title", "Exempelby öppna data",
                       "--publisher", "Exempelby kommun", "--contact", "registrator@exempelby.se",
                       cwd=home, env=env)  # fmt: skip
    assert as_json("portal", "show", "portal", cwd=home, env=env) == settings
    assert "Exempelby öppna data" in (home / "portal" / "index.html").read_text("utf-8")
    assert not (home / "portal" / "dcat.rdf").exists()
    ok("catalog", "portal", "--base-url", "https://data.exempelby.se/", cwd=home, env=env)
    assert "https://data.exempelby.se/" in (home / "portal" / "dcat.rdf").read_text("utf-8")
    before = tree(home / "portal")
    done = og("publish", "bidrag", "--to", "portal", "--signing-key", "kommun.key",
              "--base-url", "https://annan.exempelby.se/", cwd=home, env=env)  # fmt: skip
    assert done.returncode == 18, done.stdout + done.stderr
    assert tree(home / "portal") == before
    # docs/dcat.md: the URL is recorded, every later publish rewrites dcat.rdf without it, the
    # dataset's identifier is the same on every release, and a withdrawn dataset leaves it.
    identifier = re.findall(r"<dcterms:identifier>([^<]+)<", dcat(home))
    assert len(identifier) == 1, dcat(home)
    rows = [*GRANTS_ROWS[:2], GRANTS_ROWS[2].replace("Lokalhyra", "Lokalhyror")]
    grants_package(home / "bidrag", rows=rows)
    sign = ("--signing-key", "kommun.key")
    ok("publish", "bidrag", "--to", "portal", *sign, cwd=home, env=env)
    assert re.findall(r"<dcterms:identifier>([^<]+)<", dcat(home)) == identifier
    ok("withdraw", "bidrag", "--to", "portal", *sign, "--reason", "Fel tabell.", cwd=home, env=env)
    assert "dcat:Dataset" not in dcat(home) and identifier[0] not in dcat(home)


def dcat(home: Path) -> str:
    return (home / "portal" / "dcat.rdf").read_text("utf-8")


# --- redact --out ------------------------------------------------------------------------------


def test_redact_writes_a_review_copy_and_replaces_only_its_own(tmp_path: Path) -> None:
    env = environment(tmp_path)
    grants_package(tmp_path / "bidrag")
    manifest = as_json("redact", "bidrag", "--out", "granskning", cwd=tmp_path, env=env)
    assert json.loads((tmp_path / "granskning" / "redactions.json").read_text("utf-8")) == manifest
    for path, text in readable(tmp_path / "granskning"):
        assert PNR not in text and PHONE not in text, path
    first = tree(tmp_path / "granskning")
    ok("redact", "bidrag", "--out", "granskning", cwd=tmp_path, env=env)
    assert tree(tmp_path / "granskning") == first
    (tmp_path / "granskning" / "anteckningar.txt").write_text("mina noter", "utf-8")
    done = og("redact", "bidrag", "--out", "granskning", cwd=tmp_path, env=env)
    assert done.returncode == 6, done.stdout + done.stderr
    assert (tmp_path / "granskning" / "anteckningar.txt").read_text("utf-8") == "mina noter"
    (tmp_path / "annat").mkdir()
    (tmp_path / "annat" / "fil.txt").write_text("x", "utf-8")
    assert og("redact", "bidrag", "--out", "annat", cwd=tmp_path, env=env).returncode == 6


def test_formula_cells_are_neutralised_in_the_csv_only(tmp_path: Path) -> None:
    env = environment(tmp_path)
    rows = [*GRANTS_ROWS[:2], "3;Västra Schack;640823-3234;12 000,00;2024-05-20;=HYPERLINK(1)"]
    grants_package(tmp_path / "bidrag", rows=rows)
    ok("publish", "bidrag", "--to", "portal", cwd=tmp_path, env=env)
    data = tmp_path / "portal" / "bidrag" / "data"
    assert "'=HYPERLINK(1)" in (data / "bidrag.csv").read_text("utf-8")
    assert "=HYPERLINK(1)" in pq.read_table(data / "bidrag.parquet").column("kommentar").to_pylist()
    manifest = json.loads((tmp_path / "portal/bidrag/redactions.json").read_text("utf-8"))
    assert manifest["resources"][0]["csv_formulas_neutralised"], manifest["resources"]


# --- four eyes -------------------------------------------------------------------------------


def test_approvals_are_required_recorded_and_verified(tmp_path: Path) -> None:
    env = environment(tmp_path)
    ok("key", "new", "--signing", "--out", "kommun.key", "--name", "Exempelby kommun", cwd=tmp_path)
    ok("key", "new", "--signing", "--out", "anna.key", "--name", "Anna Andersson", cwd=tmp_path)
    shown = as_json("key", "show", "anna.key.pub", cwd=tmp_path)
    key = next(v for v in json.dumps(shown).split('"') if v.startswith("ed25519:"))
    approvals = (
        f'approvals:\n  required: 1\n  keys:\n    - name: Anna Andersson\n      key: "{key}"\n'
    )
    grants_package(tmp_path / "bidrag", rules=RULES + approvals)
    sign = ("--signing-key", "kommun.key")
    done = og("publish", "bidrag", "--to", "portal", *sign, cwd=tmp_path, env=env)
    assert done.returncode == 47 and not (tmp_path / "portal" / "bidrag").exists()
    first = as_json("approve", "bidrag", "--key", "anna.key", "--to", "portal", "--yes",
                    cwd=tmp_path, env=env)  # fmt: skip
    assert first["approval"]["written"] is True
    approval_files = tree(tmp_path / "bidrag" / "approvals")
    assert len(approval_files) == 1
    again = as_json("approve", "bidrag", "--key", "anna.key", "--to", "portal", "--yes",
                    cwd=tmp_path, env=env)  # fmt: skip
    assert again["approval"]["written"] is False
    assert tree(tmp_path / "bidrag" / "approvals") == approval_files
    ok("publish", "bidrag", "--to", "portal", *sign, cwd=tmp_path, env=env)
    result = as_json("verify", "portal/bidrag", "--trust", "kommun.key.pub", cwd=tmp_path, env=env)
    assert result["ok"] and len(result["approvals"]) == 1, result
    # A change to the data voids the approval: publish refuses again, writing nothing.
    rows = [*GRANTS_ROWS[:2], GRANTS_ROWS[2].replace("Lokalhyra", "Lokalhyror")]
    grants_package(tmp_path / "bidrag", rows=rows, rules=RULES + approvals)
    before = tree(tmp_path / "portal")
    done = og("publish", "bidrag", "--to", "portal", *sign, cwd=tmp_path, env=env)
    assert done.returncode == 47, done.stdout + done.stderr
    assert tree(tmp_path / "portal") == before


def test_key_files_are_never_overwritten(tmp_path: Path) -> None:
    made = as_json("key", "new", "--signing", "--out", "k.key", "--name", "Exempelby", cwd=tmp_path)
    assert made
    private = (tmp_path / "k.key").read_bytes()
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    for args in (["--signing", "--name", "X"], []):
        done = og("key", "new", "--out", "k.key", *args, cwd=tmp_path)
        assert done.returncode == 19
    (tmp_path / "k.key").rename(tmp_path / "moved.key")
    done = og("key", "new", "--signing", "--out", "k.key", "--name", "X", cwd=tmp_path)
    assert done.returncode == 19, "an existing FILE.pub must be refused too"
    assert (tmp_path / "moved.key").read_bytes() == private
    assert io.BytesIO(private).read(5) == b"-----"


def test_key_rotation_is_followed_and_a_foreign_key_refused(signed: Path, tmp_path: Path) -> None:
    """docs/provenance.md "Key rotation": the old key introduces the new; publish refuses a key
    that does not take over, writing nothing; verify follows the rotation from the pinned key."""
    home = copy(signed, tmp_path)
    env = environment(home)
    ok("verify", "portal/bidrag", "--trust", "kommun.key.pub", cwd=home, env=env)
    ok("key", "new", "--signing", "--out", "ny.key", "--name", "Exempelby kommun",
       "--replaces", "kommun.key", cwd=home)  # fmt: skip
    ok("key", "new", "--signing", "--out", "annan.key", "--name", "Någon annan", cwd=home)
    rows = [*GRANTS_ROWS[:2], GRANTS_ROWS[2].replace("Lokalhyra", "Lokalhyror")]
    grants_package(home / "bidrag", rows=rows)
    before = tree(home / "portal")
    done = og(
        "publish", "bidrag", "--to", "portal", "--signing-key", "annan.key", cwd=home, env=env
    )
    assert done.returncode != 0 and "--replaces" in done.stderr, done.stderr
    assert tree(home / "portal") == before
    ok("publish", "bidrag", "--to", "portal", "--signing-key", "ny.key", cwd=home, env=env)
    result = as_json("verify", "portal/bidrag", cwd=home, env=env)
    assert result["ok"] and len({s["key_id"] for s in result["signers"]}) == 2, result
    keys = json.loads((home / "portal" / "keys.json").read_text("utf-8"))
    listed = {k["key_id"]: k for k in keys["keys"]}
    new, old = result["signers"][-1]["key_id"], result["signers"][0]["key_id"]
    assert set(listed) == {new, old} and keys["current"] == new
    assert listed[new]["replaces"] == old
