"""The command line: a thin click layer over the library (see `commands`)."""

from opengov.cli.commands import cli, main

__all__ = ["cli", "main"]
