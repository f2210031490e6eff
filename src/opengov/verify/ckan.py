"""The authenticity checks for a dataset on CKAN, added to the CKAN target's own verification.

`targets.ckan`'s `verify_ckan` checks each resource's bytes against provenance; it ends with

    return check_ckan_release(result, client, remote, data, fetch_history, trust)

which adds what verify_folder checks for a static portal: the chain's shape, datapackage.json
against provenance, every release's signature and the trust in its key, replays, approvals.
Everything is downloaded anonymously, as citizens get it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from opengov.signing import SIGNATURE
from opengov.trust import Trust
from opengov.verify import authenticate, head_envelope
from opengov.verify.authenticity import Link, walk_chain
from opengov.verify.model import PROVENANCE, VerifyResult, parse_provenance


def check_ckan_release(
    result: VerifyResult,
    client: Any,
    remote: Any,
    provenance: bytes,
    fetch_history: Callable[[str], bytes | None],
    trust: Trust | None = None,
) -> VerifyResult:
    """`client` is the target's CkanClient, `remote` the dataset as package_show gave it."""
    trust = trust or Trust()

    def read(path: str) -> bytes | None:
        res = remote.managed.get(path)
        if res is None or not res.get("url"):
            return None
        data: bytes | None = client.fetch(client.download_url(res), authenticated=False)
        return data

    doc = parse_provenance(provenance, f"{result.location} {PROVENANCE}")
    head = Link(PROVENANCE, hashlib.sha256(provenance).hexdigest(), provenance, doc)
    chain = walk_chain(head, fetch_history)
    # The byte check lists the signature as a resource provenance does not name (it cannot:
    # it signs provenance), and walked the chain already; both are decided here instead.
    result.mismatches = [
        m
        for m in result.mismatches
        if m.problem != "chain" and not (m.problem == "unexpected" and m.path == SIGNATURE)
    ]
    envelope, problems = head_envelope(read(SIGNATURE), trust)
    result.mismatches += problems
    name = str(remote.dataset.get("name") or doc.get("dataset"))
    return authenticate(
        result,
        chain,
        envelope=envelope,
        descriptor=read("datapackage.json"),
        expected_dataset=name,
        trust=trust,
        origin=str(client.url).rstrip("/"),
    )
