"""`opengov verify`: check what a portal serves against its provenance, chain and signatures."""

from __future__ import annotations

import os
from pathlib import Path

import click

from opengov.cli.app import dump


@click.command()
@click.argument("target")
@click.option("--ckan-url", help="Verify the dataset TARGET on this CKAN portal (anonymously).")
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="The publisher's public key (FILE.pub) to pin; may be given more than once.",
)
@click.option(
    "--trust-store",
    type=click.Path(path_type=Path),
    envvar="OPENGOV_TRUST_STORE",
    help="Where pinned keys and verified releases are kept (or OPENGOV_TRUST_STORE; "
    "default ~/.config/opengov/trust.json).",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Check consistency only; signatures are not checked (and nothing is proven about "
    "who published).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(
    target: str,
    ckan_url: str | None,
    trust_files: tuple[Path, ...],
    trust_store: Path | None,
    allow_unsigned: bool,
    as_json: bool,
) -> None:
    """Check a published dataset's bytes, chain and signatures.

    TARGET is a dataset folder of a static portal, or a dataset name with --ckan-url.
    Every release must be signed by a key you trust: pinned with --trust, or kept in the
    trust store (the first verification of a portal pins its key, with a warning). Exit 0
    when everything holds; each kind of failure has its own exit code (`opengov
    exit-codes`): 8 bytes changed, 40 chain broken, 41 unlisted files, 42 datapackage.json
    disagrees, 43 unsigned, 44 signature invalid, 45 untrusted key, 46 replayed release,
    47 approvals missing.
    """
    from opengov.signing import KeyInfo, read_public_key
    from opengov.targets.base import Target
    from opengov.trust import Trust, TrustStore

    keys = []
    for path in trust_files:
        key = read_public_key(path)
        keys.append(key.key if isinstance(key, KeyInfo) else key)
    trust = Trust(
        keys=tuple(keys),
        store=None if allow_unsigned else TrustStore.open(trust_store),
        allow_unsigned=allow_unsigned,
    )
    place: Target
    url = ckan_url or (os.environ.get("OPENGOV_CKAN_URL") if not Path(target).exists() else None)
    if url:
        from opengov.targets.ckan.settings import CkanSettings
        from opengov.targets.ckan.target import CkanTarget

        # Anonymous on purpose: verify checks what citizens get, and needs no credentials.
        place, dataset = CkanTarget(CkanSettings(url=url.rstrip("/"), org="", token=None)), target
    else:
        from opengov.targets.static import StaticTarget

        folder = Path(target)
        place, dataset = StaticTarget(folder.parent), folder.name
    result = place.verify(dataset, trust)
    if as_json:
        click.echo(dump(result.to_dict()))  # its "warnings" carry what stderr would say
    else:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    if as_json:
        pass
    elif result.ok:
        click.echo(
            f"ok: {result.dataset} release {result.release}: {result.files_checked} file(s) and "
            f"a chain of {result.chain_length} provenance document(s) match"
        )
        if result.signatures_checked:
            keys_used = sorted({s["key_id"] for s in result.signers})
            click.echo(
                f"    every release signed; key(s) {', '.join(keys_used)} trusted ({result.trust})"
            )
        else:
            click.echo("    CONSISTENCY ONLY: signatures not checked (--allow-unsigned)")
        for a in result.approvals:
            click.echo(f"    approved by {a['approver']} at {a['approved_at']} (key {a['key_id']})")
    result.raise_for_mismatch()
