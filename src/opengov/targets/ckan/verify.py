"""What a citizen gets from the portal, checked against provenance.json and its chain."""

from __future__ import annotations

import hashlib
import json

from opengov.errors import CkanAuthError, InputError, VerifyFailed
from opengov.targets.ckan.client import CkanClient, CkanSession
from opengov.targets.ckan.mapping import E_PROVENANCE, HISTORY_PATH, R_PATH
from opengov.targets.ckan.remote import Remote
from opengov.trust import Trust
from opengov.verify import (
    PROVENANCE,
    Mismatch,
    VerifyResult,
    check_chain,
    check_outputs,
    parse_provenance,
)
from opengov.verify.ckan import check_ckan_release


def verify_ckan(
    url: str,
    dataset: str,
    *,
    session: CkanSession | None = None,
    trust: Trust | None = None,
) -> VerifyResult:
    """Download every resource anonymously and check it against provenance.json and the chain.

    Anonymously on purpose: this checks what citizens get, and needs no credentials.
    """
    url = url.rstrip("/")
    client = CkanClient(url, None, session=session or CkanSession())
    try:
        found = client.call("package_show", {"id": dataset}, what=f"package_show of {dataset!r}")
    except CkanAuthError:
        found = None  # private: to an anonymous reader it is as good as absent
    if found is None:
        raise InputError(f"no public dataset {dataset!r} on {url}")
    remote = Remote(found)
    location = f"{url}/dataset/{remote.dataset.get('name') or dataset}"
    prov_res = remote.managed.get(PROVENANCE)
    if prov_res is None:
        raise InputError(f"{location} has no {PROVENANCE} resource: not published by opengov")
    data = client.fetch(client.download_url(prov_res), authenticated=False)
    if data is None:
        raise VerifyFailed(f"{location}: {PROVENANCE} cannot be downloaded")
    doc = parse_provenance(data, f"{location} {PROVENANCE}")
    mismatches: list[Mismatch] = []
    prov_sha = hashlib.sha256(data).hexdigest()
    for expected, what in (
        (remote.extras.get(E_PROVENANCE), "dataset extra " + E_PROVENANCE),
        (prov_res.get("hash"), "resource hash"),
    ):
        if expected and expected != prov_sha:
            mismatches.append(Mismatch(PROVENANCE, "changed", f"{expected} ({what})", prov_sha))

    listed = {str(e["og:path"]): str(e["og:sha256"]) for e in doc["generated"]}
    digests: dict[str, str | None] = {}

    def digest(path: str) -> str | None:
        if path not in digests:
            res = remote.managed.get(path)
            if res is None or not res.get("url"):
                digests[path] = None  # absent, or a placeholder whose file never arrived
            else:
                digests[path] = client.sha256_of(
                    client.download_url(res), authenticated=False, what=path
                )[0]
                if res.get("hash") and res.get("hash") != listed.get(path):
                    mismatches.append(
                        Mismatch(
                            path,
                            "metadata",
                            f"resource hash {res.get('hash')} differs "
                            f"from provenance {listed.get(path)}",
                        )
                    )
        return digests[path]

    checked, output_problems = check_outputs(doc, digest)
    mismatches += output_problems
    for path in sorted(set(remote.managed) - set(listed) - {PROVENANCE}):
        mismatches.append(Mismatch(path, "unexpected"))
    for res in remote.duplicates:
        mismatches.append(Mismatch(str(res.get(R_PATH)), "unexpected", "duplicate resource"))
    for res in remote.unmanaged:
        mismatches.append(
            Mismatch(str(res.get("name") or res.get("id")), "unexpected", "not in provenance")
        )

    history: dict[str, str] | None = None

    def fetch_history(path: str) -> bytes | None:
        nonlocal history
        _, _, sha = path.partition("#")
        if history is None:
            res = remote.managed.get(HISTORY_PATH)
            raw = client.fetch(client.download_url(res), authenticated=False) if res else None
            try:
                parsed = json.loads(raw or b"")
            except ValueError:
                parsed = None
            docs = parsed.get("documents") if isinstance(parsed, dict) else None
            history = docs if isinstance(docs, dict) else {}
        text = history.get(sha)
        return text.encode("utf-8") if isinstance(text, str) else None

    chain, chain_problems = check_chain(doc, fetch_history)
    result = VerifyResult(
        dataset=str(doc.get("dataset") or dataset),
        location=location,
        release=int(doc.get("release", 0)),
        files_checked=checked,
        chain_length=chain,
        mismatches=mismatches + chain_problems,
    )
    return check_ckan_release(result, client, remote, data, fetch_history, trust)
