"""Plant secrets everywhere a secret could hide, publish, and find none in anything written.

For every example package: test personnummer, samordningsnummer, e-mail addresses and phone
numbers go into every string field the rules do not classify as public, and into every free-text
field the rules scan. The package is published through the CLI with verbose logging, and every
byte written (data, Parquet values, pages, reports, provenance, manifest) plus everything printed
is searched for them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import EXAMPLES

from opengov.cli import cli
from opengov.errors import DisclosureBlocked
from opengov.package import load_package
from opengov.rules import load_rules

SECRETS = {
    "pnr": "19811228-9874",
    "pnr10": "640823-3234",
    "samnr": "701063-2391",
    "email": "hemlig.person@example.com",
    "phone": "070-123 45 67",
    # A private person's name and home address, in the form registrars write them.
    "name": "Hodan Warsame",
    "address": "Kvarnvägen 17 B, 123 45 Exempelby",
}
KIND = {
    "pnr": "personnummer",
    "pnr10": "personnummer",
    "samnr": "samordningsnummer",
    "email": "email",
    "phone": "phone",
    "name": "name",
    "address": "address",
}
DIGIT_FORMS = {"8112289874", "6408233234", "7010632391", "0701234567"}


def examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if (p / "datapackage.json").is_file())


def plant(package_dir: Path, *, only_scanned_kinds: bool = True) -> int:
    """Rewrite each CSV with secrets in non-public and scanned string fields; count cells.

    Every kind goes into non-public fields. A scanned public field gets the kinds its rule
    scans for (or, with only_scanned_kinds=False, every kind: the last scan must then stop the
    publish).
    """
    package = load_package(package_dir)
    rules = load_rules(package_dir / "rules.yaml")
    planted = 0
    for res in package.resources:
        assert res.path is not None and res.encoding is not None
        fields = {f["name"]: f for f in res.schema["fields"]}
        targets: dict[str, str] = {}
        for name, rule in rules.resources[res.name].fields.items():
            f = fields[name]
            constrained = {"pattern", "enum", "maxLength"} & set(f.get("constraints", {}))
            if f.get("type", "string") != "string" or constrained:
                continue
            if not rule.public or (rule.scan and not only_scanned_kinds):
                targets[name] = ", ".join(SECRETS.values())
            elif rule.scan:
                targets[name] = ", ".join(v for k, v in SECRETS.items() if KIND[k] in rule.scan)
        # Row filters compare values of public fields; keep those untouched so rows survive.
        text = res.path.read_bytes().decode(res.encoding)
        delimiter = res.delimiter
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        header = rows[0]
        for row in rows[1:]:
            for name, secret in targets.items():
                i = header.index(name)
                if i < len(row) and secret:
                    row[i] = (row[i] + " " + secret).strip()
                    planted += 1
        out = io.StringIO(newline="")
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        encoding = "utf-8-sig" if res.encoding == "utf-8-sig" else res.encoding
        res.path.write_bytes(out.getvalue().encode(encoding))
    _redeclare_sizes(package_dir)
    return planted


def _redeclare_sizes(package_dir: Path) -> None:
    """A package that declares its files' bytes and hash (the social importer writes them)
    declares the planted files' own: otherwise validation stops the publish (byte-count,
    hash-count) before the planted values could reach anything."""
    import hashlib
    import json

    descriptor_path = package_dir / "datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    for res in descriptor.get("resources", []):
        if not isinstance(res.get("path"), str) or not {"bytes", "hash"} & set(res):
            continue
        data = (package_dir / res["path"]).read_bytes()
        if "bytes" in res:
            res["bytes"] = len(data)
        if "hash" in res:
            algorithm, _, _ = str(res["hash"]).rpartition(":")
            digest = hashlib.new(algorithm or "md5", data).hexdigest()
            res["hash"] = f"{algorithm}:{digest}" if algorithm else digest
    descriptor_path.write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")


def leaks(text: str) -> list[str]:
    found = [v for v in SECRETS.values() if v in text]
    # Parts of the address too: the street with its number, and the postcode with the town.
    found += [part for part in ("Kvarnvägen 17", "123 45 Exempelby") if part in text]
    flat = re.sub(r"[\s\-+]", "", text)
    found += [d for d in DIGIT_FORMS if d in flat]
    return found


@pytest.mark.parametrize("example", examples(), ids=lambda p: p.name)
def test_planted_secrets_never_leave(example: Path, tmp_path: Path, key: str) -> None:
    work = tmp_path / "datapackages" / example.name
    shutil.copytree(example, work)
    shutil.copytree(EXAMPLES.parent / "schemas", tmp_path / "schemas")
    assert plant(work) > 0
    portal = tmp_path / "portal"
    runner = CliRunner()
    result = runner.invoke(cli, ["-v", "publish", str(work), "--to", str(portal), "--json"])
    assert result.exit_code == 0, result.output
    outputs = [result.output]
    verify = runner.invoke(
        cli, ["verify", str(portal / example.name), "--json", "--allow-unsigned"]
    )
    assert json.loads(verify.output)["ok"] is True
    outputs.append(verify.output)
    validate = runner.invoke(
        cli, ["validate", str(work), "--json", "--html", str(tmp_path / "report.html")]
    )
    outputs += [validate.output, (tmp_path / "report.html").read_text(encoding="utf-8")]
    files = [p for p in portal.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            text = "\n".join(str(v) for c in table.columns for v in c.to_pylist())
        elif path.suffix == ".xlsx":
            # A ZIP of XML: every part, unpacked (compressed bytes would hide a planted value).
            with zipfile.ZipFile(path) as book:
                text = "\n".join(book.read(n).decode("utf-8") for n in book.namelist())
        else:
            text = path.read_text(encoding="utf-8")
        assert leaks(text) == [], path.relative_to(portal)
    for text in outputs:
        assert leaks(text) == []


def test_secrets_in_invalid_non_public_cells_stay_out_of_reports(tmp_path: Path) -> None:
    """A secret that also breaks the schema must not reach the report through the error."""
    example = EXAMPLES / "diarium-2024"
    work = tmp_path / "datapackages" / example.name
    shutil.copytree(example, work)
    # A pattern no e-mail address matches, on the masked (personal) sender field.
    descriptor_path = work / "datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    fields = descriptor["resources"][0]["schema"]["fields"]
    field = next(f for f in fields if f["name"] == "avsandare_mottagare")
    field.setdefault("constraints", {})["pattern"] = "[^@]*"
    descriptor_path.write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    rules = load_rules(work / "rules.yaml")
    assert not rules.resources["handlingar"].fields["avsandare_mottagare"].public
    res = load_package(work).resources[0]
    assert res.path is not None and res.encoding is not None
    text = res.path.read_bytes().decode(res.encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    i = rows[0].index("avsandare_mottagare")
    for row in rows[1:50]:
        row[i] = SECRETS["email"]
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    res.path.write_bytes(out.getvalue().encode(res.encoding))
    runner = CliRunner()
    result = runner.invoke(
        cli, ["validate", str(work), "--json", "--html", str(tmp_path / "r.html")]
    )
    report = json.loads(result.output)
    assert result.exit_code == 1 and report["stats"]["errors"] >= 49
    assert leaks(result.output) == []
    assert leaks((tmp_path / "r.html").read_text(encoding="utf-8")) == []
    publish = runner.invoke(cli, ["publish", str(work), "--to", str(tmp_path / "portal")])
    assert publish.exit_code == 1 and leaks(publish.output) == []


def test_a_kind_the_rule_does_not_scan_for_blocks_the_publish(tmp_path: Path) -> None:
    """leverantor_id is scanned for personnummer only: an e-mail there must stop everything."""
    example = EXAMPLES / "leverantorsreskontra-2024"
    work = tmp_path / "datapackages" / example.name
    shutil.copytree(example, work)
    shutil.copytree(EXAMPLES.parent / "schemas", tmp_path / "schemas")
    assert plant(work, only_scanned_kinds=False) > 0
    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["publish", str(work), "--to", str(portal)])
    assert result.exit_code == DisclosureBlocked.exit_code, result.output
    assert "fakturor.leverantor_id: email" in result.output
    assert leaks(result.output) == []
    assert not portal.exists() or not [p for p in portal.rglob("*") if p.is_file()]


def test_a_name_in_free_text_the_rule_does_not_decide_blocks_the_publish(tmp_path: Path) -> None:
    """arende_mening scanned for identifiers only: a private name and address must stop it."""
    example = EXAMPLES / "diarium-2024"
    work = tmp_path / "datapackages" / example.name
    shutil.copytree(example, work)
    rules_path = work / "rules.yaml"
    text = rules_path.read_text(encoding="utf-8")
    decided = "scan: [personnummer, samordningsnummer, email, phone, name, address]"
    assert decided in text
    rules_path.write_text(
        text.replace(decided, "scan: [personnummer, samordningsnummer, email, phone]"),
        encoding="utf-8",
    )
    assert plant(work) > 0
    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["publish", str(work), "--to", str(portal)])
    assert result.exit_code == DisclosureBlocked.exit_code, result.output
    assert "handlingar.arende_mening: name in " in result.output
    assert "handlingar.arende_mening: address in " in result.output
    assert leaks(result.output) == []
    assert "Kvarnvägen" not in result.output and "Warsame" not in result.output
    assert not portal.exists() or not [p for p in portal.rglob("*") if p.is_file()]
