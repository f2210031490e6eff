"""Applying classification decisions: what changes, when, and clear errors by line."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from social_support import key_env  # noqa: F401  (a fixture)

from opengov.errors import InputError
from opengov.importers.social import classify, import_facebook
from opengov.redact.keys import load_key

FIXTURES = Path(__file__).parent / "fixtures" / "social"
pytestmark = pytest.mark.usefixtures("key_env")
HEADER = "record_id,classification,classified_by,reason\n"
NOON = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["record_id"]: r for r in csv.DictReader(fh)}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def package(tmp_path: Path) -> Path:
    out = tmp_path / "pkg"
    import_facebook(FIXTURES / "facebook-personal", account="Privat", out=out)
    import_facebook(
        FIXTURES / "facebook-page-2025", account="Sida", account_type="official", out=out
    )
    return out


def ids(package: Path) -> tuple[list[str], list[str]]:
    return list(rows(package / "posts.csv")), list(rows(package / "comments.csv"))


def write(tmp_path: Path, text: str, name: str = "decisions.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_decisions_are_applied_with_the_clock(tmp_path: Path, package: Path) -> None:
    posts, comments = ids(package)
    decisions = write(
        tmp_path,
        HEADER
        + f"{posts[0]},private,Registrator,Familjebild\n"
        + f'{posts[1]},official,"Registrator, KLF",Om kommunstyrelsens beslut\n'
        + f"{comments[0]},private,Registrator,Privat gratulation\n",
    )
    result = classify(package, decisions, clock=lambda: NOON)
    assert (result.decisions, result.changed) == (3, 3)
    assert result.classified_at == "2024-11-04T12:00:00Z"
    after = rows(package / "posts.csv")
    assert after[posts[1]]["classification"] == "official"
    assert after[posts[1]]["classified_by"] == "Registrator, KLF"
    assert after[posts[1]]["classified_at"] == "2024-11-04T12:00:00Z"
    assert after[posts[1]]["reason"] == "Om kommunstyrelsens beslut"
    assert after[posts[0]]["classification"] == "private"
    assert rows(package / "comments.csv")[comments[0]]["classification"] == "private"
    # Undecided records not named in the file stay as the importer left them.
    untouched = [r for r in after.values() if r["account"] == "Privat"][2:]
    assert untouched and all(r["classification"] == "undecided" for r in untouched)
    assert all(r["classified_by"] == "opengov import (account type personal)" for r in untouched)
    assert result.posts["official"] == 6  # the page's five and the decided one
    d = result.to_dict()
    assert d["posts"]["by_classification"] == result.posts
    assert d["decisions"] == 3 and d["changed"] == 3


def test_rerunning_the_same_decisions_is_a_no_op(tmp_path: Path, package: Path) -> None:
    posts, _ = ids(package)
    decisions = write(tmp_path, HEADER + f"{posts[0]},private,Registrator,Familjebild\n")
    classify(package, decisions, clock=lambda: NOON)
    before = snapshot(package)
    later = classify(package, decisions, clock=lambda: NOON + timedelta(days=30))
    assert later.changed == 0
    assert snapshot(package) == before  # classified_at is that of the decision, not the re-run


def test_clock_in_another_zone_or_naive_is_stored_as_utc(tmp_path: Path, package: Path) -> None:
    posts, _ = ids(package)
    first = write(tmp_path, HEADER + f"{posts[0]},private,Registrator,Familjebild\n")
    cet = timezone(timedelta(hours=1))
    classify(package, first, clock=lambda: datetime(2024, 11, 4, 13, 0, tzinfo=cet))
    assert rows(package / "posts.csv")[posts[0]]["classified_at"] == "2024-11-04T12:00:00Z"
    second = write(tmp_path, HEADER + f"{posts[0]},official,Registrator,Omprövat\n", "b.csv")
    classify(package, second, clock=lambda: datetime(2024, 11, 5, 8, 0))
    assert rows(package / "posts.csv")[posts[0]]["classified_at"] == "2024-11-05T08:00:00Z"


def test_default_clock_is_now(tmp_path: Path, package: Path) -> None:
    posts, _ = ids(package)
    before = datetime.now(UTC).replace(microsecond=0)
    result = classify(package, write(tmp_path, HEADER + f"{posts[0]},private,R,Skäl\n"))
    stamp = datetime.strptime(result.classified_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= stamp <= datetime.now(UTC)


def test_semicolon_csv_from_a_spreadsheet(tmp_path: Path, package: Path) -> None:
    posts, _ = ids(package)
    text = "\ufeffrecord_id;classification;classified_by;reason\r\n"
    text += f"{posts[0]};private;Registrator;Familjebild\r\n\r\n"
    result = classify(package, write(tmp_path, text), clock=lambda: NOON)
    assert result.changed == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("fb-0000000000000000,private,R,Skäl", "line 3: unknown record_id"),
        ("{p},secret,R,Skäl", "line 3: classification must be one of official, private, undecided"),
        ("{p},Official,R,Skäl", "line 3: classification must be one of"),
        ("{p},private,,Skäl", "line 3: classified_by is empty"),
        ("{p},private,R,", "line 3: reason is empty"),
        ("{p},private,opengov import (x),Skäl", "line 3: classified_by may not start with"),
        ("{p},private,R", "line 3: 3 columns, expected 4"),
        ("{q},private,R,Skäl", "line 3: record_id already decided on line 2"),
    ],
)
def test_bad_lines_are_named_and_nothing_changes(
    tmp_path: Path, package: Path, line: str, message: str
) -> None:
    posts, _ = ids(package)
    text = HEADER + f"{posts[1]},official,R,Skäl\n" + line.format(p=posts[0], q=posts[1]) + "\n"
    before = snapshot(package)
    with pytest.raises(InputError) as caught:
        classify(package, write(tmp_path, text), clock=lambda: NOON)
    assert caught.value.exit_code == 6
    assert message in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert snapshot(package) == before


def test_all_problems_reported_at_once_without_values(tmp_path: Path, package: Path) -> None:
    posts, _ = ids(package)
    text = HEADER + "fb-1111111111111111,hemlig,,\n" + f"{posts[0]},private,R,Skäl\n"
    with pytest.raises(InputError) as caught:
        classify(package, write(tmp_path, text))
    details = caught.value.details
    assert details == [
        "line 2: unknown record_id (in neither posts nor comments)",
        "line 2: classification must be one of official, private, undecided",
        "line 2: classified_by is empty (who decided?)",
        "line 2: reason is empty (why?)",
    ]
    assert "hemlig" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("record_id,classification,reason\n", "missing column classified_by"),
        ("record_id,classification,classified_by,reason,extra\n", "unknown column 'extra'"),
        (HEADER, "holds no decisions"),
    ],
)
def test_bad_files(tmp_path: Path, package: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        classify(package, write(tmp_path, text))


def test_swedish_excel_csv_cp1252_semicolons(tmp_path: Path, package: Path) -> None:
    """What Excel's "CSV (semikolonavgränsad)" saves on a Swedish Windows: cp1252, `;`, CRLF."""
    posts, comments = ids(package)
    text = "record_id;classification;classified_by;reason\r\n"
    text += f"{posts[0]};private;Registrator, kommunledningsförvaltningen;Privat bild från sjön\r\n"
    text += f"{comments[0]};official;Åsa Ödman;Gäller ärendet, inkommen\r\n"
    path = tmp_path / "beslut.csv"
    path.write_bytes(text.encode("cp1252"))
    result = classify(package, path, clock=lambda: NOON)
    assert result.decisions == 2
    after = rows(package / "posts.csv")[posts[0]]
    assert after["classified_by"] == "Registrator, kommunledningsförvaltningen"
    assert after["reason"] == "Privat bild från sjön"
    assert rows(package / "comments.csv")[comments[0]]["classified_by"] == "Åsa Ödman"


_CELL = st.text(alphabet=st.sampled_from("abcåäöÅÄÖ éÉ-.:/()'"), min_size=1, max_size=30).filter(
    lambda t: t.strip() and not t.strip().startswith("opengov import")
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    who=_CELL,
    why=_CELL,
)
def test_decisions_in_any_spreadsheet_dialect(
    tmp_path_factory: pytest.TempPathFactory,
    package: Path,
    delimiter: str,
    encoding: str,
    newline: str,
    who: str,
    why: str,
) -> None:
    import io

    posts, _ = ids(package)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["record_id", "classification", "classified_by", "reason"])
    writer.writerow([posts[2], "private", who, why])
    path = tmp_path_factory.mktemp("d") / "beslut.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    classify(package, path, clock=lambda: NOON)
    row = rows(package / "posts.csv")[posts[2]]
    assert (row["classification"], row["classified_by"], row["reason"]) == (
        "private",
        who.strip(),
        why.strip(),
    )


def test_decisions_as_xlsx(tmp_path: Path, package: Path) -> None:
    import openpyxl

    posts, _ = ids(package)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["record_id", "classification", "classified_by", "reason"])
    sheet.append([posts[0], "official", "Registrator", "I tjänsten"])
    book.save(tmp_path / "beslut.xlsx")
    result = classify(package, tmp_path / "beslut.xlsx", clock=lambda: NOON)
    assert result.changed == 1


def test_a_file_that_is_no_table(tmp_path: Path, package: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(HEADER.encode() + "x,private,Håkan,Skäl\n".encode("cp1252") + b"\x81\x00")
    with pytest.raises(InputError) as caught:
        classify(package, path)
    assert caught.value.exit_code == 6


def test_missing_files(tmp_path: Path, package: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        classify(package, tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not an imported social-media package"):
        classify(tmp_path / "empty", write(tmp_path, HEADER + "a,private,R,S\n"))


def test_fixture_decisions_match_the_example_accounts(tmp_path: Path) -> None:
    """decisions.csv names ids derived from the example's account names: they must resolve."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "make_social_example", root / "scripts" / "make_social_example.py"
    )
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "pkg"
    import_facebook(
        FIXTURES / "facebook-personal",
        account=script.PERSONAL_ACCOUNT,
        out=out,
        key=load_key(script.KEY_FILE),
    )
    result = classify(out, FIXTURES / "decisions.csv", clock=lambda: NOON)
    assert result.decisions == 5
    assert result.posts == {"official": 1, "private": 2, "undecided": 4}
    assert result.comments == {"official": 0, "private": 1, "undecided": 0}
