"""One setting names the tracker store for Rasa (endpoints.yml) and for the staff reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from visafaq import settings
from visafaq.launcher import Assistant, Settings, rasa_database_url


def test_the_launcher_gives_rasa_the_reports_tracker_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISAFAQ_TRACKER_URL", raising=False)
    env = Assistant(Settings(var=tmp_path)).environment()
    assert env["VISAFAQ_TRACKER_URL"] == env["TRACKER_STORE_URL"] == f"sqlite:///{tmp_path / 'tracker.sqlite3'}"

    monkeypatch.setenv("VISAFAQ_TRACKER_URL", "postgresql+psycopg://rasa:pw@db.internal:5432/tracker")
    env = Assistant(Settings(var=tmp_path)).environment()
    assert env["TRACKER_STORE_URL"] == "postgresql://rasa:pw@db.internal:5432/tracker"  # Rasa has psycopg2
    assert settings.tracker_url() == env["VISAFAQ_TRACKER_URL"]


def test_rasa_urls() -> None:
    assert rasa_database_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert rasa_database_url("sqlite:////var/t.sqlite3") == "sqlite:////var/t.sqlite3"


def test_endpoints_use_the_launchers_url() -> None:
    endpoints = (settings.PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8")
    assert "url: ${TRACKER_STORE_URL}" in endpoints
