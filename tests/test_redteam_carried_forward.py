"""Red team: what a publish or withdraw carries forward from the portal is checked first.

A new release carries parts of the one before it: the earlier provenance documents
(`history/`), the list of releases (`history.json`) and, for a withdrawal, the title and
description. Someone who can write to the portal (docs/provenance.md, "Threat model") could
change those between releases, and the publisher's next release, signed, vouched for them.

Found:
- a link planted in `history/` (`history/<sha>.json -> /home/registrator/nyckel.txt`) made the
  next publish copy the linked file, whatever it was (the pseudonym key, the signing key), into
  the portal for anyone to download; the publish exited 0;
- a `previous.path` of `history/../../...` in a rewritten provenance.json made the copy read and
  write outside the portal (or crash with exit 70 when both ends were the same file);
- records added to `history.json` (a forged withdrawal with its "reason") were carried into the
  next release's signed history.json and history.html;
- `opengov withdraw` took the title and description of the notice and of the withdrawal's
  signed datapackage.json from a datapackage.json changed after publishing.

Now every file carried forward is read without following links and only when its bytes are
the ones its provenance (or the chain's link) names.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers import STAFF_ROWS, PackageFactory, write_csv
from hostile import Run, assert_clean_failure, every_byte, invoke, run_measured, snapshot
from signing_helpers import make_key, read_doc, write_doc

from opengov.errors import PublishError
from opengov.trust import Trust
from opengov.verify import verify_folder

SECRET = b"NYCKEL-4d459b5539fc67f5-HEMLIG"


def _publish(package: Path, portal: Path, *extra: str) -> None:
    run = invoke(["publish", str(package), "--to", str(portal), *extra])
    assert run.exit_code == 0, run.output


def _change(package: Path, n: int) -> None:
    rows = [r[:] for r in STAFF_ROWS]
    rows[4][7] = f"Ändrad {n}"
    write_csv(package / "data" / "personal.csv", rows)


@pytest.fixture
def two_releases(make_package: PackageFactory, tmp_path: Path, key: str) -> tuple[Path, Path]:
    package, portal = make_package(), tmp_path / "portal"
    _publish(package, portal)
    _change(package, 1)
    _publish(package, portal)
    return package, portal


def _history_entry(dataset: Path) -> Path:
    (entry,) = (dataset / "history").iterdir()
    return entry


@pytest.mark.parametrize("planted", ["link to a secret", "link to a folder", "fifo"])
def test_a_link_planted_in_history_is_never_carried_into_the_portal(
    two_releases: tuple[Path, Path], tmp_path: Path, planted: str
) -> None:
    package, portal = two_releases
    secret = tmp_path / "outside" / "nyckel.txt"
    secret.parent.mkdir()
    secret.write_bytes(SECRET)
    entry = _history_entry(portal / "personal")
    entry.unlink()
    if planted == "link to a secret":
        entry.symlink_to(secret)
    elif planted == "link to a folder":
        entry.symlink_to(secret.parent, target_is_directory=True)
    else:
        import os

        os.mkfifo(entry)
    before = snapshot(portal)
    _change(package, 2)

    # In a child process: a FIFO blocked the publish forever (found), which must fail the test.
    run = run_measured(["publish", str(package), "--to", str(portal)], timeout=60)

    assert_clean_failure(Run(run.exit_code, run.stdout, run.stderr), PublishError.exit_code)
    assert "history" in run.stderr and "opengov verify" in run.stderr
    assert SECRET not in every_byte(portal)
    assert snapshot(portal) == before


@pytest.mark.parametrize("depth", range(0, 12))
def test_a_previous_path_climbing_out_of_history_reads_and_writes_nothing_outside(
    two_releases: tuple[Path, Path], tmp_path: Path, depth: int
) -> None:
    package, portal = two_releases
    dataset = portal / "personal"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "nyckel.txt").write_bytes(SECRET)
    # A consistent rewrite of the unsigned head: its link climbs `depth` levels out of history/
    # and down to a file the attacker wants read (or overwritten).
    doc = read_doc(dataset)
    climb = "/".join([".."] * depth)
    rel_outside = Path(*[".."] * 2, "outside", "nyckel.txt").as_posix()
    doc["previous"]["path"] = f"history/{climb}/{rel_outside}".replace("//", "/")
    write_doc(dataset, doc)
    before_outside, before_portal = snapshot(outside), snapshot(portal)
    _change(package, 2)

    run = invoke(["publish", str(package), "--to", str(portal)])

    assert_clean_failure(run, PublishError.exit_code)
    assert snapshot(outside) == before_outside
    assert snapshot(portal) == before_portal
    assert SECRET not in every_byte(portal)
    assert not list(tmp_path.rglob("nyckel.txt"))[1:], "the secret was copied somewhere"


def test_records_added_to_history_json_are_not_carried_into_the_next_release(
    two_releases: tuple[Path, Path],
) -> None:
    package, portal = two_releases
    dataset = portal / "personal"
    history = json.loads((dataset / "history.json").read_text(encoding="utf-8"))
    forged = {
        "release": 1,
        "published": "2020-01-01T00:00:00Z",
        "kind": "withdrawal",
        "reason": "FÖRFALSKAD: publicerad av misstag, personnummer läckte",
        "changes": [],
    }
    history["releases"] = [r for r in history["releases"] if r["release"] != 1] + [forged]
    (dataset / "history.json").write_text(json.dumps(history), encoding="utf-8")
    _change(package, 2)

    _publish(package, portal)

    for name in ("history.json", "history.html"):
        assert "FÖRFALSKAD" not in (dataset / name).read_text(encoding="utf-8"), name
    assert verify_folder(dataset, Trust(allow_unsigned=True)).ok
    # The changed history.json is not carried at all (nothing in it can be told genuine);
    # the earlier releases are still listed on the page, from the signed chain.
    carried = json.loads((dataset / "history.json").read_text(encoding="utf-8"))
    assert [r["release"] for r in carried["releases"]] == [3]
    page = (dataset / "history.html").read_text(encoding="utf-8")
    assert 'id="utgava-1"' in page and 'id="utgava-2"' in page


def test_a_withdrawal_does_not_sign_a_descriptor_changed_after_publishing(
    two_releases: tuple[Path, Path], tmp_path: Path
) -> None:
    _, portal = two_releases
    signing = make_key(tmp_path / "keys")
    dataset = portal / "personal"
    descriptor = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["title"] = "FÖRFALSKAD titel"
    descriptor["description"] = "FÖRFALSKAD beskrivning <script>alert(1)</script>"
    (dataset / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")

    run = invoke(
        [
            "withdraw",
            "personal",
            "--to",
            str(portal),
            "--reason",
            "Fel urval.",
            "--signing-key",
            str(signing),
        ]
    )

    assert run.exit_code == 0, run.output
    assert b"F\xc3\x96RFALSKAD" not in every_byte(dataset)
    published = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    assert published["resources"] == [] and published["name"] == "personal"


def test_an_untouched_chain_is_still_carried_whole(two_releases: tuple[Path, Path]) -> None:
    package, portal = two_releases
    dataset = portal / "personal"
    _change(package, 2)
    _publish(package, portal)
    _change(package, 3)
    _publish(package, portal)
    names = sorted(p.name for p in (dataset / "history").iterdir())
    assert len(names) == 3
    for name in names:
        data = (dataset / "history" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() + ".json" == name
    result = verify_folder(dataset, Trust(allow_unsigned=True))
    assert result.ok and result.chain_length == 4, result.to_dict()
