"""`opengov publish`, `opengov redact` and `opengov catalog`: the publishing stage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opengov.cli.app import ckan_options, dump, progress_wanted
from opengov.errors import InputError

if TYPE_CHECKING:
    from opengov.targets.plan import PublishResult


@click.command()
@click.argument("package", type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the redacted package: new, empty, or this command's own earlier output "
    "(replaced if untouched).",
)
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="Pseudonym key file (else OPENGOV_PSEUDONYM_KEY).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the redaction manifest.")
def redact(package: Path, out: Path, key_file: Path | None, as_json: bool) -> None:
    """Redact a package by its rules.yaml into --out for review; nothing is published.

    Run again with the same --out, it replaces its own earlier output, if that is untouched
    (no file added, removed or changed since); any other folder there is refused.
    """
    from opengov import redacted_folder
    from opengov.load import load
    from opengov.paths import inside, make_folder
    from opengov.release.build import build

    absolute = Path(os.path.abspath(out))
    # The folder itself, never what a link there points to: renaming onto it replaces it.
    out = inside(absolute.parent, absolute.name, what="--out", within=str(absolute.parent),
                 follow_links=False)  # fmt: skip
    earlier = redacted_folder.check(out)
    loaded = load(package, key_file=key_file)
    parent = out.parent
    make_folder(parent, "the folder of --out")
    release = build(loaded, staging_parent=parent, progress=progress_wanted())
    try:
        redacted_folder.mark(release.staging, {p: f.sha256 for p, f in release.files.items()})
        redacted_folder.put(release.staging, out, earlier)
    finally:
        release.cleanup()
    if as_json:
        click.echo(dump(release.manifest))
        return
    click.echo(f"redacted {loaded.name} into {out}")
    for r in release.manifest["resources"]:
        click.echo(
            f"  {r['name']}: {r['rows_published']} of {r['rows_in_source']} rows, "
            f"{len(r['fields_published'])} fields published"
        )
    for e in release.manifest["rules"]:
        if e["action"] != "keep":
            n = e["values_affected"] or e["rows_affected"]
            basis = f" ({e['basis']})" if e["basis"] else ""
            click.echo(f"  {e['rule']}: {e['action']} {n}{basis}")


@click.command()
@click.argument("packages", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--to",
    "to",
    default="./portal",
    show_default=True,
    help="A portal folder, or 'ckan' for a CKAN portal.",
)
@click.option("--plan", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--agent", help="Who publishes (default: OPENGOV_AGENT or user@host).")
@click.option("--key-file", type=click.Path(path_type=Path), help="Pseudonym key file.")
@ckan_options
@click.option(
    "--engine",
    type=click.Choice(["auto", "arrow", "frictionless"]),
    default="auto",
    show_default=True,
    help="Validation engine.",
)
@click.option(
    "--base-url",
    envvar="OPENGOV_PORTAL_URL",
    help="Public URL of a static portal (or OPENGOV_PORTAL_URL): also write dcat.rdf.",
)
@click.option(
    "--signing-key",
    envvar="OPENGOV_SIGNING_KEY_FILE",
    type=click.Path(path_type=Path),
    help="Sign the release with this key (or OPENGOV_SIGNING_KEY_FILE); FILE.pub beside it.",
)
@click.option(
    "--datastore/--no-datastore",
    default=None,
    help="CKAN: load each table into the DataStore (default: when the portal has it).",
)
def publish(
    packages: tuple[Path, ...],
    to: str,
    plan: bool,
    as_json: bool,
    agent: str | None,
    key_file: Path | None,
    ckan_url: str | None,
    org: str | None,
    config_path: Path | None,
    engine: str,
    base_url: str | None,
    signing_key: Path | None,
    datastore: bool | None,
) -> None:
    """Validate, redact and publish packages, only what changed, with provenance.

    Nothing is written when validation fails, a field is unclassified, a rule is wrong, or
    approvals that rules.yaml requires are missing.
    """
    from opengov.pipeline import publish as run
    from opengov.targets import TargetOptions, target_for

    options = TargetOptions(
        base_url=base_url, ckan_url=ckan_url, org=org, config=config_path, datastore=datastore
    )
    target = target_for(to, options)
    results = []
    for package in packages:
        result = run(
            package,
            target,
            plan_only=plan,
            agent=agent,
            key_file=key_file,
            engine=engine,
            progress=progress_wanted(),
            signing_key=signing_key,
        )
        results.append(result)
        if not as_json:
            _print_publish(result)
    if as_json:
        data = [r.to_dict() for r in results]
        click.echo(dump(data[0] if len(data) == 1 else data))


def _print_publish(result: PublishResult) -> None:
    if result.stats.get("kept_private"):
        click.echo(
            f"{result.dataset}: kept private ({result.stats['kept_private']}); make it public "
            "on the portal to publish it again"
        )
    if result.status == "unchanged":
        click.echo(f"{result.dataset}: unchanged (release {result.release}), nothing written")
        return
    verb = "would publish" if result.status == "planned" else "published"
    click.echo(f"{result.dataset}: {verb} release {result.release} to {result.target}")
    for item in result.plan:
        if item.change != "unchanged":
            before = (item.previous_sha256 or "")[:12]
            after = (item.sha256 or "")[:12]
            hashes = f"{before} -> {after}" if before and after else before or after
            click.echo(f"  {item.change:<9} {item.path:<32} {hashes}".rstrip())
    same = sum(1 for i in result.plan if i.change == "unchanged")
    if same:
        click.echo(f"  ({same} file(s) unchanged)")
    store = result.stats.get("datastore") or {}
    if store.get("tables"):
        click.echo(
            f"  DataStore: {len(store['tables'])} table(s), {store['rows_sent']} row(s) sent, "
            f"{store['rows_deleted']} deleted"
        )


@click.command("catalog")
@click.argument("portal", type=click.Path(path_type=Path), default="./portal")
@click.option(
    "--base-url",
    envvar="OPENGOV_PORTAL_URL",
    help="Public URL of the portal (or OPENGOV_PORTAL_URL): also writes dcat.rdf (DCAT-AP-SE).",
)
def catalog(portal: Path, base_url: str | None) -> None:
    """Rebuild a portal folder's catalogue: index.html, catalog.json and, when the portal's
    URL is known (portal.json or --base-url, recorded the first time), dcat.rdf for
    dataportal.se to harvest."""
    from opengov.release.catalogue import write_catalogue

    if not portal.is_dir():
        raise InputError(f"{portal} is not a portal folder")
    written = write_catalogue(portal, base_url=base_url)
    click.echo(f"catalogue written in {portal}: {', '.join(written)}")
