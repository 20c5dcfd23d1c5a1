"""The production path: Rasa keeps its conversations in PostgreSQL (VISAFAQ_TRACKER_URL), and the staff
reports read them from there. Fails, not skips, in CI when PostgreSQL is unreachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import _postgres_admin_url, postgres_required
from tests.e2e.conftest import Server, running_assistant
from visafaq.db.engine import make_engine
from visafaq.triage import reports
from visafaq.triage.events import read_transcript

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The assistant with its tracker store and our tables in a fresh PostgreSQL schema."""
    admin_url = _postgres_admin_url()
    try:
        admin = make_engine(admin_url)
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect decides fail-or-skip
        message = f"PostgreSQL unreachable: {error}"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    database_url = url.render_as_string(hide_password=False)
    try:
        with running_assistant(
            tmp_path_factory.mktemp("e2e-pg-var"), database_url=database_url, tracker_url=database_url
        ) as server:
            yield server
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
