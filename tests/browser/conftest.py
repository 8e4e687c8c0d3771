"""Headless Chromium (Debian's `chromium`, never a downloaded browser) against `make run`'s stack.

Without chromium the browser tests skip with one line saying how to install it, except
when CI is set: there a missing browser fails them, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from engine.db import postgres
from local.render_figure import CHROMIUM_ARGS
from tests.e2e.stack import ROOT, RunningStack, free_port_block

ARTIFACTS = ROOT / "test-artifacts" / "browser"
INSTALL_HINT = "chromium is not installed: `sudo apt-get install -y chromium` (Debian/Ubuntu) runs the browser tests"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {INSTALL_HINT}; .ci/run installs it")
        pytest.skip(INSTALL_HINT)
    return path


# Package scope: the browser and the stack stop when tests/browser is done, not at the end
# of the whole suite.
@pytest.fixture(scope="package")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def stack(tmp_path_factory, browser):
    """One `make run` stack (embedded PostgreSQL and Redis, free ports) for every browser test."""
    running = RunningStack(tmp_path_factory.mktemp("browser") / "local", free_port_block()).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class PageWatch:
    """What a page did that a test must see: console errors, uncaught errors, requests elsewhere."""

    def __init__(self, page, origin: str):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.responses = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("request", lambda request: self._request(request, origin))
        page.on("response", lambda response: self.responses.append(response))

    def _request(self, request, origin: str) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "about", "blob") and f"{parts.scheme}://{parts.netloc}" != origin:
            self.foreign.append(request.url)


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    opened.watch = PageWatch(opened, stack.url)
    yield opened
    context.close()


def database_url(stack: RunningStack) -> str:
    """The embedded PostgreSQL's URL, as `make run` printed it."""
    found = re.search(r"PostgreSQL\s+embedded, (\S+)", stack.output())
    assert found, stack.output()
    return found.group(1)


@pytest.fixture
def pg(stack):
    conn = postgres.connect(
        database_url(stack), application_name="analytics-browser-tests", statement_timeout_ms=30_000, io_timeout_seconds=30
    )
    yield conn
    conn.close()
