"""Slack end to end: signed requests shaped as the Events API's event_callback
(https://api.slack.com/apis/events-api) and Interactivity's block_actions reach the real Rasa server,
whose replies arrive at the Web API stand-in. What the assistant should say is what it says over REST
to a new conversation, shaped as Slack blocks by channels/rendering.py (tested on its own)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import time
import urllib.parse
from typing import Any

from channels.rendering import (
    EXPIRED_BUTTON_REPLY,
    SLACK_BUTTON_VALUE_LIMIT,
    TEXT_ONLY_REPLY,
    PayloadKeys,
    slack_messages,
)
from tests.channels.conftest import (
    API_TIMEOUT_SECONDS,
    SLACK_BOT_USER,
    SLACK_CHANNEL,
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    post,
    rasa_log,
    wait_for_log,
)
from tests.channels.standin import Call, StandIn
from tests.e2e.conftest import Response, Server

WEBHOOK = "/webhooks/slack/webhook"
QUESTION = "What documents do I need for the trainee visa?"
POST = "chat.postMessage"

_counter = itertools.count(random.randint(1000, 9000))


def new_id(prefix: str) -> str:
    return f"{prefix}{random.randint(10**9, 10**10 - 1)}"


def new_ts() -> str:
    return f"{time.time():.0f}.{next(_counter):06d}"


def signed(body: bytes, secret: str = SLACK_SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds (https://api.slack.com/authentication/verifying-requests-from-slack)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "verification-token-unused",
        "team_id": "T0TEAM",
        "api_app_id": "A0APP",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": "T0TEAM", "user_id": SLACK_BOT_USER, "is_bot": True}],
        "is_ext_shared_channel": False,
    }


def direct_message(user: str, channel: str, text: str, **extra: Any) -> dict[str, Any]:
    ts = new_ts()
    return {
        "type": "message",
        "client_msg_id": new_id("m"),
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": "T0TEAM",
        "channel": channel,
        "channel_type": "im",
        **extra,
    }


def send_event(server: Server, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload).encode()
    return post(server, WEBHOOK, body, {"Content-Type": "application/json", **signed(body), **(headers or {})})


def posts_to(api: StandIn, channel: str) -> list[Call]:
    return [call for call in api.received(POST) if call.fields.get("channel") == channel]


def wait_posts(api: StandIn, channel: str, count: int) -> list[Call]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(posts_to(api, channel)) < count:
        time.sleep(0.05)
    posts = posts_to(api, channel)
    assert len(posts) >= count, f"expected {count} posts to {channel}, got {[p.fields for p in posts]}"
    return posts


def expected_posts(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = PayloadKeys(SLACK_BUTTON_VALUE_LIMIT)
    return [
        message
        for reply in replies
        for message in slack_messages(str(reply.get("text", "")), reply.get("buttons") or [], keys)
    ]


def assert_same_reply(posts: list[Call], replies: list[dict[str, Any]]) -> None:
    expected = expected_posts(replies)
    assert [{"text": p.fields["text"], "blocks": p.fields["blocks"]} for p in posts] == expected
    assert all("as_user" not in p.fields for p in posts)


def say_and_wait(
    server: Server, api: StandIn, event: dict[str, Any], rest_sender: str
) -> tuple[list[Call], list[dict[str, Any]]]:
    """Send a message event, wait for the reply, check it is REST's; the posts and REST's replies."""
    expected = server.say(rest_sender, event["text"])
    before = len(posts_to(api, event["channel"]))
    assert send_event(server, event_callback(event)).status == 200
    posts = wait_posts(api, event["channel"], before + len(expected_posts(expected)))[before:]
    assert_same_reply(posts, expected)
    return posts, expected


def test_a_url_verification_challenge_is_answered(messaging: Server) -> None:
    payload = {
        "token": "unused",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    response = send_event(messaging, payload)
    assert response.status == 200
    assert response.json() == {"challenge": payload["challenge"]}


def test_a_direct_message_gets_the_assistants_answer_as_blocks(messaging: Server, slack_api: StandIn) -> None:
    user, channel = new_id("U"), new_id("D")
    posts, _ = say_and_wait(messaging, slack_api, direct_message(user, channel, QUESTION), f"rest-{user}")
    assert all(post.headers["authorization"] == f"Bearer {SLACK_TOKEN}" for post in posts)
    assert all("thread_ts" not in post.fields for post in posts)  # a direct message is answered in place


def block_actions(user: str, channel: str, button: dict[str, Any], bot_message: dict[str, Any]) -> bytes:
    """A button press as Interactivity posts it: a form with one field, `payload`, holding JSON."""
    ts = new_ts()
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "ana", "name": "ana", "team_id": "T0TEAM"},
        "api_app_id": "A0APP",
        "token": "verification-token-unused",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"{random.randint(1, 10**9)}.{random.randint(1, 10**9)}.abcdef",
        "team": {"id": "T0TEAM", "domain": "example"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "user": SLACK_BOT_USER, "bot_id": "B0VISAFAQ", "ts": ts, **bot_message},
        "response_url": "https://hooks.slack.com/actions/T0TEAM/1/abc",
        "actions": [{**button, "block_id": "b1", "type": "button", "action_ts": new_ts()}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def test_a_button_press_is_answered_as_the_buttons_payload(messaging: Server, slack_api: StandIn) -> None:
    user, channel = new_id("U"), new_id("D")
    posts, rest = say_and_wait(messaging, slack_api, direct_message(user, channel, "hello"), f"rest-{user}")
    with_buttons = [p for p in posts if p.fields["blocks"][-1]["type"] == "actions"]
    assert with_buttons, "the greeting should offer buttons"
    bot_message = with_buttons[-1].fields
    button = bot_message["blocks"][-1]["elements"][0]
    rest_buttons = [b for reply in rest for b in reply.get("buttons") or []]
    expected = messaging.say(f"rest-{user}", rest_buttons[0]["payload"])

    body = block_actions(user, channel, button, bot_message)
    before = len(posts_to(slack_api, channel))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body)}
    assert post(messaging, WEBHOOK, body, headers).status == 200
    assert post(messaging, WEBHOOK, body, headers).status == 200  # pressed twice, or re-sent: answered once
    wait_posts(slack_api, channel, before + len(expected_posts(expected)))
    _, later = say_and_wait(messaging, slack_api, direct_message(user, channel, "thanks"), f"rest-{user}")
    assert_same_reply(posts_to(slack_api, channel)[before:], expected + later)


def test_a_mention_in_a_thread_is_answered_once_in_that_thread(messaging: Server, slack_api: StandIn) -> None:
    user, thread = new_id("U"), new_ts()
    mention = direct_message(user, SLACK_CHANNEL, f"<@{SLACK_BOT_USER}> {QUESTION}", thread_ts=thread)
    mention.update(type="app_mention", channel_type="channel")
    plain = {**mention, "type": "message"}  # SLACK_CHANNEL's message event for the same message
    before = len(posts_to(slack_api, SLACK_CHANNEL))
    expected = messaging.say(f"rest-{user}", QUESTION)
    assert send_event(messaging, event_callback(mention)).status == 200
    assert send_event(messaging, event_callback(plain)).status == 200
    posts = wait_posts(slack_api, SLACK_CHANNEL, before + len(expected_posts(expected)))[before:]
    follow_up = direct_message(user, new_id("D"), "thanks")  # anything after the duplicate is processed
    say_and_wait(messaging, slack_api, follow_up, f"rest-{user}")
    assert_same_reply(posts_to(slack_api, SLACK_CHANNEL)[before:], expected)  # the mention taken out
    assert all(post.fields["thread_ts"] == thread for post in posts)


def test_a_message_in_another_channel_without_mention_is_not_answered(messaging: Server, slack_api: StandIn) -> None:
    user, channel = new_id("U"), new_id("C")
    event = direct_message(user, channel, QUESTION)
    event["channel_type"] = "channel"
    assert send_event(messaging, event_callback(event)).status == 200
    say_and_wait(messaging, slack_api, direct_message(user, new_id("D"), "hello"), f"rest-{user}")
    assert posts_to(slack_api, channel) == []


def test_a_file_without_text_gets_a_polite_text_only_reply(messaging: Server, slack_api: StandIn) -> None:
    user, channel = new_id("U"), new_id("D")
    image = {"id": new_id("F"), "name": "passport.jpg", "mimetype": "image/jpeg", "filetype": "jpg"}
    event = direct_message(user, channel, "", subtype="file_share", files=[image], upload=False)
    assert send_event(messaging, event_callback(event)).status == 200
    posts = wait_posts(slack_api, channel, 1)
    assert [post.fields["text"] for post in posts] == [TEXT_ONLY_REPLY]


def test_bad_or_stale_signatures_get_401_and_nothing_is_answered(messaging: Server, slack_api: StandIn) -> None:
    user, channel = new_id("U"), new_id("D")
    body = json.dumps(event_callback(direct_message(user, channel, "hello"))).encode()
    json_type = {"Content-Type": "application/json"}
    attempts = [
        {},  # no signature
        signed(body, secret="not-the-signing-secret"),
        signed(body, timestamp=int(time.time()) - 6 * 60),  # older than five minutes: a replay
        {**signed(body), "X-Slack-Signature": "v0=" + "0" * 64},
    ]
    for headers in attempts:
        response = post(messaging, WEBHOOK, body, {**json_type, **headers})
        assert response.status == 401, response.body
    tampered = body.replace(b"hello", b"HELLO")
    assert post(messaging, WEBHOOK, tampered, {**json_type, **signed(body)}).status == 401
    say_and_wait(messaging, slack_api, direct_message(user, new_id("D"), "hello"), f"rest-{user}")
    assert posts_to(slack_api, channel) == []


def test_a_retried_event_is_answered_once_even_after_the_first_was_answered(
    messaging: Server, slack_api: StandIn
) -> None:
    user, channel = new_id("U"), new_id("D")
    event = direct_message(user, channel, QUESTION)
    payload = event_callback(event)
    expected = messaging.say(f"rest-{user}", QUESTION)
    assert send_event(messaging, payload).status == 200
    wait_posts(slack_api, channel, len(expected_posts(expected)))  # the first is answered
    for retry in ({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}, {}):
        response = send_event(messaging, payload, retry)
        assert response.status == 200
    # A later message in the same conversation is answered, and the event was not answered again.
    later = messaging.say(f"rest-{user}", "thanks")
    assert send_event(messaging, event_callback(direct_message(user, channel, "thanks"))).status == 200
    posts = wait_posts(slack_api, channel, len(expected_posts(expected)) + len(expected_posts(later)))
    assert_same_reply(posts, expected + later)


def test_a_request_that_is_not_a_slack_payload_gets_400(messaging: Server) -> None:
    body = b"not json"
    assert post(messaging, WEBHOOK, body, {"Content-Type": "application/json", **signed(body)}).status == 400


def test_a_failing_web_api_is_logged_and_the_next_message_works(messaging: Server, slack_api: StandIn) -> None:
    for attempt, failure in enumerate(("500", "timeout"), start=1):
        user, channel = new_id("U"), new_id("D")
        if failure == "500":
            slack_api.fail(POST, 500)
        else:
            slack_api.hang(POST, API_TIMEOUT_SECONDS + 3)
        first = messaging.say(f"rest-{user}", QUESTION)
        assert send_event(messaging, event_callback(direct_message(user, channel, QUESTION))).status == 200
        # The failed post was attempted and logged (and the rest of that reply, if any, went out).
        wait_posts(slack_api, channel, len(expected_posts(first)))
        wait_for_log(messaging, "Slack API call failed", attempt)
        assert messaging.alive()
        before = len(posts_to(slack_api, channel))
        expected = messaging.say(f"rest-{user}", QUESTION)
        assert send_event(messaging, event_callback(direct_message(user, channel, QUESTION))).status == 200
        posts = wait_posts(slack_api, channel, before + len(expected_posts(expected)))[before:]
        assert_same_reply(posts, expected)
    log = rasa_log(messaging)
    assert "Slack API call failed" in log
    assert "TimeoutError" in log
    assert SLACK_TOKEN not in log


def test_a_button_key_the_server_no_longer_knows_asks_to_type_the_question(
    messaging: Server, slack_api: StandIn
) -> None:
    user, channel = new_id("U"), new_id("D")
    button = {"action_id": "button-0", "text": {"type": "plain_text", "text": "Old"}, "value": "k:0123456789abcdef"}
    body = block_actions(user, channel, button, {"text": "an old answer", "blocks": []})
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body)}
    assert post(messaging, WEBHOOK, body, headers).status == 200
    assert [post.fields["text"] for post in wait_posts(slack_api, channel, 1)] == [EXPIRED_BUTTON_REPLY]
