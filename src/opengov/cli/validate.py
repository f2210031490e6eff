"""`opengov validate`: check a package (or one file) against its Table Schemas."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from opengov.cli.app import cli, dump, progress_wanted


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
        progress=progress_wanted(),
        key=load_key(key_file),
    )
    data = report.to_dict()
    if json_out:
        json_out.write_text(dump(data) + "\n", encoding="utf-8")
    if html_out:
        title = Path(target).stem if schema else Path(target).name
        html_out.write_text(pages.validation_page(data, title), encoding="utf-8")
    if as_json:
        click.echo(dump(data))
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
