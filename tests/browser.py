"""Real-browser tests: Debian's chromium driven by Playwright from the lock, and the app
served by uvicorn on 127.0.0.1. Nothing downloads a browser; where chromium is not installed
(``make setup`` installs it where it can), the tests skip saying so."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from bench.browser import CHROMIUM_ARGS
from bench.web import served

__all__ = ["chromium", "chromium_path", "served"]


def chromium_path() -> str:
    """Debian's chromium, or the test skips saying it is not installed."""
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (make setup installs Debian's chromium package)")
    return path


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Debian chromium under Playwright, for one test module: Playwright's sync
    API keeps an event loop running in the thread while it is open, which other modules'
    ``asyncio.run`` must not meet."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
