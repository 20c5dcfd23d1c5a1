"""Telegram end to end: webhook requests shaped as Telegram's Update objects
(https://core.telegram.org/bots/api#update) reach the real Rasa server, whose replies arrive at the Bot
API stand-in. What the assistant should say is what it says over REST to a new conversation, so these
tests check the channel, not the answers."""

from __future__ import annotations

import itertools
import json
import random
import time
from typing import Any

from channels.rendering import EXPIRED_BUTTON_REPLY, TELEGRAM_CALLBACK_DATA_LIMIT, TEXT_ONLY_REPLY
from tests.channels.conftest import (
    API_TIMEOUT_SECONDS,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    post,
    post_json,
    rasa_log,
)
from tests.channels.standin import Call, StandIn
from tests.e2e.conftest import Response, Server

WEBHOOK = "/webhooks/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
QUESTION = "What documents do I need for the trainee visa?"

_update_ids = itertools.count(random.randint(10_000_000, 90_000_000))


def new_chat() -> int:
    return random.randint(100_000_000, 999_999_999)


def person(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "en"}


def message(chat_id: int, **content: Any) -> dict[str, Any]:
    return {
        "message_id": random.randint(1, 10_000),
        "from": person(chat_id),
        "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
        "date": int(time.time()),
        **content,
    }


def text_update(chat_id: int, text: str) -> dict[str, Any]:
    return {"update_id": next(_update_ids), "message": message(chat_id, text=text)}


def send(server: Server, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return post_json(server, WEBHOOK, update, headers)


def sent_to(api: StandIn, chat_id: int) -> list[Call]:
    return [call for call in api.received("sendMessage") if call.fields.get("chat_id") == str(chat_id)]


def keyboard(call: Call) -> list[dict[str, str]]:
    markup = json.loads(call.fields.get("reply_markup", "null")) or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def buttons_of(reply: dict[str, Any]) -> list[dict[str, str]]:
    buttons = reply.get("buttons") or []
    assert isinstance(buttons, list)
    return buttons


def assert_same_reply(sent: list[Call], expected: list[dict[str, Any]]) -> None:
    """The Telegram messages carry the REST reply's texts and buttons, in order."""
    assert [call.fields["text"] for call in sent] == [reply["text"] for reply in expected]
    for call, reply in zip(sent, expected, strict=True):
        assert [button["text"] for button in keyboard(call)] == [b["title"] for b in buttons_of(reply)]
        assert "parse_mode" not in call.fields  # plain text: nothing in it can break Telegram's formatting


def test_the_webhook_was_registered_with_the_secret_token(messaging: Server, telegram_api: StandIn) -> None:
    registered = telegram_api.received("setWebhook")
    assert registered, "Rasa did not call setWebhook at start"
    fields = registered[-1].fields
    assert fields["url"] == "https://bot.example.org/webhooks/telegram/webhook"
    assert fields["secret_token"] == TELEGRAM_SECRET
    assert set(json.loads(fields["allowed_updates"])) == {"message", "edited_message", "callback_query"}


def test_a_text_message_gets_the_assistants_answer(messaging: Server, telegram_api: StandIn) -> None:
    chat = new_chat()
    expected = messaging.say(f"rest-{chat}", QUESTION)
    assert send(messaging, text_update(chat, QUESTION)).status == 200
    # Texts equal to REST's: a source's address stays as is, and Telegram shows it as a link.
    assert_same_reply(sent_to(telegram_api, chat), expected)


def test_a_button_press_is_answered_as_the_buttons_payload(messaging: Server, telegram_api: StandIn) -> None:
    chat = new_chat()
    expected_first = messaging.say(f"rest-{chat}", "hello")
    assert send(messaging, text_update(chat, "hello")).status == 200
    offered = [call for call in sent_to(telegram_api, chat) if keyboard(call)]
    assert offered, "the greeting should offer buttons"
    buttons = keyboard(offered[-1])
    assert all(len(button["callback_data"].encode()) <= TELEGRAM_CALLBACK_DATA_LIMIT for button in buttons)
    rest_buttons = [b for reply in expected_first for b in buttons_of(reply)]
    expected = messaging.say(f"rest-{chat}", rest_buttons[0]["payload"])

    before = len(sent_to(telegram_api, chat))
    bot_message = message(chat, text=offered[-1].fields["text"], reply_markup={"inline_keyboard": [buttons]})
    bot_message["from"] = {"id": 123456789, "is_bot": True, "first_name": "visafaq"}
    query = {
        "id": f"{chat}-{random.randint(1, 10**6)}",
        "from": person(chat),
        "message": bot_message,
        "chat_instance": str(random.randint(1, 10**12)),
        "data": buttons[0]["callback_data"],
    }
    assert send(messaging, {"update_id": next(_update_ids), "callback_query": query}).status == 200
    assert_same_reply(sent_to(telegram_api, chat)[before:], expected)
    assert any(
        call.fields.get("callback_query_id") == query["id"] for call in telegram_api.received("answerCallbackQuery")
    )


def test_an_edited_message_is_answered_as_a_new_question(messaging: Server, telegram_api: StandIn) -> None:
    chat = new_chat()
    expected = messaging.say(f"rest-{chat}", QUESTION)
    edited = message(chat, text=QUESTION, edit_date=int(time.time()))
    assert send(messaging, {"update_id": next(_update_ids), "edited_message": edited}).status == 200
    assert_same_reply(sent_to(telegram_api, chat), expected)


def test_a_sticker_or_a_photo_without_caption_gets_a_polite_text_only_reply(
    messaging: Server, telegram_api: StandIn
) -> None:
    sticker = {
        "file_id": "CAACAgIAAxkBAAEB",
        "file_unique_id": "AgADAgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "\N{THUMBS UP SIGN}",
    }
    photo = [{"file_id": "AgACAgIAAxkBAAEC", "file_unique_id": "AQAD", "width": 90, "height": 67, "file_size": 1254}]
    for content in ({"sticker": sticker}, {"photo": photo}):
        chat = new_chat()
        assert send(messaging, {"update_id": next(_update_ids), "message": message(chat, **content)}).status == 200
        assert [call.fields["text"] for call in sent_to(telegram_api, chat)] == [TEXT_ONLY_REPLY]


def test_a_photo_with_a_caption_is_answered_as_the_caption(messaging: Server, telegram_api: StandIn) -> None:
    chat = new_chat()
    expected = messaging.say(f"rest-{chat}", QUESTION)
    photo = [{"file_id": "AgACAgIAAxkBAAED", "file_unique_id": "AQAE", "width": 90, "height": 67}]
    update = {"update_id": next(_update_ids), "message": message(chat, photo=photo, caption=QUESTION)}
    assert send(messaging, update).status == 200
    assert_same_reply(sent_to(telegram_api, chat), expected)


def test_a_wrong_or_missing_secret_token_is_rejected_and_not_answered(messaging: Server, telegram_api: StandIn) -> None:
    chat = new_chat()
    for secret in ("not-the-secret", None):
        response = send(messaging, text_update(chat, "hello"), secret=secret)
        assert response.status == 401, response.body
    assert sent_to(telegram_api, chat) == []
    assert send(messaging, text_update(chat, "hello")).status == 200  # the same chat, properly signed
    assert sent_to(telegram_api, chat)


def test_a_resent_update_is_answered_once(messaging: Server, telegram_api: StandIn) -> None:
    chat = new_chat()
    expected = messaging.say(f"rest-{chat}", QUESTION)
    update = text_update(chat, QUESTION)
    assert send(messaging, update).status == 200
    assert send(messaging, update).status == 200
    assert_same_reply(sent_to(telegram_api, chat), expected)


def test_a_request_that_is_not_an_update_gets_400(messaging: Server) -> None:
    headers = {"Content-Type": "application/json", SECRET_HEADER: TELEGRAM_SECRET}
    for body in (b"not json", b"[1, 2]"):
        assert post(messaging, WEBHOOK, body, headers).status == 400


def test_a_failing_bot_api_is_logged_and_the_next_message_works(messaging: Server, telegram_api: StandIn) -> None:
    for failure in ("500", "timeout"):
        chat = new_chat()
        if failure == "500":
            telegram_api.fail("sendMessage", 500)
        else:
            telegram_api.hang("sendMessage", API_TIMEOUT_SECONDS + 3)
        assert send(messaging, text_update(chat, QUESTION)).status == 200
        assert messaging.alive()
        # The next message is answered in full (as over REST to a conversation at the same point).
        messaging.say(f"rest-{chat}", QUESTION)
        expected = messaging.say(f"rest-{chat}", QUESTION)
        before = len(sent_to(telegram_api, chat))
        assert send(messaging, text_update(chat, QUESTION)).status == 200
        assert_same_reply(sent_to(telegram_api, chat)[before:], expected)
    log = rasa_log(messaging)
    assert "Telegram API call failed" in log
    assert "TimeoutError" in log
    assert TELEGRAM_TOKEN not in log


def test_a_button_key_the_server_no_longer_knows_asks_to_type_the_question(
    messaging: Server, telegram_api: StandIn
) -> None:
    chat = new_chat()
    query = {
        "id": f"{chat}-expired",
        "from": person(chat),
        "message": message(chat, text="an old answer"),
        "chat_instance": "1",
        "data": "k:0123456789abcdef01234567",  # a long payload's key from before a restart
    }
    assert send(messaging, {"update_id": next(_update_ids), "callback_query": query}).status == 200
    assert [call.fields["text"] for call in sent_to(telegram_api, chat)] == [EXPIRED_BUTTON_REPLY]
