"""The portal's pages in a real headless Chromium, served over HTTP from a local server.

Checks what a citizen and an auditor see: titles, the dataset list, download links that answer
200, the error table of a validation report, and no console errors. Chromium and chromedriver
come from Debian (installed by scripts/test.sh).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import EXAMPLES, PackageFactory

from opengov.targets.static import publish_static
from opengov.validate import validate

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INVALID = Path(__file__).parent / "fixtures" / "bad" / "invalid-data"


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
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    portal = tmp_path_factory.mktemp("portal")
    for package in sorted(p for p in EXAMPLES.iterdir() if (p / "datapackage.json").is_file()):
        publish_static(package, portal, agent="test-suite")
    # The report of an invalid fixture, as an auditor would open it.
    from opengov.release.pages import validation_page

    report = validate(INVALID).to_dict()
    (portal / "invalid-report.html").write_text(
        validation_page(report, "invalid-data"), encoding="utf-8"
    )
    with serve(portal) as url:
        yield url, portal


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
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
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--window-size=400,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _console_errors(driver: object) -> list[str]:
    logs = driver.get_log("browser")  # type: ignore[attr-defined]
    return [entry["message"] for entry in logs if entry["level"] == "SEVERE"]


def _status(url: str) -> int:
    with urllib.request.urlopen(url) as response:
        return int(response.status)


def test_catalogue_lists_datasets_and_links_work(browser: object, site: tuple[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    url, portal = site
    browser.get(url + "/index.html")  # type: ignore[attr-defined]
    assert browser.title == "Öppna data"  # type: ignore[attr-defined]
    items = browser.find_elements(By.CSS_SELECTOR, "#datasets li.dataset")  # type: ignore[attr-defined]
    datasets = sorted(p.name for p in portal.iterdir() if p.is_dir())
    assert len(items) == len(datasets) >= 3
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a")]  # type: ignore[attr-defined]
    downloads = [h for h in links if h.endswith((".csv", ".parquet"))]
    assert len(downloads) >= 2 * len(datasets)
    for href in links:
        if href.startswith(url):
            assert _status(href) == 200, href
    assert _console_errors(browser) == []


def test_dataset_page_renders_in_swedish(browser: object, site: tuple[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    browser.get(url + "/diarium-2024/index.html")  # type: ignore[attr-defined]
    assert "Diarium" in browser.title  # type: ignore[attr-defined]
    body = browser.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    assert "Vad som inte publiceras" in body and "21 kap. 7 § OSL" in body
    for a in browser.find_elements(By.CSS_SELECTOR, "a"):  # type: ignore[attr-defined]
        href = a.get_attribute("href")
        if href.startswith(url):
            assert _status(href) == 200, href
    assert _console_errors(browser) == []


def test_validation_report_shows_error_table(browser: object, site: tuple[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    url, _ = site
    browser.get(url + "/invalid-report.html")  # type: ignore[attr-defined]
    assert browser.title.startswith("Valideringsrapport")  # type: ignore[attr-defined]
    verdict = browser.find_element(By.ID, "verdict").text  # type: ignore[attr-defined]
    assert "Underkänd" in verdict
    rows = browser.find_elements(By.CSS_SELECTOR, "table.errors tbody tr")  # type: ignore[attr-defined]
    assert len(rows) >= 5
    types = {r.find_elements(By.TAG_NAME, "td")[2].text.split()[0] for r in rows}
    assert {"type-error", "constraint-error"} <= types
    summary = browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr")  # type: ignore[attr-defined]
    assert summary
    assert "19710305" not in browser.page_source  # type: ignore[attr-defined]
    assert _console_errors(browser) == []


def test_published_page_of_a_tiny_package(
    browser: object, make_package: PackageFactory, tmp_path: Path, key: str
) -> None:
    from selenium.webdriver.common.by import By

    portal = tmp_path / "portal"
    publish_static(make_package(), portal)
    with serve(portal) as url:
        browser.get(url + "/personal/index.html")  # type: ignore[attr-defined]
        cards = browser.find_elements(By.CSS_SELECTOR, ".resource")  # type: ignore[attr-defined]
        assert len(cards) == 1 and "3 rader" in cards[0].text
        assert _console_errors(browser) == []
