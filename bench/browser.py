"""Debian's chromium, headless, under Playwright's sync API (from the lock), for the cases
that measure a page in a real browser; its flags are the browser tests' and the screenshots'
too (``tests/browser.py``, ``tools/screenshots.py``). Nothing downloads a browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOT_INSTALLED = "chromium is not installed (make setup installs Debian's chromium package)"


class ChromiumMissing(RuntimeError):
    """The case cannot run here: there is no chromium to measure the page in."""


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium (a ``playwright.sync_api.Browser``), closed afterwards; raises
    ``ChromiumMissing`` saying so when chromium is not installed."""
    path = shutil.which("chromium")
    if path is None:
        raise ChromiumMissing(f"not run: {NOT_INSTALLED}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
