"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright.

Use the fixture in a test module with ``from chromium import browser  # noqa: F401``.
Playwright's own browser download cannot be reached here, so it is pointed at the system's
chromium (`apt-get install chromium`); without one of the two the tests skip with one line.
"""
import shutil

import pytest

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        "--disable-default-apps", "--disable-extensions"]


def executable():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (Playwright's Browser), closed at the end of the session."""
    path = executable()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install playwright)")
    if not path:
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=ARGS)
        yield chromium
        chromium.close()
