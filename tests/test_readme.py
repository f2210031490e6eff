"""README.md's short tour is a test: after ./scripts/demo.sh, its ```sh commands run in order,
twice in the same folder (a newcomer runs a tour again), each with the exit code the README
states both times, in a copy of what the tour reads, never in this checkout. After every
command, nothing the tour has written for others to see (the portal, the redaction preview, the
HTML report) holds a withheld value of the examples, a key, or a planted test identifier."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
from markdown_commands import Command, commands
from test_leaks import leaks

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# What the tour and demo.sh read; copied, so that nothing is written into the checkout.
COPIED = ("datapackages", "schemas", "scripts/demo.sh", "tests/fixtures")
# What the tour writes for others to read: a portal, the review copy, a report.
SHOWN = ("portal", "tour/portal", "tour/review", "tour/report.html")
PUBLISH_ANY_DIARIUM = "opengov publish tour/diarium-2024 "
PUBLISH_DIARIUM = PUBLISH_ANY_DIARIUM + "--to tour/portal --signing-key"


def the_tour() -> list[Command]:
    """The commands of the section "A short tour" (the two commands above it are demo.sh, which
    this test runs first, and test.sh, which runs this test)."""
    text = README.read_text("utf-8")
    start = text.index("\n## A short tour\n")
    end = text.index("\n## ", start + 1)
    return commands(text[start:end])


def test_the_tour_parses_into_commands() -> None:
    found = the_tour()
    texts = [c.text for c in found]
    assert texts[0] == "source .venv/bin/activate"
    assert 20 <= len(found) <= 40, "the tour is meant to be read in three minutes"
    assert {c.exit_code for c in found} == {0, 1, 5}
    # The order the README promises: draft, validate, redact, publish, verify, approve,
    # catalogue, social media, withdraw.
    order = ["init", "validate", "redact", "publish tour/diarium", "verify", "approve", "catalog"]
    order += ["import twitter", "import facebook", "classify", "withdraw", "exit-codes"]
    firsts = [next(i for i, t in enumerate(texts) if f"opengov {verb}" in t) for verb in order]
    assert firsts == sorted(firsts)
    assert sum(t.startswith(PUBLISH_DIARIUM) for t in texts) >= 2
    # Nothing the tour runs may need a server, a secret from the environment or the network.
    for text in texts:
        assert "://" not in text.replace("https://data.exempelby.se/", ""), text
        assert "--to ckan" not in text and "import sql" not in text, text


def test_the_documentation_table_lists_every_page() -> None:
    text = README.read_text("utf-8")
    table = text[text.index("\n## Documentation\n") :]
    table = table[: table.index("\n## ", 1)]
    rows = re.findall(r"^\| \[docs/([\w-]+\.md)\]\(docs/\1\) \| (.+) \|$", table, re.M)
    assert sorted(name for name, _ in rows) == sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert all(len(description) > 10 for _, description in rows)


def copy_of_the_repository(into: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name)
        else:
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    # The venv these tests run in stands for the one demo.sh creates (it is only read).
    venv = Path(sys.prefix)
    assert (venv / "bin" / "activate").is_file() and (venv / "bin" / "opengov").is_file(), (
        "run the tests from the venv opengov is installed in (.venv, as scripts/test.sh does)"
    )
    (into / ".venv").symlink_to(venv, target_is_directory=True)
    return into


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENGOV_", "CKAN_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(home),
        OPENGOV_TRUST_STORE=str(home / "trust.json"),
        NO_COLOR="1",
    )
    return env


def run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


class Withheld:
    """What the examples keep back, read from the copies the tour uses: the document registry's
    internal case text and the correspondents the rules mask, the social posts and comments not
    classified official (each checked in its own dataset's files and the portal's catalogue: a
    company masked as a correspondent in the registry is public in the supplier ledger), and
    everywhere the private signing keys, the pseudonym key and the planted test identifiers. A
    value that also stands in a field its dataset publishes (an association named in the public
    case text) is not withheld and is left out."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.everywhere: set[str] = set()
        self.by_dataset: dict[str, set[str]] = {}
        (registry,) = (repo / "datapackages" / "diarium-2024" / "data").glob("*.csv")
        rows = list(csv.DictReader(io.StringIO(registry.read_text("utf-8-sig")), delimiter=";"))
        secret = ("arende_mening_intern", "avsandare_mottagare")
        public = " | ".join(v for r in rows for k, v in r.items() if k not in secret)
        values = {r[k] for r in rows for k in secret if r[k] and r[k] not in public}
        assert len(values) > 500, "the registry's withheld values were not read"
        self.by_dataset["diarium-2024"] = values
        key = repo / "tests" / "fixtures" / "social" / "example-pseudonym-key.txt"
        self.everywhere.add(key.read_text("ascii").strip())

    def read_tour(self) -> None:
        """Add what the tour made: social records it did not classify official, its keys."""
        package = self.repo / "tour" / "sociala-medier"
        values: set[str] = set()
        for table in ("posts.csv", "comments.csv"):
            rows = list(csv.DictReader(io.StringIO((package / table).read_text("utf-8"))))
            official = " | ".join(r["text"] for r in rows if r["classification"] == "official")
            kept_back = [r for r in rows if r["classification"] != "official"]
            assert kept_back, f"{table}: the tour publishes every record, nothing to check"
            values |= {r["text"] for r in kept_back if r["text"] and r["text"] not in official}
        self.by_dataset["sociala-medier"] = values
        for key in ("kommun.key", "anna.key"):
            lines = (self.repo / "tour" / key).read_text("ascii").splitlines()
            self.everywhere |= {line for line in lines if line and not line.startswith("-----")}

    def found_in(self, text: str, where: Path | None = None) -> list[str]:
        """The withheld values in text; where (a path in the copy) limits the datasets' values
        to the dataset it belongs to (the review copy is the registry's), all of them for the
        portal's own files."""
        values = set(self.everywhere)
        if where is not None:
            parts = set(where.relative_to(self.repo).parts)
            scoped = [d for d in self.by_dataset if d in parts]
            if "review" in parts:
                scoped = ["diarium-2024"]
            elif where.parent.name == "portal":
                scoped = list(self.by_dataset)
            for dataset in scoped:
                values |= self.by_dataset[dataset]
        return sorted(v for v in values if v in text) + leaks(text)


def texts(path: Path) -> Iterator[tuple[Path, str]]:
    """Every file under path as the text a reader of it sees: Parquet as its values, an XLSX
    workbook as its XML parts."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file.suffix == ".parquet":
            yield file, repr(pq.read_table(file).to_pylist())
        elif file.suffix == ".xlsx":
            with zipfile.ZipFile(file) as book:
                yield file, " ".join(book.read(n).decode("utf-8") for n in book.namelist())
        else:
            yield file, file.read_bytes().decode("utf-8", errors="replace")


def test_the_tour_runs_twice(tmp_path: Path) -> None:
    repo = copy_of_the_repository(tmp_path / "repo")
    home = tmp_path / "home"
    home.mkdir()
    env = environment(home)
    demo = run("./scripts/demo.sh", repo, env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    withheld = Withheld(repo)
    seen: dict[str, list[str]] = {}  # sha256 of a file's bytes -> the withheld values in it
    tour = the_tour()
    for round_ in (1, 2):
        diarium_published = 0
        for command in tour:
            done = run(command.text, repo, env)
            output = done.stdout + done.stderr
            assert done.returncode == command.exit_code, (
                f"README.md's tour, line {command.line}, round {round_}: {command.text!r} exited "
                f"{done.returncode}, the README says {command.exit_code}\n{output}"
            )
            assert "Traceback" not in output, output
            diarium_published += command.text.startswith(PUBLISH_DIARIUM)
            # Publishing again changes nothing, and in the second run no publish (or plan) of
            # the registry finds anything to change.
            again = command.text.startswith(PUBLISH_DIARIUM) and diarium_published == 2
            if again or (round_ == 2 and command.text.startswith(PUBLISH_ANY_DIARIUM)):
                assert "unchanged" in done.stdout, f"README.md line {command.line}: {done.stdout}"
            if "opengov classify" in command.text:
                withheld.read_tour()
                seen.clear()
            assert not withheld.found_in(output), f"README.md line {command.line}: {output}"
            for shown in SHOWN:
                if not (repo / shown).exists():
                    continue
                for file, text in texts(repo / shown):
                    digest = f"{file}:{hashlib.sha256(file.read_bytes()).hexdigest()}"
                    if digest not in seen:
                        seen[digest] = withheld.found_in(text, file)
                    assert not seen[digest], (
                        f"after README.md line {command.line}, round {round_}: "
                        f"{file.relative_to(repo)} holds withheld values {seen[digest][:3]}"
                    )
        assert diarium_published == 2
    # The tour published what it says: the registry (masked) and a withdrawn social package.
    published = (repo / "tour/portal/diarium-2024/data/handlingar.csv").read_text("utf-8-sig")
    assert "[personuppgift]" in published
    assert (repo / "tour/portal/catalog.json").is_file()
    assert (repo / "tour/portal/dcat.rdf").is_file()
    catalog = (repo / "tour/portal/catalog.json").read_text("utf-8")
    assert "diarium-2024" in catalog and "sociala-medier" not in catalog
