"""Red team 4: `opengov verify` on a dataset folder someone with write access to the portal has
rearranged without changing a byte of what it lists.

Before: `provenance.json` (or the whole dataset folder) replaced by a link to a copy elsewhere
verified as ok, so the portal served whatever that copy became later; a pipe or device planted
beside the release was not reported (the unlisted-file check looked at regular files and links
only); and a 3 GB `provenance.json` was read whole, 6 GB of memory. A release is regular files in
folders, read back as publish reads it (no link, a size limit), so each of these now fails.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import TEST_KEY
from helpers import STAFF_ROWS, STAFF_RULES, STAFF_SCHEMA, write_csv
from signing_helpers import make_key, publish_releases

from opengov import errors
from opengov.cli import cli
from opengov.signing import KeyInfo, read_public_key
from opengov.trust import Trust
from opengov.verify import verify_folder


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """One signed two-release dataset, copied by each test before it is rearranged."""
    base = tmp_path_factory.mktemp("published")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENGOV_PSEUDONYM_KEY", TEST_KEY)
        patch.setenv("OPENGOV_CACHE_DIR", str(base / "cache"))
        key = make_key(base / "keys", "Exempelby kommun")
        package = base / "personal"
        write_csv(package / "data" / "personal.csv", STAFF_ROWS)
        descriptor = {
            "name": "personal",
            "resources": [{"name": "personal", "path": "data/personal.csv", "format": "csv",
                           "dialect": {"delimiter": ";"}, "schema": STAFF_SCHEMA}],
        }  # fmt: skip
        (package / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        (package / "rules.yaml").write_text(
            yaml.safe_dump(STAFF_RULES, allow_unicode=True), encoding="utf-8"
        )
        yield publish_releases(package, base / "portal", [key] * 2), key


def _link_outside(dataset: Path, rel: str, tmp: Path) -> None:
    original = dataset / rel
    copy = tmp / ("outside-" + rel.replace("/", "-"))
    shutil.copyfile(original, copy)
    original.unlink()
    original.symlink_to(copy)


def _link_inside(dataset: Path, rel: str, tmp: Path) -> None:
    original = dataset / rel
    copy = original.with_name("." + original.name)
    shutil.copyfile(original, copy)
    original.unlink()
    original.symlink_to(copy.name)


def _first(dataset: Path, pattern: str) -> str:
    return next(dataset.glob(pattern)).relative_to(dataset).as_posix()


LINKED = ["provenance.json", "provenance.dsse.json", "datapackage.json", "index.html",
          "data/*.csv", "history/*.json"]  # fmt: skip


def _run(dataset: Path, key: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", str(dataset), "--trust", f"{key}.pub"])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _trust(key: Path) -> Trust:
    info = read_public_key(f"{key}.pub")
    assert isinstance(info, KeyInfo)
    return Trust(keys=(info.key,))


def _copy(published: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    dataset, key = published
    copy = tmp_path / "portal" / dataset.name
    shutil.copytree(dataset, copy, symlinks=True)
    return copy, key


def test_the_untouched_copy_verifies(published: tuple[Path, Path], tmp_path: Path) -> None:
    dataset, key = _copy(published, tmp_path)
    assert _run(dataset, key)[0] == 0


@pytest.mark.parametrize("how", [_link_outside, _link_inside])
@pytest.mark.parametrize("pattern", LINKED)
def test_a_file_replaced_by_a_link_to_the_same_bytes_fails(
    published: tuple[Path, Path],
    tmp_path: Path,
    pattern: str,
    how: Callable[[Path, str, Path], None],
) -> None:
    dataset, key = _copy(published, tmp_path)
    how(dataset, _first(dataset, pattern), tmp_path)
    code, output = _run(dataset, key)
    assert code not in (0, 70), output
    assert code in errors.EXIT_CODES, output
    if pattern != "provenance.json":
        assert not verify_folder(dataset, _trust(key)).ok
        assert "symbolic link" in output


def test_a_dataset_folder_that_is_a_link_elsewhere_fails(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    dataset, key = published
    elsewhere = tmp_path / "elsewhere" / dataset.name
    shutil.copytree(dataset, elsewhere)
    (tmp_path / "portal").mkdir()
    link = tmp_path / "portal" / dataset.name
    link.symlink_to(elsewhere)
    code, output = _run(link, key)
    assert code == errors.VerifyFailed.exit_code, output
    assert "the dataset folder is a symbolic link" in output


@pytest.mark.parametrize("where", ["evil.html", "data/extra.csv", "history/x.json"])
def test_a_planted_pipe_is_an_unlisted_file(
    published: tuple[Path, Path], tmp_path: Path, where: str
) -> None:
    dataset, key = _copy(published, tmp_path)
    os.mkfifo(dataset / where)
    code, output = _run(dataset, key)
    assert code == errors.UnlistedFiles.exit_code, output
    assert where in output


def test_a_listed_file_replaced_by_a_pipe_fails_without_blocking(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    dataset, key = _copy(published, tmp_path)
    rel = _first(dataset, "data/*.csv")
    (dataset / rel).unlink()
    os.mkfifo(dataset / rel)
    code, output = _run(dataset, key)
    assert code == errors.VerifyFailed.exit_code, output
    assert f"{rel}: listed in provenance but missing" in output


def test_a_huge_provenance_is_refused_without_reading_it(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    dataset, key = _copy(published, tmp_path)
    with open(dataset / "provenance.json", "r+b") as handle:
        handle.truncate(3 * 1024**3)  # sparse: no disk used, 3 GB if read whole
    code, output = _run(dataset, key)
    assert code == errors.VerifyFailed.exit_code, output
    assert "larger than" in output
