"""The board in a real headless Chromium: the figures on screen are the store's, on a phone too.

Needs Debian's chromium and chromium-driver (`.ci/run` installs them). Without them the test is
skipped, unless CROSSDEPT_TEST_BROWSER=required (as in CI), where their absence fails it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from plugin.rules.reports.board import figure_cells
from plugin.rules.reports.board_sources import read_board
from plugin.rules.reports.mirror import rebuild
from plugin.spine.context import Context
from plugin.spine.store import Store
from tests.fakes import load_default_rules
from tests.web.test_web_board import NOW, TOKEN, seed_board
from webhooks.settings import load_settings
from webhooks.web.app import create_app
from webhooks.web.board import BoardView

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _browser():  # type: ignore[no-untyped-def]
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        if os.environ.get("CROSSDEPT_TEST_BROWSER") == "required":
            pytest.fail("CROSSDEPT_TEST_BROWSER=required but Debian's chromium is not installed")
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=DriverService(DRIVER), options=options)


@pytest.fixture
def served_board(sqlite_store: Store, tmp_path: Path) -> Iterator[tuple[str, Context]]:
    """The real app on a local port, its board reading a seeded Jira and store."""
    settings = load_settings(
        {
            "CROSSDEPT_JIRA_URL": "https://example.atlassian.net",
            "CROSSDEPT_MARK_KEY": "test-mark-key-not-in-jira",
            "CROSSDEPT_JIRA_EMAIL": "crossdept@example.com",
            "CROSSDEPT_JIRA_API_TOKEN": "test-jira-api-token",
            "CROSSDEPT_WEBHOOK_SECRET": "browser-test-webhook-secret",
            "CROSSDEPT_BOARD_TOKEN": TOKEN,
            "CROSSDEPT_DATA_DIR": str(tmp_path / "data"),
        }
    )
    context = Context(
        rules=load_default_rules(),
        jira=seed_board(sqlite_store),
        store=sqlite_store,
        clock=lambda: NOW,
    )
    rebuild(context)
    app = create_app(settings)
    app.extensions["crossdept.board"] = BoardView(lambda: context, "https://example.atlassian.net")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", context
    finally:
        server.shutdown()


def test_the_board_in_chromium_shows_the_stores_figures(
    served_board: tuple[str, Context], tmp_path: Path
) -> None:
    base, context = served_board
    browser = _browser()
    try:
        browser.get(f"{base}/board?token={TOKEN}&lang=en")
        assert browser.current_url == f"{base}/board?lang=en"  # the token left the address
        from selenium.webdriver.common.by import By

        rows = browser.find_elements(By.CSS_SELECTOR, "#departments tbody tr")
        shown = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
        expected = read_board(context).departments
        names = {
            "市场部": "Marketing",
            "技术部": "Engineering",
            "产品部": "Product",
            "财务部": "Finance",
        }
        assert shown == [
            [names.get(row.department, row.department), *figure_cells(row)] for row in expected
        ]
        bars = browser.find_elements(By.CSS_SELECTOR, "svg rect")
        assert bars[1].get_attribute("data-value") == "0.3333"  # Engineering's on-time rate
        delayed = browser.find_element(By.CSS_SELECTOR, "#delayed a")
        assert delayed.text == "XD-4"
        assert delayed.get_attribute("href") == "https://example.atlassian.net/browse/XD-4"
        screenshot = tmp_path / "board.png"
        assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
        if os.environ.get("CROSSDEPT_BOARD_SCREENSHOT"):
            shutil.copy(screenshot, os.environ["CROSSDEPT_BOARD_SCREENSHOT"])

        browser.set_window_size(390, 844)  # a phone: the page itself never scrolls sideways
        browser.get(f"{base}/board")
        assert browser.find_element(By.TAG_NAME, "h1").text == "跨部门协作目标看板"
        wide = browser.execute_script("return document.documentElement.scrollWidth")
        assert wide <= browser.execute_script("return window.innerWidth")
    finally:
        browser.quit()
