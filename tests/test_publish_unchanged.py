"""An unchanged re-publish: fast (no published file hashed again), and never wrong.

Each input that decides the release (data, descriptor and schema, rules.yaml, the pseudonym key,
opengov's version, the signing key, the approvals) makes a real publish when it changes; a
published folder touched in any way `lstat` can see (content, size, mtime put back, a link, a
file added or removed) is checked in full and published again.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from helpers import STAFF_ROWS, STAFF_RULES, PackageFactory, write_csv
from signing_helpers import make_key
from test_approve import approve, rules_requiring

from opengov import errors
from opengov.cache import CACHE_ENV
from opengov.cli import cli
from opengov.errors import PublishError
from opengov.release import provenance
from opengov.targets import folder_state, static
from opengov.targets.static import publish_static
from opengov.trust import Trust
from opengov.verify import verify_folder

CONSISTENCY = Trust(allow_unsigned=True)
OTHER_KEY = "7a1c0e5b9f3d2a8e6c4b1f0d9e8a7c6b5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a"
PUBLISHED = [
    "datapackage.json",
    "data/personal.csv",
    "data/personal.parquet",
    "data/personal.xlsx",
    "validation.json",
    "validation.html",
    "redactions.json",
    "provenance.json",
    "index.html",
    "history.json",
    "history.html",
]


class Counted:
    """Counts the calls to the static target's function `name`, which still does its work."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls = 0
        real = getattr(static, name)

        def counted(*args: Any, **kw: Any) -> Any:
            self.calls += 1
            return real(*args, **kw)

        monkeypatch.setattr(static, name, counted)


class FullCheck(Counted):
    """Counts the full checks (every published file hashed) an unchanged publish makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch, "verify_folder")


@pytest.fixture
def published(make_package: PackageFactory, tmp_path: Path, key: str) -> tuple[Path, Path]:
    package = make_package()
    portal = tmp_path / "portal"
    assert publish_static(package, portal).status == "published"
    return package, portal


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the file system's clock too, files count as older than a clock tick at once, so
    lstat alone is trusted (racy files: tests/test_publish_racy.py)."""
    monkeypatch.setattr(folder_state, "RACY_NS", 0)


def _republish(package: Path, portal: Path, **kw: Any) -> Any:
    return publish_static(package, portal, **kw)


# ------------------------------------------------------------------------------ the fast path


def test_an_unchanged_republish_hashes_no_published_file(
    published: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, settled: None
) -> None:
    package, portal = published
    full = FullCheck(monkeypatch)
    hashed: list[str] = []
    real = folder_state._sha256

    def spy(path: Path) -> str | None:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(folder_state, "_sha256", spy)
    for _ in range(2):
        result = _republish(package, portal)
        assert result.status == "unchanged" and result.release == 1
    assert full.calls == 0 and hashed == []


def test_without_a_record_the_full_check_runs_once_and_is_recorded(
    published: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, settled: None, tmp_path: Path
) -> None:
    """Another machine, another user, a wiped or damaged cache: the full check decides."""
    package, portal = published
    full = FullCheck(monkeypatch)
    records = list((Path(os.environ[CACHE_ENV]) / "published").glob("*.json"))
    assert len(records) == 1
    for damage in (b"", b"{not json", json.dumps({"format": 1, "files": []}).encode()):
        records[0].write_bytes(damage)
        assert _republish(package, portal).status == "unchanged"
    assert full.calls == 3
    assert _republish(package, portal).status == "unchanged"
    assert full.calls == 3  # recorded by the last full check


def test_a_cache_that_cannot_be_written_costs_time_not_correctness(
    make_package: PackageFactory, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    package, portal = make_package(), tmp_path / "portal"
    assert publish_static(package, portal).status == "published"
    full = FullCheck(monkeypatch)
    assert _republish(package, portal).status == "unchanged"
    assert full.calls == 1
    (portal / "personal" / "index.html").write_text("ändrad", encoding="utf-8")
    assert _republish(package, portal).status == "published"


# ------------------------------------------------------------------------------ inputs


def _change_data(package: Path) -> None:
    rows = copy.deepcopy(STAFF_ROWS)
    rows[4][5] = "Vård"
    write_csv(package / "data" / "personal.csv", rows)


def _change_data_keeping_size_and_mtime(package: Path) -> None:
    path = package / "data" / "personal.csv"
    st = path.stat()
    data = path.read_bytes()
    swapped = data.replace(b"Lena Berg", b"Lena Borg", 1)
    assert swapped != data and len(swapped) == len(data)
    path.write_bytes(swapped)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _change_rules(package: Path) -> None:
    rules = yaml.safe_load((package / "rules.yaml").read_text(encoding="utf-8"))
    rules["decided_by"] = "Kommunstyrelsen, Exempelby kommun"
    (package / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), "utf-8")


def _change_schema(package: Path) -> None:
    desc = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    desc["resources"][0]["schema"]["fields"][0]["description"] = "Ändrad beskrivning"
    (package / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), "utf-8")


def _change_key(package: Path) -> None:
    os.environ["OPENGOV_PSEUDONYM_KEY"] = OTHER_KEY  # restored by the `key` fixture's monkeypatch


def _change_version(package: Path) -> None:
    provenance.__version__ = provenance.__version__ + ".post1"


CHANGES = {
    "data": _change_data,
    "data, same size and mtime": _change_data_keeping_size_and_mtime,
    "rules.yaml": _change_rules,
    "schema": _change_schema,
    "pseudonym key": _change_key,
    "opengov version": _change_version,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_input_change_makes_a_real_publish(
    published: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, settled: None, change: str
) -> None:
    package, portal = published
    monkeypatch.setattr(provenance, "__version__", provenance.__version__)
    monkeypatch.setenv("OPENGOV_PSEUDONYM_KEY", os.environ["OPENGOV_PSEUDONYM_KEY"])
    assert _republish(package, portal).status == "unchanged"
    CHANGES[change](package)
    result = _republish(package, portal)
    assert result.status == "published" and result.release == 2, change
    assert verify_folder(portal / "personal", CONSISTENCY).ok
    assert _republish(package, portal).status == "unchanged"


# ------------------------------------------------------------------------------ signing, approvals


def test_signing_key_changes_make_a_real_publish(
    make_package: PackageFactory, tmp_path: Path, key: str, settled: None
) -> None:
    package, portal = make_package(), tmp_path / "portal"
    old = make_key(tmp_path / "old", "Exempelby kommun")
    assert publish_static(package, portal).status == "published"
    # Unsigned, then signed: a new release, signed.
    assert publish_static(package, portal, signing_key=old).status == "published"
    assert publish_static(package, portal, signing_key=old).status == "unchanged"
    # The key that takes over signs the next release though nothing else changed.
    new = make_key(tmp_path / "new", "Exempelby kommun", replaces=old)
    result = publish_static(package, portal, signing_key=new)
    assert result.status == "published" and result.release == 3
    # Without a key, a signed chain is not "unchanged": the publish refuses to continue it.
    with pytest.raises(PublishError, match="previous release is signed"):
        publish_static(package, portal)
    assert publish_static(package, portal, signing_key=new).status == "unchanged"


def test_approval_changes_make_a_real_publish(
    make_package: PackageFactory, tmp_path: Path, key: str, settled: None
) -> None:
    people = {
        name: make_key(tmp_path / name, title)
        for name, title in [("kommun", "Exempelby kommun"), ("anna", "Anna Andersson, jurist"),
                            ("bo", "Bo Berg, registrator")]
    }  # fmt: skip
    package = make_package(rules=rules_requiring(1, people["anna"], people["bo"]))
    portal = tmp_path / "portal"
    assert approve(package, people["anna"], portal, "--yes").exit_code == 0

    def publish() -> Any:
        return CliRunner().invoke(
            cli, ["publish", str(package), "--to", str(portal), "--signing-key",
                  str(people["kommun"]), "--json"],
        )  # fmt: skip

    first = publish()
    assert first.exit_code == 0 and json.loads(first.output)["status"] == "published"
    assert json.loads(publish().output)["status"] == "unchanged"
    # A second approval: recorded by a new release.
    assert approve(package, people["bo"], portal, "--yes").exit_code == 0
    second = json.loads(publish().output)
    assert second["status"] == "published" and second["release"] == 2
    recorded = json.loads((portal / "personal" / "provenance.json").read_bytes())
    assert len(recorded["approvals"]["approvals"]) == 2
    assert json.loads(publish().output)["status"] == "unchanged"
    # Both withdrawn: the publish refuses instead of saying "unchanged".
    for file in (package / "approvals").glob("*.json"):
        file.unlink()
    refused = publish()
    assert refused.exit_code == errors.ApprovalsMissing.exit_code, refused.output


def test_the_catalogue_of_an_unchanged_publish_follows_what_it_is_made_from(
    published: tuple[Path, Path], settled: None, make_package: PackageFactory
) -> None:
    """The dataset's folder does not depend on portal.json; the portal's catalogue does, and
    an unchanged publish rewrites it whenever the settings, another dataset or the catalogue's
    own files changed (and only then)."""
    package, portal = published
    index = portal / "index.html"
    assert _republish(package, portal).status == "unchanged"
    written = index.stat().st_mtime_ns, index.stat().st_ino
    assert _republish(package, portal).status == "unchanged"
    assert (index.stat().st_mtime_ns, index.stat().st_ino) == written  # nothing to redo
    # portal.json edited by hand, the catalogue not rebuilt:
    settings = json.loads((portal / "portal.json").read_text(encoding="utf-8")) if (
        portal / "portal.json").is_file() else {}  # fmt: skip
    settings["title"] = "Exempelby öppna data"
    (portal / "portal.json").write_text(json.dumps(settings), encoding="utf-8")
    assert _republish(package, portal).status == "unchanged"
    assert "Exempelby öppna data" in index.read_text(encoding="utf-8")
    # The page edited by hand, its mtime put back:
    st = index.stat()
    index.write_text(index.read_text(encoding="utf-8").replace("Exempelby", "Annanby"), "utf-8")
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _republish(package, portal).status == "unchanged"
    assert "Annanby" not in index.read_text(encoding="utf-8")
    # Another dataset published meanwhile, its catalogue entry removed by hand:
    rules = copy.deepcopy(STAFF_RULES)
    rules["resources"] = {"budget": rules["resources"]["personal"]}
    other = make_package("budget", rules=rules)
    assert publish_static(other, portal).status == "published"
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    catalog["datasets"] = [d for d in catalog["datasets"] if d["name"] != "budget"]
    (portal / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    assert _republish(package, portal).status == "unchanged"
    names = [d["name"] for d in json.loads((portal / "catalog.json").read_bytes())["datasets"]]
    assert names == ["budget", "personal"]


# ------------------------------------------------------------------------------ the folder


def _flip_byte_keeping_mtime(path: Path) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _append(path: Path) -> None:
    with path.open("ab") as fh:
        fh.write(b" ")


def _replace_by_link(path: Path) -> None:
    copy_ = path.with_name(path.name + ".orig")
    path.rename(copy_)
    path.symlink_to(copy_.name)


TAMPERING = {
    "same size, mtime put back": _flip_byte_keeping_mtime,
    "appended": _append,
    "removed": lambda p: p.unlink(),
    "a link to a copy": _replace_by_link,
}


@pytest.mark.parametrize("racy", [False, True], ids=["settled", "just written"])
@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_a_touched_published_file_is_never_unchanged(
    published: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, how: str, racy: bool
) -> None:
    package, portal = published
    if not racy:
        monkeypatch.setattr(folder_state, "RACY_NS", 0)
    dataset = portal / "personal"
    # provenance.json itself: a damaged one stops the publish (test_publish_static.py).
    for rel in (r for r in PUBLISHED if r != "provenance.json"):
        assert _republish(package, portal).status in {"unchanged", "published"}
        assert verify_folder(dataset, CONSISTENCY).ok
        TAMPERING[how](dataset / rel)
        result = _republish(package, portal)
        assert result.status == "published", (how, rel)
        assert verify_folder(dataset, CONSISTENCY).ok, (how, rel)


def test_a_planted_file_is_never_unchanged(published: tuple[Path, Path], settled: None) -> None:
    package, portal = published
    for rel in ("extra.csv", "data/extra.csv", "history/0000.json"):
        (portal / "personal" / rel).parent.mkdir(exist_ok=True)
        (portal / "personal" / rel).write_text("x", encoding="utf-8")
        result = _republish(package, portal)
        assert result.status == "published", rel
        assert not (portal / "personal" / rel).exists()


def test_a_fresh_checkout_of_an_unchanged_package_makes_no_release(tmp_path: Path) -> None:
    """Without a pseudonym key the fingerprint covers file times, not content, so a fresh
    checkout (every file newer) misses the fast path; the built release is then compared with
    the published one and, byte for byte the same, nothing is written."""
    import shutil

    from helpers import EXAMPLES
    from hostile import snapshot

    work = tmp_path / "datapackages" / "leverantorsreskontra-2024"
    shutil.copytree(EXAMPLES / "leverantorsreskontra-2024", work)
    shutil.copytree(EXAMPLES.parent / "schemas", tmp_path / "schemas")
    portal = tmp_path / "portal"
    assert publish_static(work, portal).status == "published"
    before = snapshot(portal)
    for path in [work, *work.rglob("*")]:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5 * 10**9))
    again = publish_static(work, portal)
    assert (again.status, again.release) == ("unchanged", 1)
    assert snapshot(portal) == before
    # A change the reader would see is still a release.
    descriptor = json.loads((work / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["title"] = descriptor["title"] + " (rättad)"
    (work / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    changed = publish_static(work, portal)
    assert (changed.status, changed.release) == ("published", 2)
