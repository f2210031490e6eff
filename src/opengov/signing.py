"""Ed25519 signing keys, DSSE envelopes, and the statements opengov signs with them.

Every signature opengov makes is a DSSE envelope (the Dead Simple Signing Envelope that in-toto
and Sigstore use): `{"payloadType", "payload" (base64), "signatures": [{"keyid", "sig"}]}`,
the signature taken over DSSE's pre-authentication encoding of type and payload. The type is
signed too, so a key statement can never be passed off as a release, nor an approval as either.

Three statements are signed:

- a key statement (`FILE.pub`): the public key, who holds it, its validity period and, after a
  rotation, the key it replaces. Signed by the key itself, and by the replaced key too, so a
  rotation is a statement "the old key introduces the new one";
- a release statement (`provenance.dsse.json`): an in-toto Statement whose subject is the
  sha256 of `provenance.json`, naming the dataset and release number;
- an approval (approvals.py): a second person's signature over the release's inputs.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from opengov.errors import KeyFileExists, LimitExceeded, SigningKeyError
from opengov.limits import load_json

SIGNING_KEY_ENV = "OPENGOV_SIGNING_KEY_FILE"
SIGNATURE = "provenance.dsse.json"
KEYS_FILE = "keys.json"

KEY_TYPE = "application/vnd.opengov.key+json"
STATEMENT_TYPE = "application/vnd.in-toto+json"
APPROVAL_TYPE = "application/vnd.opengov.approval+json"
IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1"
RELEASE_PREDICATE = "https://github.com/opengov/opengov/blob/main/docs/provenance.md#release-v1"
KEY_STATEMENT = "opengov/key/v1"
DEFAULT_VALID_DAYS = 730
# A statement is a few hundred bytes; anything far larger is not one of ours.
MAX_ENVELOPE = 64 * 1024


class EnvelopeError(Exception):
    """A signature or statement that does not check out; the message says why (no secrets)."""


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def canonical(data: Any) -> bytes:
    """The bytes that are signed and written: sorted keys, no whitespace choices left open."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise EnvelopeError(f"{what} is not base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise EnvelopeError(f"{what} is not valid base64") from None


# ----------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class PublicKey:
    raw: bytes

    @property
    def key_id(self) -> str:
        """128 bits of the key's sha256: short enough to read aloud, long enough to be unique."""
        return hashlib.sha256(self.raw).hexdigest()[:32]

    @property
    def text(self) -> str:
        return "ed25519:" + _b64(self.raw)

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def from_text(cls, text: Any, what: str = "public key") -> PublicKey:
        if not isinstance(text, str) or not text.startswith("ed25519:"):
            raise EnvelopeError(f"{what} must be 'ed25519:' followed by base64")
        raw = _unb64(text.removeprefix("ed25519:"), what)
        if len(raw) != 32:
            raise EnvelopeError(f"{what} is not a 32-byte Ed25519 key")
        return cls(raw)


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


@dataclass(frozen=True)
class KeyInfo:
    """What a key statement says about a key, checked: its own signature (and the replaced
    key's, after a rotation) verified."""

    key: PublicKey
    name: str
    valid_from: str
    valid_until: str
    replaces: PublicKey | None
    envelope: dict[str, Any] = field(repr=False, compare=False)

    @property
    def key_id(self) -> str:
        return self.key.key_id

    def valid_at(self, when: str) -> bool:
        # ISO 8601 UTC strings of one shape compare correctly as text.
        return self.valid_from <= when <= self.valid_until

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "algorithm": "ed25519",
            "public_key": self.key.text,
            "publisher": self.name,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "replaces": self.replaces.key_id if self.replaces else None,
            "statement": self.envelope,
        }


@dataclass(frozen=True)
class Signer:
    """A private signing key and its published statement; never printed, never logged."""

    private: Ed25519PrivateKey = field(repr=False)
    info: KeyInfo

    @property
    def key_id(self) -> str:
        return self.info.key_id

    def sign(self, payload_type: str, payload: bytes) -> dict[str, Any]:
        return make_envelope(payload_type, payload, [self.private])

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id})"


# ----------------------------------------------------------------------------- DSSE


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def make_envelope(
    payload_type: str, payload: bytes, keys: list[Ed25519PrivateKey]
) -> dict[str, Any]:
    message = pae(payload_type, payload)
    return {
        "payloadType": payload_type,
        "payload": _b64(payload),
        "signatures": [
            {"keyid": PublicKey(_raw_public(k)).key_id, "sig": _b64(k.sign(message))} for k in keys
        ],
    }


def open_envelope(envelope: Any, payload_type: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The payload and signatures of an envelope of the expected type, unverified."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("the signature is not a DSSE envelope (a JSON object)")
    if envelope.get("payloadType") != payload_type:
        raise EnvelopeError(
            f"the envelope's payloadType is {str(envelope.get('payloadType'))[:80]!r}, "
            f"not {payload_type!r}"
        )
    payload = _unb64(envelope.get("payload"), "the envelope's payload")
    sigs = envelope.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise EnvelopeError("the envelope holds no signatures")
    out = []
    for sig in sigs:
        if not isinstance(sig, dict) or not isinstance(sig.get("keyid"), str):
            raise EnvelopeError("a signature in the envelope has no keyid")
        out.append((sig["keyid"], _unb64(sig.get("sig"), "a signature")))
    return payload, out


def verify_envelope(envelope: Any, payload_type: str, key: PublicKey) -> bytes:
    """The payload, if `key` signed it; `EnvelopeError` otherwise."""
    payload, sigs = open_envelope(envelope, payload_type)
    message = pae(payload_type, payload)
    if not any(k == key.key_id and key.verifies(s, message) for k, s in sigs):
        # Key ids come from the file verified: only their letters and digits are shown.
        named = sorted({"".join(c for c in k[:32] if c.isalnum()) or "?" for k, _ in sigs})
        if key.key_id in named:
            raise EnvelopeError(f"the signature by key {key.key_id} does not match what it signs")
        raise EnvelopeError(f"no signature by key {key.key_id} (signed by {', '.join(named)})")
    return payload


def _json_payload(payload: bytes, what: str) -> dict[str, Any]:
    try:
        data = load_json(payload.decode("utf-8"), f"the {what}")
    except ValueError:
        raise EnvelopeError(f"the {what} is not JSON") from None
    except LimitExceeded as exc:
        raise EnvelopeError(exc.message) from None
    if not isinstance(data, dict):
        raise EnvelopeError(f"the {what} is not a JSON object")
    return data


def _str(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 500:
        raise EnvelopeError(f"the {what} has no valid {key!r}")
    return value


# ----------------------------------------------------------------------------- key statements


def key_statement(
    private: Ed25519PrivateKey,
    *,
    name: str,
    valid_from: str,
    valid_until: str,
    replaces: Ed25519PrivateKey | None = None,
) -> KeyInfo:
    key = PublicKey(_raw_public(private))
    old = PublicKey(_raw_public(replaces)) if replaces is not None else None
    body = {
        "_type": KEY_STATEMENT,
        "key_id": key.key_id,
        "algorithm": "ed25519",
        "public_key": key.text,
        "name": name,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "replaces": {"key_id": old.key_id, "public_key": old.text} if old else None,
    }
    signers = [private] + ([replaces] if replaces is not None else [])
    envelope = make_envelope(KEY_TYPE, canonical(body), signers)
    return KeyInfo(key, name, valid_from, valid_until, old, envelope)


def parse_key_statement(envelope: Any) -> KeyInfo:
    """A key statement, checked: signed by its own key, and by the key it replaces if any."""
    payload, _ = open_envelope(envelope, KEY_TYPE)
    body = _json_payload(payload, "key statement")
    if body.get("_type") != KEY_STATEMENT or body.get("algorithm") != "ed25519":
        raise EnvelopeError("not an opengov Ed25519 key statement")
    key = PublicKey.from_text(body.get("public_key"), "the key statement's public_key")
    if body.get("key_id") != key.key_id:
        raise EnvelopeError("the key statement's key_id does not belong to its key")
    verify_envelope(envelope, KEY_TYPE, key)
    replaces = None
    if body.get("replaces") is not None:
        old = body["replaces"]
        if not isinstance(old, dict):
            raise EnvelopeError("the key statement's 'replaces' must name a key")
        replaces = PublicKey.from_text(old.get("public_key"), "the replaced key")
        try:
            verify_envelope(envelope, KEY_TYPE, replaces)
        except EnvelopeError:
            raise EnvelopeError(
                f"key {key.key_id} claims to replace key {replaces.key_id}, but that key did "
                "not sign the rotation"
            ) from None
    return KeyInfo(
        key=key,
        name=_str(body, "name", "key statement"),
        valid_from=_str(body, "valid_from", "key statement"),
        valid_until=_str(body, "valid_until", "key statement"),
        replaces=replaces,
        envelope=envelope,
    )


def _read_small(path: Path, what: str) -> bytes:
    # Read with the bound, not after a stat: a device (`--trust /dev/zero`) or a pipe says size
    # 0 and never ends, and reading it whole took all the machine's memory.
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ENVELOPE + 1)
        if len(data) > MAX_ENVELOPE:
            raise SigningKeyError(f"{path} is too large to be {what}")
        return data
    except OSError as exc:
        raise SigningKeyError(
            f"cannot read {what} {path}: {exc.strerror or type(exc).__name__}"
        ) from None


def read_public_key(path: Path | str) -> KeyInfo | PublicKey:
    """A public key to trust: a key statement (`FILE.pub`), or a bare `ed25519:<base64>` line
    or PEM public key as another tool would write it (then without name or validity)."""
    path = Path(path)
    data = _read_small(path, "the public key file")
    text = data.decode("utf-8", errors="replace").strip()
    try:
        if text.startswith("{"):
            try:
                envelope = load_json(text, "it")
            except ValueError:
                raise EnvelopeError("it is not JSON") from None
            except LimitExceeded as exc:
                raise EnvelopeError(exc.message) from None
            return parse_key_statement(envelope)
        if text.startswith("ed25519:"):
            return PublicKey.from_text(text)
        if text.startswith("-----BEGIN PUBLIC KEY-----"):
            try:
                loaded = serialization.load_pem_public_key(data)
            except ValueError:
                raise EnvelopeError("the PEM block is not a public key") from None
            if not isinstance(loaded, Ed25519PublicKey):
                raise EnvelopeError("the PEM key is not an Ed25519 key")
            return PublicKey(
                loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            )
    except EnvelopeError as exc:
        raise SigningKeyError(f"{path} is not a usable public key: {exc}") from None
    raise SigningKeyError(
        f"{path} is not a public key: expected a key statement written by `opengov key new "
        "--signing` (FILE.pub), an 'ed25519:<base64>' line or a PEM public key"
    )


def load_signer(path: Path | str) -> Signer:
    """The private key in `path` and its statement in `path.pub`, checked to belong together."""
    path = Path(path)
    data = _read_small(path, "the signing key")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"{path} is not an unencrypted PEM private key (make one with `opengov key new "
            "--signing --out FILE`)"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    pub_path = path.with_name(path.name + ".pub")
    if not pub_path.is_file():
        raise SigningKeyError(
            f"{pub_path} is missing: the key statement published with every release lives "
            "beside the private key"
        )
    info = read_public_key(pub_path)
    if not isinstance(info, KeyInfo):
        raise SigningKeyError(f"{pub_path} must be the key statement written by `opengov key new`")
    if info.key.raw != _raw_public(private):
        raise SigningKeyError(f"{pub_path} belongs to another key than {path}")
    return Signer(private, info)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # whatever the umask said


def new_signing_key(
    out: Path | str,
    *,
    name: str,
    valid_days: int = DEFAULT_VALID_DAYS,
    replaces: Path | str | None = None,
    now: dt.datetime | None = None,
) -> KeyInfo:
    """Write a new Ed25519 key pair: `out` (private, mode 600) and `out.pub` (its statement).

    With `replaces`, the old key (a private key file) signs the new key's statement too: the
    rotation statement verify follows from the old key to the new one.
    """
    out = Path(out)
    pub = out.with_name(out.name + ".pub")
    for path in (out, pub):
        if path.exists() or path.is_symlink():
            raise KeyFileExists.at(path)
    if not name.strip():
        raise SigningKeyError("a signing key needs the name of who holds it (--name)")
    if not 1 <= valid_days <= 3660:
        raise SigningKeyError("the validity period must be 1 to 3660 days")
    old = load_signer(replaces).private if replaces is not None else None
    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    private = Ed25519PrivateKey.generate()
    info = key_statement(
        private,
        name=name.strip(),
        valid_from=start.strftime(stamp),
        valid_until=(start + dt.timedelta(days=valid_days)).strftime(stamp),
        replaces=old,
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if not out.parent.is_dir():
        raise SigningKeyError(f"{out.parent} is not a folder")
    try:
        _write_new(out, pem, 0o600)
        try:
            _write_new(pub, canonical(info.envelope), 0o644)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    except FileExistsError:
        raise KeyFileExists.at(out if out.exists() or out.is_symlink() else pub) from None
    except OSError as exc:
        raise SigningKeyError(f"cannot write {out}: {exc.strerror}") from None
    return info


# ----------------------------------------------------------------------------- releases


def sign_release(
    signer: Signer, provenance: bytes, *, dataset: str, release: int, signed_at: str
) -> dict[str, Any]:
    """An in-toto Statement over provenance.json's sha256, in a DSSE envelope."""
    digest = {"sha256": hashlib.sha256(provenance).hexdigest()}
    statement = {
        "_type": IN_TOTO_STATEMENT,
        "subject": [{"name": "provenance.json", "digest": digest}],
        "predicateType": RELEASE_PREDICATE,
        "predicate": {
            "dataset": dataset,
            "release": release,
            "key_id": signer.key_id,
            "signed_at": signed_at,
        },
    }
    return signer.sign(STATEMENT_TYPE, canonical(statement))


@dataclass(frozen=True)
class ReleaseSignature:
    key_id: str
    signed_at: str


def check_release(
    envelope: Any, key: PublicKey, provenance: bytes, *, dataset: str, release: int
) -> ReleaseSignature:
    """That `key` signed exactly these provenance bytes as this dataset's release number."""
    payload = verify_envelope(envelope, STATEMENT_TYPE, key)
    body = _json_payload(payload, "signed statement")
    if body.get("_type") != IN_TOTO_STATEMENT or body.get("predicateType") != RELEASE_PREDICATE:
        raise EnvelopeError("the signed statement is not an opengov release statement")
    subject = body.get("subject")
    digest = None
    if isinstance(subject, list) and len(subject) == 1 and isinstance(subject[0], dict):
        digests = subject[0].get("digest")
        digest = digests.get("sha256") if isinstance(digests, dict) else None
    if digest != hashlib.sha256(provenance).hexdigest():
        raise EnvelopeError("the signature is for other provenance.json bytes than these")
    predicate = body.get("predicate")
    if not isinstance(predicate, dict):
        raise EnvelopeError("the signed statement has no predicate")
    if predicate.get("dataset") != dataset or predicate.get("release") != release:
        raise EnvelopeError(
            f"the signature is for {str(predicate.get('dataset'))[:100]!r} release "
            f"{str(predicate.get('release'))[:20]}, not {dataset!r} release {release}"
        )
    return ReleaseSignature(key.key_id, _str(predicate, "signed_at", "signed statement"))


def signer_for_publish(path: Path | str) -> Signer:
    """The publishing key, refused outside its validity period (verify would refuse it too)."""
    signer = load_signer(path)
    now = now_utc()
    if not signer.info.valid_at(now):
        raise SigningKeyError(
            f"signing key {signer.key_id} is valid from {signer.info.valid_from} until "
            f"{signer.info.valid_until}, not now ({now}); make its successor with `opengov key "
            f"new --signing --replaces {path}`"
        )
    return signer
