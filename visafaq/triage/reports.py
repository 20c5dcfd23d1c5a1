"""What people ask, what the assistant could not answer, and who asked for a person, over a period.

Read from Rasa's tracker store (every user message) and our triage tables (the questions the answer
action found no facts for). The command line and the staff dashboard both show these reports.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, inspect, select

from visafaq.db.engine import transaction
from visafaq.triage.events import Turn, read_turns
from visafaq.triage.grouping import group_questions
from visafaq.triage.privacy import mask
from visafaq.triage.schema import UnansweredRow

#: Below this NLU confidence an answer counts as low-confidence (Rasa's fallback threshold is lower).
LOW_CONFIDENCE = 0.6
#: Examples shown per group of unanswered questions.
EXAMPLES = 5
NONE = "(none)"

_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class PeriodError(ValueError):
    """A period that cannot be read; the message gives the accepted forms."""


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    @property
    def days(self) -> list[date]:
        first, last = self.since.date(), (self.until - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def parse_duration(text: str) -> timedelta:
    """'7d', '24h', '2w' -> a timedelta."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise PeriodError(f"{text!r} is not a duration: use a number and h, d or w, e.g. 7d, 24h, 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def period_since(text: str, now: datetime | None = None) -> Period:
    """'7d' (the last seven days) or '2026-11-01' (from that day on), until now."""
    now = now or datetime.now(UTC)
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return Period(now - parse_duration(text), now)
    return Period(datetime.combine(day, time(), UTC), now)


def period_between(first: date, last: date) -> Period:
    """Whole days, both included."""
    if last < first:
        raise PeriodError(f"the period ends ({last}) before it starts ({first})")
    return Period(datetime.combine(first, time(), UTC), datetime.combine(last + timedelta(days=1), time(), UTC))


@dataclass(frozen=True)
class DayCount:
    day: date
    questions: int
    fallbacks: int
    handoffs: int


@dataclass(frozen=True)
class Example:
    conversation_id: str
    question: str  # masked
    at: datetime
    reason: str


@dataclass
class UnansweredGroup:
    """Near-identical questions the assistant could not answer, as one row."""

    question: str  # the most common wording (masked)
    count: int
    examples: list[Example]
    conversations: list[str]
    reasons: dict[str, int]
    programmes: dict[str, int]
    last_at: datetime


@dataclass
class Report:
    period: Period
    conversations: int = 0
    questions: int = 0
    fallbacks: int = 0
    low_confidence: int = 0
    handoffs: int = 0
    per_day: list[DayCount] = field(default_factory=list)
    by_programme: list[tuple[str, int]] = field(default_factory=list)
    by_topic: list[tuple[str, int]] = field(default_factory=list)
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[UnansweredGroup] = field(default_factory=list)

    @property
    def fallback_rate(self) -> float:
        """Share of questions the assistant fell back on."""
        return self.fallbacks / self.questions if self.questions else 0.0

    @property
    def handoff_rate(self) -> float:
        """Share of conversations that asked for a person."""
        return self.handoffs / self.conversations if self.conversations else 0.0


@dataclass(frozen=True)
class UnansweredQuestion:
    """One question that went unanswered, before grouping."""

    conversation_id: str
    question: str
    at: datetime
    reason: str
    programme: str | None


def _is_typed(turn: Turn) -> bool:
    """Button presses arrive as '/intent{...}' payloads: the person chose, they did not ask."""
    return bool(turn.text.strip()) and not turn.text.startswith("/")


def _counted(values: Iterable[str | None]) -> list[tuple[str, int]]:
    counts = Counter(value or NONE for value in values)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _no_facts_items(store: Engine, period: Period) -> list[UnansweredQuestion]:
    """Questions the answer action found nothing for: only our table knows those."""
    if not inspect(store).has_table(UnansweredRow.__tablename__):
        return []
    query = select(UnansweredRow).where(
        UnansweredRow.reason == "no_facts",
        UnansweredRow.created_at >= period.since,
        UnansweredRow.created_at < period.until,
    )
    with transaction(store) as session:
        return [
            UnansweredQuestion(row.conversation_id, row.question, _aware(row.created_at), row.reason, row.programme)
            for row in session.execute(query).scalars()
        ]


def unanswered_items(turns: list[Turn], store: Engine | None, period: Period) -> list[UnansweredQuestion]:
    items = []
    for turn in turns:
        if not _is_typed(turn):
            continue
        if turn.is_fallback:
            reason = "out_of_scope" if turn.intent == "out_of_scope" else "fallback"
        elif turn.confidence is not None and turn.confidence < LOW_CONFIDENCE:
            reason = "low_confidence"
        else:
            continue
        items.append(UnansweredQuestion(turn.conversation_id, turn.text, turn.at, reason, turn.programme))
    seen = {(item.conversation_id, item.question) for item in items}
    if store is not None:
        items += [item for item in _no_facts_items(store, period) if (item.conversation_id, item.question) not in seen]
    return items


def group_unanswered(items: list[UnansweredQuestion]) -> list[UnansweredGroup]:
    groups = []
    for members in group_questions([item.question for item in items]):
        chosen = sorted((items[i] for i in members), key=lambda item: item.at, reverse=True)
        wordings = Counter(mask(item.question) for item in chosen)
        examples: list[Example] = []
        shown: set[str] = set()
        for item in chosen:
            masked = mask(item.question)
            if masked not in shown and len(examples) < EXAMPLES:
                shown.add(masked)
                examples.append(Example(item.conversation_id, masked, item.at, item.reason))
        groups.append(
            UnansweredGroup(
                question=wordings.most_common(1)[0][0],
                count=len(chosen),
                examples=examples,
                conversations=list(dict.fromkeys(item.conversation_id for item in chosen)),
                reasons=dict(Counter(item.reason for item in chosen)),
                programmes=dict(Counter(item.programme or NONE for item in chosen)),
                last_at=chosen[0].at,
            )
        )
    return groups


def build_report(tracker: Engine, store: Engine | None, period: Period) -> Report:
    """The report for `period`: counts from the tracker store, unanswered questions grouped."""
    turns = read_turns(tracker, period.since, period.until)
    report = Report(period=period)
    questions = [turn for turn in turns if _is_typed(turn)]
    report.conversations = len({turn.conversation_id for turn in turns})
    report.questions = len(questions)
    report.fallbacks = sum(turn.is_fallback for turn in turns)
    report.low_confidence = sum(
        not turn.is_fallback and turn.confidence is not None and turn.confidence < LOW_CONFIDENCE for turn in questions
    )
    handed_over = {turn.conversation_id for turn in turns if turn.asked_for_handoff}
    report.handoffs = len(handed_over)
    per_day: dict[date, list[int]] = {day: [0, 0, 0] for day in period.days}
    handoff_days: set[tuple[str, date]] = set()
    for turn in turns:
        counts = per_day.setdefault(turn.at.date(), [0, 0, 0])
        counts[0] += _is_typed(turn)
        counts[1] += turn.is_fallback
        if turn.asked_for_handoff and (turn.conversation_id, turn.at.date()) not in handoff_days:
            handoff_days.add((turn.conversation_id, turn.at.date()))
            counts[2] += 1
    report.per_day = [DayCount(day, *counts) for day, counts in sorted(per_day.items())]
    report.by_programme = _counted(turn.programme for turn in questions)
    report.by_topic = _counted(turn.topic for turn in questions)
    report.by_channel = _counted(turn.channel for turn in questions)
    report.unanswered = group_unanswered(unanswered_items(turns, store, period))
    return report


# --- tables: the one shape the CSV export, the JSON output and the dashboard's tables share -----------
Table = tuple[list[str], list[list[Any]]]


def report_tables(report: Report) -> dict[str, Table]:
    return {
        "summary": (
            ["measure", "value"],
            [
                ["since", report.period.since.isoformat()],
                ["until", report.period.until.isoformat()],
                ["conversations", report.conversations],
                ["questions", report.questions],
                ["fallbacks", report.fallbacks],
                ["low_confidence", report.low_confidence],
                ["handoffs", report.handoffs],
                ["fallback_rate", round(report.fallback_rate, 4)],
                ["handoff_rate", round(report.handoff_rate, 4)],
            ],
        ),
        "per_day": (
            ["day", "questions", "fallbacks", "handoffs"],
            [[d.day.isoformat(), d.questions, d.fallbacks, d.handoffs] for d in report.per_day],
        ),
        "by_programme": (["programme", "questions"], [list(row) for row in report.by_programme]),
        "by_topic": (["topic", "questions"], [list(row) for row in report.by_topic]),
        "by_channel": (["channel", "questions"], [list(row) for row in report.by_channel]),
        "unanswered": (
            ["question", "count", "reasons", "examples", "conversations", "last_asked"],
            [
                [
                    group.question,
                    group.count,
                    "; ".join(f"{reason} {n}" for reason, n in sorted(group.reasons.items())),
                    " | ".join(example.question for example in group.examples),
                    " ".join(group.conversations),
                    group.last_at.isoformat(),
                ]
                for group in report.unanswered
            ],
        ),
    }


def report_json(report: Report) -> dict[str, Any]:
    tables = report_tables(report)
    summary = dict(tables["summary"][1])
    return {
        **summary,
        "per_day": [dict(zip(tables["per_day"][0], row, strict=True)) for row in tables["per_day"][1]],
        "by_programme": dict(report.by_programme),
        "by_topic": dict(report.by_topic),
        "by_channel": dict(report.by_channel),
        "unanswered": [
            {
                "question": group.question,
                "count": group.count,
                "reasons": group.reasons,
                "programmes": group.programmes,
                "examples": [
                    {"question": e.question, "conversation_id": e.conversation_id, "at": e.at.isoformat()}
                    for e in group.examples
                ],
                "conversations": group.conversations,
                "last_asked": group.last_at.isoformat(),
            }
            for group in report.unanswered
        ],
    }
