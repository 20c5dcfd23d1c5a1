"""Verdicts that explain themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from visafaq.knowledge.documents import Source


class Outcome(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SourceRef:
    """A rule's source as a reader cites it. `url` is the web address; a seed guide has none and is
    named by its `file` instead (kept out of the JSON's `url`, which chat replies turn into links)."""

    id: str
    title: str
    publisher: str
    url: str | None
    checked: date
    file: str | None = None

    @classmethod
    def of(cls, source: Source) -> SourceRef:
        return cls(source.id, source.title, source.publisher, source.url, source.checked, source.file)

    @property
    def address(self) -> str | None:
        """Where to read it: the web address, or the seed guide's file."""
        return self.url or self.file

    def to_dict(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "title": self.title,
            "publisher": self.publisher,
            "url": self.url,
            "checked": self.checked.isoformat(),
        }


@dataclass(frozen=True)
class Reason:
    """One rule applied: did it pass, what was compared (in a sentence), and where the rule is from."""

    rule: str
    passed: bool
    detail: str
    sources: tuple[SourceRef, ...]

    @property
    def source(self) -> SourceRef | None:
        return self.sources[0] if self.sources else None

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "passed": self.passed,
            "detail": self.detail,
            "source": self.source.to_dict() if self.source else None,
            "sources": [s.to_dict() for s in self.sources],
        }


@dataclass(frozen=True)
class Pending:
    """A rule that could not be applied yet for want of inputs: what it asks, and where it is from."""

    rule: str
    text: str
    sources: tuple[SourceRef, ...]
    partly_known: bool = False  # some of its inputs are known: the rule the person's figures speak to

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "text": self.text,
            "partly_known": self.partly_known,
            "sources": [s.to_dict() for s in self.sources],
        }


@dataclass(frozen=True)
class Verdict:
    check: str
    on: date
    outcome: Outcome
    value: int | None
    reasons: tuple[Reason, ...]
    missing: tuple[str, ...]  # input names, in the order a conversation should ask for them
    pending: tuple[Pending, ...] = ()  # the rules those inputs are for, with their texts

    def to_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "on": self.on.isoformat(),
            "outcome": self.outcome.value,
            "value": self.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "missing": list(self.missing),
            "pending": [p.to_dict() for p in self.pending],
        }


def decide(reasons: tuple[Reason, ...], missing: tuple[str, ...]) -> Outcome:
    """Any failed rule decides no; otherwise anything missing leaves it unknown; otherwise yes."""
    if any(not reason.passed for reason in reasons):
        return Outcome.NO
    return Outcome.UNKNOWN if missing else Outcome.YES
