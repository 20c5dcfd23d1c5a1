"""The staff dashboard mounted at /staff in a small Starlette app, as the main web app will mount it,
over a tracker store and our tables holding a few conversations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.triage.conftest import Conversation
from visafaq.db.engine import make_engine
from visafaq.db.migrate import upgrade
from visafaq.triage import staff
from visafaq.triage.events import create_events_table
from visafaq.triage.records import Asked, request_handoff
from visafaq.web.staff import StaffConfig, create_staff_app

USER, PASSWORD = "aiko", "a long staff password"
SECRET_QUESTION = "my passport TK1234567, call 090-1234-5678"


@dataclass
class Site:
    config: StaffConfig
    store: Engine
    tracker: Engine
    ticket: int


def mounted(config: StaffConfig) -> Starlette:
    return Starlette(routes=[Mount("/staff", app=create_staff_app(config), name="staff")])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with make_site(tmp_path) as made:
        yield made


@contextmanager
def make_site(tmp_path: Path) -> Iterator[Site]:
    """The site's databases under `tmp_path`: one staff user, two conversations, one open hand-off."""
    config = StaffConfig(
        database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        tracker_url=f"sqlite:///{tmp_path / 'tracker.sqlite3'}",
        secret_key="test secret key, not for production",
    )
    store, tracker = make_engine(config.database_url), make_engine(config.tracker_url)
    upgrade(store)
    staff.add_user(store, USER, PASSWORD)
    create_events_table(tracker)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    (
        Conversation(tracker, "web-1", at=yesterday, channel="socketio")
        .user("can I change my employer as a trainee?", "ask_change_employer", programme="titp")
        .answered()
        .user(SECRET_QUESTION, "nlu_fallback", confidence=0.2)
        .fell_back()
        .user("I want to talk to a person", "request_human")
        .handed_over()
    )
    Conversation(tracker, "web-2", at=yesterday).user("<script>alert(1)</script>", "nlu_fallback", 0.1).fell_back()
    ticket = request_handoff(store, Asked("web-1", SECRET_QUESTION, "socketio", "titp"))
    yield Site(config, store, tracker, ticket)
    store.dispose()
    tracker.dispose()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(mounted(site.config), base_url="http://testserver") as client:
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def log_in(client: TestClient, user: str = USER, password: str = PASSWORD) -> str:
    """Log in through the form; return the session's CSRF token."""
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"csrf": csrf_of(page.text), "username": user, "password": password, "next": "/staff/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/staff/").text)


@pytest.fixture
def staff_client(client: TestClient) -> tuple[TestClient, str]:
    return client, log_in(client)
