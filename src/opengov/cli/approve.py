"""`opengov approve`: a second person reviews what a release will publish, and signs it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from opengov.cli.app import ckan_options, dump

if TYPE_CHECKING:
    from opengov.review import Review


@click.command()
@click.argument("package", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The approver's signing key (made with `opengov key new --signing`).",
)
@click.option(
    "--to",
    "to",
    default="./portal",
    show_default=True,
    help="Where the release will be published (for the plan): a portal folder or 'ckan'.",
)
@click.option("--key-file", type=click.Path(path_type=Path), help="Pseudonym key file.")
@ckan_options
@click.option("--yes", is_flag=True, help="Approve without asking (after reading the review).")
@click.option("--json", "as_json", is_flag=True, help="Print the review and approval as JSON.")
def approve(
    package: Path,
    key_path: Path,
    to: str,
    key_file: Path | None,
    ckan_url: str | None,
    org: str | None,
    config_path: Path | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Show what PACKAGE's release will publish, then sign an approval of exactly that.

    The approval (PACKAGE/approvals/<key id>.json) is bound to the release's inputs
    fingerprint: any change to the data, the rules or the pseudonym key voids it. Approving
    the same inputs again with the same key keeps the earlier approval and writes nothing.
    When rules.yaml requires approvals, `publish` refuses without enough of them (exit 47).
    """
    from opengov.review import already_approved, review
    from opengov.review import approve as sign
    from opengov.signing import load_signer
    from opengov.targets import TargetOptions, target_for

    signer = load_signer(key_path)
    options = TargetOptions(ckan_url=ckan_url, org=org, config=config_path)
    result = review(package, target_for(to, options), key_file=key_file)
    if not as_json:
        _print_review(result)
        if (
            not yes
            and already_approved(result, signer) is None
            and not click.confirm(
                f"Approve publishing {result.dataset} as {signer.info.name} (key {signer.key_id})?"
            )
        ):
            raise click.Abort()
    approved = sign(result, signer)
    if as_json:
        click.echo(dump({**result.to_dict(), "approval": approved.to_dict()}))
        return
    approval = approved.approval
    if approved.written:
        click.echo(f"approved: {approved.path} (key {approval.key_id}, {approval.approved_at})")
    else:
        click.echo(
            f"already approved: {approved.path} (key {approval.key_id}, {approval.approved_at}) "
            "approves exactly these inputs; nothing written"
        )


def _print_review(result: Review) -> None:
    click.echo(f"{result.dataset}: inputs fingerprint {result.fingerprint}")
    for r in result.resources:
        click.echo(
            f"  table {r['name']}: {r['rows_published']} of {r['rows_in_source']} rows "
            f"published, {r['rows_withheld']} withheld ({r['rows_quarantined']} quarantined)"
        )
        click.echo(f"    fields published: {', '.join(r['fields_published'])}")
    if result.redactions:
        click.echo("  redactions:")
    for e in result.redactions:
        n = e["values_affected"] or e["rows_affected"]
        where = ".".join(x for x in (e["resource"], e["field"]) if x) or "rows"
        click.echo(f"    {where}: {e['action']} {n} ({e['basis'] or 'no basis given'})")
    plan = result.plan
    verb = {"unchanged": "already published as", "planned": "would publish"}.get(
        plan.status, plan.status
    )
    click.echo(f"  plan: {verb} release {plan.release} to {plan.target}")
    for item in plan.changed:
        click.echo(f"    {item.change:<9} {item.path}")
    if result.policy is None:
        # Without a policy no release records approvals (provenance has no block for them):
        # say where this one stays, not that it is recorded.
        click.echo(
            "  rules.yaml requires no approvals: this approval is kept in the package's "
            "approvals/ folder; releases record approvals once rules.yaml requires them"
        )
    else:
        click.echo(
            f"  approvals: {len(result.approved_by)} of {result.policy.required} required so far"
        )
