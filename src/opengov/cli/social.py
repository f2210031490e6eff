"""CLI for the social-media importer: `opengov import facebook|twitter` and `opengov classify`.

Each command calls one library function and prints a short summary, or with `--json` exactly
the result's `to_dict()`. Errors (`OpengovError`) propagate to the main CLI's wrapper, which
prints the message and exits with the error's code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from opengov.cli.app import LazyGroup

# The importers (and what they import) load when a command runs, not for `opengov --help`
# or another command: the CLI's start-up is part of every command's time.
if TYPE_CHECKING:
    from opengov.importers.social import ClassifyResult, ImportResult
    from opengov.importers.social.records import AccountType

_ACCOUNT_TYPE = click.Choice(["official", "personal"])


def _echo_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _print(result: ImportResult, as_json: bool) -> None:
    if as_json:
        _echo_json(result.to_dict())
    else:
        click.echo(_summary(result))


def _summary(result: ImportResult) -> str:
    def counts(name: str, by: dict[str, int]) -> str:
        return f"{name}: " + ", ".join(f"{n} {cls}" for cls, n in by.items())

    from opengov.importers.social.report import counts_by_status

    status = counts_by_status(result.files)
    lines = [
        f"Imported {result.posts.read} posts and {result.comments.read} comments from "
        f"{Path(result.export).name} into {result.out} (dataset {result.name})",
        f"  files in the export: {status['read']} read, {status['known']} known and not "
        f"relevant, {status['not_understood']} not understood",
    ]
    for report in result.files:
        if report.status == "known":
            continue
        records = "" if report.records is None else f": {report.records}"
        note = f" ({report.note})" if report.note else ""
        label = "read" if report.status == "read" else "NOT UNDERSTOOD"
        lines.append(f"    {label} {report.path} — {report.what}{records}{note}")
    lines += [
        f"  new: {result.posts.added} posts, {result.comments.added} comments; "
        f"updated: {result.posts.updated} posts, {result.comments.updated} comments",
        "  package " + counts("posts", result.posts.by_classification),
        "  package " + counts("comments", result.comments.by_classification),
    ]
    reopened = result.posts.reopened + result.comments.reopened
    if reopened:
        lines.append(
            f"  REOPENED: {reopened} decided record(s) changed since the decision and are "
            "undecided again (not published until someone decides)"
        )
    if result.rules == "kept":
        lines.append("  rules.yaml was edited by hand and has been kept as it is")
    else:
        lines.append(f"  rules.yaml written; commenters' names: {result.author_action}")
    return "\n".join(lines)


def _import_options(func: Any) -> Any:
    options = [
        click.option("--account", required=True, help="Name of the account the export is from."),
        click.option(
            "--account-type",
            type=_ACCOUNT_TYPE,
            default="personal",
            show_default=True,
            help="official: the authority's account (its posts are public records); "
            "personal: an official's own account (everything stays undecided).",
        ),
        click.option(
            "--out",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="Data package folder to create or update.",
        ),
        click.option(
            "--name",
            help="The dataset's name (lower-case letters, digits, . _ -), which the published "
            "dataset is named by. Default: the name the package has, else one made from the "
            "--out folder's name.",
        ),
        click.option(
            "--own-handle",
            "own_handles",
            multiple=True,
            help="Handle of one of the authority's own accounts (repeatable); the rules keep "
            "these in published text and replace every other @handle.",
        ),
        click.option(
            "--max-unpacked-mb",
            type=click.IntRange(min=1),
            default=500,
            show_default=True,
            help="Refuse exports that would make opengov decompress more than this.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("import", cls=LazyGroup, lazy_commands={"sql": "opengov.cli.importers:sql_command"})
def import_group() -> None:
    """Import a social-media export or a database table (sql) as a data package."""


@import_group.command("facebook")
@click.argument("export", type=click.Path(path_type=Path))
@_import_options
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pseudonym key file (else OPENGOV_PSEUDONYM_KEY): Facebook record ids are keyed "
    "digests made with it.",
)
def facebook_command(
    export: Path,
    account: str,
    account_type: str,
    out: Path,
    name: str | None,
    own_handles: tuple[str, ...],
    max_unpacked_mb: int,
    as_json: bool,
    key_file: Path | None,
) -> None:
    """Import a Facebook "Download your information" export (JSON; ZIP or folder)."""
    from opengov.importers.social import ArchiveLimits, PackageInfo, import_facebook
    from opengov.importers.social.archive import MB
    from opengov.redact.keys import load_key

    result = import_facebook(
        export,
        account=account,
        account_type=cast("AccountType", account_type),
        out=out,
        limits=ArchiveLimits(max_unpacked_bytes=max_unpacked_mb * MB),
        key=load_key(key_file),
        own_handles=own_handles,
        info=PackageInfo(name=name),
    )
    _print(result, as_json)


@import_group.command("twitter")
@click.argument("archive", type=click.Path(path_type=Path))
@_import_options
def twitter_command(
    archive: Path,
    account: str,
    account_type: str,
    out: Path,
    name: str | None,
    own_handles: tuple[str, ...],
    max_unpacked_mb: int,
    as_json: bool,
) -> None:
    """Import an X/Twitter archive (ZIP or folder; current or pre-2019 archives)."""
    from opengov.importers.social import ArchiveLimits, PackageInfo, import_twitter
    from opengov.importers.social.archive import MB

    result = import_twitter(
        archive,
        account=account,
        account_type=cast("AccountType", account_type),
        out=out,
        limits=ArchiveLimits(max_unpacked_bytes=max_unpacked_mb * MB),
        own_handles=own_handles,
        info=PackageInfo(name=name),
    )
    _print(result, as_json)


@click.command("classify")
@click.argument("package_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--from",
    "decisions",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV (any delimiter, UTF-8 or Windows-1252) or XLSX with record_id, classification, "
    "classified_by, reason.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def classify_command(package_dir: Path, decisions: Path, as_json: bool) -> None:
    """Apply classification decisions (official, private, undecided) to an imported package."""
    from opengov.importers.social import classify

    result: ClassifyResult = classify(package_dir, decisions)
    if as_json:
        _echo_json(result.to_dict())
        return
    click.echo(
        f"Applied {result.decisions} decisions to {result.package}: {result.changed} records "
        f"changed (classified_at {result.classified_at})\n"
        "  posts: " + ", ".join(f"{n} {c}" for c, n in result.posts.items()) + "\n"
        "  comments: " + ", ".join(f"{n} {c}" for c, n in result.comments.items())
    )
