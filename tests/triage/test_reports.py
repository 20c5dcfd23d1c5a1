"""Reports over the tracker store, on SQLite and on PostgreSQL: counts, topics, fallbacks, grouping."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from tests.triage.conftest import NOON, Conversation
from visafaq.db.engine import transaction
from visafaq.triage.events import read_transcript
from visafaq.triage.reports import (
    Period,
    PeriodError,
    build_report,
    parse_duration,
    period_between,
    period_since,
    report_json,
    report_tables,
)
from visafaq.triage.schema import UnansweredRow

PERIOD = period_between(date(2026, 11, 19), date(2026, 11, 21))


@pytest.fixture
def conversations(tracker: Engine, store: Engine) -> Engine:
    (
        Conversation(tracker, "c1", channel="rest")
        .user("what documents do I need for the trainee visa?", "ask_documents", programme="titp")
        .answered()
        .user('/ask_documents{"programme": "titp"}', "ask_documents", confidence=1.0)
        .answered()
        .user("how long does the CoE take", "ask_processing_time", confidence=0.41)
        .answered()
    )
    (
        Conversation(tracker, "c2", channel="socketio")
        .user("can I bring my wife to Japan", "nlu_fallback", confidence=0.2)
        .fell_back()
        .user("Can i bring my wife to japan?", "nlu_fallback", confidence=0.22)
        .fell_back()
        .user("I want to talk to a person", "request_human", confidence=0.9)
        .handed_over()
    )
    (
        Conversation(tracker, "c3", channel="telegram", at=NOON + timedelta(days=1))
        .user("what's the weather in Osaka tomorrow", "out_of_scope", confidence=0.8)
        .action("action_out_of_scope")
        .bot("I can only help with Japanese visas.")
        .user("my email is taro@example.jp, please call me back", "nlu_fallback", confidence=0.1)
        .fell_back()
    )
    Conversation(tracker, "old", at=NOON - timedelta(days=10)).user("hello", "greet").action("utter_greet")
    with transaction(store) as session:
        session.add(
            UnansweredRow(
                conversation_id="c1",
                channel="rest",
                question="how much is the visa fee",
                reason="no_facts",
                programme="titp",
                topic="fees",
                candidates=[],
                created_at=NOON + timedelta(minutes=5),
            )
        )
    return tracker


def test_counts_topics_programmes_and_channels(conversations: Engine) -> None:
    report = build_report(conversations, conversations, PERIOD)
    assert report.conversations == 3  # "old" is outside the period
    assert report.questions == 7  # the button press is not a question
    assert report.fallbacks == 4 and report.fallback_rate == pytest.approx(4 / 7)
    assert report.low_confidence == 1
    assert report.handoffs == 1 and report.handoff_rate == pytest.approx(1 / 3)
    assert dict(report.by_topic) == {"documents": 1, "processing_time": 1, "(none)": 5}
    assert dict(report.by_programme) == {"titp": 2, "(none)": 5}  # the follow-up keeps the programme slot
    assert dict(report.by_channel) == {"socketio": 3, "rest": 2, "telegram": 2}
    per_day = {d.day: (d.questions, d.fallbacks, d.handoffs) for d in report.per_day}
    assert per_day == {date(2026, 11, 19): (0, 0, 0), date(2026, 11, 20): (5, 2, 1), date(2026, 11, 21): (2, 2, 0)}


def test_unanswered_questions_are_grouped_masked_and_linked(conversations: Engine) -> None:
    groups = build_report(conversations, conversations, PERIOD).unanswered
    assert (groups[0].count, groups[0].conversations) == (2, ["c2"])
    assert groups[0].reasons == {"fallback": 2}
    questions = {g.question: g for g in groups}
    assert len(groups) == 5
    assert questions["how long does the CoE take"].reasons == {"low_confidence": 1}
    assert questions["what's the weather in Osaka tomorrow"].reasons == {"out_of_scope": 1}
    assert questions["how much is the visa fee"].reasons == {"no_facts": 1}  # from our table
    assert "my email is [e-mail hidden], please call me back" in questions
    assert "taro@example.jp" not in json.dumps(report_json(build_report(conversations, conversations, PERIOD)))


def test_the_tables_and_json_carry_the_same_numbers(conversations: Engine) -> None:
    report = build_report(conversations, conversations, PERIOD)
    tables = report_tables(report)
    assert set(tables) == {"summary", "per_day", "by_programme", "by_topic", "by_channel", "unanswered"}
    summary = dict(tables["summary"][1])
    as_json = json.loads(json.dumps(report_json(report)))
    assert summary["questions"] == as_json["questions"] == 7
    assert as_json["by_channel"]["socketio"] == 3
    assert as_json["unanswered"][0]["examples"][0]["conversation_id"] == "c2"


def test_a_period_without_conversations_is_all_zero(conversations: Engine) -> None:
    report = build_report(conversations, conversations, period_between(date(2025, 1, 1), date(2025, 1, 2)))
    assert (report.questions, report.conversations, report.fallback_rate, report.unanswered) == (0, 0, 0.0, [])
    assert [d.questions for d in report.per_day] == [0, 0]


def test_a_tracker_store_rasa_never_started_on_gives_an_empty_report(engine: Engine) -> None:
    report = build_report(engine, None, PERIOD)
    assert report.questions == 0 and report.unanswered == []
    assert read_transcript(engine, "anyone") == []


def test_the_transcript_has_both_sides_in_order(conversations: Engine) -> None:
    lines = read_transcript(conversations, "c2")
    assert [line.speaker for line in lines] == ["user", "assistant"] * 3
    assert lines[0].text == "can I bring my wife to Japan" and lines[0].intent == "nlu_fallback"
    assert lines[-1].text.startswith("Your request number")


def test_periods() -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert period_since("7d", now) == Period(now - timedelta(days=7), now)
    assert period_since("24h", now).since == now - timedelta(hours=24)
    assert period_since("2026-11-01", now).since == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert len(period_between(date(2026, 11, 1), date(2026, 11, 30)).days) == 30
    for bad in ("7", "d", "0d", "-3d", "7 days", ""):
        with pytest.raises(PeriodError):
            period_since(bad, now)
    with pytest.raises(PeriodError):
        period_between(date(2026, 11, 2), date(2026, 11, 1))
