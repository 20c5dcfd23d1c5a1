"""`visafaq triage ...` and `visafaq staff add-user`, as staff run them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.triage.conftest import Conversation
from visafaq.db.engine import make_engine
from visafaq.db.migrate import upgrade
from visafaq.triage import staff
from visafaq.triage.events import create_events_table
from visafaq.triage.records import Asked, request_handoff


@pytest.fixture(autouse=True)
def databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    store_url, tracker_url = f"sqlite:///{tmp_path / 'store.sqlite3'}", f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    monkeypatch.setenv("VISAFAQ_DATABASE_URL", store_url)
    monkeypatch.setenv("VISAFAQ_TRACKER_URL", tracker_url)
    tracker = make_engine(tracker_url)
    create_events_table(tracker)
    recently = datetime.now(UTC) - timedelta(hours=2)
    Conversation(tracker, "cli-1", at=recently).user("visa fee?", "ask_fees", programme="ssw").answered()
    Conversation(tracker, "cli-2", at=recently, channel="telegram").user(
        "call 090-1234-5678", "nlu_fallback", 0.1
    ).fell_back()
    Conversation(tracker, "cli-old", at=recently - timedelta(days=30)).user("hello", "greet").answered()
    store = make_engine(store_url)
    upgrade(store)
    request_handoff(store, Asked("cli-2", "please call 090-1234-5678", "telegram"))
    return store_url, tracker_url


def test_report_as_json_csv_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "triage", "report", "--since", "7d", "--json")
    report = json.loads(out)
    assert code == 0
    assert (report["questions"], report["conversations"], report["fallbacks"]) == (2, 2, 1)
    assert report["by_topic"] == {"fees": 1, "(none)": 1} and report["by_programme"]["ssw"] == 1
    assert report["unanswered"][0]["question"] == "call [phone hidden]"

    code, out, _ = run_cli(capsys, "triage", "report", "--since", "60d", "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and ["summary", "questions", "3"] in rows
    assert ["by_channel", "telegram", "1"] in rows and "090-1234-5678" not in out

    code, out, _ = run_cli(capsys, "triage", "report")
    assert code == 0 and "2 questions in 2 conversations" in out and "call [phone hidden]" in out


def test_a_bad_period_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "triage", "report", "--since", "a week")
    assert code == 2 and "e.g. 7d" in err
    code, _, err = run_cli(capsys, "triage", "purge", "--older-than", "soon")
    assert code == 2 and "e.g. 7d" in err


def test_tickets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "triage", "tickets")
    assert code == 0 and "please call [phone hidden]" in out and "#1" in out
    code, out, _ = run_cli(capsys, "triage", "tickets", "--json")
    [ticket] = json.loads(out)
    assert ticket["status"] == "open" and ticket["channel"] == "telegram" and ticket["waiting_seconds"] >= 0


def test_purge(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "triage", "purge", "--older-than", "10d")
    assert code == 0 and "1 conversations" in out and "0 hand-off requests" in out
    code, out, _ = run_cli(capsys, "triage", "report", "--since", "60d", "--json")
    assert json.loads(out)["conversations"] == 2


def test_add_user_asks_for_the_password_twice(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, databases: tuple[str, str]
) -> None:
    answers = iter(["a long enough password", "a long enough password"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    code, out, _ = run_cli(capsys, "staff", "add-user", "aiko")
    assert code == 0 and "created" in out
    assert staff.authenticate(make_engine(databases[0]), "aiko", "a long enough password")

    answers = iter(["one password here", "another password"])
    code, _, err = run_cli(capsys, "staff", "add-user", "ben")
    assert code == 1 and "differ" in err
    answers = iter(["short", "short"])
    code, _, err = run_cli(capsys, "staff", "add-user", "ben")
    assert code == 1 and "at least" in err
