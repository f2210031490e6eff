"""No forgery of a signed folder passes verify with a pinned key.

Hypothesis mutates a published, signed two-release dataset the ways an attacker with write
access could: flip bits in any file, drop, add or rename files, and rewrite provenance
consistently (re-hashing what changed, with or without datapackage.json, re-signed with another
key or not). Whatever the combination, verify with the publisher's key pinned never passes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEST_KEY
from helpers import STAFF_ROWS, STAFF_RULES, STAFF_SCHEMA, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signing_helpers import forge_data, make_key, publish_releases, read_doc, rehash, write_doc
from test_verify_forgery import pinned

from opengov.errors import OpengovError
from opengov.signing import load_signer
from opengov.trust import Trust
from opengov.verify import verify_folder

PLANTED = ["x.html", "data/x.csv", "history/x.json", "history/" + "a" * 64 + ".json"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Trust, Path]:
    """A signed two-release dataset, built once; each example works on a copy."""
    root = tmp_path_factory.mktemp("signed")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENGOV_PSEUDONYM_KEY", TEST_KEY)  # a weak key is refused when loaded
    try:
        package = root / "personal"
        write_csv(package / "data" / "personal.csv", STAFF_ROWS)
        descriptor = {
            "name": "personal",
            "title": "Personal (test)",
            "licenses": [{"name": "CC0-1.0", "title": "CC0 1.0"}],
            "resources": [
                {
                    "name": "personal",
                    "path": "data/personal.csv",
                    "format": "csv",
                    "encoding": "utf-8",
                    "dialect": {"delimiter": ";"},
                    "schema": STAFF_SCHEMA,
                }
            ],
        }
        (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        (package / "rules.yaml").write_text(yaml.safe_dump(STAFF_RULES), encoding="utf-8")
        kommun = make_key(root / "keys", "Exempelby kommun")
        attacker = make_key(root / "attacker", "Angripare AB")
        dataset = publish_releases(package, root / "portal", [kommun, kommun])
    finally:
        mp.undo()
    trust = pinned(kommun)
    assert verify_folder(dataset, trust).ok
    return dataset, trust, attacker


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _tree(folder: Path) -> dict[str, bytes]:
    return {rel: (folder / rel).read_bytes() for rel in _files(folder)}


@st.composite
def mutation(draw: Any) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["flip", "drop", "add", "rename", "rewrite", "rewrite-resign"]))
    return kind, draw(st.randoms(use_true_random=False))


def _apply(folder: Path, kind: str, rnd: Any, attacker: Path) -> None:
    files = _files(folder)
    if kind == "flip":
        path = folder / rnd.choice(files)
        data = bytearray(path.read_bytes())
        i = rnd.randrange(len(data))
        data[i] ^= rnd.randrange(1, 256)
        path.write_bytes(bytes(data))
    elif kind == "drop":
        (folder / rnd.choice(files)).unlink()
    elif kind == "add":
        name = rnd.choice(PLANTED)
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"planted " + bytes(rnd.randrange(256) for _ in range(8)))
    elif kind == "rename":
        src = rnd.choice(files)
        dst = folder / (src + rnd.choice([".bak", "~", "_x"]))
        (folder / src).rename(dst)
    else:
        try:
            _rewrite(folder, kind, rnd, attacker)
        except (ValueError, OSError, KeyError, StopIteration, AssertionError, TypeError):
            pass  # an earlier step broke what a rewrite reads: that forgery stands alone


def _rewrite(folder: Path, kind: str, rnd: Any, attacker: Path) -> None:
    """A consistent rewrite: change a file and make provenance agree (maybe re-signed)."""
    resign = load_signer(attacker) if kind == "rewrite-resign" else None
    if rnd.random() < 0.5:
        forge_data(folder, descriptor_too=rnd.random() < 0.5, resign=resign)
        return
    doc = read_doc(folder)
    rel = rnd.choice([e["og:path"] for e in doc["generated"]])
    path = folder / rel
    path.write_bytes(path.read_bytes() + b"\n")
    rehash(doc, folder, rel)
    write_doc(folder, doc, resign=resign)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(mutation(), min_size=1, max_size=3))
def test_verify_with_a_pinned_key_never_passes_a_forgery(
    template: tuple[Path, Trust, Path], steps: list[tuple[str, Any]]
) -> None:
    dataset, trust, attacker = template
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "personal"
        shutil.copytree(dataset, folder)
        original = _tree(folder)
        for kind, rnd in steps:
            if _files(folder):
                _apply(folder, kind, rnd, attacker)
        if _tree(folder) == original:
            return  # e.g. a file planted, then dropped again: nothing was forged
        try:
            result = verify_folder(folder, trust)
        except OpengovError:
            return  # refused outright (an unreadable provenance): not passed
        assert not result.ok, steps
        assert result.error() is not None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
ENVELOPE_KEYS = st.sampled_from(["payloadType", "payload", "signatures", "keyid", "sig"])


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    where=st.sampled_from(["signing", "approvals", "previous.signature", "signature-file"]),
    value=JSON | st.dictionaries(ENVELOPE_KEYS, JSON, max_size=5),
)
def test_hostile_signature_fields_are_problems_not_crashes(
    template: tuple[Path, Trust, Path], where: str, value: Any
) -> None:
    """Whatever an attacker writes where signatures and approvals go, verify names a problem
    and never raises anything but an opengov error (so the CLI never exits 70)."""
    dataset, trust, _ = template
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "personal"
        shutil.copytree(dataset, folder)
        if where == "signature-file":
            (folder / "provenance.dsse.json").write_text(json.dumps(value), encoding="utf-8")
        else:
            doc = read_doc(folder)
            if where == "previous.signature":
                doc["previous"]["signature"] = value
            else:
                doc[where] = value
            write_doc(folder, doc)
        try:
            result = verify_folder(folder, trust)
        except OpengovError:
            return
        assert not result.ok
