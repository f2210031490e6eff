"""The click commands: thin over the library, --json equal to to_dict(), errors propagate."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from social_support import FB_PAGE, FB_PERSONAL, TEST_KEY, X_2024, key_env  # noqa: F401

import opengov.importers.social as social_importers
from opengov.cli import social as cli_social
from opengov.errors import ImportFailed, InputError, OpengovError, UnsafeArchive
from opengov.importers.social import import_twitter
from opengov.importers.social.archive import FileRead
from opengov.importers.social.package import ImportResult, ResourceCounts
from opengov.importers.social.report import FileReport

FIXTURES = Path(__file__).parent / "fixtures" / "social"
pytestmark = pytest.mark.usefixtures("key_env")


class Wrapped(click.Group):
    """What the main CLI does with library errors: message and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OpengovError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(exc.exit_code)


# The real CLI's settings: click caches a command's help option on first use, so a test group
# without `-h` would change what later tests (the generated CLI reference) see.
@click.group(cls=Wrapped, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    pass


main.add_command(cli_social.import_group)
main.add_command(cli_social.classify_command)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_commands_are_named_as_the_lead_registers_them() -> None:
    assert cli_social.import_group.name == "import"
    # sql lives in cli/importers.py, loaded by the group when asked for (opengov import sql).
    group = cli_social.import_group
    names = group.list_commands(click.Context(group))
    assert names == ["facebook", "sql", "twitter"]
    assert all(group.get_command(click.Context(group), n) is not None for n in names)
    assert cli_social.classify_command.name == "classify"


def test_json_output_is_exactly_to_dict(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    counts = ResourceCounts(2, 2, 0, 2, {"official": 2, "private": 0, "undecided": 0})
    fake = ImportResult(
        platform="facebook",
        account="Håkan",
        account_type="official",
        export="e.zip",
        out=str(tmp_path),
        name="kommunchef-sociala-medier",
        files_read=(FileRead("posts/your_posts_1.json", "ab" * 32, 10),),
        files=(FileReport("posts/your_posts_1.json", "read", "posts", 2),),
        posts=counts,
        comments=counts,
        own_accounts=("ExempelbyKommun",),
        author_action="drop",
        rules="written",
        outputs={"datapackage": "x"},
    )
    seen: dict[str, Any] = {}

    def fake_import(export: Path, **kwargs: Any) -> ImportResult:
        seen.update(kwargs, export=export)
        return fake

    # The command imports its importer when it runs (so `opengov --help` loads none of them).
    monkeypatch.setattr(social_importers, "import_facebook", fake_import)
    result = run(
        "import",
        "facebook",
        "e.zip",
        "--account",
        "Håkan",
        "--account-type",
        "official",
        "--out",
        tmp_path,
        "--own-handle",
        "ExempelbyKommun",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert result.output == json.dumps(fake.to_dict(), ensure_ascii=False, indent=2) + "\n"
    assert seen["own_handles"] == ("ExempelbyKommun",)
    assert seen["key"] is not None  # from the environment
    assert "Håkan" in result.output  # ensure_ascii=False
    assert seen["account"] == "Håkan" and seen["account_type"] == "official"
    assert seen["out"] == tmp_path and seen["export"] == Path("e.zip")
    assert seen["limits"].max_unpacked_bytes == 500 * 1024 * 1024


def test_real_twitter_import_json_matches_the_library(tmp_path: Path) -> None:
    archive = X_2024
    result = run(
        "import",
        "twitter",
        archive,
        "--account",
        "X",
        "--account-type",
        "official",
        "--out",
        tmp_path / "a" / "pkg",
        "--json",
    )
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.output)
    library = import_twitter(
        archive, account="X", account_type="official", out=tmp_path / "b" / "pkg"
    ).to_dict()
    for key in ("out", "outputs"):
        from_cli.pop(key), library.pop(key)
    assert from_cli == library
    assert from_cli["posts"]["by_classification"] == {"official": 15, "private": 0, "undecided": 0}
    assert from_cli["files_by_status"] == {"read": 9, "known": 5, "not_understood": 0}


def test_human_summary(tmp_path: Path) -> None:
    result = run(
        "import",
        "facebook",
        FB_PAGE,
        "--account",
        "Sida",
        "--out",
        tmp_path / "pkg",
    )
    assert result.exit_code == 0, result.output
    assert "Imported 5 posts and 6 comments from facebook-page-2025" in result.output
    assert "files in the export: 4 read, 3 known and not relevant, 0 not understood" in (
        result.output
    )
    assert "read this_profile's_activity_across_facebook/posts/profile_posts_1.json" in (
        result.output
    )
    assert "posts: 0 official, 0 private, 5 undecided" in result.output
    assert "commenters' names: pseudonymize" in result.output


def test_key_file_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opengov.redact.keys import KEY_ENV

    monkeypatch.delenv(KEY_ENV)
    args = ["import", "facebook", FB_PAGE, "--account", "Sida", "--out"]
    missing = run(*args, tmp_path / "a")
    assert missing.exit_code == 10 and "--key-file" in missing.output
    assert not (tmp_path / "a").exists()
    key_file = tmp_path / "nyckel.txt"
    key_file.write_text(TEST_KEY)
    ok = run(*args, tmp_path / "b", "--key-file", key_file)
    assert ok.exit_code == 0, ok.output
    assert TEST_KEY not in ok.output


def test_classify_command(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    assert (
        run(
            "import",
            "facebook",
            FB_PERSONAL,
            "--account",
            "Privat",
            "--out",
            out,
        ).exit_code
        == 0
    )
    first_id = (out / "posts.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    decisions = tmp_path / "d.csv"
    decisions.write_text(
        f"record_id,classification,classified_by,reason\n{first_id},private,R,Skäl\n",
        encoding="utf-8",
    )
    human = run("classify", out, "--from", decisions)
    assert human.exit_code == 0, human.output
    assert "Applied 1 decisions" in human.output and "1 records changed" in human.output
    as_json = run("classify", out, "--from", decisions, "--json")
    data = json.loads(as_json.output)
    assert data["changed"] == 0 and data["posts"]["by_classification"]["private"] == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["import", "twitter", FB_PAGE, "--account", "X"], 15, "Facebook"),
        (["import", "facebook", X_2024, "--account", "X"], 15, "Twitter"),
        (["import", "facebook", FIXTURES / "facebook-html", "--account", "X"], 15, "JSON"),
        (["import", "facebook", "missing.zip", "--account", "X"], 6, "does not exist"),
    ],
)
def test_errors_exit_with_their_code(
    tmp_path: Path, args: list[Any], code: int, message: str
) -> None:
    result = run(*args, "--out", tmp_path / "pkg")
    assert result.exit_code == code, result.output
    assert message in result.output
    assert not (tmp_path / "pkg").exists()


def test_zip_slip_exit_code(tmp_path: Path) -> None:
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.js", b"x")
    result = run("import", "twitter", archive, "--account", "X", "--out", tmp_path / "o")
    assert result.exit_code == 16


def test_size_limit_option(tmp_path: Path) -> None:
    export = tmp_path / "export" / "posts"
    export.mkdir(parents=True)
    (export / "your_posts_1.json").write_bytes(b"[" + b" " * (2 * 1024 * 1024) + b"]")
    result = run(
        "import",
        "facebook",
        tmp_path / "export",
        "--account",
        "X",
        "--out",
        tmp_path / "o",
        "--max-unpacked-mb",
        "1",
    )
    assert result.exit_code == UnsafeArchive.exit_code, result.output


def test_classify_error_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    run("import", "facebook", FB_PAGE, "--account", "S", "--out", out)
    bad = tmp_path / "d.csv"
    bad.write_text("record_id,classification,classified_by,reason\nnope,x,R,S\n", "utf-8")
    result = run("classify", out, "--from", bad)
    assert result.exit_code == InputError.exit_code
    assert "line 2: unknown record_id" in result.output


def test_library_errors_propagate_unwrapped(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_social.import_group,
        ["twitter", str(FB_PAGE), "--account", "X", "--out", str(tmp_path)],
    )
    assert isinstance(result.exception, ImportFailed)


def test_usage_errors_are_clicks(tmp_path: Path) -> None:
    result = run(
        "import",
        "facebook",
        "e.zip",
        "--account",
        "X",
        "--account-type",
        "private",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 2
    assert run("import", "facebook", "e.zip", "--out", tmp_path).exit_code == 2  # no --account


def test_through_the_main_cli(tmp_path: Path) -> None:
    from opengov.cli import cli

    assert {"import", "classify"} <= set(cli.list_commands(click.Context(cli)))
    ok = CliRunner().invoke(
        cli,
        [
            "import",
            "twitter",
            str(X_2024),
            "--account",
            "X",
            "--out",
            str(tmp_path / "pkg"),
        ],
        obj={},
    )
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(
        cli,
        [
            "import",
            "twitter",
            str(FB_PAGE),
            "--account",
            "X",
            "--out",
            str(tmp_path / "o"),
        ],
        obj={},
    )
    assert bad.exit_code == 15, bad.output
