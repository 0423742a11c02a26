"""A real app server and a real headless Chromium for the browser tests.

The server is ``streamlit run app.py`` in a subprocess on a free port with an empty local store; the
browser is the system's Chromium (``scripts/test`` installs it when missing) driven by Playwright, so
Playwright's own browser download is never needed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect, sync_playwright

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


@contextmanager
def open_tab(browser, app_url: str, **context_options) -> Iterator[Page]:
    """A fresh tab, as wide as a laptop screen, with generous timeouts for a busy machine; ``context_options``
    are Playwright's (``has_touch=True`` for a phone, ``color_scheme="dark"``)."""
    context = browser.new_context(base_url=app_url, viewport={"width": 1400, "height": 1000}, **context_options)
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser, app_url):
    with open_tab(browser, app_url) as tab:
        yield tab
