"""The production path: Rasa keeps its conversations in PostgreSQL (VISAFAQ_TRACKER_URL), and the staff
reports read them from there. Fails, not skips, in CI when PostgreSQL is unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import postgres_schema
from tests.e2e.conftest import Server, running_assistant
from visafaq.db.engine import make_engine
from visafaq.triage import reports
from visafaq.triage.events import read_transcript

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The assistant with its tracker store and our tables in a fresh PostgreSQL schema."""
    with (
        postgres_schema() as database_url,
        running_assistant(
            tmp_path_factory.mktemp("e2e-pg-var"), database_url=database_url, tracker_url=database_url
        ) as server,
    ):
        yield server


def test_conversations_kept_in_postgresql_appear_in_the_reports(postgres_server: Server) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    postgres_server.say("pg-docs", "what documents do I need for the trainee visa?")
    postgres_server.say("pg-oos", "what's the weather like in Osaka tomorrow?")
    engine = make_engine(postgres_server.tracker_url)
    assert engine.dialect.name == "postgresql"
    report = reports.build_report(engine, engine, reports.Period(since, datetime.now(UTC) + timedelta(minutes=1)))
    assert (report.conversations, report.questions, report.fallbacks) == (2, 2, 1)
    assert dict(report.by_topic)["documents"] == 1
    assert [g.conversations for g in report.unanswered] == [["pg-oos"]]
    lines = read_transcript(engine, "pg-docs")  # the assistant opens (action_session_start), then the question
    asked = next(i for i, line in enumerate(lines) if line.speaker == "user")
    assert lines[asked].text == "what documents do I need for the trainee visa?"
    assert lines[asked].intent == "ask_documents"
    assert any(line.speaker == "assistant" for line in lines[asked + 1 :])
    assert not (postgres_server.var / "tracker.sqlite3").exists()  # nothing went to the SQLite default
