"""`opengov portal init|show` (a static portal's settings) and `opengov withdraw`."""

from __future__ import annotations

from pathlib import Path

import click

from opengov.cli.app import ckan_options, dump
from opengov.errors import InputError


@click.group("portal")
def portal_group() -> None:
    """A static portal's settings: title, publisher, contact and public URL (portal.json)."""


@portal_group.command("init")
@click.argument("portal", type=click.Path(path_type=Path), default="./portal")
@click.option("--title", help='The portal\'s name, shown on every page (default "Öppna data").')
@click.option("--description", help="One sentence under the title on the catalogue page.")
@click.option("--publisher", help="Who publishes, e.g. Exempelby kommun.")
@click.option(
    "--publisher-uri",
    help="The publisher's IRI for dataportal.se, e.g. http://dataportal.se/organisation/SE2120009903.",
)
@click.option("--contact", "contact_email", help="An e-mail address citizens can write to.")
@click.option(
    "--base-url",
    envvar="OPENGOV_PORTAL_URL",
    help="The portal's public URL (or OPENGOV_PORTAL_URL); dcat.rdf is written when it is set.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def portal_init(
    portal: Path,
    title: str | None,
    description: str | None,
    publisher: str | None,
    publisher_uri: str | None,
    contact_email: str | None,
    base_url: str | None,
    as_json: bool,
) -> None:
    """Create a portal folder's settings, or change the ones given; rewrite its catalogue.

    Every later publish uses them: the catalogue's title, the publisher and contact in
    dcat.rdf, and the base URL (so a publish without --base-url still writes dcat.rdf).
    """
    from opengov.release import portal as settings_
    from opengov.release.catalogue import write_catalogue

    if portal.exists() and not portal.is_dir():
        raise InputError(f"{portal} is not a folder")
    settings = settings_.load(portal).with_changes(
        title=title,
        description=description,
        publisher=publisher,
        publisher_uri=publisher_uri,
        contact_email=contact_email,
        base_url=base_url,
    )
    path = settings_.save(portal, settings)
    written = write_catalogue(portal, settings)
    if as_json:
        click.echo(dump(settings.to_dict()))
        return
    click.echo(f"settings written to {path}; catalogue written: {', '.join(written)}")


@portal_group.command("show")
@click.argument("portal", type=click.Path(path_type=Path), default="./portal")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def portal_show(portal: Path, as_json: bool) -> None:
    """Show a portal folder's settings (the defaults where portal.json has none)."""
    from opengov.release import portal as settings_

    if not portal.is_dir():
        raise InputError(f"{portal} is not a portal folder")
    settings = settings_.load(portal)
    if as_json:
        click.echo(dump(settings.to_dict()))
        return
    for key, value in settings.to_dict().items():
        click.echo(f"{key:<14} {value if value is not None else '-'}")


@click.command("withdraw")
@click.argument("dataset")
@click.option(
    "--to", "to", default="./portal", show_default=True, help="A portal folder, or 'ckan'."
)
@click.option("--reason", required=True, help="Why, in one sentence; it is published.")
@click.option("--agent", help="Who withdraws (default: OPENGOV_AGENT or user@host).")
@ckan_options
@click.option(
    "--signing-key",
    envvar="OPENGOV_SIGNING_KEY_FILE",
    type=click.Path(path_type=Path),
    help="Sign the withdrawal (a static portal's signed chain needs it), as publish does.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def withdraw(
    dataset: str,
    to: str,
    reason: str,
    agent: str | None,
    ckan_url: str | None,
    org: str | None,
    config_path: Path | None,
    signing_key: Path | None,
    as_json: bool,
) -> None:
    """Take a published dataset out of the catalogue, recording why in its provenance.

    On a static portal the dataset's files are replaced by a notice with the reason, the
    catalogue and dcat.rdf leave it out, and a new release in its provenance chain records
    the withdrawal; on CKAN it is made private, never deleted. Publishing it again later
    continues its history.
    """
    from opengov.targets import TargetOptions, target_for

    target = target_for(to, TargetOptions(ckan_url=ckan_url, org=org, config=config_path))
    result = target.withdraw(dataset, reason=reason, agent=agent, signing_key=signing_key)
    if as_json:
        click.echo(dump(result.to_dict()))
    elif result.status == "unchanged":
        click.echo(f"{dataset}: already withdrawn (release {result.release}), nothing written")
    else:
        click.echo(f"{dataset}: withdrawn from {result.target} (release {result.release})")
