"""action_answer: topic questions answered from the knowledge store, follow-ups, figures, failures."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine, select

from actions import ActionAnswer
from actions.common import UNAVAILABLE
from tests.actions.conftest import SOURCE_LINE, TODAY, Turn, conversation, entity, payload, run
from visafaq.knowledge.queries import FactAnswer, KnowledgeStore
from visafaq.triage.schema import UnansweredRow


def facts_on(database: Engine, programme: str | None, topic: str) -> list[FactAnswer]:
    return KnowledgeStore(database).facts(programme, topic, TODAY)


def body(turn: Turn) -> str:
    """The answer without its source line."""
    return turn.text.rsplit("\n\n", 1)[0]


def assert_answers_from(turn: Turn, database: Engine, programme: str, topic: str) -> None:
    """The reply is built from that programme's facts on the topic, not another programme's, and
    ends with the source line of what it said."""
    assert len(turn.messages) == 1, turn.messages
    # A programme with nothing of its own on the topic is answered from the general facts.
    own = facts_on(database, programme, topic) or facts_on(database, "general", topic)
    others = [f for f in facts_on(database, None, topic) if f.programme not in {programme, "general"}]
    shown = [f for f in own if f.text in turn.text]
    assert shown, f"none of the {programme}/{topic} facts in: {turn.text}"
    assert not [f.id for f in others if f.text in body(turn)]
    last_line = turn.text.splitlines()[-1]
    assert SOURCE_LINE.match(last_line), last_line
    cited = {s.title for f in shown for s in f.sources}
    assert any(title in last_line for title in cited), (last_line, cited)


def assert_follow_ups(turn: Turn, database: Engine, programme: str, topic: str) -> None:
    """Buttons ask a next topic of the same programme, one the store can answer."""
    assert turn.buttons
    offered = KnowledgeStore(database).base.topics[topic].follow_ups
    for button in turn.buttons:
        intent, entities = payload(button)
        assert intent.startswith("ask_") and intent[len("ask_") :] in offered
        assert entities == {"programme": programme}
        assert facts_on(database, programme, intent[len("ask_") :]), f"{intent} offered with nothing to say"


@pytest.mark.parametrize(
    ("programme", "said", "topic", "text"),
    [
        (
            "titp",
            "technical intern training",
            "quota",
            "how many trainees can a company take in technical intern training",
        ),
        ("gijinkoku", "engineer visa", "documents", "what documents do I need for the engineer visa"),
        ("internship", "internship", "paid_work", "can my internship be paid"),
    ],
)
def test_topic_question_names_the_programme(
    domain: dict[str, Any], database: Engine, programme: str, said: str, topic: str, text: str
) -> None:
    tracker = conversation(domain, text, f"ask_{topic}", [entity("programme", said, programme)])
    turn = run(ActionAnswer(), tracker, domain)
    assert_answers_from(turn, database, programme, topic)
    assert_follow_ups(turn, database, programme, topic)
    assert turn.slots == {"topic": topic, "question": text, "programme": programme}


def test_a_programme_alias_from_the_entity_ruler_is_stored_as_the_programme_id(
    domain: dict[str, Any], database: Engine
) -> None:
    text = "how long can I stay on the trainee visa"
    tracker = conversation(
        domain, text, "ask_duration", [entity("PROGRAMME", "trainee visa", extractor="SpacyEntityExtractor")]
    )
    assert tracker.get_slot("programme") == "trainee visa"
    turn = run(ActionAnswer(), tracker, domain)
    assert_answers_from(turn, database, "titp", "duration")
    assert turn.slots["programme"] == "titp"


@pytest.mark.parametrize(
    ("text", "intent", "named", "meant"),
    [
        # The path to SSW is asked about from where the person comes from.
        ("with ikusei shuro how long until tokutei ginou", "ask_path_to_ssw", ["ikusei shuro", "tokutei ginou"], "esd"),
        # A shared notion (the CoE) named beside a programme is that programme's.
        ("papers for the trainee visa coe", "ask_documents", ["trainee visa", "coe"], "titp"),
        # Otherwise the last one named.
        (
            "trainee visa or rather engineer visa, how long to stay",
            "ask_duration",
            ["trainee visa", "engineer visa"],
            "gijinkoku",
        ),
    ],
)
def test_of_several_programmes_named_the_answer_is_for_the_one_the_question_is_about(
    domain: dict[str, Any], database: Engine, text: str, intent: str, named: list[str], meant: str
) -> None:
    found = [entity("PROGRAMME", name, extractor="SpacyEntityExtractor") for name in named]
    tracker = conversation(domain, text, intent, found)
    assert tracker.get_slot("programme") == named[-1]  # Rasa's text slot keeps the last one named
    turn = run(ActionAnswer(), tracker, domain)
    assert_answers_from(turn, database, meant, intent.removeprefix("ask_"))
    assert turn.slots["programme"] == meant


def test_a_follow_up_naming_another_programme_answers_the_last_topic_for_it(
    domain: dict[str, Any], database: Engine
) -> None:
    before = {"topic": "documents", "question": "what documents do I need for the trainee visa", "programme": "titp"}
    tracker = conversation(
        domain,
        "and for the engineer visa?",
        "inform",
        [entity("programme", "engineer visa", "gijinkoku")],
        slots=before,
    )
    turn = run(ActionAnswer(), tracker, domain)
    assert_answers_from(turn, database, "gijinkoku", "documents")
    # The topic and the question carry on, so a further follow-up still knows what was asked.
    assert turn.slots == {"topic": "documents", "question": before["question"], "programme": "gijinkoku"}


def test_the_remembered_programme_answers_a_question_that_names_none(domain: dict[str, Any], database: Engine) -> None:
    tracker = conversation(
        domain, "how long does it take?", "ask_processing_time", slots={"programme": "gijinkoku", "topic": "documents"}
    )
    turn = run(ActionAnswer(), tracker, domain)
    assert_answers_from(turn, database, "gijinkoku", "processing_time")
    assert turn.slots["programme"] == "gijinkoku"


def test_without_a_programme_an_ambiguous_question_asks_which_then_answers_the_choice(
    domain: dict[str, Any], database: Engine
) -> None:
    text = "what documents do I need"
    turn = run(ActionAnswer(), conversation(domain, text, "ask_documents"), domain)
    assert len(turn.messages) == 1 and "?" in turn.text
    offered = [payload(b) for b in turn.buttons]
    having = {f.programme for f in facts_on(database, None, "documents")}
    assert len(offered) >= 2
    assert all(intent == "inform" and set(entities) == {"programme"} for intent, entities in offered)
    assert {entities["programme"] for _, entities in offered} <= having
    assert turn.slots == {"topic": "documents", "question": text, "programme": None}

    # The user presses the last button: Rasa sets the programme from the payload's entity.
    chosen = offered[-1][1]["programme"]
    follow_up = conversation(
        domain, str(turn.buttons[-1]["payload"]), "inform", [entity("programme", chosen)], slots=turn.slots
    )
    answer = run(ActionAnswer(), follow_up, domain)
    assert_answers_from(answer, database, chosen, "documents")
    assert answer.slots == {"topic": "documents", "question": text, "programme": chosen}


def test_staff_numbers_get_the_quota_computed_from_the_knowledge(domain: dict[str, Any], database: Engine) -> None:
    text = "we have 150 full-time staff, how many trainees can we accept"
    tracker = conversation(domain, text, "ask_quota", [entity("staff_count", "150")])
    turn = run(ActionAnswer(), tracker, domain)
    basic = KnowledgeStore(database).parameter("titp.quota.basic", TODAY)
    assert basic.brackets is not None
    expected = next(b.value for b in basic.brackets if b.min <= 150 and (b.max is None or b.max >= 150))
    assert expected == 10  # the table in force on 24 November 2026
    assert re.search(rf"\b150\b.*\b{expected}\b", turn.text), turn.text
    assert "not a legal decision" in turn.text
    assert SOURCE_LINE.match(turn.text.splitlines()[-1]), turn.text
    # No programme was named: the figures chose Technical Intern Training, now remembered.
    assert turn.slots == {"topic": "quota", "question": text, "programme": "titp"}


def test_a_care_home_gets_the_nursing_care_quota_from_the_words_it_uses(
    domain: dict[str, Any], database: Engine
) -> None:
    # DIET labelled no `field` here; the entity ruler found the field's names (knowledge/fields.yml).
    text = "our nursing facility has 15 care workers, how many trainees can we take"
    said = [
        entity("FIELD", "nursing facility", extractor="SpacyEntityExtractor"),
        entity("staff_count", "15"),
        entity("FIELD", "care workers", extractor="SpacyEntityExtractor"),
    ]
    turn = run(ActionAnswer(), conversation(domain, text, "ask_quota", said), domain)
    nursing = KnowledgeStore(database).parameter("titp.quota.nursing.no1", TODAY)
    assert nursing.brackets is not None
    expected = next(b.value for b in nursing.brackets if b.min <= 15 and (b.max is None or b.max >= 15))
    assert expected == 2  # the ordinary table gives 3 for 15 staff: the two tables differ here
    assert re.search(rf"\b15\b.*\b{expected}\b", turn.text), turn.text
    assert "but nursing care" not in turn.text, turn.text

    # The same figures without the field's names get the ordinary table, which says so.
    ordinary = conversation(
        domain, "our company has 15 workers, how many trainees can we take", "ask_quota", [entity("staff_count", "15")]
    )
    assert "but nursing care" in run(ActionAnswer(), ordinary, domain).text


def test_figures_are_checked_for_the_programme_the_words_imply(domain: dict[str, Any], database: Engine) -> None:
    # Nothing is named, but "programmer" points to the engineer visa: the trainee programme's
    # minimum age is not its rule, so the answer comes from the engineer visa's facts.
    text = "I'm 17 and work as a programmer, can I get a visa?"
    tracker = conversation(domain, text, "ask_applicant_requirements", [entity("age", "17")])
    turn = run(ActionAnswer(), tracker, domain)
    assert turn.slots["programme"] == "gijinkoku"
    assert "minimum age" not in turn.text, turn.text
    assert SOURCE_LINE.match(turn.text.splitlines()[-1])


def test_an_age_under_the_minimum_gets_no_with_the_rule(domain: dict[str, Any], database: Engine) -> None:
    text = "I am 17, can I apply for technical intern training?"
    tracker = conversation(
        domain,
        text,
        "ask_applicant_requirements",
        [entity("age", "17"), entity("programme", "technical intern training", "titp")],
    )
    turn = run(ActionAnswer(), tracker, domain)
    minimum = KnowledgeStore(database).parameter("titp.applicant.minimum_age", TODAY).value
    assert turn.text.startswith("No.")
    assert "17" in turn.text and str(minimum) in turn.text
    assert SOURCE_LINE.match(turn.text.splitlines()[-1])
    assert turn.slots["programme"] == "titp"


def test_an_age_the_words_state_is_checked_when_the_nlu_labelled_none(domain: dict[str, Any], database: Engine) -> None:
    # "17yo" and "im 17 now" carry no age entity when DIET misses them; the words still say it.
    text = "im 17 now, can i sign up for the trainee visa or must i wait"
    tracker = conversation(domain, text, "ask_applicant_requirements", [entity("programme", "trainee visa", "titp")])
    turn = run(ActionAnswer(), tracker, domain)
    minimum = KnowledgeStore(database).parameter("titp.applicant.minimum_age", TODAY).value
    assert turn.text.startswith("No.")
    assert "17" in turn.text and str(minimum) in turn.text


def test_figures_that_decide_nothing_yet_get_the_facts_and_an_offer_to_check(
    domain: dict[str, Any], database: Engine
) -> None:
    """Hours alone decide no internship rule (paid or not comes first): "I can't tell yet" would
    leave the question unanswered, so the facts answer it and the check is offered."""
    text = "who can get the permission for an internship over 28 hours"
    tracker = conversation(
        domain,
        text,
        "ask_paid_work",
        [entity("hours_per_week", "28"), entity("programme", "internship", "internship")],
    )
    turn = run(ActionAnswer(), tracker, domain)
    assert_answers_from(turn, database, "internship", "paid_work")
    assert "can't tell yet" not in turn.text
    assert "To check your own case, tell me: Is the internship paid?" in turn.text
    intent, entities = payload(turn.buttons[0])
    assert (intent, entities) == ("check_eligibility", {"programme": "internship"})


def test_an_impossible_figure_is_answered_from_the_facts(domain: dict[str, Any], database: Engine) -> None:
    """'I'm 200' fits no rule (ages go up to 120): the user still gets the requirements, not an error."""
    text = "I am 200 years old, can I apply for technical intern training?"
    tracker = conversation(
        domain,
        text,
        "ask_applicant_requirements",
        [entity("age", "200"), entity("programme", "technical intern training", "titp")],
    )
    turn = run(ActionAnswer(), tracker, domain)
    assert_answers_from(turn, database, "titp", "applicant_requirements")


def test_a_correction_during_the_eligibility_check_does_not_interrupt_it(
    domain: dict[str, Any], database: Engine
) -> None:
    tracker = conversation(
        domain,
        "actually I'm 19",
        "inform",
        [entity("age", "19")],
        slots={"topic": "applicant_requirements", "programme": "titp", "requested_slot": "good_health"},
        active_loop="eligibility_form",
    )
    turn = run(ActionAnswer(), tracker, domain)
    assert turn.messages == [] and turn.events == []


def test_a_programme_alone_asks_what_to_know_about_it(domain: dict[str, Any], database: Engine) -> None:
    tracker = conversation(domain, "trainee visa", "inform", [entity("programme", "trainee visa", "titp")])
    turn = run(ActionAnswer(), tracker, domain)
    assert "?" in turn.text and turn.buttons
    for button in turn.buttons:
        intent, entities = payload(button)
        assert intent.startswith("ask_") and entities == {"programme": "titp"}
        assert facts_on(database, "titp", intent[len("ask_") :])
    assert turn.slots == {"programme": "titp"}


def test_nothing_to_go_on_says_what_the_assistant_can_do(domain: dict[str, Any], database: Engine) -> None:
    turn = run(ActionAnswer(), conversation(domain, "hmm", "inform"), domain)
    assert turn.responses == ["utter_what_can_i_do"]
    assert turn.events == []


def test_a_question_the_store_cannot_answer_is_said_plainly_and_recorded(
    domain: dict[str, Any], database: Engine
) -> None:
    store = KnowledgeStore(database)
    gaps = [
        (programme, topic)
        for programme in ("titp", "ssw", "gijinkoku", "internship")
        for topic in store.base.topics
        if not store.facts(programme, topic, TODAY, limit=1) and not store.facts("general", topic, TODAY, limit=1)
    ]
    if not gaps:
        pytest.skip("the knowledge store answers every topic for every programme")
    programme, topic = gaps[0]
    text = f"question about {topic.replace('_', ' ')}"
    tracker = conversation(
        domain, text, f"ask_{topic}", slots={"programme": programme}, sender_id="gap-1", confidence=0.81
    )
    turn = run(ActionAnswer(), tracker, domain)
    assert not SOURCE_LINE.match(turn.text.splitlines()[-1])
    assert "request_human" in {payload(b)[0] for b in turn.buttons}
    with database.connect() as connection:
        rows = connection.execute(select(UnansweredRow)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.conversation_id, row.question, row.reason, row.programme, row.topic) == (
        "gap-1",
        text,
        "no_facts",
        programme,
        topic,
    )
    assert (row.intent, row.confidence, row.channel) == (f"ask_{topic}", 0.81, "rest")


def test_an_answered_question_is_not_recorded(domain: dict[str, Any], database: Engine) -> None:
    tracker = conversation(domain, "what is the trainee visa", "ask_overview", slots={"programme": "titp"})
    run(ActionAnswer(), tracker, domain)
    with database.connect() as connection:
        assert connection.execute(select(UnansweredRow)).all() == []


@pytest.mark.parametrize(
    ("intent", "slots"),
    [
        ("ask_documents", {"programme": "gijinkoku"}),
        ("ask_quota", {}),
        ("inform", {"topic": "documents", "question": "documents?", "programme": "titp"}),
    ],
)
def test_when_the_database_is_down_the_user_is_told_politely(
    domain: dict[str, Any], database_down: str, intent: str, slots: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    tracker = conversation(
        domain, "we have 150 staff, what documents", intent, [entity("staff_count", "150")], slots=slots
    )
    turn = run(ActionAnswer(), tracker, domain)
    assert turn.text == UNAVAILABLE
    assert turn.events == []
    assert any(record.levelname == "ERROR" and "action_answer" in record.getMessage() for record in caplog.records)
