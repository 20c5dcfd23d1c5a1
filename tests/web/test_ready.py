"""The web app's readiness check: 200 when its databases answer, 503 with Retry-After when one does not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from visafaq.web.app import WebConfig, create_app

RASA = "http://localhost:5005"


def test_ready_when_every_database_answers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'ok.sqlite3'}")
    client = TestClient(create_app(WebConfig(rasa_public_url=RASA), databases={"database": engine}))
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_not_ready_when_a_database_does_not_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = create_engine(f"sqlite:///{tmp_path / 'ok.sqlite3'}")
    # A SQLite file in a directory that does not exist cannot be opened: the database is unavailable.
    bad = create_engine(f"sqlite:///{tmp_path / 'missing' / 'tracker.sqlite3'}")
    client = TestClient(create_app(WebConfig(rasa_public_url=RASA), databases={"database": good, "tracker store": bad}))
    with caplog.at_level(logging.ERROR, logger="visafaq.web.app"):
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "tracker store": "unavailable"}}
    assert any("tracker store" in record.getMessage() for record in caplog.records)
    # Liveness stays: the process answers even when a database does not.
    assert client.get("/health").status_code == 200


def test_ready_log_line_hides_the_password(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 9 of loopback: the connection is refused at once.
    engine = create_engine("postgresql+psycopg://someone:s3cret-pw@127.0.0.1:9/db", connect_args={"connect_timeout": 2})
    client = TestClient(create_app(WebConfig(rasa_public_url=RASA), databases={"database": engine}))
    with caplog.at_level(logging.ERROR, logger="visafaq.web.app"):
        response = client.get("/ready")
    assert response.status_code == 503
    assert "s3cret-pw" not in caplog.text
    assert "database" in caplog.text
