"""Peer contract: what README.md and docs/ promise about the command line as a whole, checked
black-box. `--json` prints exactly the documented library call's `to_dict()`; every documented
option is accepted; every exit code of docs/cli.md that needs no CKAN is reachable as the docs
say, with a message and nothing written."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from peer_support import (
    OPENGOV,
    PNR,
    ROOT,
    RULES,
    as_json,
    environment,
    grants_package,
    library_publish,
    og,
    og_all,
    ok,
    tree,
    without_timings,
)

from opengov.cli import cli

CLI_MD = (ROOT / "docs" / "cli.md").read_text("utf-8")


# --- the exit-code table ------------------------------------------------------------------------


def documented_exit_codes() -> dict[int, str]:
    table = CLI_MD[CLI_MD.index("## Exit codes") :]
    return {int(c): m for c, m in re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M)}


def test_exit_codes_command_lists_the_documented_table(tmp_path: Path) -> None:
    listed = {
        int(code): meaning
        for code, meaning in re.findall(r"^\s*(\d+)\s+(.+)$", ok("exit-codes", cwd=tmp_path), re.M)
    }
    assert listed == documented_exit_codes()
    assert {0, 1, 2, 70} <= set(listed)


# --- every documented option is accepted ----------------------------------------------------------


def documented_options() -> list[tuple[list[str], str, str]]:
    """(command words, option, the option's help text) for every option in docs/cli.md."""
    out: list[tuple[list[str], str, str]] = []
    for match in re.finditer(r"^## `opengov ?([a-z -]*)`\n\n```\n(.*?)```", CLI_MD, re.M | re.S):
        words = match.group(1).split()
        body = match.group(2)
        if "Options:" not in body:
            continue
        options = body[body.index("Options:") :]
        for line in options.splitlines()[1:]:
            found = re.match(r"^  (-\w, )?(--[\w-]+)( / --[\w-]+)?( \S+)?", line)
            if found:
                out.append((words, found.group(2), (found.group(4) or "").strip()))
    return out


def test_the_reference_documents_options() -> None:
    options = documented_options()
    assert len(options) > 60
    assert (["publish"], "--signing-key", "PATH") in options
    assert (["verify"], "--allow-unsigned", "") in options


@pytest.mark.parametrize(
    ("words", "option", "metavar"),
    documented_options(),
    ids=lambda v: v if isinstance(v, str) else " ".join(v) if isinstance(v, list) else None,
)
def test_every_documented_option_is_accepted(words: list[str], option: str, metavar: str) -> None:
    """An option followed by --help: click parses the option (refusing an unknown one with exit
    2) before --help ends the command with 0."""
    args = [*words, option]
    choice = re.match(r"\[([\w|]+)\]", metavar)
    if choice:
        args.append(choice.group(1).split("|")[0])
    elif metavar in {"PATH", "FILE", "DIRECTORY"}:
        args.append(".")
    elif metavar == "TEXT":
        args.append("x")
    elif metavar.startswith("INTEGER"):
        args.append("5")
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, (args, result.output)


def test_a_missing_target_is_named_as_missing(tmp_path: Path) -> None:
    """A mistyped package or file: exit 6, saying it does not exist (it once said that
    `bidrag.csv` "is not a package folder or datapackage.json")."""
    for args in (["validate", "bidrag.csv"], ["validate", "bidrag"], ["publish", "bidrag"],
                 ["redact", "bidrag", "--out", "granskning"]):  # fmt: skip
        done = og(*args, cwd=tmp_path)
        assert done.returncode == 6, (args, done.stderr)
        assert "does not exist" in done.stderr, (args, done.stderr)


def test_an_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    for args in (["publish", "--no-such-option", "x"], ["validate"], ["verify", "a", "--trust"]):
        done = og(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.strip()


# --- --json equals the library's to_dict() ------------------------------------------------------


def same_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """The library call in this process sees the environment the subprocess gets."""
    for name in list(os.environ):
        if name.startswith(("OPENGOV_", "CKAN_")):
            monkeypatch.delenv(name)
    for name, value in environment(home).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(home)


def test_validate_json_is_the_library_report(tmp_path: Path) -> None:
    from opengov.validate import validate

    rows = ["1;A B;x;1 250,50;2024-03-01;a", "2;C D;y;tre;2024-13-01;b", "3;E F;z;4,0;nej;c"]
    package = grants_package(tmp_path / "pkg", rows=rows)
    done = og("validate", "pkg", "--json", cwd=tmp_path)
    assert done.returncode == 1
    printed = json.loads(done.stdout)
    library = validate(package).to_dict()
    assert without_timings(printed) == without_timings(json.loads(json.dumps(library)))
    assert printed["opengov"]["passed"] is False
    summary = {(s["fieldName"], s["type"]): s["count"] for s in printed["summary"]}
    assert summary == {("belopp", "type-error"): 1, ("beslutsdatum", "type-error"): 2}
    assert printed["stats"]["errors"] == 3


def test_init_json_is_the_library_result(tmp_path: Path) -> None:
    from opengov.draft.init import init_package

    (tmp_path / "bidrag.csv").write_text(
        "Diarienummer;Belopp (kr);Beslutsdatum\nKS 2024/1;1 250,50;2024-03-01\n"
        "KS 2024/2;300,00;2024-04-01\n",
        "utf-8",
    )
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        library = init_package(Path("bidrag.csv"), out=Path("bidrag")).to_dict()
    finally:
        os.chdir(cwd)
    shutil.rmtree(tmp_path / "bidrag")
    printed = as_json("init", "bidrag.csv", "--out", "bidrag", cwd=tmp_path)
    assert printed == json.loads(json.dumps(library))
    assert [f["name"] for f in printed["fields"]] == ["diarienummer", "belopp_kr", "beslutsdatum"]
    assert printed["unclassified"] == ["diarienummer", "belopp_kr", "beslutsdatum"]


def test_publish_json_is_the_library_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    same_environment(monkeypatch, tmp_path)
    from opengov.targets.static import publish_static

    grants_package(tmp_path / "bidrag")
    env = environment(tmp_path)
    plan = as_json("publish", "bidrag", "--to", "portal", "--plan", cwd=tmp_path, env=env)
    library = publish_static(tmp_path / "bidrag", tmp_path / "portal", plan_only=True).to_dict()
    assert plan["status"] == library["status"]
    assert {k: v for k, v in plan.items() if k != "target"} == {
        k: v for k, v in json.loads(json.dumps(library)).items() if k != "target"
    }
    assert not (tmp_path / "portal" / "bidrag").exists(), "--plan wrote the dataset"
    publish_static(tmp_path / "bidrag", tmp_path / "portal")
    printed = as_json("publish", "bidrag", "--to", "portal", cwd=tmp_path, env=env)
    again = publish_static(tmp_path / "bidrag", tmp_path / "portal").to_dict()
    assert printed["status"] == "unchanged" == again["status"]
    assert printed == json.loads(json.dumps(again))


def test_verify_json_is_the_library_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    same_environment(monkeypatch, tmp_path)
    from opengov.verify import Trust, verify_folder

    grants_package(tmp_path / "bidrag")
    env = environment(tmp_path)
    library_publish(tmp_path / "bidrag", tmp_path / "portal", tmp_path)
    printed = as_json("verify", "portal/bidrag", "--allow-unsigned", cwd=tmp_path, env=env)
    library = verify_folder(tmp_path / "portal" / "bidrag", Trust(allow_unsigned=True)).to_dict()
    # Fails closed: the library trusts no signature unless told, as the CLI without a key.
    assert verify_folder(tmp_path / "portal" / "bidrag").ok is False
    assert printed["ok"] is True and library["ok"] is True
    assert {k: v for k, v in printed.items() if k != "location"} == {
        k: v for k, v in json.loads(json.dumps(library)).items() if k != "location"
    }
    assert printed["signatures_checked"] is False


# --- every exit code that needs no CKAN -----------------------------------------------------------


def package_with(tmp_path: Path, rules: str = RULES, rows: list[str] | None = None) -> Path:
    return grants_package(tmp_path / "bidrag", rows=rows, rules=rules)


def exit_1(tmp: Path) -> list[str]:
    package_with(tmp, rows=["1;A B;x;inte ett tal;2024-03-01;a"])
    return ["validate", "bidrag"]


def exit_3(tmp: Path) -> list[str]:
    package = package_with(tmp)
    doc = json.loads((package / "datapackage.json").read_text("utf-8"))
    doc["name"] = "../utanfor"
    (package / "datapackage.json").write_text(json.dumps(doc), "utf-8")
    return ["publish", "bidrag", "--to", "portal"]


def exit_4(tmp: Path) -> list[str]:
    package_with(tmp, rules=RULES.replace("action: drop", "action: radera"))
    return ["publish", "bidrag", "--to", "portal"]


def exit_5(tmp: Path) -> list[str]:
    package_with(tmp, rules=RULES.replace("      belopp: {class: public}\n", ""))
    return ["publish", "bidrag", "--to", "portal"]


def exit_6(tmp: Path) -> list[str]:
    (tmp / "tabell.xls").write_text("id,namn\n1,Exempelby IF\n", "utf-8")
    return ["validate", "tabell.xls"]


def exit_7(tmp: Path) -> list[str]:
    # docs/security.md: no part of a path below the portal may be a link, even one planted there.
    package_with(tmp)
    (tmp / "portal").mkdir()
    (tmp / "elsewhere").mkdir()
    (tmp / "portal" / "bidrag").symlink_to(tmp / "elsewhere", target_is_directory=True)
    return ["publish", "bidrag", "--to", "portal"]


def exit_9(tmp: Path) -> list[str]:
    # A personnummer in a published column that no rule scans for it: the last scan blocks.
    rows = ["1;Exempelby IF;x;1,0;2024-03-01;Kontaktperson " + PNR]
    package_with(
        tmp,
        rules=RULES.replace("[personnummer, samordningsnummer, email, phone]", "[phone]"),
        rows=rows,
    )
    return ["publish", "bidrag", "--to", "portal"]


def exit_10(tmp: Path) -> list[str]:
    package_with(
        tmp,
        rules=RULES.replace(
            'action: drop\n        basis: "21 kap. 7 § OSL"',
            'action: pseudonymize\n        basis: "21 kap. 7 § OSL"',
        ),
    )
    return ["publish", "bidrag", "--to", "portal"]


def exit_15(tmp: Path) -> list[str]:
    export = tmp / "twitter"
    (export / "data").mkdir(parents=True)
    (export / "data" / "tweets.js").write_text("window.YTD.tweets.part0 = [ {", "utf-8")
    return ["import", "twitter", "twitter", "--account", "K", "--out", "pkg"]


def exit_16(tmp: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(tmp / "export.zip", "w") as archive:
        archive.writestr("../../utanfor.js", "window.YTD.tweets.part0 = []")
    return ["import", "twitter", "export.zip", "--account", "K", "--out", "pkg"]


def exit_17(tmp: Path) -> list[str]:
    rules = RULES.replace(
        "    fields:", "    quasi_identifiers: {fields: [beslutsdatum], k: 2}\n    fields:"
    )
    package_with(tmp, rules=rules)
    return ["publish", "bidrag", "--to", "portal"]


def exit_18(tmp: Path) -> list[str]:
    package_with(tmp)
    (tmp / "portal").mkdir()
    (tmp / "portal" / "portal.json").write_text('{"title": ', "utf-8")
    return ["publish", "bidrag", "--to", "portal"]


def exit_19(tmp: Path) -> list[str]:
    (tmp / "nyckel.txt").write_text("finns redan\n", "utf-8")
    return ["key", "new", "--out", "nyckel.txt"]


def exit_20(tmp: Path) -> list[str]:
    return ["exit-codes"]  # with its output to /dev/full (below)


def exit_30(tmp: Path) -> list[str]:
    package_with(tmp, rules="a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    ))  # fmt: skip
    return ["publish", "bidrag", "--to", "portal"]


def exit_31(tmp: Path) -> list[str]:
    package_with(tmp)
    (tmp / "svag.txt").write_text("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "utf-8")
    return ["redact", "bidrag", "--out", "granskning", "--key-file", "svag.txt"]


def exit_47(tmp: Path) -> list[str]:
    ok("key", "new", "--signing", "--out", "anna.key", "--name", "Anna", cwd=tmp)
    shown = as_json("key", "show", "anna.key.pub", cwd=tmp)
    key = next(v for v in json.dumps(shown).split('"') if v.startswith("ed25519:"))
    approvals = f'approvals:\n  required: 1\n  keys:\n    - name: Anna\n      key: "{key}"\n'
    package_with(tmp, rules=RULES + approvals)
    return ["publish", "bidrag", "--to", "portal"]


def exit_48(tmp: Path) -> list[str]:
    package_with(tmp)
    (tmp / "trasig.key").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n", "utf-8")
    return ["publish", "bidrag", "--to", "portal", "--signing-key", "trasig.key"]


def sqlite_db(tmp: Path) -> None:
    with sqlite3.connect(tmp / "kommun.db") as db:
        db.execute("CREATE TABLE bidrag (id INTEGER PRIMARY KEY, namn TEXT, bild BLOB)")
        db.execute("INSERT INTO bidrag VALUES (1, 'Exempelby IF', x'00ff')")


def exit_60(tmp: Path) -> list[str]:
    return ["import", "sql", "mysql://registrator@db/kommun", "--table", "t", "--out", "pkg"]


def exit_61(tmp: Path) -> list[str]:
    return ["import", "sql", "postgresql://reg:hemligt@db/kommun", "--table", "t", "--out", "pkg"]


def exit_62(tmp: Path) -> list[str]:
    return ["import", "sql", "sqlite:///finns-inte.db", "--table", "bidrag", "--out", "pkg"]


def exit_64(tmp: Path) -> list[str]:
    sqlite_db(tmp)
    return ["import", "sql", "sqlite:///kommun.db", "--table", "saknas", "--out", "pkg"]


def exit_65(tmp: Path) -> list[str]:
    sqlite_db(tmp)
    return ["import", "sql", "sqlite:///kommun.db", "--query", "SELEKT 1", "--out", "pkg"]


def exit_66(tmp: Path) -> list[str]:
    sqlite_db(tmp)
    return ["import", "sql", "sqlite:///kommun.db", "--table", "bidrag", "--out", "pkg"]


def exit_67(tmp: Path) -> list[str]:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Bidrag 2024"  # type: ignore[union-attr]
    book.active.append(["id", "namn"])  # type: ignore[union-attr]
    book.active.append([1, "Exempelby IF"])  # type: ignore[union-attr]
    book.create_sheet("Anteckningar").append(["x"])
    book.save(tmp / "bidrag.xlsx")
    return ["init", "bidrag.xlsx", "--out", "pkg"]


EXITS = {
    1: exit_1, 3: exit_3, 4: exit_4, 5: exit_5, 6: exit_6, 7: exit_7, 9: exit_9, 10: exit_10,
    15: exit_15, 16: exit_16, 17: exit_17, 18: exit_18, 19: exit_19, 20: exit_20, 30: exit_30,
    31: exit_31, 47: exit_47, 48: exit_48, 60: exit_60, 61: exit_61, 62: exit_62, 64: exit_64,
    65: exit_65, 66: exit_66, 67: exit_67,
}  # fmt: skip
# Reached elsewhere in the peer suite: 0 and 2 above; 8 and 40-46 in test_peer_publish.py
# (tampered portals); 50 in test_peer_import.py.
ELSEWHERE = {0, 2, 8, 40, 41, 42, 43, 44, 45, 46, 50}
# Not reachable here: 130 and 143 need a signal mid-run (tests/test_redteam_signals.py),
# 11-14 a CKAN, 63 a PostgreSQL refusing credentials, 32 an address-space limit
# (tests/test_hostile_*.py), and 70 is a bug.
NOT_HERE = {11, 12, 13, 14, 32, 63, 70, 130, 143}


def test_every_documented_exit_code_has_a_peer_test_or_a_reason() -> None:
    covered = set(EXITS) | ELSEWHERE | NOT_HERE
    assert covered == set(documented_exit_codes()), sorted(covered ^ set(documented_exit_codes()))


@dataclass(frozen=True)
class Run:
    done: subprocess.CompletedProcess[str]
    before: dict[str, bytes]
    after: dict[str, bytes]


def run_case(tmp: Path, code: int) -> Run:
    args = EXITS[code](tmp)
    before = tree(tmp)
    command = [OPENGOV, *args]
    env = environment(tmp)
    if code == 20:
        with Path("/dev/full").open("w") as full:
            done = subprocess.run(
                command, stdout=full, stderr=subprocess.PIPE, text=True, cwd=tmp, env=env,
                timeout=120, check=False,
            )  # fmt: skip
        done = subprocess.CompletedProcess(done.args, done.returncode, "", done.stderr)
    else:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=tmp, env=env, timeout=120, check=False
        )
    # The home folder (tmp) holds the cache and trust store, which are not output.
    after = {k: v for k, v in tree(tmp).items() if not k.startswith(("cache", "trust"))}
    return Run(done, before, after)


@pytest.fixture(scope="module")
def exit_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Run]:
    """Every case run once, as many at a time as there are processors (they are independent
    folders and processes); the tests below check each."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        runs = {
            code: pool.submit(run_case, tmp_path_factory.mktemp(f"exit-{code}"), code)
            for code in sorted(EXITS)
        }
        return {code: future.result() for code, future in runs.items()}


@pytest.mark.parametrize("code", sorted(EXITS))
def test_documented_exit_code_is_reachable(exit_runs: dict[int, Run], code: int) -> None:
    run = exit_runs[code]
    message = run.done.stdout + run.done.stderr
    assert run.done.returncode == code, (
        f"exit {run.done.returncode}, docs say {code} ({documented_exit_codes()[code]})\n{message}"
    )
    assert "Traceback" not in message, message
    assert message.strip(), "no message"
    for secret in (PNR, "hemligt", "0701234567", "070-123 45 67"):
        assert secret not in message, message
    if code != 1:
        # "Nothing is written" when a publish, import or init stops (a validate writes nothing
        # anyway).
        assert run.after == run.before, sorted(set(run.after) ^ set(run.before))


RULE_MISTAKES = {
    # docs/rules.md, each a rules error (exit 4) that names the field and never a value.
    "skip-name": ("id: {class: public}",
                  'id: {class: public, identifier_column: {reason: "x", skip: [name]}}'),
    "names-on-dropped": ("class: secret\n        action: drop",
                         "class: secret\n        names: public\n        action: drop"),
    "names-with-scan": ("scan: [personnummer, samordningsnummer, email, phone]}",
                        'scan: [name], names: public, basis: "2 kap. 1 § TF", reason: "x"}'),
    "missing-basis": ('        basis: "21 kap. 7 § OSL"\n', ""),
    "scope-without-reason": (
        'action: drop\n        basis: "21 kap. 7 § OSL"\n        reason: "Kontaktpersonens '
        'personnummer publiceras inte"',
        'action: pseudonymize\n        scope: municipality\n        basis: "21 kap. 7 § OSL"'),
    "unknown-field": ("action: drop", "action: drop\n      x_typo: {class: public}"),
    "is-null-not-true-or-false": (
        "    fields:", "    rows:\n      - drop_when: {field: id, is_null: kanske}\n"
        '        basis: "22 kap. 1 § OSL"\n    fields:'),
}  # fmt: skip


def test_rules_mistakes_stop_with_exit_4_naming_the_field(tmp_path: Path) -> None:
    ok("key", "new", "--out", "nyckel.txt", cwd=tmp_path)
    for name, (old, new) in RULE_MISTAKES.items():
        assert old in RULES, name
        grants_package(tmp_path / name, rules=RULES.replace(old, new, 1))
    runs = og_all(
        [["publish", name, "--to", "portal", "--key-file", "nyckel.txt"] for name in RULE_MISTAKES],
        cwd=tmp_path,
    )
    for name, done in zip(RULE_MISTAKES, runs, strict=True):
        assert done.returncode == 4, (name, done.stdout, done.stderr)
        assert "rules.yaml" in done.stderr, (name, done.stderr)
        assert PNR not in done.stdout + done.stderr
    assert not (tmp_path / "portal").exists()
