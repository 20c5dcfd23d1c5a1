"""Reading numbers from what people type, for the eligibility form and the entities."""

from __future__ import annotations

import pytest

from visafaq.eligibility.routes import inputs_from_message, parse_number, stated_age


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17", 17),
        ("I am 17 years old", 17),
        ("1,200 staff", 1200),
        ("about 2.5 years", 2.5),
        ("3.", 3),
        ("twenty", 20),
        ("-3", -3),
        ("we have -40 staff", -40),
        ("COVID-19 delayed me 2 years", 19),
        ("between 18-30", 18),
        ("no idea", None),
    ],
)
def test_parse_number(text: str, expected: int | float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("im 17 now, can i sign up", 17),
        ("17yo can i apply", 17),
        ("I am 17 years old", 17),
        ("i\u2019m 17, ok?", 17),
        ("17 y.o. from vietnam", 17),
        ("aged 16", 16),
        ("my age is 45", 45),
        ("I'm 25 and have a degree", 25),
        # Not an age of the person: a stay, a delay, the rule asked about, a head count, a name.
        ("i am 5 years in japan", None),
        ("im 3 months late with my report", None),
        ("is the minimum age 18?", None),
        ("we are 48 people", None),
        ("COVID-19 yo", None),
        # Next month's age is not today's: the check would be wrong to take it.
        ("i turn 18 next month", None),
    ],
)
def test_stated_age(text: str, expected: int | None) -> None:
    assert stated_age(text) == expected


def test_an_age_entity_wins_over_the_words() -> None:
    entities = [{"entity": "age", "value": "19"}]
    assert inputs_from_message(entities, "im 17 now")["age"] == 19
    assert inputs_from_message([], "im 17 now") == {"age": 17}
    assert inputs_from_message([], "how long does the coe take") == {}
