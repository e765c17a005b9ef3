"""Playwright driving Debian's chromium (no downloaded browser build)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("KAOPING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_INSTALL = "install it with `apt-get install chromium` (Debian), or set KAOPING_CHROMIUM"
SKIPPED: list[str] = []


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is not None


@pytest.fixture
def browser_page(transactional_db: None) -> Iterator[object]:
    if not chromium_available():
        pytest.skip(f"chromium not found at {CHROMIUM}: {HOW_TO_INSTALL}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop on this thread; the test's own ORM calls are
    # still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            yield page
        finally:
            # Inside Playwright's event loop the ORM hands out connections of their own (asgiref's
            # context-local storage); close them here or PostgreSQL cannot drop the test database.
            from django.db import connections

            connections.close_all()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
