"""Databases as sources: `opengov import sql URL (--table T | --query Q) --out DIR`.

A PostgreSQL or SQLite table or query becomes a data package: a Parquet snapshot of the rows
(streamed as Arrow record batches through ADBC, so memory stays bounded whatever the size), a
Table Schema drafted from the database's column types and constraints, a rules.yaml draft
with every field unclassified, and import.json recording where the rows came from and when.
See docs/importers.md.
"""

from opengov.importers.sql.run import SqlImportResult, import_sql
from opengov.importers.sql.url import DatabaseUrl, parse_url

__all__ = ["DatabaseUrl", "SqlImportResult", "import_sql", "parse_url"]
