"""Headless Chromium (Debian's, driven by Playwright for Python) for the browser tests.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium, which
.ci/run installs. Without it the browser tests skip locally and fail under CI=true.
"""

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.required import missing

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-quic",
    # Without these Chromium keeps calling Google's hosts, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("OMNIROO_CHROMIUM") or shutil.which("chromium") or ""
    if not path:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def a11y_page(browser: Any) -> Iterator[Any]:
    """A page whose context lets tests/browser/a11y.py inject axe-core under the console's
    script-free CSP, at a desktop size for the screenshots."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()
