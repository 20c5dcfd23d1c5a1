"""Fixtures for testing the custom actions without a server (as RasaHQ/financial-demo does).

- `domain`: the real domain/*.yml, merged as Rasa merges a domain directory.
- `database`: a fresh SQLite knowledge store loaded from the real knowledge/, which the actions use
  (VISAFAQ_DATABASE_URL), with the triage tables beside it for checking what was recorded.
- `database_down`: the actions pointed at a database that cannot answer.
- `conversation(...)`: a rasa_sdk Tracker as the action server receives it after a user message: the
  parse data (intent, entities, ranking), the slots Rasa's mappings fill from the entities, the events.
- `run(action, tracker, domain)`: one action turn, returning what was said and the events.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SlotSet, UserUttered
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import common
from visafaq.db.engine import make_engine
from visafaq.knowledge.store import load_directory
from visafaq.settings import PROJECT_ROOT

#: The day every answer is given for, so that tests do not drift with the calendar.
TODAY = date(2026, 11, 24)
#: Nothing listens on port 1: connecting fails at once.
UNREACHABLE_POSTGRES = "postgresql+psycopg://nobody@127.0.0.1:1/none"
#: The last line of every answer from the knowledge store: who says so and when it was checked.
SOURCE_LINE = re.compile(r"^Sources?: .+\(.+\), checked \d{1,2} [A-Z][a-z]+ \d{4}.*\.$")
PAYLOAD = re.compile(r"^/(?P<intent>\w+)(?P<entities>\{.*\})?$")


# --- the domain -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """domain/*.yml merged: lists are joined, mappings are combined."""
    merged: dict[str, Any] = {}
    for path in sorted((PROJECT_ROOT / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in part.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


# --- the databases the actions use ----------------------------------------------------------


@pytest.fixture(autouse=True)
def action_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fixed day, and caches cleared: actions/common.py keeps one engine per process. Without a
    database fixture the actions see an empty database, never the project's own var/."""
    monkeypatch.setenv("VISAFAQ_TODAY", TODAY.isoformat())
    monkeypatch.setenv("VISAFAQ_DATABASE_URL", f"sqlite:///{tmp_path / 'nothing-loaded.sqlite3'}")
    _forget_cached_engine()
    yield
    _forget_cached_engine()


def _forget_cached_engine() -> None:
    if common.engine.cache_info().currsize:
        common.engine().dispose()
    common.engine.cache_clear()
    common.knowledge.cache_clear()


@pytest.fixture(scope="session")
def loaded_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """knowledge/ validated and loaded once; each test gets a copy."""
    path = tmp_path_factory.mktemp("knowledge") / "loaded.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    load_directory(engine, PROJECT_ROOT / "knowledge")
    engine.dispose()
    return path


@pytest.fixture
def database(loaded_knowledge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh copy of the loaded knowledge store, used by the actions; the engine is for checking rows."""
    path = tmp_path / "visafaq.sqlite3"
    with closing(sqlite3.connect(loaded_knowledge)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("VISAFAQ_DATABASE_URL", url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["postgresql unreachable", "knowledge never loaded"])
def database_down(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database that cannot answer: a server nobody listens on, or an empty SQLite file."""
    url = UNREACHABLE_POSTGRES if request.param == "postgresql unreachable" else f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("VISAFAQ_DATABASE_URL", url)
    return str(request.param)


# --- trackers -------------------------------------------------------------------------------


def entity(name: str, said: str, value: object = None, *, extractor: str = "DIETClassifier") -> dict[str, Any]:
    """An entity as NLU reports it; `said` is the text it was found in (its position is filled in by
    `conversation`), `value` what a synonym or lookup mapped it to (default: the text as said)."""
    found: dict[str, Any] = {"entity": name, "value": said if value is None else value, "extractor": extractor}
    found["_said"] = said
    if extractor == "DIETClassifier":
        found["confidence_entity"] = 0.98
    if value is not None and value != said:
        found["processors"] = ["EntitySynonymMapper"]
    return found


def _placed(text: str, entities: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    placed = []
    for item in entities:
        said = str(item["_said"])
        start = text.lower().find(said.lower())
        assert start >= 0, f"entity text {said!r} is not in {text!r}"
        placed.append({**{k: v for k, v in item.items() if k != "_said"}, "start": start, "end": start + len(said)})
    return placed


def _mapped_slots(
    domain: Mapping[str, Any], entities: Sequence[Mapping[str, Any]], active_loop: str | None
) -> dict[str, Any]:
    """The slots Rasa's action_extract_slots fills from the message's entities (from_entity mappings)."""
    filled: dict[str, Any] = {}
    for slot, definition in domain.get("slots", {}).items():
        for mapping in definition.get("mappings", []):
            if mapping.get("type") != "from_entity":
                continue
            conditions = mapping.get("conditions") or []
            if conditions and not any(c.get("active_loop") == active_loop for c in conditions):
                continue
            values = [e["value"] for e in entities if e["entity"] == mapping["entity"]]
            if values:
                filled[slot] = values[-1]
    return filled


def conversation(
    domain: Mapping[str, Any],
    text: str,
    intent: str,
    entities: Sequence[Mapping[str, Any]] = (),
    *,
    slots: Mapping[str, Any] | None = None,
    events: Sequence[dict[str, Any]] = (),
    active_loop: str | None = None,
    sender_id: str = "conversation-1",
    channel: str = "rest",
    confidence: float = 0.93,
    ranking: Sequence[tuple[str, float]] = (),
) -> Tracker:
    """The tracker an action receives after the user said `text`: `slots` are what the conversation
    held before, to which Rasa's entity mappings add this message's values; `events` come before
    the user's message."""
    placed = _placed(text, entities)
    parse_data: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": placed,
        "intent_ranking": [{"name": intent, "confidence": confidence}]
        + [{"name": name, "confidence": score} for name, score in ranking],
    }
    all_slots: dict[str, Any] = dict.fromkeys(domain.get("slots", {}))
    all_slots["requested_slot"] = None
    all_slots.update(slots or {})
    filled = _mapped_slots(domain, placed, active_loop)
    all_slots.update(filled)
    history = [
        *events,
        ActionExecuted("action_listen"),
        UserUttered(text, parse_data, input_channel=channel),
        ActionExecuted("action_extract_slots"),
        *(SlotSet(name, value) for name, value in filled.items()),
    ]
    return Tracker(
        sender_id,
        all_slots,
        parse_data,
        history,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_extract_slots",
    )


def in_form(
    domain: Mapping[str, Any],
    text: str,
    intent: str,
    answered: Mapping[str, Any],
    *,
    asked: str | None,
    slots: Mapping[str, Any] | None = None,
    entities: Sequence[Mapping[str, Any]] = (),
    form: str = "eligibility_form",
) -> Tracker:
    """The tracker Rasa's form sends its validation action: the user answered the question for slot
    `asked`, and `answered` are the slot candidates Rasa's mappings extracted from that answer
    (appended after the form's own ActionExecuted, which is how slots_to_validate finds them)."""
    before = {**(slots or {}), "requested_slot": asked, **answered}
    tracker = conversation(domain, text, intent, entities, slots=before, active_loop=form)
    tracker.events += [
        SlotSet("requested_slot", asked),
        ActionExecuted(form),
        *(SlotSet(name, value) for name, value in answered.items()),
    ]
    tracker.slots.update(answered)
    return tracker


def said_before(text: str, intent: str) -> list[dict[str, Any]]:
    """Events of an earlier user message, for actions that look back in the conversation."""
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return [ActionExecuted("action_listen"), UserUttered(text, parse_data, input_channel="rest")]


# --- running an action ----------------------------------------------------------------------


@dataclass
class Turn:
    """What an action did: the messages it sent and the events it returned."""

    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("text") or "") for m in self.messages)

    @property
    def responses(self) -> list[str]:
        return [str(m["response"]) for m in self.messages if m.get("response")]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [button for m in self.messages for button in m.get("buttons") or []]

    def shown(self, domain: Mapping[str, Any]) -> str:
        """What the user reads: texts, and the domain's responses filled with the action's values."""
        lines = []
        for message in self.messages:
            if message.get("response"):
                template = str(domain["responses"][message["response"]][0]["text"])
                lines.append(template.format(**{k: v for k, v in message.items() if v is not None}))
            else:
                lines.append(str(message.get("text") or ""))
        return "\n".join(lines)

    @property
    def slots(self) -> dict[str, Any]:
        return {str(e["name"]): e["value"] for e in self.events if e.get("event") == "slot"}


def payload(button: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A button payload read as Rasa reads it: the intent, and the entities it sets."""
    match = PAYLOAD.match(str(button["payload"]))
    assert match, f"not an intent payload: {button['payload']!r}"
    return match["intent"], json.loads(match["entities"] or "{}")


def run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> Turn:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return Turn(messages=dispatcher.messages, events=list(events))
