"""Compiled page templates are kept between runs (release/template_cache.py): a second process
compiles nothing, and a cache that is broken, shared or missing costs time, never a page."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from opengov import __version__
from opengov.cache import CACHE_ENV
from opengov.release.template_cache import template_cache

# Loads every page template in a fresh process and prints how many Jinja compiled.
_LOAD = """
import jinja2
compiled = []
original = jinja2.Environment.compile
def counting(self, source, *args, **kwargs):
    compiled.append(1)
    return original(self, source, *args, **kwargs)
jinja2.Environment.compile = counting
from opengov.release import pages
env = pages._env()
for name in env.list_templates():
    env.get_template(name)
print(len(compiled), len(env.list_templates()))
"""


def _load(cache: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _LOAD],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, CACHE_ENV: str(cache)},
    )
    compiled, templates = map(int, done.stdout.split())
    return compiled, templates


def test_a_second_process_compiles_no_template(tmp_path: Path) -> None:
    first, templates = _load(tmp_path)
    assert templates >= 5 and first >= templates
    folder = tmp_path / f"templates-{__version__}"
    assert stat.S_IMODE(folder.stat().st_mode) == stat.S_IRWXU
    assert len(list(folder.iterdir())) >= templates
    assert _load(tmp_path)[0] == 0


def test_a_broken_cache_is_compiled_again(tmp_path: Path) -> None:
    _load(tmp_path)
    entries = list((tmp_path / f"templates-{__version__}").iterdir())
    for number, entry in enumerate(entries):
        # Truncated, empty, foreign: each is a miss.
        entry.write_bytes([entry.read_bytes()[:20], b"", b"\x80\x04garbage"][number % 3])
    compiled = _load(tmp_path)[0]
    assert compiled >= len(entries) > 0
    assert _load(tmp_path)[0] == 0  # written afresh


def test_no_cache_where_the_folder_cannot_be_made_or_is_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    assert template_cache() is None
    compiled, templates = _load(blocker)  # pages still render, compiled each time
    assert compiled >= templates

    shared = tmp_path / "shared"
    folder = shared / f"templates-{__version__}"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    monkeypatch.setenv(CACHE_ENV, str(shared))
    assert template_cache() is None
    folder.chmod(0o700)
    assert template_cache() is not None


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path: Path) -> None:
    """Every write fails (a file-size limit of one byte: a full disk, as root sees one too)."""
    import resource

    def one_byte_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))

    done = subprocess.run(
        [sys.executable, "-c", _LOAD],
        capture_output=True,
        text=True,
        env={**os.environ, CACHE_ENV: str(tmp_path)},
        preexec_fn=one_byte_files,
    )
    assert done.returncode == 0, done.stderr
    compiled, templates = map(int, done.stdout.split())
    assert compiled >= templates
    assert not [p for p in (tmp_path / f"templates-{__version__}").iterdir() if p.stat().st_size]


def test_no_cache_below_a_folder_others_may_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder above the cache that others may write to, without the sticky bit, would let
    them swap the checked folder for theirs: no cache there. /tmp itself (sticky) is fine."""
    open_to_all = tmp_path / "shared-parent"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    monkeypatch.setenv(CACHE_ENV, str(open_to_all / "cache"))
    assert template_cache() is None
    open_to_all.chmod(0o777 | stat.S_ISVTX)
    assert template_cache() is not None
    open_to_all.chmod(0o755)
    assert template_cache() is not None
