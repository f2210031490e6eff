"""CLI: `opengov init SOURCE --out DIR`, a package drafted from a file (draft/init.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from opengov.cli.app import dump

if TYPE_CHECKING:
    from opengov.draft.init import InitResult


@click.command("init")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Package folder to create, or an earlier draft's to update.",
)
@click.option("--sheet", help="Sheet of an .xlsx workbook (needed when it has several).")
@click.option("--name", help="Resource and package name (default: from the file name).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def init_command(
    source: Path, out: Path, sheet: str | None, name: str | None, as_json: bool
) -> None:
    """Draft a data package from a CSV, an XLSX sheet or a Parquet file.

    Writes datapackage.json (encoding, dialect, types and formats, decimal comma and thousands
    separators, required fields, a primary key), the data with safe field names (the header's
    labels kept as titles), a rules.yaml draft with every field unclassified and what the
    detectors saw in a sample, and import.json. No value from the data is written in the
    drafts. Nothing is published until a person has classified every field.
    """
    from opengov.draft.init import init_package

    result = init_package(source, out=out, sheet=sheet, name=name)
    click.echo(dump(result.to_dict()) if as_json else summary(result))


def summary(result: InitResult) -> str:
    encoding = f", {result.encoding}" if result.encoding else ""
    delimiter = result.dialect.get("delimiter")
    dialect = f", delimiter {delimiter!r}" if delimiter else ""
    lines = [
        f"Drafted {result.out} from {Path(result.source).name}: {result.rows:,} rows, "
        f"{len(result.fields)} fields ({result.format}{encoding}{dialect})"
        + ("" if result.changed else " (unchanged: nothing rewritten)")
    ]
    if result.lines_above_header:
        lines.append(
            f"  header on line {result.lines_above_header + 1}: the "
            f"{result.lines_above_header} line(s) above it (a title, comments or Excel's sep= "
            "line) are not part of the table and are left out of the data"
        )
    if result.total_row:
        from opengov.draft.init import TOTAL_ROW_NOTE

        lines.append(f"  note: {TOTAL_ROW_NOTE}")
    if result.unlabelled:
        from opengov.draft.init import UNLABELLED_NOTE

        lines.append(f"  note: {UNLABELLED_NOTE.format(names=', '.join(result.unlabelled))}")
    width = max(len(f.name) for f in result.fields)
    for f in result.fields:
        title = f"  ({f.title})" if f.title and f.title != f.name else ""
        widened = f"  [sample said {f.widened_from}]" if f.widened_from else ""
        lines.append(
            f"  {f.name:<{width}}  {f.type}{' required' if f.required else ''}{title}{widened}"
        )
    if result.primary_key:
        lines.append(f"  primary key: {', '.join(result.primary_key)}")
    if result.rules == "kept":
        lines.append("  rules.yaml was edited by hand and has been kept")
    if result.unclassified:
        lines.append(
            f"  {len(result.unclassified)} field(s) unclassified: decide each in "
            f"{result.out}/rules.yaml; nothing publishes until then"
        )
    return "\n".join(lines)
