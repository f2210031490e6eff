"""Signed portals for the verify, signing and approval tests, and the forger's tools."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from helpers import STAFF_ROWS, write_csv

from opengov.release.provenance import canonical_json, signing_block
from opengov.signing import SIGNATURE, Signer, canonical, load_signer, new_signing_key, sign_release
from opengov.targets.static import publish_static


def make_key(folder: Path, name: str = "Exempelby kommun", **kw: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.split()[0].lower()}.key"
    new_signing_key(path, name=name, **kw)
    return path


def changed_rows(n: int) -> list[list[str]]:
    """The staff table with one cell changed, so each n gives a new release."""
    rows = copy.deepcopy(STAFF_ROWS)
    rows[4][7] = f"Ändrad {n}"
    return rows


def publish_releases(package: Path, portal: Path, keys: list[Path | None]) -> Path:
    """One release per key (None: unsigned), the data changed between them."""
    for n, key in enumerate(keys):
        if n:
            write_csv(package / "data" / "personal.csv", changed_rows(n))
        result = publish_static(package, portal, signing_key=key)
        assert result.status == "published" and result.release == n + 1
    return portal / "personal"


def read_doc(dataset: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((dataset / "provenance.json").read_text(encoding="utf-8"))
    return doc


def write_doc(dataset: Path, doc: dict[str, Any], *, resign: Signer | None = None) -> None:
    """Rewrite provenance as opengov would; with `resign`, sign it again with that key."""
    if resign is not None:
        doc["signing"] = signing_block(resign.key_id, resign.info.envelope)
    data = canonical_json(doc)
    (dataset / "provenance.json").write_bytes(data)
    if resign is not None:
        envelope = sign_release(
            resign,
            data,
            dataset=doc["dataset"],
            release=doc["release"],
            signed_at=resign.info.valid_from,
        )
        (dataset / SIGNATURE).write_bytes(canonical(envelope))


def rehash(doc: dict[str, Any], dataset: Path, rel: str) -> None:
    """Make provenance agree with the file at `rel` as it now is: a consistent forgery."""
    data = (dataset / rel).read_bytes()
    for entity in doc["generated"]:
        if entity["og:path"] == rel:
            sha = hashlib.sha256(data).hexdigest()
            entity.update({"og:sha256": sha, "og:bytes": len(data), "@id": f"urn:sha256:{sha}"})
            return
    raise AssertionError(f"{rel} is not in provenance")


def forge_data(dataset: Path, *, descriptor_too: bool, resign: Signer | None = None) -> None:
    """Edit the published CSV and re-hash provenance to match (and datapackage.json too)."""
    csv = dataset / "data" / "personal.csv"
    csv.write_bytes(csv.read_bytes().replace(b"Skola", b"Skolx", 1))
    doc = read_doc(dataset)
    rehash(doc, dataset, "data/personal.csv")
    if descriptor_too:
        desc_path = dataset / "datapackage.json"
        descriptor = json.loads(desc_path.read_text(encoding="utf-8"))
        new = next(e for e in doc["generated"] if e["og:path"] == "data/personal.csv")
        for res in descriptor["resources"]:
            if res["path"] == "data/personal.csv":
                res["hash"], res["bytes"] = f"sha256:{new['og:sha256']}", new["og:bytes"]
        desc_path.write_bytes(canonical_json(descriptor))
        rehash(doc, dataset, "datapackage.json")
    write_doc(dataset, doc, resign=resign)


def signer(path: Path) -> Signer:
    return load_signer(path)
