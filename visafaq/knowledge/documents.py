"""The shape of the YAML files in knowledge/, as pydantic models.

Staff edit those files; these models are the contract the loader enforces. Every record that states
something carries its sources and the date it was last checked. Numbers that rules use are parameters
(OpenFisca style): stored once, as dated versions, and quoted into fact texts by placeholder.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=120)]
NonEmptyText = Annotated[str, Field(min_length=1)]

#: `{parameter.id}` in a fact's text is replaced by the parameter's value on the day asked about.
PLACEHOLDER = re.compile(r"\{([a-z0-9][a-z0-9_.-]*)\}")


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt field must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceKind(StrEnum):
    OFFICIAL = "official"  # a government text (ISA, MOJ, MHLW, OTIT)
    SECONDARY = "secondary"  # cooperatives, scriveners, news: what current-rules.md gathered
    SEED = "seed"  # the guides the product was created from


class Source(Strict):
    id: Identifier
    title: NonEmptyText
    publisher: NonEmptyText
    url: str | None = None
    file: str | None = None  # a seed guide, named by its file
    kind: SourceKind
    checked: date

    @model_validator(mode="after")
    def _has_address(self) -> Self:
        if not (self.url or self.file):
            raise ValueError("a source needs a url or a file")
        return self


class Programme(Strict):
    id: Identifier
    name: NonEmptyText
    short_name: NonEmptyText
    description: NonEmptyText
    aliases: list[NonEmptyText] = []
    #: Words that point to the programme without naming it ("No.2", "my university"): when a
    #: question names no programme, they tell the assistant which one is meant.
    cues: list[NonEmptyText] = []
    starts: date | None = None
    ends: date | None = None
    successor: Identifier | None = None


class WorkField(Strict):
    """A field of work whose name changes an answer (nursing care has its own trainee quota).
    `aliases` are the names people use for it; the spaCy entity ruler tags them as FIELD."""

    id: Identifier
    name: NonEmptyText
    aliases: list[NonEmptyText] = []


class Topic(Strict):
    id: Identifier
    title: NonEmptyText
    description: NonEmptyText
    follow_ups: list[Identifier] = []  # topics offered as next questions after an answer


class Dated(Strict):
    """Something true from `starts` (inclusive) until `ends` (inclusive); open where absent."""

    starts: date | None = None
    ends: date | None = None
    sources: Annotated[list[Identifier], Field(min_length=1)]
    checked: date
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.starts and self.ends and self.ends < self.starts:
            raise ValueError(f"ends ({self.ends}) is before starts ({self.starts})")
        return self

    def in_force_on(self, day: date) -> bool:
        return (self.starts is None or self.starts <= day) and (self.ends is None or day <= self.ends)


class FactStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"  # kept because older guides still say it; the answer names the current rule


class Fact(Dated):
    id: Identifier
    programme: Identifier
    topic: Identifier
    text: NonEmptyText
    keywords: list[str] = []
    status: FactStatus = FactStatus.CURRENT
    superseded_by: Identifier | None = None

    @field_validator("text")
    @classmethod
    def _plain_length(cls, text: str) -> str:
        if len(text) > 600:
            raise ValueError("a fact is at most 600 characters: split it into several facts")
        return text

    @model_validator(mode="after")
    def _superseded_has_successor(self) -> Self:
        if self.status is FactStatus.SUPERSEDED and not self.superseded_by:
            raise ValueError("a superseded fact names the fact that supersedes it (superseded_by)")
        return self

    def placeholders(self) -> list[str]:
        return PLACEHOLDER.findall(self.text)


def parse_ratio(text: str) -> Fraction:
    """'1/20' or '0.5' or '2' -> an exact fraction (quotas round down, so floats would drift)."""
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError) as error:
        raise ValueError(f"{text!r} is not a number or a fraction like 1/20") from error


class Bracket(Strict):
    """One row of a scale: for `min`..`max` (inclusive; no max = and above), either a fixed `value`
    or `rate` times the input, rounded down."""

    min: int = Field(ge=0)
    max: int | None = None
    value: int | None = None
    rate: str | None = None

    @model_validator(mode="after")
    def _one_result(self) -> Self:
        if (self.value is None) == (self.rate is None):
            raise ValueError("a bracket has exactly one of value or rate")
        if self.rate is not None:
            parse_ratio(self.rate)
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    def contains(self, amount: int) -> bool:
        return self.min <= amount and (self.max is None or amount <= self.max)

    def apply(self, amount: int) -> int:
        if self.value is not None:
            return self.value
        assert self.rate is not None
        return int(parse_ratio(self.rate) * amount)  # int() of a positive Fraction rounds down

    def describe(self) -> str:
        span = f"{self.min} or more" if self.max is None else f"{self.min}-{self.max}"
        if self.min == self.max:
            span = str(self.min)
        result = str(self.value) if self.value is not None else f"{self.rate} of that number"
        return f"{span}: {result}"


ScalarValue = int | float | bool | str


class ParameterVersion(Dated):
    """A parameter's value over one period: a scalar, or a scale of brackets."""

    value: ScalarValue | None = None
    brackets: list[Bracket] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.value is None) == (self.brackets is None):
            raise ValueError("a parameter version has exactly one of value or brackets")
        if self.brackets:
            ordered = sorted(self.brackets, key=lambda b: b.min)
            for lower, upper in pairwise(ordered):
                if lower.max is None or lower.max >= upper.min:
                    raise ValueError(f"brackets overlap at {upper.min}")
                if lower.max + 1 != upper.min:
                    raise ValueError(f"brackets leave a gap between {lower.max} and {upper.min}")
        return self

    def bracket_for(self, amount: int) -> Bracket | None:
        for bracket in self.brackets or []:
            if bracket.contains(amount):
                return bracket
        return None


class Parameter(Strict):
    id: Identifier
    programme: Identifier
    description: NonEmptyText
    unit: str | None = None
    versions: Annotated[list[ParameterVersion], Field(min_length=1)]

    @model_validator(mode="after")
    def _versions_do_not_overlap(self) -> Self:
        ordered = sorted(self.versions, key=lambda v: v.starts or date.min)
        for earlier, later in pairwise(ordered):
            if earlier.ends is None or (later.starts is not None and earlier.ends >= later.starts):
                raise ValueError(
                    f"versions overlap: one from {earlier.starts or 'the start'} has no end "
                    f"before the one from {later.starts}"
                )
        return self


class Party(StrEnum):
    APPLICANT = "applicant"
    EMPLOYER = "employer"
    SENDING_ORGANISATION = "sending_organisation"
    SUPERVISING_ORGANISATION = "supervising_organisation"


class Checklist(Dated):
    id: Identifier
    programme: Identifier
    party: Party
    title: NonEmptyText
    items: Annotated[list[NonEmptyText], Field(min_length=1)]


class ResidenceStatus(Dated):
    """A status of residence, with the properties that the family and permanent-residence rules read."""

    id: Identifier
    name: NonEmptyText
    programme: Identifier
    family_may_accompany: bool
    counts_as_work_status_for_permanent_residence: bool


class Rule(Strict):
    """A rule an eligibility check applies: the sentence people read, and where it comes from.

    The check's code refers to the rule by id; the figures it uses are parameters."""

    id: Identifier
    check: Identifier
    text: NonEmptyText
    sources: Annotated[list[Identifier], Field(min_length=1)]
    checked: date
    parameters: list[Identifier] = []


class KnowledgeFile(Strict):
    """One YAML file in knowledge/: any of these sections, each a list."""

    sources: list[Source] = []
    programmes: list[Programme] = []
    fields: list[WorkField] = []
    topics: list[Topic] = []
    facts: list[Fact] = []
    parameters: list[Parameter] = []
    checklists: list[Checklist] = []
    statuses: list[ResidenceStatus] = []
    rules: list[Rule] = []
