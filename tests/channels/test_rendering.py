"""How replies are cut and shaped for Telegram and Slack (channels/rendering.py, no Rasa needed)."""

from __future__ import annotations

import json

import pytest

from channels.rendering import (
    SLACK_SECTION_LIMIT,
    TELEGRAM_CALLBACK_DATA_LIMIT,
    TELEGRAM_MESSAGE_LIMIT,
    BoundedMemory,
    PayloadKeys,
    redact,
    seconds,
    slack_messages,
    slack_mrkdwn,
    split_message,
    telegram_messages,
    utf16_length,
)

PARAGRAPH = "Trainees need a passport, a certificate of eligibility and a contract. " * 10


def test_short_texts_stay_whole_and_long_ones_split_between_paragraphs() -> None:
    assert split_message("one\n\ntwo", 100) == ["one\n\ntwo"]
    text = "\n\n".join([PARAGRAPH.strip()] * 12)
    parts = split_message(text, 2000)
    assert len(parts) > 1
    assert all(len(part) <= 2000 for part in parts)
    assert all(part == PARAGRAPH.strip() or "\n\n" in part for part in parts)  # whole paragraphs only
    assert "\n\n".join(parts) == text


def test_a_paragraph_longer_than_the_limit_is_cut_between_words_and_a_huge_word_anywhere() -> None:
    parts = split_message(PARAGRAPH, 100)
    assert all(len(part) <= 100 for part in parts)
    assert " ".join(parts) == PARAGRAPH.strip()
    assert split_message("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]
    assert split_message("   ", 10) == []


def test_telegram_limits_count_utf16_units() -> None:
    emoji_text = "\N{GRINNING FACE}" * 3000  # 6000 UTF-16 units
    messages = telegram_messages(emoji_text, [], PayloadKeys(TELEGRAM_CALLBACK_DATA_LIMIT))
    assert len(messages) == 2
    assert all(utf16_length(m["text"]) <= TELEGRAM_MESSAGE_LIMIT for m in messages)


def test_telegram_buttons_are_an_inline_keyboard_under_the_last_message_with_short_data() -> None:
    keys = PayloadKeys(TELEGRAM_CALLBACK_DATA_LIMIT)
    long_payload = '/ask_processing_time{"programme":"internship","status":"designated_activities"}'
    buttons = [{"title": "Short", "payload": "/request_human"}, {"title": "Long", "payload": long_payload}]
    text = "\n\n".join([PARAGRAPH] * 70)
    messages = telegram_messages(text, buttons, keys)
    assert "reply_markup" not in messages[0]
    rows = messages[-1]["reply_markup"]["inline_keyboard"]
    assert [[button["text"] for button in row] for row in rows] == [["Short"], ["Long"]]
    data = [row[0]["callback_data"] for row in rows]
    assert data[0] == "/request_human"
    assert len(data[1].encode()) <= TELEGRAM_CALLBACK_DATA_LIMIT
    assert keys.decode(data[1]) == long_payload
    assert keys.decode("k:forgotten") is None
    json.dumps(messages)  # what aiogram will send


def test_slack_text_is_escaped_with_clickable_sources_and_buttons_as_blocks() -> None:
    text = "Fees < 5% & more.\n\nSource: Guide (OTIT), checked 24 November 2026: https://www.otit.go.jp/a?b=1&c=2."
    keys = PayloadKeys(2000)
    messages = slack_messages(text, [{"title": "Talk to staff", "payload": "/request_human"}], keys)
    assert len(messages) == 1
    section, actions = messages[0]["blocks"]
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("Fees &lt; 5% &amp; more.")
    assert section["text"]["text"].endswith("<https://www.otit.go.jp/a?b=1&amp;c=2>.")
    assert actions["elements"][0]["value"] == "/request_human"
    assert actions["elements"][0]["text"] == {"type": "plain_text", "text": "Talk to staff", "emoji": True}


def test_slack_long_answers_fit_section_blocks() -> None:
    messages = slack_messages("<&>" * 3000 + "\n\n" + PARAGRAPH * 10, [], PayloadKeys(2000))
    assert len(messages) > 2
    assert all(len(m["blocks"][0]["text"]["text"]) <= SLACK_SECTION_LIMIT for m in messages)


def test_bounded_memory_forgets_the_oldest_and_answers_repeats_once() -> None:
    seen = BoundedMemory(2)
    assert seen.first_time("a") and seen.first_time("b")
    assert not seen.first_time("a")
    assert seen.first_time("c")  # forgets b, the least recently seen
    assert seen.first_time("b")
    assert len(seen) == 2


def test_redact_hides_secrets_in_log_lines() -> None:
    assert redact("POST /bot123:abc/sendMessage failed", ["123:abc", None]) == "POST /bot***/sendMessage failed"
    assert slack_mrkdwn("no links") == "no links"


def test_timeouts_default_when_empty_and_must_be_positive_numbers() -> None:
    assert seconds("", 10.0, "X_TIMEOUT") == 10.0
    assert seconds(None, 10.0, "X_TIMEOUT") == 10.0
    assert seconds("2.5", 10.0, "X_TIMEOUT") == 2.5
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ValueError, match="X_TIMEOUT must be a positive number of seconds"):
            seconds(bad, 10.0, "X_TIMEOUT")
