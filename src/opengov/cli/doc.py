"""Generate docs/cli.md from the commands' own --help, so the reference cannot drift.

`python -m opengov.cli.doc > docs/cli.md` rewrites it; tests/test_docs.py fails when it is stale.
"""

from __future__ import annotations

import click

from opengov.cli import cli
from opengov.errors import EXIT_CODES

HEADER = """# CLI reference

Generated from `opengov --help` by `python -m opengov.cli.doc > docs/cli.md`; a test fails when
this file and the commands disagree.

"""


def _help(path: list[str]) -> str:
    """Exactly what a user sees for `opengov ... --help`, at a fixed width."""
    from click.testing import CliRunner

    result = CliRunner(env={"COLUMNS": "100"}).invoke(
        cli, [*path[1:], "--help"], prog_name="opengov", terminal_width=100
    )
    return result.output.rstrip("\n")


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, command)]
    if isinstance(command, click.Group):
        # Through list_commands/get_command, as click itself does: the groups load their
        # commands' modules when asked (cli/app.py LazyGroup); `.commands` holds only those loaded.
        ctx = click.Context(command, info_name=path[-1])
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            out.extend(_walk(sub, [*path, name]))
    return out


def render() -> str:
    parts = [HEADER]
    for path, _command in _walk(cli, ["opengov"]):
        parts.append(f"## `{' '.join(path)}`\n\n```\n{_help(path)}\n```\n\n")
    parts.append("## Exit codes\n\n| code | meaning |\n|---|---|\n")
    parts.extend(f"| {code} | {meaning} |\n" for code, meaning in sorted(EXIT_CODES.items()))
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
