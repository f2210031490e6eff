"""Shared by the tests/test_hostile_*.py modules: a small package with a planted secret, a
snapshot of every byte under a folder, and a CLI run that must fail cleanly."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from opengov.cli import cli

# A test personnummer (../shared/reference/swedish-identifiers.md), withheld by the rules below:
# it must never appear in any byte opengov writes or prints.
PLANTED = "811228-9874"
FIELDS = [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"},
          {"name": "personnummer", "type": "string"}]  # fmt: skip


def rules_for(resource_name: str) -> dict[str, Any]:
    return {
        "version": 1,
        "decided_by": "Testkommunen",
        "resources": {
            resource_name: {
                "fields": {
                    "id": "public",
                    # A column of names, published by decision (the last scan looks for
                    # names in free text and would otherwise stop the publish).
                    "namn": {
                        "class": "public",
                        "names": "public",
                        "basis": "2 kap. 1 § TF",
                        "reason": "Påhittade namn i ett testpaket",
                    },
                    "personnummer": {
                        "class": "personal",
                        "action": "drop",
                        "basis": "21 kap. 7 § OSL",
                    },
                }
            }
        },
    }


def write_package(
    root: Path,
    name: Any = "ds",
    resource_name: Any = "r",
    *,
    rows: list[list[str]] | None = None,
    rules: dict[str, Any] | None = None,
) -> Path:
    """A one-resource package whose only secret is PLANTED in a dropped column."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    rows = rows or [["1", "Anna Berg", PLANTED], ["2", "Per Ek", "640823-3234"]]
    text = "id;namn;personnummer\n" + "".join(";".join(r) + "\n" for r in rows)
    (root / "data" / "r.csv").write_text(text, encoding="utf-8")
    descriptor = {
        "name": name,
        "resources": [
            {
                "name": resource_name,
                "path": "data/r.csv",
                "dialect": {"delimiter": ";"},
                "schema": {"fields": FIELDS},
            }
        ],
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    resource_key = resource_name if isinstance(resource_name, str) else "r"
    (root / "rules.yaml").write_text(
        yaml.safe_dump(rules or rules_for(resource_key), allow_unicode=True), encoding="utf-8"
    )
    return root


def snapshot(root: Path) -> dict[str, Any]:
    """Every file, folder and link under `root` with its bytes or target: to compare."""
    out: dict[str, Any] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = ("dir",)
            elif path.is_file():
                out[rel] = ("file", path.read_bytes())
            else:  # a FIFO or a device planted by a test: reading it would block
                out[rel] = ("special",)
    return out


def every_byte(root: Path) -> bytes:
    """Every file's bytes; an XLSX download unpacked (its compressed bytes would hide a value),
    and SHA-256 digests left out (a 64-digit hex run can hold any short digit string)."""
    parts = []
    for rel, value in snapshot(root).items():
        if value[0] != "file":
            continue
        data = value[1]
        if rel.endswith(".xlsx"):
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                data = b"\n".join(book.read(n) for n in book.namelist())
        parts.append(re.sub(rb"[0-9a-f]{64}", b"", data))
    return b"\n".join(parts)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(args: list[str], env: dict[str, str] | None = None) -> Run:
    """The CLI in this process; an exception escaping the error handler fails the test."""
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__} escaped the CLI")
    return Run(result.exit_code, result.stdout, result.stderr)


def assert_clean_failure(run: Run, code: int) -> None:
    assert run.exit_code == code, (run.exit_code, run.output[-2000:])
    assert "Traceback" not in run.output
    assert "internal error" not in run.output
    assert PLANTED not in run.output
    assert PLANTED.replace("-", "") not in run.output


@dataclass
class Measured:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float


_MEASURED_MAIN = """
import atexit, os

def _peak():
    with open("/proc/self/status") as status, open(os.environ["OPENGOV_TEST_HWM"], "w") as out:
        out.write(next(ln for ln in status if ln.startswith("VmHWM")).split()[1])

atexit.register(_peak)
from opengov.cli import main
main()
"""


def run_measured(
    args: list[str], *, timeout: float, memory_mb: int = 1024, cwd: Path | None = None
) -> Measured:
    """`opengov ARGS` in a child process under an address-space cap: exit code, output, its
    own time and peak RSS.

    The peak is the child's own VmHWM, written by the child as it exits: Linux carries
    `ru_maxrss` across exec, so `wait4` would report the forking pytest process's peak whenever
    that is larger (a test suite that has held a million rows). A child that outlives `timeout`
    is killed and fails the test, as a hang.
    """
    env = {**os.environ, "OPENGOV_AGENT": "test-suite"}

    def cap() -> None:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile() as hwm:  # fmt: skip
        env["OPENGOV_TEST_HWM"] = hwm.name
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURED_MAIN, *args],
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            preexec_fn=cap,
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        peak_kib = hwm.read().decode().strip()
    if seconds >= timeout:
        raise AssertionError(f"{args} ran longer than {timeout} s and was killed")
    # A child killed before its exit handlers ran (the address-space cap) keeps the upper bound.
    peak = int(peak_kib) if peak_kib else usage.ru_maxrss
    return Measured(proc.returncode, stdout, stderr, seconds, peak / 1024)
