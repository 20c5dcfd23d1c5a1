"""Replies composed from the knowledge store: short, sourced, dated, with follow-ups."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from visafaq.answering import (
    Answerer,
    choose_facts,
    cue_pattern,
    decided_nothing,
    describe_input,
    intent_payload,
    meant_programme,
    topic_weights,
)
from visafaq.db.engine import make_engine
from visafaq.eligibility.verdict import Outcome, Pending, Reason, Verdict
from visafaq.knowledge import store
from visafaq.knowledge.documents import FactStatus
from visafaq.knowledge.queries import FactAnswer, KnowledgeStore
from visafaq.knowledge.reader import read_knowledge
from visafaq.wording import format_day

FIXTURE = Path(__file__).parent / "knowledge" / "fixture"
TODAY = date(2026, 11, 24)


@pytest.fixture
def answerer(sqlite_url: str) -> Answerer:
    engine = make_engine(sqlite_url)
    store.load(engine, read_knowledge(FIXTURE))
    return Answerer(KnowledgeStore(engine))


def test_answer_ends_with_source_and_checked_date(answerer: Answerer) -> None:
    reply = answerer.answer("titp", "quota", "how many trainees for 45 staff", TODAY)
    assert reply.answered and reply.programme == "titp" and reply.topic == "quota"
    assert "31-50: 5" in reply.text
    # Current guidance is cited before the old guide, each with the day it was checked.
    assert reply.text.splitlines()[-1] == (
        "Sources: Current rules page (Example office), checked 24 November 2026: "
        "https://example.org/rules; An old guide (Example guides), checked 24 November 2026."
    )
    assert "Older guides may show different figures" in reply.text  # a superseded fact exists
    assert "ends on 31 March 2027" in reply.text  # planning topic, programme ending within a year


def test_the_current_rule_wins_over_older_guides(answerer: Answerer) -> None:
    reply = answerer.answer("titp", "quota", "50 or fewer staff could take 3", TODAY)
    assert "titp.quota.old-small-company" not in reply.facts


def test_after_the_end_the_answer_names_the_successor(answerer: Answerer) -> None:
    reply = answerer.answer("titp", "quota", "", date(2027, 5, 1))
    assert "took no new entrants after 31 March 2027" in reply.text
    assert "Employment for Skill Development" in reply.text


def test_unknown_programme_asks_which_with_buttons(answerer: Answerer) -> None:
    # Only TITP has quota facts: no need to ask.
    assert answerer.answer(None, "quota", "", TODAY).programme == "titp"
    reply = answerer.ask_programme("quota", TODAY, ["titp", "esd"])
    assert [b.payload for b in reply.buttons] == [
        '/inform{"programme": "titp"}',
        '/inform{"programme": "esd"}',
    ]


def test_nothing_known_is_said_plainly_and_offers_a_person(answerer: Answerer) -> None:
    reply = answerer.answer("esd", "quota", "", TODAY)
    assert not reply.answered
    assert "I don't have information about how many trainees for the ESD yet." in reply.text
    assert reply.buttons[-1].payload == "/request_human"


def test_follow_ups_only_offer_topics_with_facts(answerer: Answerer) -> None:
    assert answerer.follow_ups("titp", "quota", TODAY) == ()


def test_helpers() -> None:
    assert format_day(date(2027, 3, 1)) == "1 March 2027"
    assert intent_payload("ask_documents", programme="ssw") == '/ask_documents{"programme": "ssw"}'
    assert intent_payload("request_human") == "/request_human"


@pytest.fixture(scope="module")
def product_answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    """The answerer over the real knowledge/ (what users get), loaded once for the module."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('kb') / 'visafaq.sqlite3'}")
    store.load(engine, read_knowledge(Path(__file__).resolve().parent.parent / "knowledge"))
    return Answerer(KnowledgeStore(engine))


@pytest.mark.parametrize(
    ("question", "topic", "programme"),
    [
        # A cue word of one programme decides among those with facts on the topic.
        ("our No.2 people want their wives to join them", "family", "titp"),
        ("my university lets me work part-time job, what is the limit", "paid_work", "internship"),
        ("as a programmer can my family come with me", "family", "gijinkoku"),
    ],
)
def test_a_question_that_names_no_programme_is_answered_for_the_one_its_words_point_to(
    product_answerer: Answerer, question: str, topic: str, programme: str
) -> None:
    reply = product_answerer.answer(None, topic, question, TODAY)
    assert reply.answered and reply.programme == programme
    # The guess is said, so that a reader who meant another programme notices.
    assert reply.text.startswith(f"For the {product_answerer.programme_name(programme)}: ")


def test_a_question_with_no_clue_still_asks_which_programme(product_answerer: Answerer) -> None:
    reply = product_answerer.answer(None, "family", "can my family come", TODAY)
    assert reply.programme is None and reply.text.startswith("Which visa or programme")
    assert len(reply.buttons) > 1


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        # Trainees' and shared facts both speak of translations, about as well: the shared one holds.
        ("should the papers be translated to japanese?", "documents"),
        ("what is needed for permanent residency in japan", "permanent_residence"),
    ],
)
def test_a_near_tie_with_the_shared_notions_is_answered_from_them(
    product_answerer: Answerer, question: str, topic: str
) -> None:
    reply = product_answerer.answer(None, topic, question, TODAY)
    assert reply.answered and reply.programme == "general"
    assert not reply.text.startswith("For the ")


def test_cues_match_whole_words_in_any_width(product_answerer: Answerer) -> None:
    everyone = ["titp", "ssw", "gijinkoku", "internship", "general"]
    assert product_answerer.cued_programmes("\uff2e\uff2f\uff0e\uff12 please", everyone) == ["titp"]
    assert product_answerer.cued_programmes("a studentship", everyone) == []
    # "intern" (student internship) inside "technical intern" (TITP) is TITP's.
    assert product_answerer.cued_programmes("technical intern rules", everyone) == ["titp"]
    assert product_answerer.cued_programmes("an intern at a university", everyone) == ["internship"]
    # Japanese has no spaces between words: a name in kanji counts inside a longer word.
    assert product_answerer.cued_programmes("技能実習3号の前に帰国", everyone) == ["titp"]
    # The stage mark inside an SSW level's Japanese name is the name's, not a TITP stage.
    assert product_answerer.cued_programmes("特定技能1号 how long can i stay", everyone) == ["ssw"]
    assert cue_pattern("3go") == r"(?<!\w)3go(?!\w)" and cue_pattern("技能実習") == "技能実習"


def test_a_shared_notion_gives_way_to_a_programme_cue(product_answerer: Answerer) -> None:
    everyone = ["titp", "ssw", "gijinkoku", "internship", "general"]
    assert product_answerer.cued_programmes("the COE for a trainee", everyone) == ["titp", "general"]
    reply = product_answerer.answer(None, "paid_work", "a student's permission for activity outside status", TODAY)
    assert reply.programme == "internship"
    reply = product_answerer.answer(None, "paid_work", "what is permission for activity outside status", TODAY)
    assert reply.programme == "general"
    assert not reply.text.startswith("For the ")  # shared notions are not a programme to name


def test_an_open_verdict_states_the_rule_the_persons_figures_speak_to(product_answerer: Answerer) -> None:
    from visafaq.answering import verdict_reply
    from visafaq.eligibility.registry import evaluate

    verdict = evaluate("gijinkoku", {"experience_years": 5}, TODAY, product_answerer.store.base)
    reply = verdict_reply(verdict, programme="gijinkoku")
    # The background rule (degree or 10 years) comes before the job-offer rule, which comes first in
    # the check: the person spoke of experience. Its figures are the parameters in force.
    still = next(line for line in reply.text.split("\n\n") if line.startswith("The rules still to check: "))
    assert "10 years" in still and still.index("10 years") < still.index("job offer")
    assert reply.text.split("\n\n")[-1].startswith("Source")


def _fact(fact_id: str, score: float = 0.0) -> FactAnswer:
    return FactAnswer(
        id=fact_id,
        programme="titp",
        topic="employer_requirements",
        text=fact_id,
        sources=(),
        checked=TODAY,
        starts=None,
        ends=None,
        status=FactStatus.CURRENT,
        superseded_by=None,
        score=score,
    )


def test_words_every_fact_of_the_topic_has_do_not_rank_it() -> None:
    staff_order = [_fact("lead"), _fact("second"), _fact("third", score=5.0)]
    everywhere = frozenset({"lead", "second", "third"})
    # "company" is in every fact of the topic: a broad question, answered with the facts staff put first.
    assert [f.id for f in choose_facts(staff_order, {"company": everywhere})] == ["lead", "second"]
    # A word only one fact has puts that fact first, then the topic's lead.
    matches = {"company": everywhere, "accept": frozenset({"third"})}
    assert [f.id for f in choose_facts(staff_order, matches)] == ["third", "lead"]
    weights = topic_weights(staff_order, matches)
    assert weights["lead"] == 0.0 and weights["third"] > 0.0


def test_a_documents_question_about_one_paper_quotes_the_checklist(product_answerer: Answerer) -> None:
    reply = product_answerer.answer("gijinkoku", "documents", "do i need to send a face picture", TODAY)
    assert "What the applicant provides" in reply.text and "face photo" in reply.text
    # The checklist's source is cited with the facts'.
    checklist = product_answerer.store.base.checklists["gijinkoku.documents.applicant"]
    assert {s.id for s in reply.sources} >= set(checklist.sources)


def test_a_broad_documents_question_is_answered_from_the_facts_alone(product_answerer: Answerer) -> None:
    reply = product_answerer.answer("gijinkoku", "documents", "what documents do i need", TODAY)
    assert reply.answered
    assert not any(c.title in reply.text for c in product_answerer.store.base.checklists.values())


def test_shared_notions_rank_facts_within_a_programme(product_answerer: Answerer) -> None:
    # "residence card" is a name of the shared notions, not of the trainee programme: it tells facts apart.
    words = product_answerer.ranking_words("trainee visa: where do I get my residence card", "where_to_apply")
    assert "residence" in words.split() and "trainee" not in words.split()


def test_a_missing_input_is_asked_as_the_question_the_form_asks() -> None:
    assert describe_input("internship-permission", "paid") == "Is the internship paid?"
    assert describe_input("no-such-check", "full_time_staff") == "full time staff?"


def test_only_a_verdict_that_says_nothing_yet_gives_way_to_the_facts() -> None:
    def verdict(reasons: tuple[Reason, ...] = (), pending: tuple[Pending, ...] = ()) -> Verdict:
        return Verdict("internship-permission", TODAY, Outcome.UNKNOWN, None, reasons, ("paid",), pending)

    assert decided_nothing(verdict())
    assert not decided_nothing(verdict(reasons=(Reason("a.rule", True, "Over 28 hours.", ()),)))
    assert not decided_nothing(verdict(pending=(Pending("a.rule", "At most 28 hours.", (), partly_known=True),)))
    assert decided_nothing(verdict(pending=(Pending("a.rule", "At most 28 hours.", ()),)))


@pytest.mark.parametrize(
    ("named", "topic", "meant"),
    [
        ([], None, None),
        (["titp"], "path_to_ssw", "titp"),
        (["ssw"], "path_to_ssw", "ssw"),
        (["esd", "ssw"], "path_to_ssw", "esd"),  # where the person comes from
        (["ssw", "esd", "ssw"], "path_to_ssw", "esd"),
        (["esd", "ssw"], "documents", "ssw"),  # otherwise the last one named
        (["titp", "general"], "documents", "titp"),  # a programme beside the shared notions
        (["general"], "documents", "general"),
    ],
)
def test_the_programme_meant_among_several_named(named: list[str], topic: str | None, meant: str | None) -> None:
    assert meant_programme(named, topic) == meant


def test_a_guess_needs_a_close_topics_fact_sharing_two_telling_words(product_answerer: Answerer) -> None:
    question = "an agent wants a big deposit and fee before i can be a trainee, normal?"
    guess = product_answerer.likely_answer(question, ["salary", "brokers_fees"], None, TODAY)  # cued: trainee
    assert guess is not None and (guess.topic, guess.programme) == ("brokers_fees", "titp")
    assert guess.text.startswith("I'm not sure I understood, but this may answer it (brokers and fees, ")
    assert guess.buttons == ()  # the fallback offers the other close topics instead
    # Not among the close topics, or words most facts share: no guess.
    assert product_answerer.likely_answer(question, ["salary", "family"], "titp", TODAY) is None
    assert product_answerer.likely_answer("weather tomorrow in japan for work", ["overview"], "titp", TODAY) is None


@pytest.mark.parametrize(
    ("programme", "topic", "question", "sharpened"),
    [
        ("general", "documents", "which papers for my CoE as a trainee", "titp"),
        ("general", "documents", "which papers for my CoE", "general"),  # no cue: the shared notions
        ("general", "documents", "papers for a trainee or a student intern CoE", "general"),  # two cues: unclear
        ("ssw", "path_to_ssw", "after 2go can i go to tokutei ginou without a test", "titp"),
        ("ssw", "documents", "after 2go which papers for tokutei ginou", "ssw"),  # not the path: as named
        ("gijinkoku", "documents", "papers for my CoE as a trainee", "gijinkoku"),  # a programme named stands
    ],
)
def test_cue_words_sharpen_a_vague_programme(
    product_answerer: Answerer, programme: str, topic: str, question: str, sharpened: str
) -> None:
    assert product_answerer.sharpened_programme(programme, topic, question) == sharpened
