"""Fixtures for the browser tests: the real servers (Rasa, actions, web app) and Debian's Chromium.

The servers run once for this package, on free loopback ports with a fresh SQLite knowledge store and
tracker store. Chromium comes from the system (`apt-get install chromium`, see the Makefile): Playwright's
own browser downloads do not work here. Without Chromium the browser tests fail under CI=true and are
skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.conftest import free_port
from visafaq.db.engine import make_engine
from visafaq.knowledge import store
from visafaq.launcher import Assistant, Ports, Settings
from visafaq.settings import PROJECT_ROOT

#: Where the test run keeps its artifacts (git-ignored); the README links the screenshots.
SCREENSHOTS = PROJECT_ROOT / "results" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Stack:
    assistant: Assistant
    page_url: str
    rasa_url: str
    database_url: str
    var: Path
    #: Another organisation's page that embeds the widget with the one documented tag (and hostile CSS of
    #: its own); its origin is in WEB_ORIGINS. `other_site` serves the same page from an origin that is not.
    embedding_site: str
    other_site: str


def embedding_page(widget_url: str, rasa_url: str) -> bytes:
    return (
        "<!doctype html><html lang=en><head><title>Another site</title><style>"
        "* { color: #ff00ff !important; background: #ffff00 !important; font-family: serif !important; }"
        "</style></head><body><h1>Another organisation</h1>"
        f'<script src="{widget_url}" data-rasa-url="{rasa_url}" defer></script>'
        "</body></html>"
    ).encode()


@contextmanager
def serving(body: bytes) -> Iterator[str]:
    """A plain HTTP server on a free loopback port answering every GET with `body` (an HTML page)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = PROJECT_ROOT / "models" / "visafaq.tar.gz"
    if not model.exists():
        pytest.fail(f"no trained model at {model}: `make test` trains it first (make train)")
    var = tmp_path_factory.mktemp("web-var")
    database_url = f"sqlite:///{var / 'visafaq.sqlite3'}"
    store.load_directory(make_engine(database_url), PROJECT_ROOT / "knowledge")
    ports = Ports(rasa=free_port(), actions=free_port(), web=free_port())
    page_url = f"http://127.0.0.1:{ports.web}"
    rasa_url = f"http://127.0.0.1:{ports.rasa}"
    sites = ExitStack()
    page = embedding_page(f"{page_url}/static/widget.js", rasa_url)
    embedding_site, other_site = sites.enter_context(serving(page)), sites.enter_context(serving(page))
    settings = Settings(
        ports=ports,
        token=secrets.token_urlsafe(16),
        model=model,
        var=var,
        cors=(page_url, embedding_site),
        extra_env={
            "VISAFAQ_DATABASE_URL": database_url,
            "VISAFAQ_TODAY": "2026-11-24",
            "VISAFAQ_RASA_PUBLIC_URL": rasa_url,
        },
    )
    assistant = Assistant(settings)
    with sites:
        assistant.start(timeout=240)
        try:
            yield Stack(assistant, page_url + "/", rasa_url, database_url, var, embedding_site, other_site)
        finally:
            assistant.stop()


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    message = "Debian's chromium is not installed (make browser installs it: apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: empty localStorage, so each test is a new conversation."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Script errors and console errors (a blocked CSP directive is one) seen by the page."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors
