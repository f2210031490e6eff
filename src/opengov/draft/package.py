"""Writing a drafted package: staged beside the output folder, swapped in whole, or not at all.

Used by `opengov init` and `opengov import sql`. Everything is built in a sibling staging
folder; a failure anywhere removes it and leaves `out` as it was. When the new files equal
what `out` already holds (the same data re-imported), nothing is touched, so a re-import of an
unchanged table leaves a byte-identical package, its recorded import time included.

A folder an earlier draft wrote is updated: a rules.yaml the steward has edited is kept (the
draft's own hash, recorded in import.json, tells an untouched draft from an edited one), and
the descriptor keeps the steward's titles, descriptions and licence.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from opengov.errors import InputError
from opengov.limits import MAX_DESCRIPTOR_BYTES, load_json, read_limited
from opengov.paths import make_folder

DESCRIPTOR = "datapackage.json"
RULES = "rules.yaml"
RECORD = "import.json"
CC0 = {
    "name": "CC0-1.0",
    "path": "http://creativecommons.org/publicdomain/zero/1.0/",
    "title": "CC0 1.0",
}
_KEPT_FIELD_KEYS = ("title", "description")
_KEPT_RESOURCE_KEYS = ("title", "description")


@dataclass
class Existing:
    """What `out` holds from an earlier draft (all None for a new or empty folder)."""

    descriptor: dict[str, Any] | None = None
    rules: bytes | None = None
    record: dict[str, Any] | None = None

    @property
    def rules_edited(self) -> bool:
        if self.rules is None or self.record is None:
            return False
        return hashlib.sha256(self.rules).hexdigest() != self.record.get("rules_draft_sha256")


def read_existing(out: Path, importer: str) -> Existing:
    """`out`'s earlier draft, or nothing; refuse a folder some other tool or person filled."""
    if not out.exists():
        return Existing()
    if not out.is_dir():
        raise InputError(f"output {out.name} exists and is not a folder")
    record_path = out / RECORD
    if not record_path.is_file():
        if any(out.iterdir()):
            raise InputError(
                f"output folder {out} is not empty and holds no {RECORD} from an earlier "
                f"`opengov {importer}`; choose a new or empty folder"
            )
        return Existing()
    record = _json(record_path)
    if record.get("importer") != importer:
        raise InputError(
            f"output folder {out} was written by `opengov {record.get('importer')}`, "
            f"not `opengov {importer}`; choose another folder"
        )
    descriptor = _json(out / DESCRIPTOR) if (out / DESCRIPTOR).is_file() else None
    rules_path = out / RULES
    return Existing(
        descriptor=descriptor,
        rules=rules_path.read_bytes() if rules_path.is_file() else None,
        record=record,
    )


def _json(path: Path) -> dict[str, Any]:
    what = f"{path.parent.name}/{path.name}"
    try:
        data = load_json(read_limited(path, MAX_DESCRIPTOR_BYTES, what).decode("utf-8-sig"), what)
    except (OSError, ValueError):
        raise InputError(f"{what} is not readable JSON") from None
    if not isinstance(data, dict):
        raise InputError(f"{path.parent.name}/{path.name} is not a JSON object")
    return data


def merge_descriptor(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """`new` with the steward's own texts from `old`: package keys, resource and field titles."""
    if not old:
        return new
    merged = {k: v for k, v in old.items() if k != "resources"}
    merged["resources"] = new["resources"]
    old_resources = {r.get("name"): r for r in old.get("resources") or [] if isinstance(r, dict)}
    for resource in merged["resources"]:
        before = old_resources.get(resource["name"])
        if not isinstance(before, dict):
            continue
        for key in _KEPT_RESOURCE_KEYS:
            if key in before:
                resource[key] = before[key]
        schema = before.get("schema")
        old_fields = {
            f.get("name"): f
            for f in (schema.get("fields") if isinstance(schema, dict) else None) or []
            if isinstance(f, dict)
        }
        for fdesc in resource["schema"]["fields"]:
            previous = old_fields.get(fdesc["name"])
            if isinstance(previous, dict):
                for key in _KEPT_FIELD_KEYS:
                    if key in previous:
                        fdesc[key] = previous[key]
    return merged


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


class Staging:
    """A sibling folder to build the package in; `commit` swaps it in, an error removes it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.token = secrets.token_hex(6)
        self.path = out.parent / f".{out.name}.{self.token}.tmp"

    def __enter__(self) -> Staging:
        make_folder(self.out.parent, "the folder of --out")
        self.path.mkdir()  # not mkdtemp: that is mode 0700 and the package would keep it
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def write(self, rel: str, data: bytes) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def same_as_out(self, ignore: Mapping[str, Collection[str]]) -> bool:
        """Whether every staged file equals the one in `out` (and `out` has no others).

        `ignore` maps a JSON file to the keys left out of the comparison (the import time).
        """
        if not self.out.is_dir():
            return False
        staged = sorted(p.relative_to(self.path) for p in self.path.rglob("*") if p.is_file())
        present = sorted(p.relative_to(self.out) for p in self.out.rglob("*") if p.is_file())
        if staged != present:
            return False
        for rel in staged:
            new, old = self.path / rel, self.out / rel
            if str(rel) in ignore:
                if _without(_json(new), ignore[str(rel)]) != _without(_json(old), ignore[str(rel)]):
                    return False
            elif not _same_file(new, old):
                return False
        return True

    def commit(self) -> None:
        """Swap the staged folder in; the old one is removed only after the swap."""
        if self.out.exists():
            backup = self.out.parent / f".{self.out.name}.{self.token}.old"
            os.rename(self.out, backup)
            os.rename(self.path, self.out)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.rename(self.path, self.out)


def _without(data: dict[str, Any], keys: Collection[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def _same_file(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            block = fa.read(1 << 20)
            if block != fb.read(1 << 20):
                return False
            if not block:
                return True
