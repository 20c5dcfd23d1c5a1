"""Reading numbers from what people type, for the eligibility form and the entities."""

from __future__ import annotations

import pytest

from visafaq.eligibility.routes import parse_number


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
