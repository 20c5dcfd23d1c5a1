"""One real Rasa server (and action server) for all channel tests, with Telegram and Slack switched on
through the environment and pointed at stand-ins of their APIs on loopback."""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tests.channels.standin import Call, StandIn
from tests.e2e.conftest import Response, Server, running_assistant

TELEGRAM_TOKEN = f"123456789:{secrets.token_urlsafe(24)}"
TELEGRAM_BOT = "visafaq_test_bot"
TELEGRAM_SECRET = secrets.token_urlsafe(24)
SLACK_TOKEN = f"xoxb-{secrets.token_hex(12)}"
SLACK_SIGNING_SECRET = secrets.token_hex(16)
#: The channel where the assistant answers every message (SLACK_CHANNEL), not only mentions.
SLACK_CHANNEL = "C0ASSISTANT"
SLACK_BOT_USER = "U0VISAFAQ"
#: Short, so that the timeout test is short; long enough for a loopback call.
API_TIMEOUT_SECONDS = 2

_message_ids = itertools.count(1000)


def telegram_responder(call: Call) -> tuple[int, dict[str, Any]]:
    """Answers as the Bot API does (https://core.telegram.org/bots/api#making-requests)."""
    if not call.path.startswith(f"/bot{TELEGRAM_TOKEN}/"):
        return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
    if call.method == "getMe":
        return 200, {
            "ok": True,
            "result": {"id": 123456789, "is_bot": True, "first_name": "visafaq", "username": TELEGRAM_BOT},
        }
    if call.method == "sendMessage":
        chat_id = int(call.fields["chat_id"])
        result = {
            "message_id": next(_message_ids),
            "from": {"id": 123456789, "is_bot": True, "first_name": "visafaq", "username": TELEGRAM_BOT},
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": call.fields["text"],
        }
        return 200, {"ok": True, "result": result}
    return 200, {"ok": True, "result": True}  # setWebhook, answerCallbackQuery


def slack_responder(call: Call) -> tuple[int, dict[str, Any]]:
    """Answers as the Web API does (https://api.slack.com/web#responses): HTTP 200, "ok" says."""
    if call.headers.get("authorization") != f"Bearer {SLACK_TOKEN}":
        return 200, {"ok": False, "error": "invalid_auth"}
    if call.method == "chat.postMessage":
        ts = f"{time.time():.6f}"
        message = {"type": "message", "user": SLACK_BOT_USER, "bot_id": "B0VISAFAQ", "ts": ts, **call.fields}
        return 200, {"ok": True, "channel": call.fields.get("channel"), "ts": ts, "message": message}
    return 200, {"ok": False, "error": "unknown_method"}


@pytest.fixture(scope="package")
def slack_api() -> Iterator[StandIn]:
    stand_in = StandIn(slack_responder).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="package")
def telegram_api() -> Iterator[StandIn]:
    stand_in = StandIn(telegram_responder).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="package")
def messaging(tmp_path_factory: pytest.TempPathFactory, telegram_api: StandIn, slack_api: StandIn) -> Iterator[Server]:
    env = {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_VERIFY": TELEGRAM_BOT,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": telegram_api.url,
        "TELEGRAM_API_TIMEOUT": str(API_TIMEOUT_SECONDS),
        "SLACK_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_CHANNEL": SLACK_CHANNEL,
        "SLACK_API_URL": f"{slack_api.url}/api/",
        "SLACK_API_TIMEOUT": str(API_TIMEOUT_SECONDS),
    }
    with running_assistant(tmp_path_factory.mktemp("channels-var"), env) as server:
        yield server


def post(server: Server, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
    """A webhook request as the platform sends it."""
    request = urllib.request.Request(f"{server.rasa_url}{path}", data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Response(response.status, response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read().decode("utf-8", errors="replace"))


def post_json(server: Server, path: str, payload: object, headers: Mapping[str, str]) -> Response:
    return post(server, path, json.dumps(payload).encode("utf-8"), {"Content-Type": "application/json", **headers})


def rasa_log(server: Server) -> str:
    return (server.var / "rasa.log").read_text(encoding="utf-8", errors="replace")


def wait_for_log(server: Server, text: str, count: int, timeout: float = 30.0) -> None:
    """Until the Rasa server's log holds `text` at least `count` times (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rasa_log(server).count(text) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} did not appear {count} time(s) in {server.var / 'rasa.log'}")
