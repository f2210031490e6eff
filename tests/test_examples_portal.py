"""Every example package publishes, verifies, and leaks no personnummer anywhere in the portal.

The leak scan is written independently of opengov.redact.detectors (a regex, Luhn and a date
check here), so a bug in the detectors cannot hide a leak from this test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import EXAMPLES

from opengov.targets.static import publish_static
from opengov.trust import Trust
from opengov.verify import verify_folder

# These releases are unsigned: verify checks their consistency only (signatures:
# tests/test_verify_*.py).
CONSISTENCY = Trust(allow_unsigned=True)

PLANTED = Path(__file__).parent / "fixtures" / "planted-identifiers.json"
# YYMMDD or YYYYMMDD, optional - or +, four digits; not inside a longer digit run.
CANDIDATE = re.compile(rb"(?<!\d)(?:\d{2})?(\d{6})[-+]?(\d{4})(?!\d)")


def luhn_ok(ten: str) -> bool:
    total = 0
    for i, ch in enumerate(ten):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def is_person_number(date6: str, rest4: str) -> bool:
    """Personnummer or samordningsnummer: Luhn plus a real date (day + 60 for the latter)."""
    if not luhn_ok(date6 + rest4):
        return False
    month, day = int(date6[2:4]), int(date6[4:6])
    if day > 60:
        day -= 60
    try:
        dt.date(2000, month, day)  # a leap year, so 29 February passes
    except ValueError:
        return False
    return True


def person_numbers_in(data: bytes) -> set[str]:
    return {
        m.group(1).decode() + m.group(2).decode()
        for m in CANDIDATE.finditer(data)
        if is_person_number(m.group(1).decode(), m.group(2).decode())
    }


def test_scanner_finds_the_textbook_examples() -> None:
    text = b"a 811228-9874 b 19640823-3234 c 7010632391 d 8899200425 e 212000-9903"
    assert person_numbers_in(text) == {"8112289874", "6408233234", "7010632391"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("portal")
    packages = sorted(p for p in EXAMPLES.iterdir() if (p / "datapackage.json").is_file())
    assert len(packages) >= 2
    for package in packages:
        result = publish_static(package, root, agent="test-suite")
        assert result.status == "published", package
    return root


def _datasets(portal: Path) -> list[Path]:
    return sorted(p for p in portal.iterdir() if p.is_dir())


def test_every_example_verifies(portal: Path) -> None:
    for dataset in _datasets(portal):
        result = verify_folder(dataset, CONSISTENCY)
        assert result.ok, result.mismatches
        assert result.files_checked >= 7


def test_a_changed_byte_in_any_published_file_is_named(portal: Path) -> None:
    for dataset in _datasets(portal):
        prov = json.loads((dataset / "provenance.json").read_text(encoding="utf-8"))
        for entity in prov["generated"]:
            path = dataset / entity["og:path"]
            original = path.read_bytes()
            middle = len(original) // 2
            path.write_bytes(
                original[:middle] + bytes([original[middle] ^ 0x20]) + original[middle + 1 :]
            )
            try:
                mismatches = verify_folder(dataset, CONSISTENCY).mismatches
            finally:
                path.write_bytes(original)
            assert [(m.path, m.problem) for m in mismatches] == [(entity["og:path"], "changed")]


def test_no_personnummer_in_any_published_byte(portal: Path) -> None:
    files = [p for p in portal.rglob("*") if p.is_file()]
    assert len(files) > 20
    found: dict[str, set[str]] = {}
    for path in files:
        hits = person_numbers_in(path.read_bytes())
        if path.suffix == ".parquet":
            # Parquet pages are compressed: scan the decoded values too.
            table = pq.read_table(path)
            for column in table.columns:
                for value in column.to_pylist():
                    if isinstance(value, str):
                        hits |= person_numbers_in(value.encode())
        if hits:
            found[str(path.relative_to(portal))] = hits
    assert found == {}


def _normalise(kind: str, value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if kind == "phone":
        return "0" + digits[2:] if digits.startswith("46") else digits
    return digits[-10:]


def test_no_planted_identifier_anywhere(portal: Path) -> None:
    planted = json.loads(PLANTED.read_text(encoding="utf-8"))["values"]
    numbers = {
        _normalise(v["kind"], v["value"])
        for v in planted
        if v["kind"] in ("personnummer", "samordningsnummer", "phone")
    }
    emails = {v["value"] for v in planted if v["kind"] == "email"}
    names = {v["value"] for v in planted if v["kind"] == "name"}
    addresses = {v["value"] for v in planted if v["kind"] == "address"}
    assert len(numbers) > 10 and emails and len(names) > 100 and len(addresses) > 20
    # Names and addresses the registrar wrote into public free text, which is published.
    in_public_text = {
        v["value"]
        for v in planted
        if v["kind"] in ("name", "address") and v["field"] in ("arende_mening", "leverantor")
    }
    assert len(in_public_text) > 50
    for path in (p for p in portal.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            text = "\n".join(str(v) for c in pq.read_table(path).columns for v in c.to_pylist())
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        flat = re.sub(r"[\s\-+]", "", text)
        leaked = [n for n in numbers if n in flat] + [e for e in emails if e in text]
        leaked += [n for n in names | addresses if n in text]
        assert leaked == [], path.relative_to(portal)


def test_catalogue_lists_every_example(portal: Path) -> None:
    catalog = json.loads((portal / "catalog.json").read_text(encoding="utf-8"))
    assert {d["name"] for d in catalog["datasets"]} == {p.name for p in _datasets(portal)}
    for entry in catalog["datasets"]:
        for res in entry["resources"]:
            assert (portal / entry["name"] / res["csv"]).is_file()
            assert (portal / entry["name"] / res["parquet"]).is_file()
