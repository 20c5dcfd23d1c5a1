"""Masking personal data in what staff see and export."""

from __future__ import annotations

import pytest

from visafaq.triage.privacy import find_personal_data, mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to jo.e+x@mail.example.co.jp please", "write to [e-mail hidden] please"),
        ("call 090-1234-5678", "call [phone hidden]"),
        ("call +81 90 1234 5678 today", "call [phone hidden] today"),
        ("office (03) 1234-5678", "office [phone hidden]"),
        ("my passport is TK1234567", "my passport is [passport or card number hidden]"),
        ("card AB12345678CD ok", "card [passport or card number hidden] ok"),
        ("mail a@b.jp, tel 09012345678", "mail [e-mail hidden], tel [phone hidden]"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "we have 150 full-time staff",
        "I am 17, can I apply?",
        "TITP ends on 2027-03-31",
        "the fee is 4,000 yen for 3 years",
        "form N-400 and JLPT N4",
        "between 1 and 3 months",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert mask(text) == text and find_personal_data(text) == []
