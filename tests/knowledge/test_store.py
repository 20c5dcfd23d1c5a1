"""Loading into the database: one transaction, idempotent, and a faithful round trip."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from visafaq.db.engine import transaction
from visafaq.knowledge import store
from visafaq.knowledge.queries import KnowledgeStore
from visafaq.knowledge.reader import KnowledgeError, read_knowledge
from visafaq.knowledge.schema import FactRow, LoadRow

FIXTURE = Path(__file__).parent / "fixture"


def fact_count(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.execute(select(func.count()).select_from(FactRow)).scalar_one())


def test_round_trip_gives_back_the_same_records(engine: Engine) -> None:
    base = read_knowledge(FIXTURE)
    store.load(engine, base)
    assert store.dump_json(store.read(engine)) == store.dump_json(base)


def test_loading_twice_is_idempotent(engine: Engine) -> None:
    first = store.load(engine, read_knowledge(FIXTURE))
    second = store.load(engine, read_knowledge(FIXTURE))
    assert first == second
    assert fact_count(engine) == first["facts"] == 5
    with transaction(engine) as session:
        hashes = session.execute(select(LoadRow.content_hash)).scalars().all()
    assert len(hashes) == 2 and hashes[0] == hashes[1]


def test_bad_knowledge_leaves_the_database_as_it_was(engine: Engine, tmp_path: Path) -> None:
    store.load(engine, read_knowledge(FIXTURE))
    broken = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, broken)
    (broken / "facts.yml").write_text("facts:\n  - id: only-one\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        store.load_directory(engine, broken)
    assert fact_count(engine) == 5


def test_a_failure_during_the_load_rolls_back(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    store.load(engine, read_knowledge(FIXTURE))

    def explode(*_args: object) -> None:
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(store, "_index_facts", explode)
    smaller = read_knowledge(FIXTURE)
    smaller.facts.pop("titp.family.none")
    with pytest.raises(RuntimeError):
        store.load(engine, smaller)
    assert fact_count(engine) == 5


def test_the_project_knowledge_loads(engine: Engine) -> None:
    knowledge = Path(__file__).resolve().parents[2] / "knowledge"
    counts = store.load_directory(engine, knowledge)
    assert counts["facts"] == fact_count(engine) > 0
    assert store.is_loaded(engine)


# Topics about entering TITP: after its last day they must say it is closed, not explain how to apply.
TITP_ENTRY_TOPICS = ("application_steps", "where_to_apply", "documents")


@pytest.mark.parametrize("topic", TITP_ENTRY_TOPICS)
def test_after_titp_ends_its_entry_topics_only_say_it_is_closed(engine: Engine, topic: str) -> None:
    store.load_directory(engine, Path(__file__).resolve().parents[2] / "knowledge")
    knowledge = KnowledgeStore(engine)
    assert knowledge.facts("titp", topic, date(2027, 3, 31))  # still open on the last day
    after = knowledge.facts("titp", topic, date(2027, 4, 1))
    assert after and all("no new trainees" in fact.text for fact in after), [f.id for f in after]
