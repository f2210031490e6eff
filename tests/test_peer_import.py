"""Peer contract: drafting (`opengov init`), importing (`import sql` from SQLite, `import
twitter`/`facebook` from the social fixtures, `classify`) and validating single files and
packages, as docs/importers.md, docs/social-media.md, docs/report.md and docs/formats.md say;
black-box, `--json` against the documented library calls."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from peer_support import (
    PNR,
    PNR_12,
    ROOT,
    as_json,
    environment,
    grants_package,
    library_publish,
    og,
    og_all,
    ok,
    tree,
)

SOCIAL = ROOT / "tests" / "fixtures" / "social"
KEY = SOCIAL / "example-pseudonym-key.txt"


# --- init --------------------------------------------------------------------------------------


EXPORT = (
    "Diarienummer;Mottagare;Personnummer;Belopp (kr);Beslutsdatum;Utbetalt;Beskrivning\r\n"
    f"KS 2024/101;Ängsbackens IF;{PNR};104\u00a0824,50;2024-03-01;ja;Planterad-Text-91ab\r\n"
    f"KS 2024/102;Öbergs Kulturförening;{PNR_12};1\u00a0250,00;2024-04-12;nej;Bidrag\r\n"
    "KS 2024/103;Västra Schack;640823-3234;300,00;2024-05-20;ja;Lokalhyra\r\n"
)


def test_init_drafts_an_excel_export_and_writes_no_value(tmp_path: Path) -> None:
    (tmp_path / "bidrag.csv").write_bytes(EXPORT.encode("cp1252"))
    result = as_json("init", "bidrag.csv", "--out", "bidrag", cwd=tmp_path)
    assert result["encoding"] == "cp1252" and result["dialect"]["delimiter"] == ";"
    doc = json.loads((tmp_path / "bidrag" / "datapackage.json").read_text("utf-8"))
    (resource,) = doc["resources"]
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert fields["belopp_kr"]["type"] == "number"
    assert (
        fields["belopp_kr"]["decimalChar"] == "," and fields["belopp_kr"]["groupChar"] == "\u00a0"
    )
    assert fields["belopp_kr"]["title"] == "Belopp (kr)"
    assert fields["beslutsdatum"]["type"] == "date"
    assert fields["utbetalt"]["type"] == "boolean"
    assert resource["schema"]["primaryKey"] == ["diarienummer"]
    drafts = ["datapackage.json", "rules.yaml", "import.json"]
    for name in drafts:
        text = (tmp_path / "bidrag" / name).read_text("utf-8")
        for value in ("Planterad-Text-91ab", PNR, "Ängsbackens", "KS 2024/101", "104"):
            assert value not in text, (name, value)
    # Nothing publishes before a person decides; re-running leaves the folder byte-identical.
    assert og("publish", "bidrag", "--plan", cwd=tmp_path).returncode == 5
    before = tree(tmp_path / "bidrag")
    again = as_json("init", "bidrag.csv", "--out", "bidrag", cwd=tmp_path)
    assert again["changed"] is False and tree(tmp_path / "bidrag") == before
    # An edited rules.yaml is kept.
    rules = tmp_path / "bidrag" / "rules.yaml"
    rules.write_text("version: 1\nresources: {}\n", "utf-8")
    ok("init", "bidrag.csv", "--out", "bidrag", cwd=tmp_path)
    assert rules.read_text("utf-8") == "version: 1\nresources: {}\n"


def test_init_refuses_bad_input_writing_nothing(tmp_path: Path) -> None:
    (tmp_path / "tom.csv").write_bytes(b"")
    (tmp_path / "rubrik.csv").write_text("id;namn\n", "utf-8")
    (tmp_path / "bild.parquet").write_text("id;namn\n1;a\n", "utf-8")
    (tmp_path / "bild.xlsx").write_text("id;namn\n1;a\n", "utf-8")
    sources = ["tom.csv", "rubrik.csv", "bild.parquet", "bild.xlsx"]
    runs = og_all([["init", s, "--out", f"ut-{s}"] for s in sources], cwd=tmp_path)
    for source, done in zip(sources, runs, strict=True):
        assert done.returncode == 6, (source, done.stdout, done.stderr)
        assert not (tmp_path / f"ut-{source}").exists(), source


def test_init_does_not_keep_a_value_as_a_title(tmp_path: Path) -> None:
    """A data row read as the header: its values are no titles, the names are field_N."""
    (tmp_path / "lista.csv").write_text(
        f"1;{PNR};anna@example.se\n2;{PNR_12};bo@example.se\n", "utf-8"
    )
    ok("init", "lista.csv", "--out", "lista", cwd=tmp_path)
    for name in ("datapackage.json", "rules.yaml", "import.json"):
        text = (tmp_path / "lista" / name).read_text("utf-8")
        assert PNR not in text and "anna@example.se" not in text, name
    fields = json.loads((tmp_path / "lista" / "datapackage.json").read_text("utf-8"))["resources"][
        0
    ]["schema"]["fields"]
    assert [f["name"] for f in fields][1:] == ["field_2", "field_3"]


def test_init_reads_xlsx_and_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Bidrag 2024"
    sheet.append(["Diarienummer", "Belopp (kr)"])
    sheet.append(["KS 2024/1", 1250.5])
    book.create_sheet("Anteckningar").append(["x"])
    book.save(tmp_path / "bidrag.xlsx")
    done = og("init", "bidrag.xlsx", "--out", "x", cwd=tmp_path)
    assert done.returncode == 67 and "Bidrag 2024" in done.stderr + done.stdout
    done = og("init", "bidrag.xlsx", "--sheet", "Saknas", "--out", "x", cwd=tmp_path)
    assert done.returncode == 67
    ok("init", "bidrag.xlsx", "--sheet", "Bidrag 2024", "--out", "x", cwd=tmp_path)
    assert (tmp_path / "x" / "data").is_dir()
    pq.write_table(pa.table({"Id": [1, 2], "Namn": ["a", "b"]}), tmp_path / "t.parquet")
    result = as_json("init", "t.parquet", "--out", "p", "--name", "tabell", cwd=tmp_path)
    assert result["resource"] == "tabell"
    assert [f["name"] for f in result["fields"]] == ["id", "namn"]


# --- import sql (SQLite) -----------------------------------------------------------------------


def test_import_sql_from_sqlite_and_reimport_unchanged(tmp_path: Path) -> None:
    from opengov.importers.sql import import_sql

    with sqlite3.connect(tmp_path / "kommun.db") as db:
        db.execute(
            "CREATE TABLE foreningar (id INTEGER PRIMARY KEY, namn TEXT NOT NULL, "
            "belopp REAL, beslutad DATE)"
        )
        db.executemany(
            "INSERT INTO foreningar VALUES (?, ?, ?, ?)",
            [(1, "Exempelby IF", 1250.5, "2024-03-01"), (2, "Västra Schack", 300.0, None)],
        )
    url = "sqlite:///kommun.db"
    printed = as_json("import", "sql", url, "--table", "foreningar", "--out", "foreningar",
                      cwd=tmp_path)  # fmt: skip
    before = tree(tmp_path / "foreningar")
    again = as_json("import", "sql", url, "--table", "foreningar", "--out", "foreningar",
                    cwd=tmp_path)  # fmt: skip
    assert printed["changed"] is True and again["changed"] is False
    assert tree(tmp_path / "foreningar") == before
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        library = import_sql(url, table="foreningar", out=Path("foreningar")).to_dict()
    finally:
        os.chdir(cwd)
    assert json.loads(json.dumps(library)) == again
    schema = json.loads((tmp_path / "foreningar" / "datapackage.json").read_text("utf-8"))
    fields = {f["name"]: f for f in schema["resources"][0]["schema"]["fields"]}
    assert fields["id"]["type"] == "integer" and fields["belopp"]["type"] == "number"
    assert fields["namn"].get("constraints", {}).get("required") is True
    assert schema["resources"][0]["schema"]["primaryKey"] == ["id"]
    record = json.loads((tmp_path / "foreningar" / "import.json").read_text("utf-8"))
    assert record["source"]["driver"] == "sqlite" and record["rows"] == 2
    assert og("publish", "foreningar", "--plan", cwd=tmp_path).returncode == 5
    # A query needs an ORDER BY of its own; it is recorded as the query.
    query = "SELECT id, namn FROM foreningar ORDER BY id"
    ok("import", "sql", url, "--query", query, "--name", "namn", "--out", "namn", cwd=tmp_path)
    assert (
        json.loads((tmp_path / "namn" / "import.json").read_text("utf-8"))["source"]["query"]
        == query
    )
    # A folder holding something else is refused (6); a query that writes fails (65).
    (tmp_path / "annat").mkdir()
    (tmp_path / "annat" / "fil.txt").write_text("x", "utf-8")
    done = og("import", "sql", url, "--table", "foreningar", "--out", "annat", cwd=tmp_path)
    assert done.returncode == 6
    done = og("import", "sql", url, "--query", "DELETE FROM foreningar RETURNING id",
              "--out", "borta", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 65
    with sqlite3.connect(tmp_path / "kommun.db") as db:
        assert db.execute("SELECT count(*) FROM foreningar").fetchone() == (2,)


# --- social media ------------------------------------------------------------------------------


def test_import_twitter_json_is_the_library_result_and_reimport_is_identical(
    tmp_path: Path,
) -> None:
    from opengov.importers.social import import_twitter

    args = ("--account", "ExempelbyKC (X)", "--account-type", "official")
    export = SOCIAL / "twitter-2024"
    printed = as_json("import", "twitter", export, *args, "--out", "a", "--name", "sm",
                      cwd=tmp_path)  # fmt: skip
    library = import_twitter(
        export, account="ExempelbyKC (X)", account_type="official", out=tmp_path / "b",
        info=None,
    ).to_dict()  # fmt: skip
    for result in (printed, library):
        result.pop("out")
        result.pop("outputs")
        result.pop("name")
    assert printed == json.loads(json.dumps(library))
    assert printed["files_by_status"]["not_understood"] == 0
    assert printed["posts"]["by_classification"]["official"] == printed["posts"]["total"] > 0
    first = tree(tmp_path / "a")
    ok("import", "twitter", export, *args, "--out", "a", cwd=tmp_path)
    assert tree(tmp_path / "a") == first
    # Imported into another package: the same records, byte for byte.
    assert (tmp_path / "a" / "posts.csv").read_bytes() == (
        tmp_path / "b" / "posts.csv"
    ).read_bytes()


def test_import_facebook_needs_the_key_and_classify_applies_decisions(tmp_path: Path) -> None:
    env = environment(tmp_path)
    account = ("--account", "Håkan Öberg (privat Facebook)", "--account-type", "personal")
    export = SOCIAL / "facebook-personal"
    done = og("import", "facebook", export, *account, "--out", "sm", cwd=tmp_path, env=env)
    assert done.returncode == 10 and not (tmp_path / "sm").exists()
    result = as_json("import", "facebook", export, *account, "--key-file", KEY, "--out", "sm",
                     "--name", "sociala-medier", cwd=tmp_path, env=env)  # fmt: skip
    assert result["name"] == "sociala-medier"
    assert result["posts"]["by_classification"]["undecided"] == result["posts"]["total"] > 1
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sm" / "posts.csv").read_text("utf-8"))))
    ids = [r["record_id"] for r in rows]
    # fb- and 16 hex digits; posts with the same time and text (a batch of photos) -2, -3, ...
    assert all(re.fullmatch(r"fb-[0-9a-f]{16}(-[2-9])?", i) for i in ids), ids
    # Nothing on a personal account is published until decided: a publish of the package as
    # imported publishes no post.
    library_publish(tmp_path / "sm", tmp_path / "portal", tmp_path, key_file=KEY)
    published = (tmp_path / "portal" / "sociala-medier" / "data" / "posts.csv").read_text("utf-8")
    assert len(published.strip().splitlines()) == 1, published
    # Decisions as Swedish Excel saves them: Windows-1252, semicolons.
    lines = ["record_id;classification;classified_by;reason",
             f"{ids[0]};official;Registrator, kommunledningsförvaltningen;Skrivet i tjänsten",
             f"{ids[1]};private;Registrator, kommunledningsförvaltningen;Privat"]  # fmt: skip
    (tmp_path / "beslut.csv").write_bytes("\r\n".join(lines).encode("cp1252"))
    before = tree(tmp_path / "sm")
    bad = [*lines, f"{ids[0]};kanske;;", "fb-0000000000000000;official;R;x"]
    (tmp_path / "fel.csv").write_bytes("\r\n".join(bad).encode("cp1252"))
    done = og("classify", "sm", "--from", "fel.csv", cwd=tmp_path, env=env)
    assert done.returncode == 6 and "line 4" in done.stderr and "line 5" in done.stderr
    assert tree(tmp_path / "sm") == before
    classified = as_json("classify", "sm", "--from", "beslut.csv", cwd=tmp_path, env=env)
    assert classified
    # (The package as generated publishes: a personal account's name is published by the
    # rules' decision, it once stopped the publish with exit 9.)
    ok("publish", "sm", "--to", "portal", "--key-file", KEY, cwd=tmp_path, env=env)
    published = (tmp_path / "portal" / "sociala-medier" / "data" / "posts.csv").read_text("utf-8")
    assert ids[0] in published and ids[1] not in published
    # Re-importing keeps the decisions.
    ok("import", "facebook", export, *account, "--key-file", KEY, "--out", "sm", cwd=tmp_path,
       env=env)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sm" / "posts.csv").read_text("utf-8"))))
    assert {r["record_id"]: r["classification"] for r in rows}[ids[0]] == "official"


def zipped(folder: Path, into: Path, extra: dict[str, bytes | str] | None = None) -> Path:
    with zipfile.ZipFile(into, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return into


@pytest.mark.parametrize(
    ("case", "code"),
    [("html", 15), ("other-platform", 15), ("bomb", 16), ("too-large", 16), ("unread", 50),
     ("bad-name", 6), ("bad-handle", 6), ("missing", 6)],
)  # fmt: skip
def test_import_refuses_bad_exports_writing_nothing(tmp_path: Path, case: str, code: int) -> None:
    platform, args = "twitter", ["--max-unpacked-mb", "500"]
    if case == "html":
        platform, export = "facebook", SOCIAL / "facebook-html"
        args = ["--key-file", str(KEY)]
    elif case == "other-platform":
        export = SOCIAL / "facebook-2019"
    elif case == "bomb":
        export = zipped(
            SOCIAL / "twitter-2024", tmp_path / "x.zip", {"data/pad.bin": b"0" * 3_000_000}
        )
    elif case == "too-large":
        # Media are never decompressed, so the data itself must be large: a long field.
        tweets = (SOCIAL / "twitter-2024" / "data" / "tweets.js").read_text("utf-8")
        start = tweets.index("{")
        padded = (
            tweets[:start] + '{"pad": "' + os.urandom(700_000).hex() + '", ' + tweets[start + 1 :]
        )
        export = zipped(SOCIAL / "twitter-2024", tmp_path / "x.zip",
                        {"data/tweets-part2.js": padded.replace(".part0", ".part2")})  # fmt: skip
        args = ["--max-unpacked-mb", "1"]
    elif case == "bad-name":
        export, args = SOCIAL / "twitter-2024", ["--name", "Kommunchefens Medier"]
    elif case == "bad-handle":
        export, args = SOCIAL / "twitter-2024", ["--own-handle", "inte ett handle!"]
    elif case == "missing":
        export = tmp_path / "finns-inte.zip"
    else:
        export = tmp_path / "export"
        shutil.copytree(SOCIAL / "twitter-2024", export)
        (export / "data" / "tweets-gammal-form.js").write_text(
            'window.YTD.tweets.part9 = [{"inlagg": {"id_str": "1", "text": "Hej"}}]', "utf-8"
        )
    done = og("import", platform, export, "--account", "K", *args, "--out", "sm", cwd=tmp_path)
    assert done.returncode == code, done.stdout + done.stderr
    assert not (tmp_path / "sm").exists()


# --- validate ----------------------------------------------------------------------------------


def test_validate_report_masks_and_counts_exactly(tmp_path: Path) -> None:
    rows = [f"{i};Förening {i};{PNR};{PNR};2024-03-01;x" for i in range(1, 31)]
    grants_package(tmp_path / "bidrag", rows=rows)
    done, other, shown, both = og_all(
        [
            ["validate", "bidrag", "--samples", "3", "--json", "--html", "r.html",
             "--report", "r.json"],
            # The frictionless engine reports the same totals, as masked.
            ["validate", "bidrag", "--samples", "3", "--json", "--engine", "frictionless"],
            # While drafting: the terminal shows the values, the written files do not...
            ["validate", "bidrag", "--show-values", "--report", "r2.json"],
            # ... unless asked to.
            ["validate", "bidrag", "--show-values", "--show-values-in-report", "--report",
             "r3.json"],
        ],
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["summary"] == [s for s in report["summary"] if s["count"] == 30]
    assert report["stats"]["errors"] == 30
    (task,) = report["tasks"]
    assert len(task["errors"]) == 3
    assert all(e["cell"] == "[dold]" and "cells" not in e for e in task["errors"])
    assert other.returncode == 1 and PNR not in other.stdout + other.stderr
    assert json.loads(other.stdout)["summary"] == report["summary"]
    for output in (done.stdout, done.stderr, (tmp_path / "r.html").read_text("utf-8"),
                   (tmp_path / "r.json").read_text("utf-8")):  # fmt: skip
        assert PNR not in output
    assert shown.returncode == 1 and PNR in shown.stdout + shown.stderr
    assert PNR not in (tmp_path / "r2.json").read_text("utf-8")
    written = json.loads((tmp_path / "r3.json").read_text("utf-8"))
    assert both.returncode == 1 and PNR in json.dumps(written)
    assert written["opengov"]["masking"].startswith("VALUES SHOWN")


def test_validate_hints_from_the_cells_shape(tmp_path: Path) -> None:
    package = grants_package(tmp_path / "bidrag", rows=["1;A B;x;104 824,50;01/03/2024;a"])
    doc = json.loads((package / "datapackage.json").read_text("utf-8"))
    for field in doc["resources"][0]["schema"]["fields"]:
        field.pop("decimalChar", None)
        field.pop("groupChar", None)
    (package / "datapackage.json").write_text(json.dumps(doc), "utf-8")
    done = og("validate", "bidrag", cwd=tmp_path)
    assert done.returncode == 1
    assert '"decimalChar": ","' in done.stdout + done.stderr
    assert '"format": "%d/%m/%Y"' in done.stdout + done.stderr
    assert "104 824" not in done.stdout + done.stderr


def test_waivers_accept_named_errors_until_they_expire(tmp_path: Path) -> None:
    from peer_support import RULES

    rows = ["1;A B;x;inte ett tal;2024-03-01;a", "2;C D;y;1,0;2024-03-01;b"]
    for expires, code in (("2099-12-31", 0), ("2020-01-01", 1)):
        waiver = (
            '    waivers:\n      - {field: belopp, type: type-error, reason: "Kända fel", '
            f"expires: {expires}}}\n"
        )
        grants_package(tmp_path / "bidrag", rows=rows, rules=RULES + waiver)
        done = og("validate", "bidrag", "--json", cwd=tmp_path)
        assert done.returncode == code, done.stdout + done.stderr
        report = json.loads(done.stdout)
        (summary,) = report["summary"]
        assert summary["waived"] is (code == 0) and summary["count"] == 1
        (waiver_state,) = report["opengov"]["waivers"]
        assert waiver_state["active"] is (code == 0)


def test_validate_a_single_file(tmp_path: Path) -> None:
    (tmp_path / "lista.csv").write_text("id;namn\n1;Exempelby IF\n2;Västra Schack;extra\n", "utf-8")
    done = og("validate", "lista.csv", cwd=tmp_path)
    assert done.returncode == 1 and "note:" in done.stdout + done.stderr
    (tmp_path / "ok.csv").write_text("id|namn\n1|Exempelby IF\n", "cp1252")
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "namn", "type": "string"}]}
    (tmp_path / "schema.json").write_text(json.dumps(schema), "utf-8")
    ok("validate", "ok.csv", "--schema", "schema.json", "--delimiter", "|",
       "--encoding", "windows-1252", cwd=tmp_path)  # fmt: skip
    (tmp_path / "u16.csv").write_bytes(b"id,namn\n1,a\n")
    done = og("validate", "u16.csv", "--schema", "schema.json", "--encoding", "utf-16",
              cwd=tmp_path)  # fmt: skip
    assert done.returncode == 6, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("resource", "code"),
    [
        ({"path": ["data/bidrag.csv", "data/bidrag.csv"]}, 3),
        ({"path": "data/bidrag.csv.gz"}, 6),
        ({"profile": "https://example.se/min-profil.json"}, 3),
    ],
    ids=["multipart", "compressed", "custom-profile"],
)
def test_refused_resources(tmp_path: Path, resource: dict[str, object], code: int) -> None:
    package = grants_package(tmp_path / "bidrag")
    doc = json.loads((package / "datapackage.json").read_text("utf-8"))
    doc["resources"][0].update(resource)
    (package / "datapackage.json").write_text(json.dumps(doc), "utf-8")
    done = og("validate", "bidrag", cwd=tmp_path)
    assert done.returncode in {3, 6}, done.stdout + done.stderr
    assert done.returncode == code, done.stdout + done.stderr


def test_a_json_file_given_to_validate_is_named_in_the_message(tmp_path: Path) -> None:
    (tmp_path / "tabell.json").write_text('[{"id": 1, "namn": "Exempelby IF"}]', "utf-8")
    done = og("validate", "tabell.json", cwd=tmp_path)
    # docs/formats.md: a JSON table is not read, "unsupported format", exit 6; the message
    # names the file given (it once said "datapackage.json must be a JSON object", exit 3).
    assert done.returncode == 6, done.stderr
    assert "tabell.json" in done.stderr and "unsupported format" in done.stderr, done.stderr


def test_classify_json_is_the_library_result_and_reapplying_changes_nothing(
    tmp_path: Path,
) -> None:
    from opengov.importers.social import classify, import_twitter

    import_twitter(SOCIAL / "twitter-2024", account="K", out=tmp_path / "a")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "a" / "posts.csv").read_text("utf-8"))))
    (tmp_path / "beslut.csv").write_text(
        "record_id,classification,classified_by,reason\n"
        f"{rows[0]['record_id']},official,Registrator,Skrivet i tjänsten\n",
        "utf-8",
    )
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    printed = as_json("classify", "a", "--from", "beslut.csv", cwd=tmp_path)
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        library = classify(Path("b"), Path("beslut.csv")).to_dict()
    finally:
        os.chdir(cwd)
    for result in (printed, library):
        result.pop("classified_at")  # the wall clock of each run
    assert printed == json.loads(json.dumps(library).replace('"b/', '"a/').replace('"b"', '"a"'))
    assert printed["changed"] == 1
    assert printed["posts"]["by_classification"]["official"] == 1
    # docs/social-media.md: re-applying an unchanged decision keeps its earlier time.
    before = tree(tmp_path / "a")
    again = as_json("classify", "a", "--from", "beslut.csv", cwd=tmp_path)
    assert again["changed"] == 0 and tree(tmp_path / "a") == before
