"""The fallback actions: say so, offer the closest topics, decline what is out of scope, and record
every one of them for staff."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from actions import ActionAskAffirmation, ActionDefaultFallback, ActionOutOfScope
from actions.common import UNAVAILABLE
from tests.actions.conftest import SOURCE_LINE, conversation, entity, payload, run
from visafaq.knowledge.queries import KnowledgeStore
from visafaq.triage.schema import UnansweredRow

#: NLU's ranking for a muddled message: topic intents mixed with others, best first.
RANKING = [("ask_documents", 0.31), ("greet", 0.2), ("ask_processing_time", 0.17), ("ask_renewal", 0.1)]
RANKING += [("ask_family", 0.05)]


def unanswered(database: Engine) -> list[UnansweredRow]:
    with database.connect() as connection:
        return [UnansweredRow(**row._mapping) for row in connection.execute(select(UnansweredRow.__table__))]


def test_ask_affirmation_offers_the_closest_topics_for_the_remembered_programme(
    domain: dict[str, Any], database: Engine
) -> None:
    text = "umm that visa thing, what about it"  # no word that tells a topic: nothing to guess from
    tracker = conversation(
        domain,
        text,
        "nlu_fallback",
        slots={"programme": "gijinkoku"},
        sender_id="muddled-1",
        confidence=0.4,
        ranking=RANKING,
    )
    turn = run(ActionAskAffirmation(), tracker, domain)
    assert turn.responses == ["utter_not_sure"]
    assert turn.events == []
    topics = KnowledgeStore(database).base.topics
    *closest, other = turn.buttons
    # The three best topic intents, in NLU's order, titled as staff named the topics.
    assert [payload(b) for b in closest] == [
        ("ask_documents", {"programme": "gijinkoku"}),
        ("ask_processing_time", {"programme": "gijinkoku"}),
        ("ask_renewal", {"programme": "gijinkoku"}),
    ]
    assert [b["title"] for b in closest] == [topics[t].title for t in ("documents", "processing_time", "renewal")]
    assert payload(other) == ("deny", {})

    [row] = unanswered(database)
    assert (row.conversation_id, row.question, row.reason, row.channel) == ("muddled-1", text, "fallback", "rest")
    assert (row.intent, row.confidence, row.programme) == ("nlu_fallback", 0.4, "gijinkoku")
    assert row.candidates == ["documents", "processing_time", "renewal"]
    assert row.created_at is not None


def test_ask_affirmation_without_a_programme_leaves_the_choice_open(domain: dict[str, Any], database: Engine) -> None:
    tracker = conversation(domain, "papers?", "nlu_fallback", confidence=0.35, ranking=RANKING)
    turn = run(ActionAskAffirmation(), tracker, domain)
    assert [payload(b)[1] for b in turn.buttons] == [{}, {}, {}, {}]
    [row] = unanswered(database)
    assert row.programme is None


def test_default_fallback_offers_a_person_forgets_the_message_and_records_it(
    domain: dict[str, Any], database: Engine
) -> None:
    text = "my boss keeps my passport what now"
    tracker = conversation(
        domain, text, "nlu_fallback", slots={"programme": "titp", "topic": "rights"}, sender_id="lost-2"
    )
    turn = run(ActionDefaultFallback(), tracker, domain)
    assert turn.responses == ["utter_cannot_answer"]
    assert "/request_human" in [b["payload"] for b in domain["responses"]["utter_cannot_answer"][0]["buttons"]]
    assert [e["event"] for e in turn.events] == ["rewind"]
    [row] = unanswered(database)
    assert (row.conversation_id, row.question, row.reason) == ("lost-2", text, "fallback")
    assert (row.programme, row.topic) == ("titp", "rights")


def test_out_of_scope_declines_politely_and_is_recorded(domain: dict[str, Any], database: Engine) -> None:
    text = "what is the best ramen in Osaka"
    tracker = conversation(domain, text, "out_of_scope", sender_id="ramen-3", channel="socketio")
    turn = run(ActionOutOfScope(), tracker, domain)
    assert turn.responses == ["utter_out_of_scope"]
    assert turn.events == []
    shown = turn.shown(domain)
    assert shown.startswith("Sorry") and "can't answer" in shown
    [row] = unanswered(database)
    assert (row.conversation_id, row.question, row.reason, row.channel) == ("ramen-3", text, "out_of_scope", "socketio")
    assert row.intent == "out_of_scope"


def test_each_fallback_is_a_separate_record(domain: dict[str, Any], database: Engine) -> None:
    for text in ("first odd question", "second odd question"):
        run(ActionDefaultFallback(), conversation(domain, text, "nlu_fallback"), domain)
    assert [row.question for row in unanswered(database)] == ["first odd question", "second odd question"]


@pytest.mark.parametrize("action", [ActionDefaultFallback(), ActionOutOfScope()], ids=lambda a: a.name())
def test_when_the_database_is_down_the_fallbacks_still_answer(
    domain: dict[str, Any], database_down: str, action: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = conversation(domain, "odd question", "nlu_fallback", slots={"programme": "titp"})
    turn = run(action, tracker, domain)
    assert turn.responses in (["utter_cannot_answer"], ["utter_out_of_scope"])
    assert any(r.levelname == "ERROR" and "could not record" in r.getMessage() for r in caplog.records)


def test_when_the_database_is_down_ask_affirmation_says_so(
    domain: dict[str, Any], database_down: str, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = conversation(domain, "papers?", "nlu_fallback", slots={"programme": "titp"}, ranking=RANKING)
    turn = run(ActionAskAffirmation(), tracker, domain)
    assert turn.text == UNAVAILABLE
    assert any(r.levelname == "ERROR" for r in caplog.records)


def test_ask_affirmation_leads_with_the_close_topic_whose_fact_matches_the_question(
    domain: dict[str, Any], database: Engine
) -> None:
    text = "an agent in my country wants a big deposit and fee before i can start, normal?"
    ranking = [("ask_salary", 0.3), ("ask_brokers_fees", 0.25), ("ask_problems", 0.1)]
    tracker = conversation(domain, text, "nlu_fallback", slots={"programme": "titp"}, confidence=0.45, ranking=ranking)
    turn = run(ActionAskAffirmation(), tracker, domain)
    guess, offer = turn.messages
    # Said as a guess, with what it was taken to be about, and sourced like any answer.
    assert str(guess["text"]).startswith("I'm not sure I understood, but this may answer it (brokers and fees, ")
    assert SOURCE_LINE.match(str(guess["text"]).splitlines()[-1])
    assert offer["response"] == "utter_not_sure_after_guess"
    # The other close topics are still offered; the guessed one is not offered twice.
    assert [payload(b)[0] for b in turn.buttons] == ["ask_salary", "ask_problems", "deny"]
    [row] = unanswered(database)
    assert row.reason == "fallback"  # staff still see that NLU was unsure


def test_ask_affirmation_gives_the_verdict_when_the_figures_decide_a_close_topics_check(
    domain: dict[str, Any], database: Engine
) -> None:
    text = "im 17 now, sign me up as jisshusei or i wait"
    ranking = [("ask_applicant_requirements", 0.3), ("ask_duration", 0.2)]
    tracker = conversation(
        domain,
        text,
        "nlu_fallback",
        [entity("age", "17", 17), entity("programme", "jisshusei", "titp")],
        confidence=0.45,
        ranking=ranking,
    )
    turn = run(ActionAskAffirmation(), tracker, domain)
    assert turn.text.startswith("I'm not sure I understood, but this may answer it (who can apply, ")
    assert "No." in turn.text and "18" in turn.text
    assert turn.responses == ["utter_not_sure_after_guess"]


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("what will the weather be tomorrow in japan for trainees", {"programme": "titp"}),  # only common words
        ("an agent wants a big deposit and fee before i can start", {}),  # no programme known or named
    ],
)
def test_ask_affirmation_does_not_guess_without_both_signals(
    domain: dict[str, Any], database: Engine, text: str, slots: dict[str, Any]
) -> None:
    ranking = [("ask_brokers_fees", 0.3), ("ask_overview", 0.2)]
    turn = run(ActionAskAffirmation(), conversation(domain, text, "nlu_fallback", slots=slots, ranking=ranking), domain)
    assert turn.responses == ["utter_not_sure"] and len(turn.messages) == 1
