"""A real app server and a real headless Chromium for the browser tests.

The server is ``streamlit run app.py`` in a subprocess on a free port with an empty local store; the
browser is the system's Chromium (``scripts/test`` installs it when missing) driven by Playwright, so
Playwright's own browser download is never needed.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.app_server import running_app

WAIT_MS = 60_000  # for any element or expectation: a busy machine can be slow
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> str:
    """The URL of a running app server on an empty local store; stopped once the module's tests are done."""
    with running_app(tmp_path_factory.mktemp("e2e-server")) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh tab, as wide as a laptop screen, with generous timeouts for a busy machine."""
    context = browser.new_context(base_url=app_url, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    tab = context.new_page()
    yield tab
    context.close()
