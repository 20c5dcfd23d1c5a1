"""With the action server down, Telegram and Slack users are told the answer cannot be looked up now
(channels/action_failures.py, which works below every channel), and they get answers again once it is
back. REST's counterpart is in tests/faults/test_restarts.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels.rendering import ACTIONS_UNAVAILABLE_REPLY
from tests.channels.standin import StandIn
from tests.channels.test_slack import direct_message, event_callback, new_id, say_and_wait, send_event, wait_posts
from tests.channels.test_telegram import QUESTION, assert_same_reply, new_chat, send, sent_to, text_update
from tests.e2e.conftest import Server


@pytest.fixture
def actions_down(messaging: Server) -> Iterator[None]:
    """The action server stopped for the test, and started again whatever happens."""
    assert messaging.assistant is not None
    messaging.assistant.stop_process("actions")
    try:
        yield
    finally:
        messaging.assistant.start_actions(timeout=120)


def test_telegram_says_it_cannot_look_it_up_while_the_action_server_is_down(
    messaging: Server, telegram_api: StandIn, actions_down: None
) -> None:
    chat = new_chat()
    assert send(messaging, text_update(chat, QUESTION)).status == 200
    texts = [call.fields["text"] for call in sent_to(telegram_api, chat)]
    assert texts.count(ACTIONS_UNAVAILABLE_REPLY) == 1, texts


def test_slack_says_it_cannot_look_it_up_while_the_action_server_is_down(
    messaging: Server, slack_api: StandIn, actions_down: None
) -> None:
    user, channel = new_id("U"), new_id("D")
    assert send_event(messaging, event_callback(direct_message(user, channel, QUESTION))).status == 200
    texts = [post.fields["text"] for post in wait_posts(slack_api, channel, 1)]
    assert any(ACTIONS_UNAVAILABLE_REPLY in text for text in texts), texts


def test_after_the_action_server_is_back_both_answer_as_rest_does(
    messaging: Server, telegram_api: StandIn, slack_api: StandIn
) -> None:
    # Runs after the two above (file order): the fixture has started the action server again.
    chat = new_chat()
    expected = messaging.say(f"rest-{chat}", QUESTION)
    assert send(messaging, text_update(chat, QUESTION)).status == 200
    assert_same_reply(sent_to(telegram_api, chat), expected)
    user, channel = new_id("U"), new_id("D")
    say_and_wait(messaging, slack_api, direct_message(user, channel, QUESTION), f"rest-{user}")
