from __future__ import annotations

from datetime import date

from visafaq.checklist_match import matching_items, stem
from visafaq.knowledge.documents import Checklist, Party


def _checklist(party: Party, title: str, items: list[str]) -> Checklist:
    return Checklist(
        id=f"x.documents.{party.value}",
        programme="x",
        party=party,
        title=title,
        items=items,
        sources=["seed"],
        checked=date(2026, 11, 24),
    )


APPLICANT = _checklist(
    Party.APPLICANT,
    "What the applicant provides",
    ["Passport", "Passport-size face photo", "Degree certificates", "Japanese language certificate, if asked"],
)
EMPLOYER = _checklist(
    Party.EMPLOYER,
    "What the host company provides",
    [
        "Copy of the company's registration",
        "Financial papers, such as the profit and loss statement",
        "Certificate of incorporation issued within the last 3 months",
    ],
)


def test_plurals_and_possessives_fold() -> None:
    assert [stem(w) for w in ("photos", "papers", "companies", "class", "tax")] == [
        "photo",
        "paper",
        "company",
        "class",
        "tax",
    ]


def test_a_question_about_one_paper_gets_that_item_with_who_provides_it() -> None:
    found = matching_items([APPLICANT, EMPLOYER], "do I need a face picture?")
    assert found is not None
    assert found.checklist is APPLICANT and found.items == ("Passport-size face photo",)


def test_the_provider_named_in_the_question_does_not_match_items_by_itself() -> None:
    # "company" is the employer list's title word: it says who, not which paper.
    assert matching_items([APPLICANT, EMPLOYER], "what does our company prepare") is None
    # With a word of an item, the title helps choose that provider's list.
    found = matching_items([APPLICANT, EMPLOYER], "as the host company, which financial papers")
    assert found is not None and found.checklist is EMPLOYER
    assert found.items == ("Financial papers, such as the profit and loss statement",)


def test_a_word_on_many_items_picks_none() -> None:
    many = _checklist(Party.APPLICANT, "What you provide", [f"Certificate number {n}" for n in range(6)])
    assert matching_items([many], "which certificate") is None


def test_no_telling_words_no_items() -> None:
    assert matching_items([APPLICANT, EMPLOYER], "what documents do I need") is None
    assert matching_items([], "face photo") is None
