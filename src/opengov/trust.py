"""Whom an auditor trusts: keys pinned for this run, and a trust store kept between runs.

The trust store (`~/.config/opengov/trust.json`, or OPENGOV_TRUST_STORE) remembers, per origin
(a portal folder or a CKAN URL), the keys the auditor trusts there (pinned explicitly with
`--trust`, on first use, or reached through a rotation statement) and the newest release of each
dataset verified there, so that a rolled-back or replayed release is noticed the next time.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from opengov.errors import InputError, LimitExceeded
from opengov.limits import load_json
from opengov.signing import EnvelopeError, PublicKey, now_utc

TRUST_STORE_ENV = "OPENGOV_TRUST_STORE"
FORMAT = 1
How = Literal["explicit", "first-use", "rotation"]


def default_store_path() -> Path:
    env = os.environ.get(TRUST_STORE_ENV)
    if env:
        return Path(env)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "opengov" / "trust.json"


@dataclass(frozen=True)
class Seen:
    release: int
    provenance_sha256: str
    verified_at: str


# A pinned key and a dataset's last release take a few hundred bytes: this is thousands of
# portals' worth, and what a device or a runaway file is cut at.
MAX_STORE_BYTES = 64 * 1024 * 1024


@dataclass
class TrustStore:
    path: Path
    data: dict[str, Any] = field(default_factory=lambda: {"format": FORMAT, "origins": {}})

    @classmethod
    def open(cls, path: Path | str | None = None) -> TrustStore:
        path = Path(path) if path is not None else default_store_path()
        try:
            with path.open("rb") as handle:  # bounded: a device or pipe never ends
                raw = handle.read(MAX_STORE_BYTES + 1)
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise InputError(f"cannot read the trust store {path}: {exc.strerror}") from None
        if len(raw) > MAX_STORE_BYTES:
            raise LimitExceeded(f"the trust store {path} is larger than {MAX_STORE_BYTES:,} bytes")
        try:
            data = load_json(raw.decode("utf-8"), str(path))
        except (ValueError, LimitExceeded):
            data = None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("origins"), dict)
        ):
            raise InputError(
                f"the trust store {path} is not an opengov trust store; restore it from your "
                "backup (it holds the keys you pinned) or move it away to start afresh"
            )
        return cls(path, data)

    def _origin(self, origin: str) -> dict[str, Any]:
        entry: dict[str, Any] = self.data["origins"].setdefault(origin, {})
        if not isinstance(entry, dict):
            entry = self.data["origins"][origin] = {}
        entry.setdefault("keys", {})
        entry.setdefault("datasets", {})
        return entry

    def pinned(self, origin: str) -> list[PublicKey]:
        entry = self.data["origins"].get(origin)
        keys = entry.get("keys") if isinstance(entry, dict) else None
        out = []
        for item in (keys or {}).values():
            try:
                out.append(PublicKey.from_text(item.get("public_key")))
            except (EnvelopeError, AttributeError):
                raise InputError(
                    f"the trust store {self.path} holds a damaged key for {origin}"
                ) from None
        return out

    def pin(self, origin: str, key: PublicKey, how: How) -> None:
        keys = self._origin(origin)["keys"]
        if key.key_id not in keys:
            keys[key.key_id] = {"public_key": key.text, "pinned_at": now_utc(), "how": how}

    def seen(self, origin: str, dataset: str) -> Seen | None:
        entry = self.data["origins"].get(origin)
        item = (entry.get("datasets") or {}).get(dataset) if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            return None
        try:
            return Seen(int(item["release"]), str(item["provenance_sha256"]), str(item["at"]))
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f"the trust store {self.path} holds a damaged record for {dataset}"
            ) from None

    def record(self, origin: str, dataset: str, release: int, sha256: str) -> None:
        datasets = self._origin(origin)["datasets"]
        old = self.seen(origin, dataset)
        if old is None or release >= old.release:
            datasets[dataset] = {"release": release, "provenance_sha256": sha256, "at": now_utc()}

    def save(self) -> None:
        """Atomically, readable by its owner only (it decides whom the auditor trusts)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = (json.dumps(self.data, indent=2, sort_keys=True) + "\n").encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=".trust.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise InputError(f"cannot write the trust store {self.path}: {exc.strerror}") from None


@dataclass(frozen=True)
class Trust:
    """What a verification trusts. Fails closed: with nothing given, no signature is trusted.

    `keys` are pinned for this run (`--trust FILE.pub`); `store` adds the keys pinned before
    and remembers releases seen; `allow_unsigned` checks consistency only.
    """

    keys: tuple[PublicKey, ...] = ()
    store: TrustStore | None = None
    allow_unsigned: bool = False
