"""The dashboard in headless Chromium (Playwright): log in, see the queue, open a transcript, filter
dates, export CSV. Screenshots go to results/screenshots/ with the other test artifacts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import free_port
from tests.web.conftest import SCREENSHOTS
from tests.web.staff.conftest import PASSWORD, USER, Site, mounted


@pytest.fixture
def base_url(site: Site) -> Iterator[str]:
    """The mounted dashboard under uvicorn, in a thread, on a free loopback port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(mounted(site.config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard did not start under uvicorn")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/staff/")
    expect(page).to_have_url(f"{base_url}/staff/login?next=%2Fstaff%2F")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hand-off queue")).to_be_visible()


def test_a_staff_member_works_through_the_dashboard(browser: Browser, base_url: str, site: Site) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: problems.append(response.url) if response.status >= 400 else None)

    log_in(page, base_url)
    row = page.get_by_role("row").filter(has_text="[passport or card number hidden]")
    expect(row).to_be_visible()
    expect(row).to_contain_text("titp")
    page.screenshot(path=SCREENSHOTS / "staff-queue.png", full_page=True)

    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=f"Hand-off request {site.ticket}")).to_be_visible()
    transcript = page.locator("ol.transcript")
    expect(transcript).to_contain_text("can I change my employer as a trainee?")
    expect(transcript).to_contain_text("Your request number is 1.")
    page.get_by_role("button", name="Claim").click()
    expect(page.locator(".status")).to_contain_text(f"claimed by {USER}")
    page.screenshot(path=SCREENSHOTS / "staff-ticket.png", full_page=True)

    page.get_by_role("link", name="Unanswered").click()
    today = datetime.now(UTC).date()
    page.get_by_label("From").fill(str(today - timedelta(days=3)))
    page.get_by_label("to", exact=True).fill(str(today))
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{base_url}/staff/unanswered?from={today - timedelta(days=3)}&to={today}")
    expect(page.get_by_role("cell", name="<script>alert(1)</script>").first).to_be_visible()  # shown as text
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"visafaq-unanswered-{today - timedelta(days=3)}-{today}.csv"
    exported = Path(download.path()).read_text(encoding="utf-8")
    assert exported.startswith("question,count,reasons,examples,conversations,last_asked")
    assert "web-2" in exported and "TK1234567" not in exported

    page.get_by_label("From").fill(str(today - timedelta(days=400)))
    page.get_by_label("to", exact=True).fill(str(today - timedelta(days=300)))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Nothing went unanswered in this period.")).to_be_visible()

    page.get_by_role("link", name="Trends").click()
    expect(page.locator("svg.chart")).to_have_count(4)
    page.screenshot(path=SCREENSHOTS / "staff-trends.png", full_page=True)
    context.close()

    tablet = browser.new_context(viewport={"width": 820, "height": 1180}, is_mobile=True, has_touch=True)
    page = tablet.new_page()
    log_in(page, base_url)
    page.get_by_role("link", name="Trends").click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, "the trends page scrolls sideways on a tablet"
    page.screenshot(path=SCREENSHOTS / "staff-trends-tablet.png", full_page=True)
    tablet.close()
    assert problems == []  # no CSP violations, console errors or missing files
