"""When the machine refuses a write (a full disk, a file-size limit, a full or closed output), the
CLI says so with its own exit code (20, SystemRefused), not "internal error" (70), and a
publish leaves nothing behind in its target. Other OSErrors stay bugs (70)."""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import PackageFactory

from opengov.cli import cli
from opengov.errors import EXIT_CODES, SystemRefused

OPENGOV = [sys.executable, "-c", "from opengov.cli import main; main()"]


@pytest.mark.parametrize("command", [["validate", "--json"], ["validate"], ["exit-codes"]])
def test_a_full_output_is_exit_20_not_an_internal_error(
    make_package: PackageFactory, command: list[str]
) -> None:
    package = make_package("personal")
    args = command + ([str(package)] if command[0] == "validate" else [])
    with open("/dev/full", "w") as full:
        done = subprocess.run(OPENGOV + args, stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == SystemRefused.exit_code == 20, done.stderr
    assert "ENOSPC" in done.stderr and "Traceback" not in done.stderr
    assert "internal error" not in done.stderr


def test_a_file_size_limit_stops_a_publish_with_exit_20_and_nothing_left(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    package = make_package("personal")
    portal = tmp_path / "portal"
    portal.mkdir()
    (portal / "kept.txt").write_text("here before\n")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run(
        [*OPENGOV, "publish", str(package), "--to", str(portal)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert done.returncode == 20, (done.returncode, done.stderr)
    assert "EFBIG" in done.stderr and "Traceback" not in done.stderr
    # The target is as it was: no dataset, no staging folder, the old file untouched.
    assert sorted(p.name for p in portal.iterdir()) == ["kept.txt"]
    assert (portal / "kept.txt").read_text() == "here before\n"


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [(errno.ENOSPC, 20), (errno.EDQUOT, 20), (errno.EROFS, 20), (errno.EACCES, 20),
     (errno.ENOENT, 70), (errno.EBADF, 70), (errno.EINVAL, 70)],
)  # fmt: skip
def test_only_the_machines_refusals_are_exit_20(
    monkeypatch: pytest.MonkeyPatch, make_package: PackageFactory, code: int, exit_code: int
) -> None:
    """A refusal names its reason, never a file (it may be a staging file's); any other OSError
    is a bug of ours and says "internal error"."""
    import opengov.validate as validate_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), "/secret/staging/cell-value.tmp")

    monkeypatch.setattr(validate_module, "validate", refuse)
    result = CliRunner().invoke(cli, ["validate", str(make_package("personal"))])
    assert result.exit_code == exit_code, result.output
    assert "cell-value" not in result.output and "Traceback" not in result.output
    if exit_code == 20:
        assert errno.errorcode[code] in result.output
    else:
        assert "internal error (" in result.output


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_a_refusal_from_pyarrow_names_no_file(
    monkeypatch: pytest.MonkeyPatch, make_package: PackageFactory, code: int
) -> None:
    """pyarrow raises OSError(errno, message) with its whole message as the strerror, the
    file's path in it (pyarrow/error.pxi; as `pq.write_table` to a read-only place gives):
    the refusal says the system's reason only."""
    import opengov.validate as validate_module

    message = (
        "Failed to open local file '/secret/staging/cell-value.parquet'. "
        f"Detail: [errno {code}] {os.strerror(code)}"
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, message)

    monkeypatch.setattr(validate_module, "validate", refuse)
    result = CliRunner().invoke(cli, ["validate", str(make_package("personal"))])
    assert result.exit_code == 20, result.output
    assert "cell-value" not in result.output and "/secret" not in result.output
    assert os.strerror(code) in result.output and errno.errorcode[code] in result.output


def test_exit_code_20_is_listed() -> None:
    assert EXIT_CODES[20] == SystemRefused.title
    out = CliRunner().invoke(cli, ["exit-codes"]).output
    assert "20" in out and SystemRefused.title in out
