"""What the portal holds: a dataset as package_show returned it, read the way opengov reads it.

Whether it is opengov's, whether a person hid it, whether it already holds exactly these inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opengov.errors import CkanNameConflict
from opengov.targets.ckan.client import CkanClient
from opengov.targets.ckan.datastore_state import TableRecord, listed_tables, parse_records
from opengov.targets.ckan.dictionary import MAPPING_VERSION
from opengov.targets.ckan.mapping import (
    E_DATASTORE,
    E_FILES,
    E_FINGERPRINT,
    E_FORMAT,
    E_RELEASE,
    E_STATE,
    E_VISIBILITY,
    R_PATH,
    R_ROLE,
)


@dataclass
class Remote:
    """A dataset as package_show returned it, indexed the way opengov reads it."""

    dataset: dict[str, Any]
    extras: dict[str, str] = field(init=False)
    managed: dict[str, dict[str, Any]] = field(init=False)
    duplicates: list[dict[str, Any]] = field(init=False)
    unmanaged: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.extras = {
            str(e.get("key")): str(e.get("value", "")) for e in self.dataset.get("extras") or []
        }
        self.managed, self.duplicates, self.unmanaged = {}, [], []
        for res in self.dataset.get("resources") or []:
            path = res.get(R_PATH)
            if not path:
                self.unmanaged.append(res)
            elif path in self.managed:
                self.duplicates.append(res)
            else:
                self.managed[str(path)] = res

    @property
    def id(self) -> str:
        return str(self.dataset["id"])

    @property
    def private(self) -> bool:
        return bool(self.dataset.get("private"))

    @property
    def complete(self) -> bool:
        return self.extras.get(E_STATE) == "complete"

    @property
    def ever_completed(self) -> bool:
        return bool(self.extras.get(E_FINGERPRINT))

    @property
    def release(self) -> int:
        try:
            return int(self.extras.get(E_RELEASE, "0"))
        except ValueError:
            return 0

    def hashes(self) -> dict[str, str]:
        return {p: str(r.get("hash") or "") for p, r in self.managed.items()}

    def datastore_records(self) -> dict[str, TableRecord]:
        """The complete entries: tables known to hold a Parquet's rows."""
        return parse_records(self.extras.get(E_DATASTORE))

    def datastore_tables(self) -> set[str]:
        """Every table opengov loads (complete, or being written)."""
        return listed_tables(self.extras.get(E_DATASTORE))

    def data_tables(self) -> dict[str, str]:
        """{csv path: parquet path} of the published tables (each has both files)."""
        out = {}
        for path, res in self.managed.items():
            if res.get(R_ROLE) == "data" and path.endswith(".csv"):
                parquet = path.removesuffix(".csv") + ".parquet"
                if parquet in self.managed:
                    out[path] = parquet
        return out

    def datastore_active(self, path: str) -> bool:
        res = self.managed.get(path) or {}
        return res.get("datastore_active") is True

    def files_record(self) -> dict[str, str] | None:
        try:
            data = json.loads(self.extras.get(E_FILES, ""))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


def show(client: CkanClient, name: str) -> Remote | None:
    result = client.call("package_show", {"id": name}, what=f"package_show of {name!r}")
    return Remote(result) if result else None


def check_ours(remote: Remote, org: str, name: str, url: str) -> None:
    if remote.dataset.get("state") == "deleted":
        raise CkanNameConflict(
            f"dataset {name!r} on {url} is deleted but still holds the name; restore it in "
            f"CKAN, or purge it for good (ckanapi action dataset_purge id={name}) and run again"
        )
    if E_FORMAT not in remote.extras:
        raise CkanNameConflict(
            f"dataset {name!r} already exists on {url} and was not published by opengov "
            "(it has no opengov_format extra); rename the package or remove that dataset"
        )
    owner = remote.dataset.get("organization") or {}
    if org not in (owner.get("name"), owner.get("id")):
        raise CkanNameConflict(
            f"dataset {name!r} on {url} belongs to organisation {owner.get('name')!r}, "
            f"not {org!r}; opengov does not move datasets between organisations"
        )


def hidden_by_a_person(remote: Remote, wanted_private: bool) -> bool:
    """Private although opengov made it public: someone hid it deliberately.

    Not tied to a complete release: an admin who hides a dataset and a publish that is then
    interrupted must not add up to the dataset being made public again.
    """
    return not wanted_private and remote.private and remote.extras.get(E_VISIBILITY) == "public"


def is_unchanged(remote: Remote, fingerprint: str, private: bool, *, datastore: bool) -> bool:
    """Complete, same inputs, same visibility, the resources are the ones recorded and, when
    the DataStore is wanted, every table is in it as recorded."""
    if not remote.complete or remote.extras.get(E_FINGERPRINT) != fingerprint:
        return False
    if remote.private != private or remote.duplicates:
        return False
    record = remote.files_record()
    if record is None or record != remote.hashes():
        return False
    return not datastore or datastore_current(remote, record)


def datastore_current(remote: Remote, files: dict[str, str]) -> bool:
    """Every table's DataStore table exists and holds the recorded Parquet's rows, loaded by
    this version's mapping (a changed mapping loads the tables again)."""
    records = remote.datastore_records()
    for csv, parquet in remote.data_tables().items():
        entry = records.get(csv)
        if entry is None or entry.parquet != files.get(parquet):
            return False
        if not remote.datastore_active(csv) or not entry.shape.startswith(f"v{MAPPING_VERSION}:"):
            return False
    return True


def actual_hashes(client: CkanClient, remote: Remote) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for path, res in remote.managed.items():
        if not res.get("url"):
            out[path] = None  # created by the marking request, its file never arrived
            continue
        sha, _status = client.sha256_of(client.download_url(res), what=path)
        out[path] = sha
    return out
