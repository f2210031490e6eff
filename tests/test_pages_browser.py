"""The portal's pages in a real headless Chromium, served over HTTP from a local server.

What a citizen and an auditor see: the catalogue with search and filters, a dataset page with a
preview table that sorts and filters, a history page, a withdrawn dataset's notice and a
validation report; download links that answer 200; an XLSX with the same rows as the CSV;
axe-core with no WCAG 2.1 A/AA violation at desktop and phone widths; no page that scrolls
sideways on a phone. Chromium and chromedriver come from Debian (installed by scripts/test.sh),
axe-core from the npm registry (installed into .cache/axe on first use, by scripts/test.sh or by
this module). Screenshots are saved in .cache/screenshots/ (not committed) for a person to look
at.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import http.server
import io
import json
import os
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_KEY
from helpers import EXAMPLES, REPO, PackageFactory

from opengov.release import portal as portal_settings
from opengov.targets.static import publish_static, withdraw_static
from opengov.validate import validate

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INVALID = Path(__file__).parent / "fixtures" / "bad" / "invalid-data"
AXE_DIR = REPO / ".cache" / "axe"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / ".cache" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 390}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from the npm registry, installed once into .cache/axe."""
    if not AXE.is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install axe-core for the accessibility tests"
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR), "axe-core@4"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE.read_text(encoding="utf-8")


def _edit_diarium(folder: Path) -> None:
    """A second release of the diary: 3 rows gone, 1 row changed, 1 row new."""
    data = folder / "data" / "diarium-2024.csv"
    lines = data.read_bytes().decode("utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    changed = rows[10].split(";")
    changed[7] = "Skrivelse"
    added = rows[0].split(";")
    added[1] = "99"
    rows = [*rows[3:10], ";".join(changed), *rows[11:], ";".join(added)]
    data.write_bytes(("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("work")
    portal = tmp_path_factory.mktemp("portal")
    portal_settings.save(
        portal,
        portal_settings.PortalSettings(
            title="Exempelby öppna data",
            publisher="Exempelby kommun",
            contact_email="registrator@exempelby.se",
            base_url="https://data.exempelby.se/",
        ),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENGOV_PSEUDONYM_KEY", TEST_KEY)
        for package in sorted(p for p in EXAMPLES.iterdir() if (p / "datapackage.json").is_file()):
            publish_static(package, portal, agent="test-suite")
        diarium = work / "diarium-2024"
        shutil.copytree(EXAMPLES / "diarium-2024", diarium)
        _edit_diarium(diarium)
        publish_static(diarium, portal, agent="test-suite")
        # A dataset published by mistake and withdrawn: a notice, and gone from the catalogue.
        gone = work / "gammal-lista"
        shutil.copytree(EXAMPLES / "diarium-2024", gone)
        descriptor = json.loads((gone / "datapackage.json").read_text(encoding="utf-8"))
        descriptor["name"] = "gammal-lista"
        (gone / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        publish_static(gone, portal, agent="test-suite")
        withdraw_static(portal, "gammal-lista", reason="Publicerad av misstag.", agent="test")
    # The report of an invalid fixture, as an auditor would open it.
    from opengov.release.pages import validation_page

    report = validate(INVALID).to_dict()
    (portal / "invalid-report.html").write_text(
        validation_page(report, "invalid-data"), encoding="utf-8"
    )
    # A page with known faults, to show the accessibility check finds what it should.
    (portal / "faulty.html").write_text(
        "<!doctype html><html><head><title>Fel</title><link rel=icon href=data:,></head>"
        "<body><main>"
        '<img src="data:,"><p style="color:#bbb;background:#fff">Ljusgrå text</p>'
        '<input type="text"></main></body></html>',
        encoding="utf-8",
    )
    with serve(portal) as url:
        yield url, portal


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--lang=sv-SE",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _console_errors(driver: Any) -> list[str]:
    logs = driver.get_log("browser")
    return [entry["message"] for entry in logs if entry["level"] == "SEVERE"]


def _status(url: str) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as response:
        return int(response.status)


def _width(driver: Any, width: int) -> None:
    """A viewport exactly `width` CSS pixels wide (the window adds nothing in headless mode)."""
    driver.set_window_size(width, 900)
    inner = driver.execute_script("return window.innerWidth")
    if inner != width:
        driver.set_window_size(width + (width - inner), 900)
    assert driver.execute_script("return window.innerWidth") == width


def _open(driver: Any, url: str, width: int) -> None:
    _width(driver, width)
    driver.get(url)


PAGES = {
    "catalogue": "/index.html",
    "dataset": "/diarium-2024/index.html",
    "dataset-money": "/leverantorsreskontra-2024/index.html",
    "dataset-social": "/kommunchef-sociala-medier/index.html",
    "history": "/diarium-2024/history.html",
    "validation": "/diarium-2024/validation.html",
    "validation-errors": "/invalid-report.html",
    "withdrawn": "/gammal-lista/index.html",
}


def _axe(browser: Any, axe_source: str) -> list[dict[str, Any]]:
    browser.execute_script(axe_source)
    browser.set_script_timeout(60)
    result: list[dict[str, Any]] = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
        WCAG,
    )
    return result


@pytest.mark.parametrize("width", list(WIDTHS.values()), ids=list(WIDTHS))
@pytest.mark.parametrize("page", list(PAGES))
def test_axe_reports_no_wcag_violation(
    browser: Any, site: tuple[str, Path], axe_source: str, page: str, width: int
) -> None:
    url, _ = site
    _open(browser, url + PAGES[page], width)
    result = _axe(browser, axe_source)
    assert result == [], json.dumps(result, ensure_ascii=False, indent=2)
    assert _console_errors(browser) == []


def test_axe_finds_the_faults_of_a_faulty_page(
    browser: Any, site: tuple[str, Path], axe_source: str
) -> None:
    url, _ = site
    _open(browser, url + "/faulty.html", WIDTHS["phone"])
    found = {v["id"] for v in _axe(browser, axe_source)}
    assert {"image-alt", "color-contrast", "label", "html-has-lang"} <= found
    browser.get_log("browser")  # this page's messages are not the next test's


@pytest.mark.parametrize("page", list(PAGES))
def test_no_page_scrolls_sideways_on_a_phone(
    browser: Any, site: tuple[str, Path], page: str
) -> None:
    url, _ = site
    _open(browser, url + PAGES[page], WIDTHS["phone"])
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.body.scrollWidth,"
        " document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[2] and widths[1] <= widths[2], widths
    # Wide tables scroll inside their own container, which a keyboard can reach.
    for wrap in browser.find_elements("css selector", ".table-wrap"):
        assert wrap.get_attribute("tabindex") == "0"


def test_catalogue_lists_datasets_and_links_work(browser: Any, site: tuple[str, Path]) -> None:
    url, _ = site
    _open(browser, url + "/index.html", WIDTHS["desktop"])
    assert browser.title == "Exempelby öppna data"
    items = browser.find_elements("css selector", "#datasets li.dataset")
    names = [i.get_attribute("data-name") for i in items]
    # Every published dataset, and not the withdrawn one.
    assert names == ["diarium-2024", "kommunchef-sociala-medier", "leverantorsreskontra-2024"]
    links = [a.get_attribute("href") for a in browser.find_elements("css selector", "a")]
    downloads = [h for h in links if h.endswith((".csv", ".parquet", ".xlsx"))]
    assert len(downloads) >= 3 * len(names)
    for href in links:
        if href.startswith(url):
            assert _status(href) == 200, href
    assert _console_errors(browser) == []


def _visible(browser: Any) -> list[str]:
    return [
        i.get_attribute("data-name")
        for i in browser.find_elements("css selector", "#datasets li.dataset")
        if i.is_displayed()
    ]


def test_catalogue_search_and_filters_narrow_the_list(browser: Any, site: tuple[str, Path]) -> None:
    from selenium.webdriver.support.ui import Select

    url, _ = site
    _open(browser, url + "/index.html", WIDTHS["phone"])
    everything = _visible(browser)
    assert len(everything) == 3
    query = browser.find_element("id", "q")
    assert query.is_displayed()  # the search form appears once the script runs
    query.send_keys("leverantörsfakturor")
    assert _visible(browser) == ["leverantorsreskontra-2024"]
    status = browser.find_element("id", "search-status").text
    assert status == "Visar 1 av 3 datamängder."
    query.clear()
    query.send_keys("ekonomi och finans")  # a theme, searched by its Swedish label
    assert _visible(browser) == ["leverantorsreskontra-2024"]
    query.clear()
    query.send_keys("finns-inte-någonstans")
    assert _visible(browser) == []
    query.clear()
    query.send_keys(" ")
    assert _visible(browser) == everything
    Select(browser.find_element("id", "f-keyword")).select_by_value("diarium")
    assert _visible(browser) == ["diarium-2024"]
    Select(browser.find_element("id", "f-keyword")).select_by_value("")
    Select(browser.find_element("id", "f-theme")).select_by_value("ECON")
    assert _visible(browser) == ["leverantorsreskontra-2024"]
    assert _console_errors(browser) == []


def _column(browser: Any, table: Any, index: int) -> list[str]:
    return [
        row.find_elements("tag name", "td")[index].get_attribute("data-sort")
        or row.find_elements("tag name", "td")[index].text
        for row in table.find_elements("css selector", "tbody tr")
        if row.is_displayed()
    ]


def test_preview_table_sorts_and_filters(browser: Any, site: tuple[str, Path]) -> None:
    url, _ = site
    _open(browser, url + "/leverantorsreskontra-2024/index.html", WIDTHS["desktop"])
    table = browser.find_element("css selector", "table.preview")
    heads = table.find_elements("css selector", "thead th")
    kinds = [h.get_attribute("data-kind") for h in heads]
    number = kinds.index("number")
    text = kinds.index("text")
    rows = table.find_elements("css selector", "tbody tr")
    assert len(rows) == 100
    button = heads[number].find_element("css selector", "button.sort")
    button.click()
    assert heads[number].get_attribute("aria-sort") == "ascending"
    values = [float(v) for v in _column(browser, table, number) if v]
    assert values == sorted(values) and values[0] < values[-1]
    button.click()
    assert heads[number].get_attribute("aria-sort") == "descending"
    values = [float(v) for v in _column(browser, table, number) if v]
    assert values == sorted(values, reverse=True)
    # A text column with different values: sorted one way, then exactly the other way.
    texts = [i for i, k in enumerate(kinds) if k == "text"]
    text = next(i for i in texts if len(set(_column(browser, table, i))) > 2)
    before = _column(browser, table, text)
    heads[text].find_element("css selector", "button.sort").click()
    ascending = _column(browser, table, text)
    assert heads[number].get_attribute("aria-sort") is None
    assert heads[text].get_attribute("aria-sort") == "ascending"
    heads[text].find_element("css selector", "button.sort").click()
    descending = _column(browser, table, text)
    assert sorted(ascending) == sorted(before) and ascending != before
    filled = [w for w in ascending if w]
    assert [w for w in descending if w] == list(reversed(filled))
    # Filtering: a word from one row narrows the rows to those containing it.
    rows_text = [r.text.lower() for r in table.find_elements("css selector", "tbody tr")]
    word = next(
        w
        for row in rows_text
        for w in row.split()
        if len(w) > 3 and 1 <= sum(w in r for r in rows_text) < len(rows_text)
    )
    box = browser.find_element("css selector", "[data-filter-for] input")
    box.send_keys(word)
    shown = [r for r in table.find_elements("css selector", "tbody tr") if r.is_displayed()]
    assert 1 <= len(shown) < 100
    assert all(word.lower() in r.text.lower() for r in shown)
    status = browser.find_element("css selector", "[data-filter-for] [role=status]").text
    assert status == f"Visar {len(shown)} av 100 rader."
    assert _console_errors(browser) == []


def test_dataset_page_shows_what_a_citizen_needs(browser: Any, site: tuple[str, Path]) -> None:
    url, _ = site
    _open(browser, url + "/diarium-2024/index.html", WIDTHS["desktop"])
    assert browser.title == "Diarium 2024, Exempelby kommun"
    body = browser.find_element("tag name", "body").text
    for expected in (
        "Vad som inte publiceras",
        "21 kap. 7 § OSL",
        "registrator@exempelby.se",  # contact point
        "offentlighetsprincipen",  # a keyword
        "Regeringen och den offentliga sektorn",  # the theme, in Swedish
        "utgåva 2",
        "Förhandsvisning",
        "Tomma",
        "Olika värden",
        "Excel (XLSX",
    ):
        assert expected in body, expected
    # The column profile shows Swedish titles and types, and a chart per column with values.
    cards = browser.find_elements("css selector", "article.column")
    assert len(cards) == 11
    assert "Diarienummer" in cards[0].text and "text" in cards[0].text
    assert browser.find_elements("css selector", "svg.histogram[role=img]")
    for english in ("string", "integer", "Posts", "engine", "arrow"):
        assert english not in body.split(), english
    assert _console_errors(browser) == []


def test_history_page_lists_releases_with_changes(browser: Any, site: tuple[str, Path]) -> None:
    import pyarrow.parquet as pq

    url, portal = site
    _open(browser, url + "/diarium-2024/history.html", WIDTHS["desktop"])
    releases = browser.find_elements("css selector", "li.release")
    assert [r.get_attribute("id") for r in releases] == ["utgava-2", "utgava-1"]
    newest = releases[0].text
    assert "1 rad tillagd, 3 rader borttagna, 1 rad ändrad" in newest, newest
    # Release 1 had the rows release 2 has, less the one added, plus the three removed.
    now = pq.read_metadata(portal / "diarium-2024" / "data" / "handlingar.parquet").num_rows
    first = "första utgåvan, " + f"{now - 1 + 3:,}".replace(",", " ") + " rader"
    assert first in releases[1].text.replace("\u00a0", " ")
    links = [a.get_attribute("href") for a in browser.find_elements("css selector", "li a")]
    assert len(links) == 2
    for href in links:
        assert _status(href) == 200
        with urllib.request.urlopen(href) as response:
            assert json.load(response)["dataset"] == "diarium-2024"


def test_withdrawn_dataset_shows_a_notice(browser: Any, site: tuple[str, Path]) -> None:
    url, portal = site
    _open(browser, url + "/gammal-lista/index.html", WIDTHS["phone"])
    assert "har dragits tillbaka" in browser.find_element("tag name", "body").text
    assert "Publicerad av misstag." in browser.find_element("tag name", "body").text
    assert not (portal / "gammal-lista" / "data").exists()


def test_validation_report_shows_error_table_in_swedish(
    browser: Any, site: tuple[str, Path]
) -> None:
    url, _ = site
    _open(browser, url + "/invalid-report.html", WIDTHS["desktop"])
    assert browser.title.startswith("Kontrollrapport")
    verdict = browser.find_element("id", "verdict").text
    assert "Underkänd" in verdict
    rows = browser.find_elements("css selector", "table.errors tbody tr")
    assert len(rows) >= 5
    types = {r.find_elements("tag name", "td")[2].get_attribute("data-type") for r in rows}
    assert {"type-error", "constraint-error"} <= types
    shown = {r.find_elements("tag name", "td")[2].text for r in rows}
    assert "Fel datatyp" in shown and not any("error" in s.lower() for s in shown)
    notes = " ".join(r.find_elements("tag name", "td")[4].text for r in rows)
    assert "type is" not in notes and "constraint" not in notes
    assert browser.find_elements("css selector", "#summary tbody tr")
    assert "19710305" not in browser.page_source
    assert _console_errors(browser) == []


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def _as_csv_text(value: Any) -> str:
    """A cell as openpyxl reads it, written the way the published CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _same_cell(xlsx: Any, csv_text: str) -> bool:
    shown = _as_csv_text(xlsx)
    if shown == csv_text:
        return True
    if isinstance(xlsx, dt.datetime) and len(csv_text) == 10:
        return xlsx.time() == dt.time() and xlsx.date().isoformat() == csv_text
    if isinstance(xlsx, dt.datetime):
        # A datetime column: the CSV writes it with a Z (UTC) or with seconds only.
        return csv_text.rstrip("Z") == shown.rstrip("Z") or csv_text.startswith(shown[:19])
    if isinstance(xlsx, int | float) and not isinstance(xlsx, bool):
        return float(csv_text) == float(xlsx)
    return False


def test_every_download_answers_and_xlsx_has_the_csv_rows(
    browser: Any, site: tuple[str, Path]
) -> None:
    import openpyxl

    url, portal = site
    checked = 0
    for page in ("/index.html", *(p for k, p in PAGES.items() if k.startswith("dataset"))):
        _open(browser, url + page, WIDTHS["desktop"])
        for a in browser.find_elements("css selector", "a[href$='.xlsx'], a[href$='.csv'], "
                                       "a[href$='.parquet']"):  # fmt: skip
            assert _status(a.get_attribute("href")) == 200, a.get_attribute("href")
    for xlsx in sorted(portal.glob("*/data/*.xlsx")):
        csv_rows = _csv_rows(xlsx.with_suffix(".csv").read_bytes())
        with urllib.request.urlopen(
            url + "/" + urllib.parse.quote(xlsx.relative_to(portal).as_posix())
        ) as response:
            book = openpyxl.load_workbook(io.BytesIO(response.read()), read_only=True)
        sheet = book["Data"]
        xlsx_rows = list(sheet.iter_rows(values_only=True))
        assert len(xlsx_rows) == len(csv_rows), xlsx
        assert [str(v) for v in xlsx_rows[0]] == csv_rows[0]
        for got, want in zip(xlsx_rows[1:], csv_rows[1:], strict=True):
            assert len(got) == len(want)
            for a, b in zip(got, want, strict=True):
                assert _same_cell(a, b), (xlsx.name, a, b)
        assert [r[0] for r in book["Kolumner"].iter_rows(values_only=True)][1:] == csv_rows[0]
        checked += 1
    assert checked == 4


def _full_page(driver: Any, path: Path) -> None:
    """The whole page at the current viewport width (Chromium's DevTools protocol)."""
    import base64

    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def test_screenshots_for_a_person_to_look_at(browser: Any, site: tuple[str, Path]) -> None:
    """Not a check of pixels: the pictures are for looking at (.cache/screenshots/)."""
    url, _ = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, page in (("catalogue", "/index.html"), ("dataset", "/diarium-2024/index.html"),
                       ("dataset-money", "/leverantorsreskontra-2024/index.html"),
                       ("history", "/diarium-2024/history.html")):  # fmt: skip
        for label, width in WIDTHS.items():
            _open(browser, url + page, width)
            path = SCREENSHOTS / f"{name}-{label}.png"
            _full_page(browser, path)
            assert path.stat().st_size > 10_000
    assert os.listdir(SCREENSHOTS)


def test_published_page_of_a_tiny_package(
    browser: Any, make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    portal = tmp_path / "portal"
    publish_static(make_package(), portal)
    with serve(portal) as url:
        _open(browser, url + "/personal/index.html", WIDTHS["phone"])
        heading = browser.find_element("css selector", "section h2 + p.muted").text
        assert heading == "3 rader · 6 kolumner"
        assert _console_errors(browser) == []
