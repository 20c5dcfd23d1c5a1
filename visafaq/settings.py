"""Settings from the environment. Defaults work on one machine with nothing else running."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def knowledge_dir() -> Path:
    """Where the YAML facts live (VISAFAQ_KNOWLEDGE_DIR, default knowledge/ in the project)."""
    return Path(os.environ.get("VISAFAQ_KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge"))


def database_url() -> str:
    """Any SQLAlchemy URL (VISAFAQ_DATABASE_URL); default a SQLite file under var/."""
    configured = os.environ.get("VISAFAQ_DATABASE_URL")
    if configured:
        return configured
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'visafaq.sqlite3'}"


def tracker_url() -> str:
    """Rasa's SQL tracker store, which staff reports read (VISAFAQ_TRACKER_URL); default var/tracker.sqlite3."""
    configured = os.environ.get("VISAFAQ_TRACKER_URL")
    if configured:
        return configured
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.sqlite3'}"


def today() -> date:
    """The day answers are given for: today, or VISAFAQ_TODAY (YYYY-MM-DD) to preview a rule change."""
    configured = os.environ.get("VISAFAQ_TODAY")
    return date.fromisoformat(configured) if configured else date.today()
