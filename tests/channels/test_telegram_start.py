"""Telegram at start: a token that belongs to another bot, or a Bot API that refuses setWebhook, stops
the Rasa server with a message that says why (and does not show the token)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.channels.conftest import TELEGRAM_TOKEN
from tests.channels.standin import StandIn
from tests.e2e.conftest import running_assistant
from visafaq.launcher import StartupError


@pytest.mark.parametrize("problem", ["another bot's token", "setWebhook fails"])
def test_a_telegram_misconfiguration_stops_the_start_and_says_why(
    problem: str, tmp_path: Path, telegram_api: StandIn
) -> None:
    env = {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_VERIFY": "someone_else_bot" if problem == "another bot's token" else "visafaq_test_bot",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/webhooks/telegram/webhook",
        "TELEGRAM_API_URL": telegram_api.url,
    }
    if problem == "setWebhook fails":
        telegram_api.fail("setWebhook", 500)
    with pytest.raises(StartupError) as failure, running_assistant(tmp_path, env):
        pass
    log = (tmp_path / "rasa.log").read_text(encoding="utf-8", errors="replace")
    expected = (
        "not to @someone_else_bot" if problem == "another bot's token" else "Could not register the Telegram webhook"
    )
    assert expected in str(failure.value) or expected in log
    assert TELEGRAM_TOKEN not in log
