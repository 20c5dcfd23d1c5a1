"""Queries: facts by programme, topic and date, ranked by full-text search; parameters; stats."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from visafaq.knowledge import store
from visafaq.knowledge.documents import Party
from visafaq.knowledge.queries import KnowledgeStore, ParameterNotInForceError, search_terms, stats
from visafaq.knowledge.reader import read_knowledge

FIXTURE = Path(__file__).parent / "fixture"
TODAY = date(2026, 11, 24)


@pytest.fixture
def knowledge(engine: Engine) -> KnowledgeStore:
    store.load(engine, read_knowledge(FIXTURE))
    return KnowledgeStore(engine)


def test_facts_for_programme_and_topic_fill_in_the_parameter_of_the_day(
    knowledge: KnowledgeStore,
) -> None:
    [table, not_counted] = knowledge.facts("titp", "quota", TODAY)
    assert (
        table.text == "The basic quota by full-time staff is: 1-30: 3; 31-50: 5; 51-300: 6; "
        "301 or more: 1/20 of that number."
    )
    assert [s.id for s in not_counted.sources] == ["office", "guide"]
    [old_table, _] = knowledge.facts("titp", "quota", date(2017, 10, 31))
    assert "1-50: 3" in old_table.text


def test_the_question_ranks_the_facts(knowledge: KnowledgeStore) -> None:
    ranked = knowledge.facts("titp", "quota", TODAY, "are trainees counted as full-time staff themselves?")
    assert ranked[0].id == "titp.quota.trainees-not-counted"
    assert ranked[0].score > ranked[1].score
    unranked = knowledge.facts("titp", "quota", TODAY, "")
    assert [f.id for f in unranked] == ["titp.quota.table", "titp.quota.trainees-not-counted"]


def test_superseded_facts_only_on_request(knowledge: KnowledgeStore) -> None:
    everything = knowledge.facts("titp", "quota", TODAY, include_superseded=True)
    old = next(f for f in everything if f.id == "titp.quota.old-small-company")
    assert old.superseded_by == "titp.quota.table"
    assert "titp.quota.old-small-company" not in {f.id for f in knowledge.facts("titp", "quota", TODAY)}


def test_dated_facts_follow_the_day(knowledge: KnowledgeStore) -> None:
    assert [f.id for f in knowledge.facts("titp", "family", date(2027, 3, 31))] == ["titp.family.none"]
    assert knowledge.facts("titp", "family", date(2027, 4, 1)) == []
    assert knowledge.facts("esd", "programme_end", date(2027, 3, 31)) == []
    assert len(knowledge.facts("esd", "programme_end", date(2027, 4, 1))) == 1


def test_search_across_topics(knowledge: KnowledgeStore) -> None:
    found = knowledge.search("can my wife and kids come with me?", TODAY)
    assert [f.id for f in found] == ["titp.family.none"]
    assert knowledge.search("the the the", TODAY) == []
    assert knowledge.search("'; DROP TABLE kb_facts; --", TODAY) == []
    # Search syntax typed into a question is treated as plain words, never as a query.
    assert [f.id for f in knowledge.search('"quota" OR NEAR(', TODAY)] == ["titp.quota.table"]


def test_parameters_by_date(knowledge: KnowledgeStore) -> None:
    assert knowledge.parameter("titp.applicant.minimum_age", TODAY).value == 18
    with pytest.raises(ParameterNotInForceError):
        knowledge.parameter("titp.nothing", TODAY)
    assert knowledge.render("At least {titp.applicant.minimum_age} years.", TODAY) == "At least 18 years."


def test_checklists_sources_and_programme_names(knowledge: KnowledgeStore) -> None:
    [checklist] = knowledge.checklists("titp", TODAY, Party.APPLICANT)
    assert checklist.items == ["Passport", "Photos"]
    assert knowledge.checklists("titp", TODAY, Party.EMPLOYER) == []
    assert [s.id for s in knowledge.sources_of("titp.quota.trainees-not-counted")] == [
        "office",
        "guide",
    ]
    programme = knowledge.programme_named("trainee VISA")
    assert programme is not None and programme.id == "titp"
    assert knowledge.programme_named("技能実習") == programme
    assert knowledge.programme_named("tourist visa") is None


def test_a_field_is_found_by_any_of_its_names(knowledge: KnowledgeStore) -> None:
    nursing = knowledge.field_named("Care  Workers")  # as said: any case, any spacing
    assert nursing is not None and nursing.id == "nursing_care"
    assert knowledge.field_named("kaigo") == nursing == knowledge.field_named("nursing_care")
    assert knowledge.field_named("care") is None  # a part of a name is not the name


def test_stats_count_what_is_loaded(engine: Engine, knowledge: KnowledgeStore) -> None:
    counts = stats(engine)
    assert counts["facts"] == 5 and counts["current_facts"] == 4
    assert counts["parameters"] == 2 and counts["parameter_versions"] == 3
    assert counts["facts_without_source"] == 0


def test_search_terms_drop_filler_and_punctuation() -> None:
    assert search_terms("How many trainees can we have, with 150 staff?") == ["trainees", "150", "staff"]
