"""`opengov validate`: check a package (or one file) against its Table Schemas."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from opengov.cli.app import dump, progress_wanted


@click.command()
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
@click.option(
    "--sheet",
    help="Sheet of a single .xlsx file (default: the first; a first sheet without the "
    "schema's columns is refused, naming the sheets).",
)
@click.option(
    "--encoding",
    help="Encoding of a single CSV file with --schema (default: from its bytes: a byte order "
    "mark, else UTF-8 or Windows-1252), e.g. utf-8, windows-1252, utf-16.",
)
@click.option(
    "--delimiter",
    help="Delimiter of a single CSV file with --schema (default: sniffed from its first lines "
    "among , ; tab |, as frictionless does). A tab: --delimiter $'\\t'.",
)
@click.option(
    "--show-values",
    is_flag=True,
    help="While drafting: show the failing cells' values on this terminal (every field). "
    "Files written with --html/--report stay masked unless --show-values-in-report.",
)
@click.option(
    "--show-values-in-report",
    is_flag=True,
    help="Also put the values in the files --html/--report write (never publish those).",
)
def validate(
    target: Path,
    schema: Path | None,
    sheet: str | None,
    encoding: str | None,
    delimiter: str | None,
    show_values: bool,
    show_values_in_report: bool,
    as_json: bool,
    html_out: Path | None,
    json_out: Path | None,
    engine: str,
    samples: int,
    key_file: Path | None,
) -> None:
    """Validate a data package (folder or datapackage.json), or one data file.

    A file is checked against --schema, or without one against the schema `opengov init`
    would draft for it. Exit 0 when the data passes (every error waived), 1 when it does not.
    Cell values are shown only for fields rules.yaml classifies as public, unless
    --show-values (this terminal only). Type errors come with a hint from the cells' shape
    (decimalChar/groupChar, a date format), never their values.
    """
    from opengov.redact import load_key
    from opengov.validate import validate as run

    report = run(
        target,
        schema=schema,
        engine=engine,
        samples=samples,
        progress=progress_wanted(),
        key=load_key(key_file),
        sheet=sheet,
        encoding=encoding,
        delimiter=delimiter,
    )
    data = report.to_dict()
    shown = report.to_dict(show_values=True) if show_values else data
    written = report.to_dict(show_values=True) if show_values_in_report else data
    if json_out:
        json_out.write_text(dump(written) + "\n", encoding="utf-8")
    if html_out:
        # Jinja2 and the page templates cost ~50 ms of start-up: only when a page is wanted.
        from opengov.release import pages

        title = Path(target).stem if schema else Path(target).name
        html_out.write_text(pages.validation_page(written, title), encoding="utf-8")
    if as_json:
        click.echo(dump(shown))
    else:
        from opengov.validate.report import findings_text, values_text

        verdict = "passed" if report.passed else "FAILED"
        click.echo(
            f"{verdict}: {report.error_count} error(s), "
            f"{report.error_count - report.unwaived_count} waived, "
            f"{sum(r.rows for r in report.results)} rows in {len(report.results)} resource(s)"
        )
        for line in findings_text(report):
            click.echo(line)
        for result in report.results:
            for warning in result.warnings:
                click.echo(f"note: {warning}")
        if show_values:
            for line in values_text(shown):
                click.echo(line)
    if not report.passed:
        sys.exit(1)
