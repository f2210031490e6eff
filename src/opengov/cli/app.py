"""The command line: a thin layer over the library.

Each command parses its options, calls one library function and prints its result; `--json`
prints exactly the library result's `to_dict()`. Every `OpengovError` becomes its message on
stderr and its exit code (docs/cli.md); anything else is a bug, reported without its text (which
could quote data) unless `--debug` is given. The commands live in one module per pipeline stage
(validate, publish, verify, social); the group imports a command's module only when that command
is asked for (its run, its --help, the list in `opengov --help`, shell completion), so a command's
start-up pays for what it uses and nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from opengov import __version__
from opengov.errors import (
    EXIT_CODES,
    InputError,
    Interrupted,
    OpengovError,
    OutOfMemory,
    SystemRefused,
    Terminated,
)

log = logging.getLogger("opengov")


F = TypeVar("F", bound=Callable[..., Any])


def ckan_options(command: F) -> F:
    """--ckan-url, --org and --config, as every command that can reach CKAN takes them."""
    for option in reversed(
        [
            click.option("--ckan-url", help="CKAN base URL (or OPENGOV_CKAN_URL / config)."),
            click.option("--org", help="CKAN organisation (or OPENGOV_CKAN_ORG / config)."),
            click.option(
                "--config",
                "config_path",
                type=click.Path(path_type=Path),
                help="Config file (TOML) with ckan_url, org, token_file.",
            ),
        ]
    ):
        command = option(command)
    return command


def dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


class LazyGroup(click.Group):
    """A group whose commands live in modules imported only when a command is looked up.

    `lazy_commands` maps each command's name to "module:attribute". Click reaches commands only
    through `list_commands` and `get_command` (running, --help, completion), so loading there
    keeps every command listed, in the same order, while a run imports just its own module.
    """

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
            # __import__ rather than importlib.import_module: `python -X importtime` lists only
            # the modules imported this way, and start-up is profiled with it.
            __import__(module_name)
            command = getattr(sys.modules[module_name], attribute)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise TypeError(f"{module_name}:{attribute} is not the command {cmd_name!r}")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)


# The machine's refusals (SystemRefused, exit 20); any other OSError is a bug (exit 70).
_REFUSALS = {
    errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO,
    errno.EACCES, errno.EPERM, errno.EMFILE, errno.ENFILE,
}  # fmt: skip
# Errors that only a path which cannot be one causes: the user's mistake (exit 6), not a bug.
_PATH_MISTAKES = {errno.ENOTDIR, errno.EISDIR, errno.ELOOP, errno.ENAMETOOLONG}


class TerminateRequested(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C is: every clean-up that runs on an interrupt
    (staging folders, locks, temporary files) runs on it too. Without it, Python ends at once
    and a publish left its half-built release in `.opengov-staging/`."""


def on_sigterm(signum: int, frame: object) -> None:
    # Once: a second SIGTERM must not cut the clean-up short (SIGKILL still ends it).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise TerminateRequested


class OpengovGroup(LazyGroup):
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
        except KeyboardInterrupt as exc:
            # Reached after every `finally` and `except BaseException` clean-up below has run.
            if ctx.obj and ctx.obj.get("debug"):
                raise
            stopped: OpengovError = (
                Terminated("terminated by SIGTERM; what was being written was removed")
                if isinstance(exc, TerminateRequested)
                else Interrupted("interrupted; what was being written was removed")
            )
            with contextlib.suppress(OSError):
                click.echo(f"error: {stopped}", err=True)
            ctx.exit(stopped.exit_code)
        except MemoryError:
            # A cell, a row group or a batch larger than the memory left (ArrowMemoryError
            # is a MemoryError too): the staging folder is already gone, nothing was written.
            if ctx.obj and ctx.obj.get("debug"):
                raise
            error = OutOfMemory(
                "ran out of memory; nothing was written. Run it where more memory is allowed "
                "(an address-space limit such as `ulimit -v`, a container's limit), or split "
                "the largest cells or files (docs/limits.md)"
            )
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)
        except BrokenPipeError:
            # The reader went away (`opengov ... | head`): not an error of ours. Point stdout at
            # devnull so the interpreter's final flush does not raise again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(1)
        except OSError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            if exc.errno in _PATH_MISTAKES:
                # A path given that cannot be one (`--out notes.txt/x`, a name past NAME_MAX, a
                # link loop), met by a check such as `exists()` before any mkdir could name it.
                mistake = InputError(
                    f"a path given cannot be used: {os.strerror(exc.errno)} "
                    f"[{errno.errorcode[exc.errno]}]; check the paths on the command line"
                )
                click.echo(f"error: {mistake}", err=True)
                ctx.exit(mistake.exit_code)
            if exc.errno not in _REFUSALS:
                _internal_error(ctx, exc)
            # What reaches here was not an input's fault (readers turn those into InputError):
            # the machine refused a read or write. Its file name is left out: it may be a
            # staging file's, and the reason is what the user can act on. The reason is the
            # system's text for the code, not `exc.strerror`: pyarrow puts its whole message
            # there ("Failed to open local file '/path/...'. Detail: [errno 13] ...").
            refused = SystemRefused(
                f"{os.strerror(exc.errno)} [{errno.errorcode[exc.errno]}]; free "
                "space, lift the limit or allow the access, then run it again (a publish "
                "leaves its target as it was)"
            )
            with contextlib.suppress(OSError):
                click.echo(f"error: {refused}", err=True)
            ctx.exit(refused.exit_code)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _internal_error(ctx, exc)


def _internal_error(ctx: click.Context, exc: Exception) -> NoReturn:
    # The text of an unexpected exception may quote a cell; name only its type.
    click.echo(
        f"internal error ({type(exc).__name__}); run again with --debug for details and report it",
        err=True,
    )
    ctx.exit(70)


def progress_wanted() -> bool:
    return sys.stderr.isatty()


# Each command's module, by the command's name: imported when the command is looked up.
COMMANDS = {
    "approve": "opengov.cli.approve:approve",
    "catalog": "opengov.cli.publish:catalog",
    "classify": "opengov.cli.social:classify_command",
    "import": "opengov.cli.social:import_group",
    "init": "opengov.cli.init:init_command",
    "key": "opengov.cli.keys:key_group",
    "portal": "opengov.cli.portal:portal_group",
    "publish": "opengov.cli.publish:publish",
    "redact": "opengov.cli.publish:redact",
    "validate": "opengov.cli.validate:validate",
    "verify": "opengov.cli.verify:verify",
    "withdraw": "opengov.cli.portal:withdraw",
}


@click.group(
    cls=OpengovGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    if sys.stdout is None and ctx.invoked_subcommand is not None:
        # Started with standard output closed (`>&-`): every command writes its result there,
        # and click drops what it cannot write, so a `--json` result would vanish behind exit 0.
        raise SystemRefused(
            "standard output is closed; nothing was done. Send it to a file or to /dev/null "
            "(`> /dev/null`) instead of closing it"
        )
    if os.environ.get("NO_COLOR"):
        ctx.color = False
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="opengov: %(message)s",
        stream=sys.stderr,
    )


@cli.command("exit-codes")
def exit_codes() -> None:
    """List the exit codes and what each means."""
    for code, meaning in sorted(EXIT_CODES.items()):
        click.echo(f"{code:>3}  {meaning}")
