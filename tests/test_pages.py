"""The pages without a browser: Swedish words, numbers and dates; links that cannot run script;
everything useful with JavaScript off; the published files described as they are."""

from __future__ import annotations

import html.parser
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, PackageFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from opengov.cli import cli
from opengov.release import pages

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (7, "7"),
        (-1234567, "\u22121" + NBSP + "234" + NBSP + "567"),
        (1234.5, "1" + NBSP + "234,5"),
        (0.25, "0,25"),
        (3.0, "3"),
        (float("nan"), "ej ett tal"),
        (None, ""),
    ],
)
def test_numbers_in_swedish(value: object, shown: str) -> None:
    assert pages.number_sv(value) == shown


def test_dates_sizes_and_shares_in_swedish() -> None:
    assert pages.date_sv("2024-05-01") == "1 maj 2024"
    assert pages.datetime_sv("2024-12-31T23:30:00Z") == "1 januari 2025 kl. 00.30"
    assert pages.datetime_sv("2024-07-01T10:05:00Z") == "1 juli 2024 kl. 12.05"
    assert pages.human_size(1_234_567) == "1,2" + NBSP + "MB"
    assert pages.percent_sv(0.034) == "3,4" + NBSP + "%"
    assert pages.percent_sv(0.0001) == "under 0,1" + NBSP + "%"
    assert pages.type_sv("integer") == "heltal" and pages.type_sv("okänd") == "annat"
    assert pages.theme_sv("econ") == "Ekonomi och finans"


@pytest.mark.parametrize(
    ("note", "error_type", "swedish"),
    [
        ('type is "integer/default"', "type-error", "väntad typ: heltal"),
        ('constraint "maximum" is "100"', "constraint-error", "villkor: högst 100"),
        ("the same as in the row at position 4", "unique-error", "samma som på rad 4"),
        ("something frictionless says", "extra-cell", "Raden har fler kolumner än rubrikraden."),
        ("anything", "no-such-type", "Ett fel som inte har någon svensk beskrivning ännu."),
    ],
)
def test_error_notes_in_swedish(note: str, error_type: str, swedish: str) -> None:
    assert pages.note_sv({"type": error_type, "note": note}) == swedish


@settings(max_examples=500)
@given(st.text(max_size=60) | st.sampled_from(["javascript:x", " http://x.se", "HTTP://X.SE/"]))
def test_only_http_https_and_mailto_become_links(value: str) -> None:
    url = pages.safe_url(value)
    if url is not None:
        assert url == value
        assert re.match(r"(?i)^(https?://[^/\s]|mailto:[^\s]*@)", url), url
        assert not re.search(r"[\x00-\x20\x7f<>\"]", url)


@settings(max_examples=500)
@given(st.lists(st.text(max_size=20), max_size=4))
def test_portal_links_never_leave_the_portal_or_name_a_scheme(parts: list[str]) -> None:
    link = pages.rel_url(*parts)
    assert not link.startswith("/")
    assert ":" not in link.split("/")[0]
    assert not re.search(r"[\x00-\x20\x7f<>\"'\\]", link)


class _Visible(html.parser.HTMLParser):
    """The text a reader sees: not script, style or attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []
        self.hidden_ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        if "hidden" in dict(attrs):
            self.hidden_ids.append(dict(attrs).get("id") or tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(page: str) -> tuple[str, list[str]]:
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts), parser.hidden_ids


ENGLISH = {"string", "integer", "number", "boolean", "error", "errors", "engine", "arrow",
           "frictionless", "posts", "type", "rows", "fields", "true", "false", "none", "null",
           "release", "published", "download", "unknown", "waived"}  # fmt: skip


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("work")
    portal = tmp_path_factory.mktemp("portal")
    for name in ("diarium-2024", "leverantorsreskontra-2024"):
        shutil.copytree(EXAMPLES / name, work / "datapackages" / name)
    shutil.copytree(EXAMPLES.parent / "schemas", work / "schemas")
    for name in ("diarium-2024", "leverantorsreskontra-2024"):
        result = CliRunner().invoke(
            cli, ["publish", str(work / "datapackages" / name), "--to", str(portal)]
        )
        assert result.exit_code == 0, result.output
    return portal


@pytest.mark.parametrize(
    "page",
    [
        "index.html",
        "diarium-2024/index.html",
        "diarium-2024/history.html",
        "diarium-2024/validation.html",
        "leverantorsreskontra-2024/index.html",
        "leverantorsreskontra-2024/validation.html",
    ],
)
def test_citizen_pages_have_no_english_words(examples: Path, page: str) -> None:
    text, _ = visible((examples / page).read_text(encoding="utf-8"))
    words = {w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäö]+", text)}
    assert words & ENGLISH == set()


def test_dataset_page_is_complete_without_javascript(examples: Path) -> None:
    page = (examples / "leverantorsreskontra-2024" / "index.html").read_text(encoding="utf-8")
    text, _ = visible(page)
    # The preview rows, the column profiles and the downloads are in the HTML itself.
    assert page.count("<tr>") > 100
    assert "Kolumnerna" in text and "Vanligaste värden" in text
    assert 'href="data/fakturor.xlsx"' in page and 'href="data/fakturor.csv"' in page
    # Controls that need the script stay hidden until it runs.
    assert 'data-filter-for="r1-tabell" hidden' in page
    assert '<span class="js-hint" hidden>' in page
    catalogue = (examples / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<form id="search"[^>]* hidden>', catalogue)


def test_published_files_are_described_as_they_are_not_as_the_source(examples: Path) -> None:
    dataset = examples / "leverantorsreskontra-2024"
    descriptor = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    csv_res = next(r for r in descriptor["resources"] if r["format"] == "csv")
    assert csv_res["encoding"] == "utf-8"
    assert csv_res["dialect"] == {
        "delimiter": ",",
        "quoteChar": '"',
        "doubleQuote": True,
        "header": True,
    }
    for field in csv_res["schema"]["fields"]:
        assert "decimalChar" not in field and "groupChar" not in field
    for text in (json.dumps(descriptor, ensure_ascii=False),
                 (dataset / "index.html").read_text(encoding="utf-8")):  # fmt: skip
        lowered = text.lower()
        assert "windows-1252" not in lowered and "decimalkomma" not in lowered
    page = (dataset / "index.html").read_text(encoding="utf-8")
    assert "teckenkodning UTF-8, kommatecken mellan kolumnerna och punkt som decimaltecken" in page


def test_transformed_fields_are_explained_in_plain_words(
    make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    portal = tmp_path / "portal"
    result = CliRunner().invoke(cli, ["publish", str(make_package()), "--to", str(portal)])
    assert result.exit_code == 0, result.output
    text, _ = visible((portal / "personal" / "index.html").read_text(encoding="utf-8"))
    assert "ersatta med koder" in text  # pseudonymised names
    assert "HMAC" not in text and "pseudonymiserad" not in text
    assert "rader borttagna" in text and "22 kap. 1 § OSL" in text
