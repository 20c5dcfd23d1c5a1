"""Questions the rest of visafaq asks the knowledge store.

Facts for a (programme, topic) are ranked against the words of the question with the database's own
full-text search: FTS5's bm25 on SQLite, ts_rank_cd on PostgreSQL. Numbers in fact texts are filled in
from the parameter version in force on the day asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from sqlalchemy import Engine, and_, or_, select, text
from sqlalchemy.orm import Session

from visafaq.db.engine import transaction
from visafaq.knowledge import store
from visafaq.knowledge.documents import (
    PLACEHOLDER,
    Checklist,
    FactStatus,
    ParameterVersion,
    Party,
    Programme,
    Source,
    WorkField,
)
from visafaq.knowledge.reader import KnowledgeBase
from visafaq.knowledge.schema import CitationRow, FactRow, SourceRow

# Words that carry no topic: dropped before a full-text query so they do not dilute the ranking.
_STOPWORDS = frozenset(
    """
    a about also am an and any are as at be been but by can could do does for from get had has have
    he hello help her here hi his how i i'm if im in is it its just know like many may me much must
    my need no now of ok okay on or our please question really she should so some still take tell
    than thanks that the their them then there they this to too us very want was we what when where
    which who will with would yes you your
    """.split()
)
_WORD = re.compile(r"[a-z0-9]+")


def search_terms(question: str) -> list[str]:
    """The question's content words, lowercased, de-duplicated, in order (at most 24)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(question.lower()):
        if len(word) > 1 and word not in _STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)[:24]


class ParameterNotInForceError(LookupError):
    def __init__(self, parameter_id: str, on: date) -> None:
        super().__init__(f"parameter {parameter_id!r} has no version in force on {on.isoformat()}")


def describe_version(version: ParameterVersion) -> str:
    """How a parameter reads inside a sentence: its value, or its scale as 'a-b: n; ...'."""
    if version.brackets is not None:
        return "; ".join(bracket.describe() for bracket in sorted(version.brackets, key=lambda b: b.min))
    value = version.value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@dataclass(frozen=True)
class FactAnswer:
    """A fact as the assistant shows it: rendered text, its sources and when it was checked."""

    id: str
    programme: str
    topic: str
    text: str
    sources: tuple[Source, ...]
    checked: date
    starts: date | None
    ends: date | None
    status: FactStatus
    superseded_by: str | None
    score: float  # higher is a better match for the question; 0 when it did not match


class KnowledgeStore:
    """Read access to the loaded knowledge. One per process; cheap to keep."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @cached_property
    def base(self) -> KnowledgeBase:
        """Every record, read once from the database (small: hundreds of records)."""
        return store.read(self.engine)

    def refresh(self) -> None:
        """Forget the cached records, after a reload."""
        self.__dict__.pop("base", None)

    # --- parameters -------------------------------------------------------------------------
    def parameter(self, parameter_id: str, on: date) -> ParameterVersion:
        version = self.base.parameter_version(parameter_id, on)
        if version is None:
            raise ParameterNotInForceError(parameter_id, on)
        return version

    def render(self, template: str, on: date) -> str:
        """Fill `{parameter.id}` placeholders with the values in force on `on`."""
        return PLACEHOLDER.sub(lambda m: describe_version(self.parameter(m.group(1), on)), template)

    # --- facts ------------------------------------------------------------------------------
    def facts(
        self,
        programme: str | None,
        topic: str | None,
        on: date,
        question: str = "",
        *,
        limit: int | None = None,
        include_superseded: bool = False,
    ) -> list[FactAnswer]:
        """Facts in force on `on` for the programme and topic (either may be None for any),
        best match for `question` first, then in the order staff wrote them."""
        with transaction(self.engine) as session:
            scores = self._scores(session, question)
            query = select(FactRow).where(
                or_(FactRow.starts.is_(None), FactRow.starts <= on),
                or_(FactRow.ends.is_(None), FactRow.ends >= on),
            )
            if programme:
                query = query.where(FactRow.programme == programme)
            if topic:
                query = query.where(FactRow.topic == topic)
            if not include_superseded:
                query = query.where(FactRow.status == FactStatus.CURRENT.value)
            if not (programme or topic):
                if not scores:
                    return []
                query = query.where(FactRow.id.in_(scores))
            rows = list(session.execute(query.order_by(FactRow.position)).scalars())
            rows.sort(key=lambda row: -scores.get(row.id, 0.0))  # stable: ties keep staff order
            if limit is not None:
                rows = rows[:limit]
            sources = self._sources_by_fact(session, [row.id for row in rows])
        return [self._answer(row, sources.get(row.id, ()), scores.get(row.id, 0.0), on) for row in rows]

    def search(self, question: str, on: date, *, programme: str | None = None, limit: int = 5) -> list[FactAnswer]:
        """The facts that best match the question across every topic (optionally one programme)."""
        if not search_terms(question):
            return []
        found = self.facts(programme, None, on, question)
        return [fact for fact in found if fact.score > 0][:limit]

    def term_matches(self, question: str) -> dict[str, frozenset[str]]:
        """For each of the question's search terms, the facts whose text or keywords contain it (as
        the full-text index reads words: stemmed). What ranking within one topic weighs by."""
        with transaction(self.engine) as session:
            return {term: frozenset(self._scores(session, term)) for term in search_terms(question)}

    def fact(self, fact_id: str, on: date) -> FactAnswer | None:
        with transaction(self.engine) as session:
            row = session.get(FactRow, fact_id)
            if row is None:
                return None
            sources = self._sources_by_fact(session, [fact_id])
        return self._answer(row, sources.get(fact_id, ()), 0.0, on)

    def sources_of(self, fact_id: str) -> list[Source]:
        with transaction(self.engine) as session:
            return list(self._sources_by_fact(session, [fact_id]).get(fact_id, ()))

    def _answer(self, row: FactRow, sources: tuple[Source, ...], score: float, on: date) -> FactAnswer:
        return FactAnswer(
            id=row.id,
            programme=row.programme,
            topic=row.topic,
            text=self.render(row.text, on),
            sources=sources,
            checked=row.checked,
            starts=row.starts,
            ends=row.ends,
            status=FactStatus(row.status),
            superseded_by=row.superseded_by,
            score=score,
        )

    def _scores(self, session: Session, question: str) -> dict[str, float]:
        terms = search_terms(question)
        if not terms:
            return {}
        if session.get_bind().dialect.name == "postgresql":
            statement = text(
                "SELECT id, ts_rank_cd(search_vector, query) AS score "
                "FROM kb_facts, to_tsquery('english', :query) AS query "
                "WHERE search_vector @@ query"
            )
            rows = session.execute(statement, {"query": " | ".join(terms)})
        else:
            # bm25() is lower-is-better and negative for matches: negate so higher is better.
            statement = text(
                "SELECT fact_id, -bm25(kb_fact_search) AS score FROM kb_fact_search WHERE kb_fact_search MATCH :query"
            )
            rows = session.execute(statement, {"query": " OR ".join(f'"{t}"' for t in terms)})
        return {fact_id: float(score) for fact_id, score in rows}

    def _sources_by_fact(self, session: Session, fact_ids: list[str]) -> dict[str, tuple[Source, ...]]:
        if not fact_ids:
            return {}
        rows = session.execute(
            select(CitationRow.record, SourceRow)
            .join(SourceRow, SourceRow.id == CitationRow.source)
            .where(and_(CitationRow.kind == "fact", CitationRow.record.in_(fact_ids)))
            .order_by(CitationRow.record, CitationRow.position)
        )
        found: dict[str, list[Source]] = {}
        for fact_id, source_row in rows:
            found.setdefault(fact_id, []).append(self.base.sources[source_row.id])
        return {fact_id: tuple(sources) for fact_id, sources in found.items()}

    # --- other records ----------------------------------------------------------------------
    def checklists(self, programme: str, on: date, party: Party | None = None) -> list[Checklist]:
        return [
            checklist
            for checklist in self.base.checklists.values()
            if checklist.programme == programme
            and checklist.in_force_on(on)
            and (party is None or checklist.party is party)
        ]

    def programme(self, programme_id: str) -> Programme | None:
        return self.base.programmes.get(programme_id)

    def programme_named(self, name: str) -> Programme | None:
        """The programme whose id, name or alias is `name` (case-insensitive, spaces collapsed)."""
        return next(
            (p for p in self.base.programmes.values() if _called(name, p.id, p.name, p.short_name, *p.aliases)),
            None,
        )

    def field_named(self, name: str) -> WorkField | None:
        """The field of work whose id, name or alias is `name` (case-insensitive, spaces collapsed)."""
        return next((f for f in self.base.fields.values() if _called(name, f.id, f.name, *f.aliases)), None)


def _called(said: str, *names: str) -> bool:
    """Whether `said` is one of `names`, as people write names: any case, any spacing."""

    def folded(text: str) -> str:
        return " ".join(text.split()).casefold()

    return folded(said) in {folded(name) for name in names}


def stats(engine: Engine) -> dict[str, int]:
    """Counts of what is loaded, and of facts missing what every fact must have."""
    with transaction(engine) as session:

        def count(sql: str) -> int:
            return int(session.execute(text(sql)).scalar_one())

        return {
            "programmes": count("SELECT count(*) FROM kb_programmes"),
            "topics": count("SELECT count(*) FROM kb_topics"),
            "facts": count("SELECT count(*) FROM kb_facts"),
            "current_facts": count("SELECT count(*) FROM kb_facts WHERE status = 'current'"),
            "parameters": count("SELECT count(*) FROM kb_parameters"),
            "parameter_versions": count("SELECT count(*) FROM kb_parameter_versions"),
            "sources": count("SELECT count(*) FROM kb_sources"),
            "checklists": count("SELECT count(*) FROM kb_checklists"),
            "rules": count("SELECT count(*) FROM kb_rules"),
            "facts_without_source": count(
                "SELECT count(*) FROM kb_facts f WHERE NOT EXISTS (SELECT 1 FROM kb_citations c "
                "WHERE c.kind = 'fact' AND c.record = f.id)"
            ),
            "facts_without_checked_date": count("SELECT count(*) FROM kb_facts WHERE checked IS NULL"),
        }
