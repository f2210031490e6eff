"""What a consistent forgery cannot fake: the chain's shape, its signatures, and whose they are.

`verify` first checks that the bytes match provenance (verify.py). Someone who can write to the
portal can rewrite provenance too, so the checks here go further, for every target alike:

- the chain: every history entry present and hashing to its link, release numbers contiguous
  from 1, one dataset throughout (`walk_chain`);
- datapackage.json's resource hashes equal to provenance (`check_descriptor`);
- every release signed (DSSE, signing.py) by the key its provenance names, each key change
  covered by a rotation statement signed by the previous key, and at least one key of that line
  trusted by the auditor: pinned with `--trust`, or kept in the trust store (`check_signatures`);
- no release older than, or different from, one this auditor verified before (`check_replay`);
- the approvals provenance records, checked against the policy it records.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opengov import approvals
from opengov.errors import LimitExceeded, VerifyFailed
from opengov.limits import load_json
from opengov.signing import EnvelopeError, KeyInfo, PublicKey, check_release, parse_key_statement
from opengov.trust import How, Trust
from opengov.verify.model import PROVENANCE, Mismatch, parse_provenance


@dataclass(frozen=True)
class Link:
    """One release of the chain: its provenance bytes, parsed, and where they were found."""

    path: str
    sha256: str
    data: bytes
    doc: dict[str, Any]

    @property
    def release(self) -> int:
        return int(self.doc["release"])


@dataclass
class Chain:
    releases: list[Link]  # oldest first; the head last
    problems: list[Mismatch] = field(default_factory=list)
    named: set[str] = field(default_factory=set)  # every history path a link names

    @property
    def head(self) -> Link:
        return self.releases[-1]

    def envelope_of(self, index: int, head_envelope: Any) -> Any:
        """A release's signature: the head's from its own file, every earlier one as recorded
        in the provenance of the release after it (so the chain's hashes cover it)."""
        if index == len(self.releases) - 1:
            return head_envelope
        previous = self.releases[index + 1].doc.get("previous")
        return previous.get("signature") if isinstance(previous, dict) else None


def walk_chain(
    head: Link,
    fetch_history: Callable[[str], bytes | None],
    *,
    link_path: Callable[[str], str | None] | None = None,
) -> Chain:
    """Follow `previous` links back to release 1, checking the chain's shape on the way.

    `link_path(sha)` is where this target keeps a previous document; a link naming another
    place is a problem (an attacker's document smuggled in under another name).
    """
    chain = Chain([head])
    current = head
    dataset = head.doc.get("dataset")
    seen = {head.sha256}
    while True:
        number = current.release
        prev = current.doc.get("previous")
        where = current.path
        if not prev:
            if number != 1:
                chain.problems.append(
                    Mismatch(
                        where,
                        "chain",
                        detail=f"release {number} has no link to release {number - 1}: the "
                        "history was cut off (releases are numbered from 1)",
                    )
                )
            break
        if number == 1:
            chain.problems.append(
                Mismatch(where, "chain", detail="release 1 links a previous release")
            )
            break
        sha, path = str(prev.get("sha256")), str(prev.get("path"))
        chain.named.add(path)
        expected_path = link_path(sha) if link_path else None
        if expected_path is not None and path != expected_path:
            detail = f"the link to release {number - 1} must be {expected_path}"
            chain.problems.append(Mismatch(path, "chain", detail=detail))
            break
        if sha in seen:
            chain.problems.append(Mismatch(path, "chain", "the chain loops"))
            break
        seen.add(sha)
        data = fetch_history(path)
        if data is None:
            chain.problems.append(
                Mismatch(path, "chain", f"previous provenance {sha[:12]} missing")
            )
            break
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            chain.problems.append(Mismatch(path, "chain", sha, actual))
            break
        try:
            doc = parse_provenance(data, path)
        except VerifyFailed as exc:
            reason = "; ".join(exc.details[:3]) or "not valid JSON"
            chain.problems.append(
                Mismatch(path, "chain", f"previous provenance unreadable: {reason}")
            )
            break
        if doc.get("release") != number - 1:
            chain.problems.append(
                Mismatch(
                    path,
                    "chain",
                    detail=f"release {number} links a document numbered "
                    f"{doc.get('release')}, not {number - 1}: release numbers must be "
                    "contiguous",
                )
            )
            break
        if doc.get("dataset") != dataset:
            chain.problems.append(
                Mismatch(path, "chain", detail="a release of another dataset is in the chain")
            )
            break
        current = Link(path, sha, data, doc)
        chain.releases.insert(0, current)
    return chain


def check_chain(
    doc: dict[str, Any], fetch_history: Callable[[str], bytes | None]
) -> tuple[int, list[Mismatch]]:
    """The chain's length and problems, for a caller that has only the parsed head."""
    chain = walk_chain(Link(PROVENANCE, "", b"", doc), fetch_history)
    return len(chain.releases), chain.problems


def check_descriptor(doc: dict[str, Any], data: bytes | None) -> list[Mismatch]:
    """datapackage.json's `hash` and `bytes` of each resource equal provenance's.

    Run on the descriptor provenance vouches for: a forger who re-hashes a changed data file in
    provenance leaves the descriptor's stale hash behind, or must change and re-hash it too."""
    generated = {str(e["og:path"]): e for e in doc["generated"]}
    if "datapackage.json" not in generated:
        return [Mismatch("datapackage.json", "descriptor", detail="not listed in provenance")]
    if data is None or hashlib.sha256(data).hexdigest() != generated["datapackage.json"].get(
        "og:sha256"
    ):
        return []  # missing or changed: the byte check reports it
    try:
        descriptor = load_json(data.decode("utf-8"), "datapackage.json")
    except (ValueError, LimitExceeded):
        descriptor = None
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list):
        return [Mismatch("datapackage.json", "descriptor", detail="not a data package")]
    problems = []
    for res in resources:
        path = res.get("path") if isinstance(res, dict) else None
        if not isinstance(path, str) or path not in generated:
            shown = path if isinstance(path, str) and path.isprintable() else "?"
            problems.append(
                Mismatch(
                    "datapackage.json",
                    "descriptor",
                    detail=f"a resource's file {shown[:200]!r} is not listed in provenance",
                )
            )
            continue
        entity = generated[path]
        stated = f"sha256:{entity['og:sha256']}"
        if res.get("hash") != stated:
            problems.append(
                Mismatch(
                    path,
                    "descriptor",
                    stated,
                    str(res.get("hash"))[:80],
                    detail=f"datapackage.json gives hash {str(res.get('hash'))[:80]}, "
                    f"provenance {stated}",
                )
            )
        if "og:bytes" in entity and res.get("bytes") != entity["og:bytes"]:
            problems.append(
                Mismatch(
                    path,
                    "descriptor",
                    detail=f"datapackage.json gives {str(res.get('bytes'))[:20]} bytes, "
                    f"provenance {entity['og:bytes']}",
                )
            )
    return problems


def check_approvals(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Mismatch]]:
    valid, problems = approvals.recorded(doc)
    shown = [{k: v for k, v in a.to_dict().items() if k != "statement"} for a in valid]
    return shown, [Mismatch(PROVENANCE, "approvals", detail=p) for p in problems]


@dataclass
class Authenticity:
    """What the signature checks found. `trust` says against what they were checked."""

    checked: bool
    trust: str  # pinned | trust-store | first-use | none | not checked
    signers: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Mismatch] = field(default_factory=list)
    # Keys to remember in the trust store once the whole verification has passed.
    pins: list[tuple[PublicKey, How]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "signatures_checked": self.checked,
            "trust": self.trust,
            "signers": self.signers,
        }


def _key_of(link: Link) -> KeyInfo:
    signing = link.doc.get("signing")
    if not isinstance(signing, dict):
        raise EnvelopeError("provenance names no signing key")
    info = parse_key_statement(signing.get("key"))
    if signing.get("key_id") != info.key_id:
        raise EnvelopeError("provenance names one key and carries the statement of another")
    return info


def check_signatures(chain: Chain, head_envelope: Any, trust: Trust, origin: str) -> Authenticity:
    """Every release signed, key changes covered by rotations, and the line of keys trusted."""
    if trust.allow_unsigned:
        return Authenticity(
            checked=False,
            trust="not checked",
            warnings=[
                "signatures were not checked (--allow-unsigned): only the consistency of the "
                "folder with its own provenance is proven, not who published it"
            ],
        )
    result = Authenticity(checked=True, trust="none")
    signed: list[tuple[Link, KeyInfo]] = []
    envelopes = [chain.envelope_of(i, head_envelope) for i in range(len(chain.releases))]
    # Releases published before signing began: the first signed release hashes them through
    # the chain, so its signature vouches for them as they are. Only such a prefix may be
    # unsigned; the head, and everything after the first signature, must be signed.
    first = next(
        (
            i
            for i, (link, env) in enumerate(zip(chain.releases, envelopes, strict=True))
            if env is not None or isinstance(link.doc.get("signing"), dict)
        ),
        len(chain.releases),
    )
    if 0 < first < len(chain.releases) and chain.releases[0].release == 1:
        result.warnings.append(
            f"release(s) 1 to {first} were published before signing began; release "
            f"{first + 1}'s signature covers them through the chain's hashes"
        )
    else:
        first = 0
    for index, link in enumerate(chain.releases):
        envelope = envelopes[index]
        names_key = isinstance(link.doc.get("signing"), dict)
        if index < first:
            continue
        if envelope is None:
            detail = f"release {link.release} is not signed"
            if names_key:
                detail += " (its provenance names a signing key, but the signature is gone)"
            result.problems.append(Mismatch(link.path, "unsigned", detail=detail))
            continue
        try:
            info = _key_of(link)
            sig = check_release(
                envelope, info.key, link.data, dataset=str(link.doc.get("dataset")),
                release=link.release,
            )  # fmt: skip
        except EnvelopeError as exc:
            result.problems.append(
                Mismatch(link.path, "signature", detail=f"release {link.release}: {exc}")
            )
            continue
        if not info.valid_at(sig.signed_at):
            result.problems.append(
                Mismatch(
                    link.path,
                    "untrusted",
                    detail=f"release {link.release} was signed at {sig.signed_at[:40]}, outside "
                    f"key {info.key_id}'s validity ({info.valid_from} to {info.valid_until})",
                )
            )
        signed.append((link, info))
        result.signers.append(
            {
                "release": link.release,
                "key_id": info.key_id,
                "publisher": info.name,
                "signed_at": sig.signed_at,
            }
        )
    for (_, before), (link, after) in itertools.pairwise(signed):
        if after.key != before.key and after.replaces != before.key:
            result.problems.append(
                Mismatch(
                    link.path,
                    "untrusted",
                    detail=f"release {link.release} is signed by key {after.key_id}, which key "
                    f"{before.key_id} never handed over to: no rotation statement signed by it",
                )
            )
    keys = [info.key for _, info in signed]
    if not keys:
        return result
    _trust_line(result, keys, trust, origin)
    return result


def _trust_line(result: Authenticity, keys: list[PublicKey], trust: Trust, origin: str) -> None:
    """Whether the auditor trusts the line of keys that signed the chain."""
    line = list(dict.fromkeys(keys))
    pinned = list(trust.keys)
    stored = trust.store.pinned(origin) if trust.store is not None else []
    anchors = pinned + stored
    if anchors:
        if not any(k in anchors for k in line):
            result.problems.append(
                Mismatch(
                    PROVENANCE,
                    "untrusted",
                    detail=f"signed by key {', '.join(k.key_id for k in line)}, which is not a "
                    f"key you trust (trusted: {', '.join(k.key_id for k in anchors)})",
                )
            )
            return
        result.trust = "pinned" if any(k in pinned for k in line) else "trust-store"
        for key in line:
            if key in pinned:
                result.pins.append((key, "explicit"))
            elif key not in stored:
                result.pins.append((key, "rotation"))
        return
    if trust.store is None:
        result.problems.append(
            Mismatch(
                PROVENANCE,
                "untrusted",
                detail="no trusted key to check the signatures against: pin the publisher's "
                "key with --trust FILE.pub",
            )
        )
        return
    result.trust = "first-use"
    result.pins.extend((k, "first-use") for k in line)
    result.warnings.append(
        f"no key was pinned for {origin}: trusting key {line[-1].key_id} on first use and "
        f"keeping it in {trust.store.path}. This proves only that later releases come from the "
        "same key, not who holds it: compare the key id with the one the municipality "
        "publishes elsewhere, or verify with --trust FILE.pub"
    )


def check_replay(chain: Chain, trust: Trust, origin: str) -> list[Mismatch]:
    """No release older than, or different from, what this auditor verified here before."""
    if trust.allow_unsigned or trust.store is None:
        return []
    head = chain.head
    seen = trust.store.seen(origin, str(head.doc.get("dataset")))
    if seen is None:
        return []
    if head.release < seen.release:
        return [
            Mismatch(
                PROVENANCE,
                "replay",
                detail=f"release {head.release} is older than release {seen.release}, which "
                f"was verified here at {seen.verified_at}: a rolled-back or replayed release",
            )
        ]
    same = next((link for link in chain.releases if link.release == seen.release), None)
    if same is not None and same.sha256 != seen.provenance_sha256:
        return [
            Mismatch(
                same.path,
                "replay",
                detail=f"release {seen.release} is not the release {seen.release} verified "
                f"here at {seen.verified_at}: the history was rewritten",
            )
        ]
    return []


def remember(chain: Chain, auth: Authenticity, trust: Trust, origin: str) -> None:
    """After a verification that passed: keep its keys and release in the trust store."""
    store = trust.store
    if store is None or not auth.checked:
        return
    for key, how in auth.pins:
        store.pin(origin, key, how)
    head = chain.head
    store.record(origin, str(head.doc.get("dataset")), head.release, head.sha256)
    store.save()
