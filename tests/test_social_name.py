"""The dataset name of an imported social-media package (`--name`).

Found by a README walkthrough: the dataset (and so the published folder, the DCAT identifiers)
was named after whatever the `--out` folder was called, with no way to choose it on the command
line and nothing saying which name it got. Now `--name` sets it, the default is a valid name
made from the folder's name, a package keeps its name on later imports (wherever the folder is
moved), and the summary and `--json` say the name.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from social_support import FB_2023, X_2024, key_env, snapshot  # noqa: F401  (a fixture)

from opengov import errors
from opengov.cli import cli
from opengov.importers.social import PackageInfo, import_twitter
from opengov.importers.social.package import package_name
from opengov.paths import name_problem

pytestmark = pytest.mark.usefixtures("key_env")


def _import(platform: str, out: Path, *extra: str) -> Result:
    export = FB_2023 if platform == "facebook" else X_2024
    return CliRunner().invoke(
        cli,
        ["import", platform, str(export), "--account", "Kommunchefen", "--account-type",
         "official", "--out", str(out), *extra],
    )  # fmt: skip


def _name(out: Path) -> str:
    return str(json.loads((out / "datapackage.json").read_bytes())["name"])


@pytest.mark.parametrize("platform", ["facebook", "twitter"])
def test_name_given_is_kept_on_later_imports_and_reimports_are_identical(
    tmp_path: Path, platform: str
) -> None:
    out = tmp_path / "out"
    first = _import(platform, out, "--name", "kommunchef-sociala-medier")
    assert first.exit_code == 0, first.output
    assert "(dataset kommunchef-sociala-medier)" in first.output
    assert _name(out) == "kommunchef-sociala-medier"
    before = snapshot(out)
    again = _import(platform, out)
    assert again.exit_code == 0
    assert snapshot(out) == before  # byte-identical, name included
    # Moved elsewhere, the package keeps its name.
    moved = tmp_path / "flyttad"
    shutil.move(out, moved)
    assert _import(platform, moved, "--json").exit_code == 0
    assert snapshot(moved) == before
    shown = json.loads(_import(platform, moved, "--json").output)
    assert shown["name"] == "kommunchef-sociala-medier"


def test_name_given_renames_the_package(tmp_path: Path) -> None:
    out = tmp_path / "kommunchef"
    assert _import("twitter", out).exit_code == 0
    assert _name(out) == "kommunchef"
    assert _import("twitter", out, "--name", "kc-x").exit_code == 0
    assert _name(out) == "kc-x"


@pytest.mark.parametrize(
    "bad", ["Kommunchef", "kommun chef", "a..b", "-x", "x.", "a/b", "index.html", "", "å" * 3,
            "x" * 101],
)  # fmt: skip
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_a_name_that_is_no_dataset_name_is_refused_and_nothing_written(
    tmp_path: Path, bad: str, existing: bool
) -> None:
    out = tmp_path / "out"
    if existing:
        assert _import("twitter", out).exit_code == 0
    before = snapshot(out) if existing else None
    result = _import("twitter", out, "--name", bad)
    assert result.exit_code == errors.InputError.exit_code, result.output
    assert "is not usable" in result.output and "Traceback" not in result.output
    if existing:
        assert snapshot(out) == before
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == (["out"] if existing else [])


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=120).filter(lambda t: "/" not in t and "\0" not in t))
def test_the_default_name_is_always_a_dataset_name(folder: str) -> None:
    """Whatever the folder is called ("Kommunchefens medier – Åre", "..", "   "), the name
    made from it is one a publish accepts."""
    name = package_name(Path("/tmp") / folder)
    assert name_problem(name) is None, (folder, name)


def test_the_library_refuses_a_bad_name_too(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="is not usable"):
        import_twitter(X_2024, account="K", account_type="official", out=tmp_path / "o",
                       info=PackageInfo(name="Inte OK"))  # fmt: skip
    assert not (tmp_path / "o").exists()
