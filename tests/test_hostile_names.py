"""Issue 9 §1: names are never paths, nothing is read from outside a package, nothing is written
outside the portal, and no staging folder outlives a publish however it ended."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import (
    PLANTED,
    assert_clean_failure,
    every_byte,
    invoke,
    rules_for,
    snapshot,
    write_package,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opengov.errors import InputError, PublishError, RulesError, SchemaError
from opengov.package import load_package
from opengov.paths import MAX_NAME, NAME_PATTERN, check_name, inside, name_problem
from opengov.targets.static import STAGING

RESERVED = {"index.html", "catalog.json", "dcat.rdf"}  # portal files: only package names clash
SEPARATORS = ["/", "\\", "\u2215", "\u2044", "\uff0f", "\u29f8", "\u2571", "\u2216", "\ufe68"]
DOTS = [".", "..", "\uff0e", "\u2024", "\u2025", "\u2026", "\u3002", "\ufe52", "\u0701"]
OTHER = ["\x00", " ", "\t", "\n", "\r", "A", "Å", "å", "é", "\u200b", "\u202e", "\u00ad", ":",
         "~", "$", "%2e", "%2f", "*", "?", "|", "<", '"', "'", "\u0130", "\u212a"]  # fmt: skip
FIXED = [
    "../x", "a/b", "./../outside-ds", "../../../victim/data/r", "/etc/passwd", "/tmp/x",
    "C:\\x", "c:x", "\\\\server\\share", "..", ".", "", "x\x00y", "x\u2215..\u2215y",
    "\uff0e\uff0e", "\u2024\u2024", "..\u2215outside", "\uff0e\uff0e\uff0foutside", "Data",
    "DATA", "dAta", "a" * (MAX_NAME + 1), "a" * 5000, STAGING, ".hidden", "-rf", "x.", "a..b",
    "%2e%2e%2fx", "\uff44\uff41\uff54\uff41", "data\u200b", "data\u202etxt.exe", "data ",
    " data", "data\n", "index.html", "catalog.json", "dcat.rdf",
]  # fmt: skip

hostile_names = st.one_of(
    st.sampled_from(FIXED),
    st.lists(
        st.sampled_from([*SEPARATORS, *DOTS, *OTHER, "x", "data", "outside", "portal"]),
        min_size=1,
        max_size=8,
    ).map("".join),
    st.text(alphabet="abc.-_", min_size=MAX_NAME + 1, max_size=400),
    st.text(max_size=40),
).filter(lambda n: name_problem(n) is not None or n in RESERVED)

valid_names = st.from_regex(NAME_PATTERN, fullmatch=True).filter(
    lambda n: ".." not in n and len(n) <= MAX_NAME
)


@contextlib.contextmanager
def _sandbox() -> Iterator[tuple[Path, Path, Path]]:
    """A folder holding a package, a portal and a victim beside them."""
    with tempfile.TemporaryDirectory(prefix="og-hostile-") as tmp:
        base = Path(tmp)
        victim = base / "victim"
        (victim / "data").mkdir(parents=True)
        (victim / "data" / "r.csv").write_text("id\n1\n", encoding="utf-8")
        yield base, base / "pkg", base / "portal"


@given(st.text(max_size=120))
@settings(max_examples=400)
def test_a_name_that_passes_is_one_plain_folder_name(name: str) -> None:
    try:
        check_name(name, "name")
    except SchemaError as exc:
        assert "\x00" not in exc.message and "\n" not in exc.message
        return
    root = Path("/srv/portal")
    assert (root / name).parent == root
    assert name not in {".", ".."} and name == name.lower() and name.isascii()
    assert not any(c in name for c in "/\\\x00") and ".." not in name
    assert len(name) <= MAX_NAME


@given(valid_names)
def test_every_name_of_the_pattern_is_accepted(name: str) -> None:
    assert check_name(name, "name") == name


@given(name=hostile_names, where=st.sampled_from(["package", "resource"]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_names_are_refused_at_load(name: str, where: str) -> None:
    assume(where == "package" or name not in RESERVED)
    with _sandbox() as (_, pkg, _):
        if where == "package":
            write_package(pkg, name=name)
        else:
            write_package(pkg, resource_name=name)
        with pytest.raises(SchemaError) as info:
            load_package(pkg)
    assert "not a valid name" in info.value.message or "has no name" in info.value.message
    assert info.value.message.isprintable()


@given(name=hostile_names, where=st.sampled_from(["package", "resource"]))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_publishing_a_hostile_name_writes_nothing_anywhere(name: str, where: str) -> None:
    assume(where == "package" or name not in RESERVED)
    with _sandbox() as (base, pkg, portal):
        write_package(pkg, **({"name": name} if where == "package" else {"resource_name": name}))
        before = snapshot(base)
        run = invoke(["publish", str(pkg), "--to", str(portal)])
        assert_clean_failure(run, SchemaError.exit_code)
        assert snapshot(base) == before  # not the portal, not beside it, no staging


@pytest.mark.parametrize("command", ["redact", "validate"])
@pytest.mark.parametrize("name", ["../x", "a/b", "./../outside-ds", "/tmp/og-abs", "x\x00y"])
def test_other_commands_refuse_hostile_names_too(tmp_path: Path, command: str, name: str) -> None:
    pkg = write_package(tmp_path / "pkg", name=name)
    before = snapshot(tmp_path)
    args = [command, str(pkg)] + (["--out", str(tmp_path / "out")] if command == "redact" else [])
    assert_clean_failure(invoke(args), SchemaError.exit_code)
    assert snapshot(tmp_path) == before


@given(valid_names)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_valid_name_publishes_into_its_own_folder_only(name: str) -> None:
    with _sandbox() as (base, pkg, portal):
        write_package(pkg, name=name, resource_name=name)
        run = invoke(["publish", str(pkg), "--to", str(portal)])
        assert run.exit_code == 0, run.output
        top = {p.name for p in portal.iterdir()}
        assert top == {name, "index.html", "catalog.json"}
        assert (portal / name / "data" / f"{name}.csv").is_file()
        assert PLANTED.encode() not in every_byte(portal)
        assert {p.name for p in base.iterdir()} == {"pkg", "portal", "victim"}


def test_names_differing_only_by_case_do_not_share_a_folder(tmp_path: Path) -> None:
    portal = tmp_path / "portal"
    pkg = write_package(tmp_path / "a", name="data")
    assert invoke(["publish", str(pkg), "--to", str(portal)]).exit_code == 0
    before = snapshot(portal)
    for other in ("Data", "DATA", "dAtA"):
        upper = write_package(tmp_path / other.lower() / "x", name=other)
        assert_clean_failure(invoke(["publish", str(upper), "--to", str(portal)]), 3)
    assert snapshot(portal) == before


def test_a_folder_name_used_as_package_name_is_checked(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Lönelista 2024")
    desc = json.loads((pkg / "datapackage.json").read_text())
    del desc["name"]
    (pkg / "datapackage.json").write_text(json.dumps(desc))
    with pytest.raises(SchemaError, match="lonelista-2024"):
        load_package(pkg)


def test_a_resource_cannot_take_the_name_of_another_ones_parquet_copy(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg")
    desc = json.loads((pkg / "datapackage.json").read_text())
    desc["resources"].append({**desc["resources"][0], "name": "r-parquet"})
    (pkg / "datapackage.json").write_text(json.dumps(desc))
    with pytest.raises(SchemaError, match="Parquet copy"):
        load_package(pkg)


# --- reading: everything comes from inside the package ------------------------------------


@pytest.mark.parametrize("item", ["rules.yaml", "datapackage.json", "data/r.csv", "schema.json"])
def test_a_link_out_of_the_package_is_refused(tmp_path: Path, item: str) -> None:
    pkg = write_package(tmp_path / "pkg")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    if item == "schema.json":
        desc = json.loads((pkg / "datapackage.json").read_text())
        (outside / "schema.json").write_text(json.dumps(desc["resources"][0]["schema"]))
        desc["resources"][0]["schema"] = "schema.json"
        (pkg / "datapackage.json").write_text(json.dumps(desc))
    else:
        (outside / Path(item).name).write_bytes((pkg / item).read_bytes())
        (pkg / item).unlink()
    (pkg / item).symlink_to(outside / Path(item).name)
    with pytest.raises((InputError, SchemaError)) as info:
        load_package(pkg)
    assert "outside" in info.value.message
    portal = tmp_path / "portal"
    run = invoke(["publish", str(pkg), "--to", str(portal)])
    assert run.exit_code in (InputError.exit_code, SchemaError.exit_code)
    assert_clean_failure(run, run.exit_code)
    assert not portal.exists()


def test_a_link_inside_the_package_is_read(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg")
    (pkg / "policy").mkdir()
    (pkg / "rules.yaml").rename(pkg / "policy" / "rules.yaml")
    (pkg / "rules.yaml").symlink_to(Path("policy") / "rules.yaml")
    assert load_package(pkg).rules_path is not None


@pytest.mark.parametrize(
    "key_path", ["../key.txt", "/etc/hostname", "keys/../../key.txt", "link-out/key.txt"]
)
def test_a_key_file_named_in_rules_must_be_inside_the_package(
    tmp_path: Path, key_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENGOV_PSEUDONYM_KEY", raising=False)
    (tmp_path / "key.txt").write_text("0" * 64)
    rules = rules_for("r")
    rules["pseudonym_key_file"] = key_path
    pkg = write_package(tmp_path / "pkg", rules=rules)
    (pkg / "link-out").symlink_to(tmp_path)
    run = invoke(["publish", str(pkg), "--to", str(tmp_path / "portal")])
    assert_clean_failure(run, RulesError.exit_code)
    assert "pseudonym_key_file" in run.stderr
    assert not (tmp_path / "portal").exists()


# --- writing: symbolic links in a target redirect nothing ---------------------------------


def _publish_ok(pkg: Path, portal: Path) -> None:
    run = invoke(["publish", str(pkg), "--to", str(portal)])
    assert run.exit_code == 0, run.output


@pytest.mark.parametrize("link", ["dataset", "staging", "dataset-inside"])
def test_links_in_the_portal_do_not_redirect_writes(tmp_path: Path, link: str) -> None:
    base, pkg, portal = tmp_path, write_package(tmp_path / "pkg"), tmp_path / "portal"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    portal.mkdir()
    if link == "dataset":
        (portal / "ds").symlink_to(victim)
    elif link == "staging":
        (portal / STAGING).symlink_to(victim)
    else:
        other = write_package(tmp_path / "other", name="other")
        _publish_ok(other, portal)
        (portal / "ds").symlink_to(portal / "other")
    before_victim, before_portal = snapshot(victim), snapshot(portal)
    run = invoke(["publish", str(pkg), "--to", str(portal)])
    assert_clean_failure(run, PublishError.exit_code)
    assert "symbolic link" in run.stderr
    assert snapshot(victim) == before_victim
    assert snapshot(portal) == before_portal
    assert {p.name for p in base.iterdir()} >= {"pkg", "portal", "victim"}


def test_inside_refuses_every_escape(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "up").symlink_to(tmp_path)
    for rel in ["../x", "/abs", "a/../../x", "up/x", "x\x00", "C:\\x", "http://h/x", ""]:
        with pytest.raises(InputError):
            inside(tmp_path / "root", rel)
    assert inside(tmp_path / "root", "a/b.csv") == (tmp_path / "root" / "a" / "b.csv").resolve()
    with pytest.raises(PublishError, match="symbolic link"):
        inside(tmp_path / "root", "up", error=PublishError, follow_links=False)


def test_redact_out_that_is_a_link_is_refused(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg")
    target = tmp_path / "empty"
    target.mkdir()
    (tmp_path / "out").symlink_to(target)
    run = invoke(["redact", str(pkg), "--out", str(tmp_path / "out")])
    assert_clean_failure(run, InputError.exit_code)
    assert list(target.iterdir()) == []


def test_importer_writes_no_file_through_a_link(tmp_path: Path) -> None:
    from opengov.importers.social.package import replace_files

    out, victim = tmp_path / "out", tmp_path / "victim"
    (out).mkdir()
    victim.mkdir()
    (out / "data").symlink_to(victim)
    with pytest.raises(InputError, match="symbolic link"):
        replace_files(out, {"data/posts.csv": b"id\n1\n"})
    assert list(victim.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- no staging folder outlives a publish -------------------------------------------------


def _fail_with(exc: BaseException):  # type: ignore[no-untyped-def]
    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    return fail


INJECTED = [
    ("opengov.release.writers.ResourceWriter._write", OSError(28, "No space left on device")),
    ("opengov.release.writers.csv_ready", RuntimeError("boom")),
    ("opengov.redact.apply.ResourceRedactor.feed", KeyboardInterrupt()),
    ("opengov.release.provenance.build", ValueError("bug")),
    ("opengov.targets.static._carry_history", MemoryError()),
    ("opengov.targets.static.os.rename", OSError(18, "Invalid cross-device link")),
]


@pytest.mark.parametrize(("where", "exc"), INJECTED, ids=[w for w, _ in INJECTED])
@pytest.mark.parametrize("republish", [False, True])
def test_a_failed_publish_leaves_no_staging_and_the_portal_as_it_was(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    exc: BaseException,
    republish: bool,
) -> None:
    pkg, portal = write_package(tmp_path / "pkg"), tmp_path / "portal"
    if republish:
        _publish_ok(pkg, portal)
        write_package(pkg, rows=[["1", "Anna Berg", PLANTED], ["3", "Ny Rad", "670919-9530"]])
    before = snapshot(portal)
    monkeypatch.setattr(where, _fail_with(exc))
    run = invoke(["publish", str(pkg), "--to", str(portal)])
    assert run.exit_code != 0
    assert "Traceback" not in run.output and PLANTED not in run.output
    assert not (portal / STAGING).exists()
    assert snapshot(portal) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg", "portal"]


def test_a_killed_publish_is_cleaned_up_by_the_next_one(tmp_path: Path) -> None:
    """SIGKILL inside the build: nothing can clean up then, so the next publish must."""
    pkg, portal = write_package(tmp_path / "pkg"), tmp_path / "portal"
    other = write_package(tmp_path / "other", name="ds.b")
    script = (
        "import os, signal, pyarrow.parquet as pq\n"
        "pq.ParquetWriter.write_table = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from opengov.cli import main\nmain()\n"
    )
    env = {**os.environ, "OPENGOV_AGENT": "test-suite"}
    for package in (pkg, other):
        proc = subprocess.run(
            [sys.executable, "-c", script, "publish", str(package), "--to", str(portal)],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == -signal.SIGKILL
    left = sorted(p.name for p in (portal / STAGING).iterdir())
    assert any(n.startswith(".ds.") for n in left) and any(n.startswith(".ds.b.") for n in left)
    _publish_ok(pkg, portal)
    # Only this dataset's leftovers go; the other dataset's are its own next publish's to clean.
    assert not any(n.startswith(".ds.") and not n.startswith(".ds.b.")
                   for n in (p.name for p in (portal / STAGING).iterdir()))  # fmt: skip
    _publish_ok(other, portal)
    assert not (portal / STAGING).exists()
    assert invoke(["verify", str(portal / "ds"), "--allow-unsigned"]).exit_code == 0
