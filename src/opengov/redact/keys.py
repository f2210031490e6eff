"""Pseudonym keys: where the secret comes from, and the keyed digests made with it."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from opengov.errors import InputError, KeyMissing

KEY_ENV = "OPENGOV_PSEUDONYM_KEY"


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """Identifies the key in provenance without revealing it."""
        return hmac.new(self.secret, b"opengov key fingerprint v1", hashlib.sha256).hexdigest()[:16]

    def fingerprint_of(self, domain: str, value: str) -> str:
        """A short keyed digest of `value` for one purpose (`domain`), unlinkable to others."""
        message = domain.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:12]

    def pseudonym(self, value: str) -> str:
        digest = hmac.new(self.secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return "p-" + digest[:20]

    def __repr__(self) -> str:
        return f"PseudonymKey(fingerprint={self.fingerprint})"


def load_key(key_file: Path | str | None = None) -> PseudonymKey | None:
    """The key from a file (first) or OPENGOV_PSEUDONYM_KEY; None if neither is set."""
    if key_file is not None:
        path = Path(key_file)
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise KeyMissing(f"cannot read the pseudonym key file {path}: {exc.strerror}") from None
        if len(secret) < 16:
            raise KeyMissing(f"the pseudonym key in {path} is shorter than 16 bytes")
        return PseudonymKey(secret)
    env = os.environ.get(KEY_ENV)
    if env:
        if len(env.encode()) < 16:
            raise KeyMissing(f"{KEY_ENV} is shorter than 16 bytes; use a long random secret")
        return PseudonymKey(env.encode())
    return None


def write_new_key(path: Path | str) -> PseudonymKey:
    """A new random 256-bit pseudonym key in `path` (64 hex digits, mode 600, never overwritten).

    Hex, not raw bytes: `load_key` strips surrounding whitespace, which raw random bytes may
    begin or end with.
    """
    path = Path(path)
    secret = secrets.token_hex(32).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{path} exists; a key file is never overwritten") from None
    except OSError as exc:
        raise InputError(f"cannot create the key file {path}: {exc.strerror}") from None
    try:
        os.write(fd, secret + b"\n")
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
    return PseudonymKey(secret)
