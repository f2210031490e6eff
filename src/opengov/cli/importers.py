"""CLI for database imports: `opengov import sql`, a command of the `import` group of cli/social.py.

Credentials never pass through here: the URL may not hold a password (PGPASSWORD or ~/.pgpass
do), and every failure is an `OpengovError` whose message names the database, never the user
or a credential.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from opengov.cli.app import dump

if TYPE_CHECKING:
    from opengov.importers.sql import SqlImportResult


@click.command("sql")
@click.argument("url")
@click.option("--table", help="Table or view to import (schema.table; quote capitals).")
@click.option("--query", help="A SELECT to import instead of a table (add ORDER BY).")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Data package folder to create, or an earlier import's to update.",
)
@click.option("--name", help="Resource and package name (default: the table's, or --out's).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def sql_command(
    url: str, table: str | None, query: str | None, out: Path, name: str | None, as_json: bool
) -> None:
    """Import a PostgreSQL or SQLite table or query as a data package.

    URL is postgresql://user@host:port/database or sqlite:///path/to/file.db (four slashes
    for an absolute path). The password comes from PGPASSWORD or ~/.pgpass, never the URL.
    Writes a Parquet snapshot, a schema from the column types and constraints, a rules.yaml
    draft with every field unclassified, and import.json (source and time, no credentials).
    """
    from opengov.importers.sql import import_sql

    result = import_sql(url, out=out, table=table, query=query, name=name)
    click.echo(dump(result.to_dict()) if as_json else summary(result))


def summary(result: SqlImportResult) -> str:
    source = result.source
    where = f"table {source['table']}" if "table" in source else "the query"
    lines = [
        f"Imported {result.rows:,} rows, {len(result.fields)} fields, from {where} "
        f"into {result.out}" + ("" if result.changed else " (unchanged: nothing rewritten)"),
        f"  data: {result.data['path']} ({result.data['bytes']:,} bytes)",
    ]
    lines.extend(f"  not carried over: {note}" for note in result.not_carried)
    if result.rules == "kept":
        lines.append("  rules.yaml was edited by hand and has been kept")
    if result.unclassified:
        lines.append(
            f"  {len(result.unclassified)} field(s) unclassified: decide each in "
            f"{result.out}/rules.yaml (the comments say what the detectors saw); "
            "nothing publishes until then"
        )
    return "\n".join(lines)
