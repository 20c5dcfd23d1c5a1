"""Reading conversations from Rasa's SQL tracker store (its `events` table), on SQLite and PostgreSQL.

Rasa owns that table (it creates it at start); we only read it and, for `purge`, delete from it. The
table is described here with SQLAlchemy Core in a metadata of its own, so our migrations never touch it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, inspect, select

#: Rasa 3.6's `SQLTrackerStore.SQLEvent`, column for column.
tracker_metadata = MetaData()
events = Table(
    "events",
    tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

#: Actions that mean "the assistant could not answer this message" (our fallback actions and Rasa's).
FALLBACK_ACTIONS = frozenset(
    {"action_default_ask_affirmation", "action_default_fallback", "action_two_stage_fallback", "action_out_of_scope"}
)
HANDOFF_ACTIONS = frozenset({"action_handoff"})
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})


@dataclass
class Turn:
    """One user message and what the assistant did about it (the actions up to the next message)."""

    event_id: int
    conversation_id: str
    at: datetime
    text: str
    channel: str
    intent: str | None
    confidence: float | None
    programme: str | None
    actions: list[str] = field(default_factory=list)

    @property
    def topic(self) -> str | None:
        """Topic intents are named ask_<topic>; everything else (greet, affirm, ...) has none."""
        return self.intent[len("ask_") :] if self.intent and self.intent.startswith("ask_") else None

    @property
    def is_fallback(self) -> bool:
        return self.intent in FALLBACK_INTENTS or any(action in FALLBACK_ACTIONS for action in self.actions)

    @property
    def asked_for_handoff(self) -> bool:
        return any(action in HANDOFF_ACTIONS for action in self.actions)


@dataclass(frozen=True)
class Line:
    """One line of a transcript: who said it, when, and what."""

    event_id: int
    at: datetime
    speaker: str  # "user" or "assistant"
    text: str
    intent: str | None = None
    confidence: float | None = None


def tracker_exists(engine: Engine) -> bool:
    """Rasa creates `events` on its first start; before that there is simply nothing to report."""
    return inspect(engine).has_table("events")


def create_events_table(engine: Engine) -> None:
    """For tests and for a tracker database Rasa has not started on yet."""
    tracker_metadata.create_all(engine)


def _timestamp(moment: datetime) -> float:
    return moment.timestamp()


def _moment(timestamp: float | None) -> datetime:
    return datetime.fromtimestamp(timestamp or 0.0, UTC)


def _data(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _programme_entity(parse_data: dict[str, Any]) -> str | None:
    for entity in parse_data.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == "programme" and entity.get("value"):
            return str(entity["value"])
    return None


def _rows(
    engine: Engine, since: datetime | None, until: datetime | None, conversation_id: str | None = None
) -> Iterator[Any]:
    query = select(events).order_by(events.c.sender_id, events.c.timestamp, events.c.id)
    if since is not None:
        query = query.where(events.c.timestamp >= _timestamp(since))
    if until is not None:
        query = query.where(events.c.timestamp < _timestamp(until))
    if conversation_id is not None:
        query = query.where(events.c.sender_id == conversation_id)
    with engine.connect() as connection:
        yield from connection.execute(query)


def read_turns(engine: Engine, since: datetime | None = None, until: datetime | None = None) -> list[Turn]:
    """Every user message in [since, until), with the actions that followed it, oldest first."""
    if not tracker_exists(engine):
        return []
    turns: list[Turn] = []
    current: Turn | None = None
    programme: dict[str, str | None] = {}  # the programme slot, per conversation, as the turns go by
    for row in _rows(engine, since, until):
        if current is not None and current.conversation_id != row.sender_id:
            current = None
        if row.type_name == "slot":
            data = _data(row.data)
            if data.get("name") == "programme":
                value = data.get("value")
                if isinstance(value, list):  # several mentioned: the last one said is the one meant
                    value = value[-1] if value else None
                programme[row.sender_id] = str(value) if value else None
                if current is not None and value:
                    current.programme = str(value)
        elif row.type_name == "user":
            data = _data(row.data)
            parse_data = data.get("parse_data") or {}
            intent = parse_data.get("intent") or {}
            text = str(data.get("text") or "")
            confidence = intent.get("confidence")
            current = Turn(
                event_id=row.id,
                conversation_id=row.sender_id,
                at=_moment(row.timestamp),
                text=text,
                channel=str(data.get("input_channel") or "unknown"),
                intent=row.intent_name or intent.get("name"),
                confidence=float(confidence) if isinstance(confidence, int | float) else None,
                programme=_programme_entity(parse_data) or programme.get(row.sender_id),
            )
            turns.append(current)
        elif row.type_name == "action" and current is not None and row.action_name:
            current.actions.append(row.action_name)
    turns.sort(key=lambda turn: (turn.at, turn.event_id))
    return turns


def read_transcript(engine: Engine, conversation_id: str) -> list[Line]:
    """What was said in one conversation, both sides, oldest first."""
    if not tracker_exists(engine):
        return []
    lines: list[Line] = []
    for row in _rows(engine, None, None, conversation_id):
        if row.type_name not in {"user", "bot"}:
            continue
        data = _data(row.data)
        text = str(data.get("text") or "")
        if row.type_name == "user":
            intent = (data.get("parse_data") or {}).get("intent") or {}
            confidence = intent.get("confidence")
            lines.append(
                Line(
                    row.id,
                    _moment(row.timestamp),
                    "user",
                    text,
                    row.intent_name or intent.get("name"),
                    float(confidence) if isinstance(confidence, int | float) else None,
                )
            )
        elif text or data.get("data", {}).get("buttons"):
            buttons = (data.get("data") or {}).get("buttons") or []
            titles = [str(b.get("title")) for b in buttons if isinstance(b, dict) and b.get("title")]
            shown = text + (("\n[" + "] [".join(titles) + "]") if titles else "")
            lines.append(Line(row.id, _moment(row.timestamp), "assistant", shown))
    return lines


def conversations_with_events(engine: Engine, conversation_ids: Sequence[str]) -> set[str]:
    if not conversation_ids or not tracker_exists(engine):
        return set()
    query = select(events.c.sender_id).where(events.c.sender_id.in_(list(conversation_ids))).distinct()
    with engine.connect() as connection:
        return set(connection.execute(query).scalars())
