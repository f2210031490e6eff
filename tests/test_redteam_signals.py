"""Red team 4: a run stopped from outside. SIGTERM is how `kill`, `timeout`, systemd, Docker and
CI runners stop a job; Python's default for it ends the process at once, so a publish left its
half-built release (and its lock) in `.opengov-staging/`, and `init`, `redact --out` and the
importers left their staging folders beside `--out`. Ctrl-C cleaned up but exited 1, the code
of "data invalid". Both now run every clean-up an interrupt runs, leave the target as it was,
and exit with their own codes (130, 143: as a shell reports the signals).

The signal is sent by the process to itself at a chosen step (a patched function), so the test
is exact about where it lands and needs no timing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import PLANTED, snapshot, write_package
from social_support import TEST_KEY as SOCIAL_KEY
from social_support import X_2024

from opengov.errors import Interrupted, Terminated
from opengov.targets.static import STAGING

SIGNALS = {"SIGTERM": Terminated, "SIGINT": Interrupted}

# Steps inside each command, after its staging folder exists and before its target is swapped.
PUBLISH_STEPS = [
    "opengov.redact.apply.ResourceRedactor.feed",
    "pyarrow.parquet.ParquetWriter.write_table",
    "opengov.release.provenance.build",
    "opengov.targets.static._carry_history",
]


def _run(
    args: list[str], env: dict[str, str], step: str | None = None, signame: str = "SIGTERM"
) -> tuple[int, str]:
    """The CLI in a new process; with `step`, that function (module.function or
    module.Class.method) first sends the process `signame`, then runs as usual."""
    script = "from opengov.cli import main\nmain()\n"
    if step is not None:
        script = (
            "import importlib, os, signal\n"
            f"parts = {step!r}.split('.')\n"
            "for cut in range(len(parts) - 1, 0, -1):\n"
            "    try:\n"
            "        target = importlib.import_module('.'.join(parts[:cut]))\n"
            "        break\n"
            "    except ImportError:\n"
            "        continue\n"
            "for part in parts[cut:-1]:\n"
            "    target = getattr(target, part)\n"
            "original = getattr(target, parts[-1])\n"
            "def stop(*args, **kwargs):\n"
            f"    os.kill(os.getpid(), signal.{signame})\n"
            "    return original(*args, **kwargs)\n"
            "setattr(target, parts[-1], stop)\n"
        ) + script
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        # Started from a shell's background job, SIGINT would be ignored: restore the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return proc.returncode, proc.stdout + proc.stderr


def _env(tmp_path: Path, key: str) -> dict[str, str]:
    return {**os.environ, "OPENGOV_PSEUDONYM_KEY": key,
            "OPENGOV_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip


@pytest.mark.parametrize("signame", sorted(SIGNALS))
@pytest.mark.parametrize("step", PUBLISH_STEPS)
def test_a_publish_stopped_by_a_signal_leaves_the_portal_as_it_was(
    tmp_path: Path, key: str, step: str, signame: str
) -> None:
    pkg, portal = write_package(tmp_path / "pkg"), tmp_path / "portal"
    env = _env(tmp_path, key)
    code, output = _run(["publish", str(pkg), "--to", str(portal)], env)
    assert code == 0, output
    write_package(pkg, rows=[["1", "Anna Berg", PLANTED], ["3", "Ny Rad", "670919-9530"]])
    before = snapshot(portal)
    code, output = _run(["publish", str(pkg), "--to", str(portal)], env, step, signame)
    error = SIGNALS[signame]
    assert code == error.exit_code, output
    assert "Traceback" not in output and PLANTED not in output
    assert not (portal / STAGING).exists()
    assert snapshot(portal) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "pkg", "portal"]


def _csv(tmp_path: Path) -> Path:
    source = tmp_path / "bidrag.csv"
    source.write_text("id,belopp\n" + "".join(f"{i},{i * 7}\n" for i in range(50)))
    return source


@pytest.mark.parametrize("signame", sorted(SIGNALS))
@pytest.mark.parametrize("command", ["init", "import twitter", "redact"])
def test_other_commands_stopped_by_a_signal_leave_nothing_beside_out(
    tmp_path: Path, key: str, command: str, signame: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    if command == "init":
        env = _env(tmp_path, key)
        args = ["init", str(_csv(tmp_path)), "--out", str(out)]
        step = "opengov.draft.init.infer_csv"
    elif command == "import twitter":
        env = _env(tmp_path, SOCIAL_KEY)
        args = ["import", "twitter", str(X_2024), "--account", "Kommunen (X)",
                "--account-type", "official", "--out", str(out)]  # fmt: skip
        step = "opengov.importers.social.package.inside"
    else:
        env = _env(tmp_path, key)
        pkg = write_package(tmp_path / "pkg")
        args = ["redact", str(pkg), "--out", str(out)]
        step = "opengov.redacted_folder.mark"
    code, output = _run(args, env, step, signame)
    assert code == SIGNALS[signame].exit_code, output
    assert "Traceback" not in output
    assert list(work.iterdir()) == []
