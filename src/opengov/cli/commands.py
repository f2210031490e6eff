"""The command line: a thin layer over the library.

Each command loads, calls one library function and prints its result; `--json` prints exactly
the library result's `to_dict()`. Every `OpengovError` becomes its message on stderr and its exit
code (docs/cli.md); anything else is a bug, reported without its text (which could quote data)
unless `--debug` is given.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from opengov import __version__
from opengov.errors import EXIT_CODES, InputError, OpengovError

log = logging.getLogger("opengov")


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


class OpengovGroup(click.Group):
    """Turns library errors into messages and exit codes in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OpengovError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`opengov ... | head`): not an error of ours. Point stdout at
            # devnull so the interpreter's final flush does not raise again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(1)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            # The text of an unexpected exception may quote a cell; name only its type.
            click.echo(
                f"internal error ({type(exc).__name__}); run again with --debug for details "
                "and report it",
                err=True,
            )
            ctx.exit(70)


def _progress() -> bool:
    return sys.stderr.isatty()


@click.group(cls=OpengovGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="opengov")
@click.option("--debug", is_flag=True, help="Show tracebacks (may include data values).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """Open municipal data without leaking what the law keeps secret.

    Validate data packages against their Table Schemas, redact them by rule (every field
    classified, every action citing its legal basis), publish them to a static portal folder or
    CKAN with provenance, and verify what a portal serves.

    Exit codes: see `opengov exit-codes`.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if os.environ.get("NO_COLOR"):
        ctx.color = False
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="opengov: %(message)s",
        stream=sys.stderr,
    )


# ----------------------------------------------------------------------------- validate


@cli.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--schema", type=click.Path(path_type=Path), help="Table Schema for a single file.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
@click.option("--html", "html_out", type=click.Path(path_type=Path), help="Write an HTML report.")
@click.option(
    "--report", "json_out", type=click.Path(path_type=Path), help="Write the JSON report."
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "arrow", "frictionless"]),
    default="auto",
    show_default=True,
    help="auto: the pyarrow engine, frictionless where a feature is not on the fast path.",
)
@click.option(
    "--samples",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Sample rows kept per field and error type (totals are always exact).",
)
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="Pseudonym key (else OPENGOV_PSEUDONYM_KEY): masked values get a keyed fingerprint.",
)
def validate(
    target: Path,
    schema: Path | None,
    as_json: bool,
    html_out: Path | None,
    json_out: Path | None,
    engine: str,
    samples: int,
    key_file: Path | None,
) -> None:
    """Validate a data package (folder or datapackage.json) or one file with --schema.

    Exit 0 when the data passes (every error waived), 1 when it does not. Cell values are shown
    only for fields rules.yaml classifies as public.
    """
    from opengov.redact import load_key
    from opengov.release import pages
    from opengov.validate import validate as run

    report = run(
        target,
        schema=schema,
        engine=engine,
        samples=samples,
        progress=_progress(),
        key=load_key(key_file),
    )
    data = report.to_dict()
    if json_out:
        json_out.write_text(_dump(data) + "\n", encoding="utf-8")
    if html_out:
        title = Path(target).stem if schema else Path(target).name
        html_out.write_text(pages.validation_page(data, title), encoding="utf-8")
    if as_json:
        click.echo(_dump(data))
    else:
        from opengov.validate.report import findings_text

        verdict = "passed" if report.passed else "FAILED"
        click.echo(
            f"{verdict}: {report.error_count} error(s), "
            f"{report.error_count - report.unwaived_count} waived, "
            f"{sum(r.rows for r in report.results)} rows in {len(report.results)} resource(s)"
        )
        for line in findings_text(report):
            click.echo(line)
    if not report.passed:
        sys.exit(1)


# ----------------------------------------------------------------------------- redact


@cli.command()
@click.argument("package", type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the redacted package (must not exist or be empty).",
)
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="Pseudonym key file (else OPENGOV_PSEUDONYM_KEY).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the redaction manifest.")
def redact(package: Path, out: Path, key_file: Path | None, as_json: bool) -> None:
    """Redact a package by its rules.yaml into --out for review; nothing is published."""
    from opengov.release.build import build, prepare

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} exists and is not empty; choose a new folder")
    pkg, rules, key, fingerprint = prepare(package, key_file=key_file)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    release = build(
        pkg, rules, key, fingerprint=fingerprint, staging_parent=parent, progress=_progress()
    )
    try:
        if out.exists():
            out.rmdir()
        os.rename(release.staging, out)
    finally:
        release.cleanup()
    if as_json:
        click.echo(_dump(release.manifest))
    else:
        click.echo(f"redacted {pkg.name} into {out}")
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


# ----------------------------------------------------------------------------- publish


@cli.command()
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
@click.option("--ckan-url", help="CKAN base URL (or OPENGOV_CKAN_URL / config).")
@click.option("--org", help="CKAN organisation (or OPENGOV_CKAN_ORG / config).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Config file (TOML) with ckan_url, org, token_file.",
)
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
) -> None:
    """Validate, redact and publish packages, only what changed, with provenance.

    Nothing is written when validation fails, a field is unclassified or a rule is wrong.
    """
    results = []
    for package in packages:
        if to == "ckan":
            from opengov.targets.ckan.publish import publish_ckan
            from opengov.targets.ckan.settings import ckan_settings

            settings = ckan_settings(url=ckan_url, org=org, config=config_path)
            result = publish_ckan(
                package,
                settings,
                plan_only=plan,
                agent=agent,
                key_file=key_file,
                engine=engine,
                progress=_progress(),
            )
        else:
            from opengov.targets.static import publish_static

            result = publish_static(
                package,
                Path(to),
                plan_only=plan,
                agent=agent,
                key_file=key_file,
                engine=engine,
                progress=_progress(),
                base_url=base_url,
            )
        results.append(result)
        if not as_json:
            _print_publish(result)
    if as_json:
        data = [r.to_dict() for r in results]
        click.echo(_dump(data[0] if len(data) == 1 else data))


def _print_publish(result: Any) -> None:
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


# ----------------------------------------------------------------------------- verify


@cli.command()
@click.argument("target")
@click.option("--ckan-url", help="Verify the dataset TARGET on this CKAN portal (anonymously).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(target: str, ckan_url: str | None, as_json: bool) -> None:
    """Check a published dataset's bytes against its provenance and the chain.

    TARGET is a dataset folder of a static portal, or a dataset name with --ckan-url.
    Exit 0 when everything matches, 8 when anything does not.
    """
    if ckan_url or (os.environ.get("OPENGOV_CKAN_URL") and not Path(target).exists()):
        from opengov.targets.ckan.publish import verify_ckan

        result = verify_ckan(ckan_url or os.environ["OPENGOV_CKAN_URL"], target)
    else:
        from opengov.verify import verify_folder

        result = verify_folder(Path(target))
    if as_json:
        click.echo(_dump(result.to_dict()))
    elif result.ok:
        click.echo(
            f"ok: {result.dataset} release {result.release}: {result.files_checked} file(s) and "
            f"a chain of {result.chain_length} provenance document(s) match"
        )
    result.raise_for_mismatch()


# ----------------------------------------------------------------------------- misc


@cli.command("exit-codes")
def exit_codes() -> None:
    """List the exit codes and what each means."""
    for code, meaning in sorted(EXIT_CODES.items()):
        click.echo(f"{code:>3}  {meaning}")


@cli.command("catalog")
@click.argument("portal", type=click.Path(path_type=Path), default="./portal")
@click.option(
    "--base-url",
    envvar="OPENGOV_PORTAL_URL",
    help="Public URL of the portal (or OPENGOV_PORTAL_URL): also writes dcat.rdf (DCAT-AP-SE).",
)
def catalog(portal: Path, base_url: str | None) -> None:
    """Rebuild a portal folder's catalogue: index.html, catalog.json and, with a base URL,
    dcat.rdf for dataportal.se to harvest."""
    from opengov.targets.static import write_catalogue

    if not portal.is_dir():
        raise InputError(f"{portal} is not a portal folder")
    write_catalogue(portal, base_url=base_url)
    written = ["index.html", "catalog.json"] + (["dcat.rdf"] if base_url else [])
    click.echo(f"catalogue written in {portal}: {', '.join(written)}")


def _register_stages() -> None:
    """Commands of pipeline stages that live in their own modules."""
    from opengov.cli.social import classify_command, import_group

    cli.add_command(import_group)
    cli.add_command(classify_command)


_register_stages()


def main() -> None:
    cli(obj={})
