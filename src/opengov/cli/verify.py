"""`opengov verify`: check what a portal serves against its provenance."""

from __future__ import annotations

import os
from pathlib import Path

import click

from opengov.cli.app import cli, dump


@cli.command()
@click.argument("target")
@click.option("--ckan-url", help="Verify the dataset TARGET on this CKAN portal (anonymously).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(target: str, ckan_url: str | None, as_json: bool) -> None:
    """Check a published dataset's bytes against its provenance and the chain.

    TARGET is a dataset folder of a static portal, or a dataset name with --ckan-url.
    Exit 0 when everything matches, 8 when anything does not.
    """
    from opengov.targets.base import Target

    place: Target
    url = ckan_url or (os.environ.get("OPENGOV_CKAN_URL") if not Path(target).exists() else None)
    if url:
        from opengov.targets.ckan.publish import CkanTarget
        from opengov.targets.ckan.settings import CkanSettings

        # Anonymous on purpose: verify checks what citizens get, and needs no credentials.
        place, dataset = CkanTarget(CkanSettings(url=url.rstrip("/"), org="", token=None)), target
    else:
        from opengov.targets.static import StaticTarget

        folder = Path(target)
        place, dataset = StaticTarget(folder.parent), folder.name
    result = place.verify(dataset)
    if as_json:
        click.echo(dump(result.to_dict()))
    elif result.ok:
        click.echo(
            f"ok: {result.dataset} release {result.release}: {result.files_checked} file(s) and "
            f"a chain of {result.chain_length} provenance document(s) match"
        )
    result.raise_for_mismatch()
