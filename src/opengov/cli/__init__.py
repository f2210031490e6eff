"""The command line: `opengov`, one module per pipeline stage, all on one click group.

`app` holds the group and the one place errors become exit codes; `validate`, `publish`
(publish, redact, catalog), `verify`, `social` (import, classify), `importers` (import sql), `init`,
`keys` (key new, key show), `approve` and `portal` (portal init|show, withdraw) add their commands.
"""

from opengov.cli import approve, importers, init, keys, portal, publish, social, validate, verify
from opengov.cli.app import cli

cli.add_command(social.import_group)
cli.add_command(social.classify_command)

__all__ = [
    "approve",
    "cli",
    "importers",
    "init",
    "keys",
    "main",
    "portal",
    "publish",
    "validate",
    "verify",
]


def main() -> None:
    cli(obj={})
