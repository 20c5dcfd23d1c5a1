"""Slack, through Rasa's connector, with what Rasa 3.6's lacks:

- a configurable Web API address (`api_url`, for a proxy or the tests' stand-in) and a finite,
  configurable timeout for every call;
- a request with a missing, wrong or stale (over 5 minutes) signature gets 401 and is not processed
  (Rasa's answers 400);
- an event Slack sends again (same event_id, with or without X-Slack-Retry-Num, even after the first was
  answered) is answered once, and so is a message that arrives both as `message` and `app_mention`.
  The record of seen events is bounded, in memory or shared through Redis (VISAFAQ_REDIS_URL) by replicas;
- replies as Slack shows them well: mrkdwn section blocks (escaped, addresses as links, at most 3000
  characters each), buttons as an actions block; the reply goes to the channel of the question, and
  into its thread when the question was in a thread (or always with `use_threads`);
- a file or image without text gets a polite "I can only read text";
- a failing Web API call (error, timeout) is logged without the token; the server carries on.

Rasa's helpers for reading events (signature check, metadata, mention clean-up, conversation ids,
interactive payloads) are reused as they are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from http import HTTPStatus
from typing import Any

import aiohttp
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.slack import SlackBot as RasaSlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from channels import action_failures, outages
from channels.rendering import (
    EXPIRED_BUTTON_REPLY,
    SLACK_BUTTON_VALUE_LIMIT,
    TEXT_ONLY_REPLY,
    PayloadKeys,
    memory_for,
    redact,
    seconds,
    slack_messages,
)

logger = logging.getLogger(__name__)
action_failures.install()

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_TIMEOUT_SECONDS = 10.0
#: How many event ids (and message timestamps) are remembered to answer a re-sent event once.
SEEN_EVENTS = 10_000
#: What the Web API client may raise: Slack's errors ("ok": false, HTTP errors), aiohttp's, the timeout.
API_ERRORS = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)
#: Message subtypes that are someone writing to the assistant (others: edits, joins, bot posts...).
USER_SUBTYPES = (None, "file_share", "thread_broadcast")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class SlackBot(RasaSlackBot):
    def __init__(
        self,
        token: str,
        slack_channel: str | None,
        thread_id: str | None,
        api_url: str,
        timeout: float,
        keys: PayloadKeys,
        proxy: str | None = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, base_url=api_url, timeout=timeout, proxy=proxy)  # type: ignore[arg-type]
        self.keys = keys
        self._token = token

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        try:
            await super().send_response(recipient_id, message)
        except API_ERRORS as error:
            logger.error(
                "Slack API call failed, a reply to %s was not delivered: %s: %s",
                self.slack_channel or recipient_id,
                type(error).__name__,
                redact(str(error), [self._token]),
            )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text, [])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, buttons)

    async def _send(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> None:
        channel = self.slack_channel or recipient_id
        thread = {"thread_ts": self.thread_id} if self.thread_id else {}
        for message in slack_messages(text, buttons, self.keys):
            # No as_user: it is for classic apps only; a bot token posts as the bot.
            await self.client.chat_postMessage(channel=channel, **message, **thread)


class SlackInput(RasaSlackInput):
    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SlackInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            credentials.get("slack_token") or "",
            slack_channel=credentials.get("slack_channel") or None,
            proxy=credentials.get("proxy") or None,
            use_threads=str(credentials.get("use_threads") or "").strip().lower() in {"1", "true", "yes"},
            slack_signing_secret=credentials.get("slack_signing_secret") or "",
            conversation_granularity=credentials.get("conversation_granularity") or "sender",
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
            timeout=seconds(credentials.get("timeout"), DEFAULT_TIMEOUT_SECONDS, "SLACK_API_TIMEOUT"),
        )

    def __init__(
        self,
        slack_token: str,
        slack_channel: str | None = None,
        proxy: str | None = None,
        use_threads: bool = False,
        slack_signing_secret: str = "",
        conversation_granularity: str = "sender",
        api_url: str = DEFAULT_API_URL,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(
            slack_token,
            slack_channel,
            proxy,
            use_threads=use_threads,
            slack_signing_secret=slack_signing_secret,
            conversation_granularity=conversation_granularity,
        )
        if not slack_token:
            raise InvalidConfigException("Slack needs slack_token (the Bot User OAuth Token, xoxb-...)")
        self.api_url = api_url
        self.timeout = timeout
        self.keys = PayloadKeys(SLACK_BUTTON_VALUE_LIMIT, memory=memory_for("slack-buttons", 10_000))
        self.seen = memory_for("slack-events", SEEN_EVENTS)

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> SlackBot:
        channel = channel or self.slack_channel
        return SlackBot(self.slack_token, channel, thread_id, self.api_url, self.timeout, self.keys, self.proxy)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = outages.guard(on_new_message)  # a store outage: say so, log a line
        slack_webhook = Blueprint("slack_webhook", __name__)

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.is_request_from_slack_authentic(request):
                logger.warning("Slack request with a missing, wrong or stale signature: rejected")
                return response.json(
                    {"error": "missing, wrong or stale X-Slack-Signature / X-Slack-Request-Timestamp"},
                    status=HTTPStatus.UNAUTHORIZED,
                )
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            try:
                if content_type == "application/json":
                    return await self._event(request, on_new_message)
                if content_type == "application/x-www-form-urlencoded":
                    return await self._interaction(request, on_new_message)
            except (ValueError, KeyError, TypeError, AttributeError):
                return response.json({"error": "not a Slack event or interaction payload"}, status=400)
            return response.json({"error": f"unsupported content type {content_type!r}"}, status=415)

        return slack_webhook

    # --- Events API: messages and mentions --------------------------------------------------------------
    async def _event(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge")})
        event = body.get("event") or {}
        if body.get("type") != "event_callback" or not isinstance(event, dict):
            return response.text("ignored")
        if event.get("type") not in ("message", "app_mention") or event.get("bot_id"):
            return response.text("ignored")
        if event.get("subtype") not in USER_SUBTYPES or not event.get("user"):
            return response.text("ignored")
        metadata = _event_metadata(body, event)
        if not self._is_supported_channel(body, metadata):
            return response.text("channel not supported")
        # A mention in SLACK_CHANNEL comes as `message` and as `app_mention`: both keys are remembered.
        keys = [f"event:{body.get('event_id')}", f"message:{event.get('channel')}:{event.get('ts')}"]
        if not self._first_time(keys):
            logger.info(
                "Slack re-sent event %s (retry %s, %s): already answered",
                body.get("event_id"),
                request.headers.get("x-slack-retry-num", "-"),
                request.headers.get("x-slack-retry-reason", "-"),
            )
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        thread = event.get("thread_ts") or (event.get("ts") if self.use_threads else None)
        metadata["thread_id"] = thread
        output = self.get_output_channel(metadata.get("out_channel"), thread)
        sender = self._get_conversation_id(event.get("user"), metadata.get("out_channel"), thread)
        text = self._sanitize_user_message(event.get("text") or "", metadata.get("users"))
        if not text:
            self._in_background(output.send_response(str(sender), {"text": TEXT_ONLY_REPLY}))
        else:
            self._in_background(self._handle(on_new_message, text, output, sender, metadata))
        return response.text("")

    # --- Interactivity: button presses ------------------------------------------------------------------
    async def _interaction(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        payload = json.loads(request.form["payload"][0])
        if not isinstance(payload, dict) or not self._is_interactive_message(payload):
            return response.text("")
        value = self._get_interactive_response(payload["actions"][0])
        if value is None:  # a link button: nothing to answer
            return response.text("")
        action = payload["actions"][0]
        if not self._first_time([f"action:{payload.get('trigger_id')}:{action.get('action_ts')}"]):
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        channel = (payload.get("channel") or {}).get("id")
        message = payload.get("message") or {}
        thread = message.get("thread_ts") or (message.get("ts") if self.use_threads else None)
        metadata = {"out_channel": channel, "thread_id": thread, "users": [payload["user"]["id"]]}
        output = self.get_output_channel(channel, thread)
        sender = self._get_conversation_id(payload["user"]["id"], channel, thread)
        text = self.keys.decode(value)
        if text is None:
            self._in_background(output.send_response(str(sender), {"text": EXPIRED_BUTTON_REPLY}))
        else:
            self._in_background(self._handle(on_new_message, text, output, sender, metadata))
        return response.text("")

    # --- shared -------------------------------------------------------------------------------------------
    def _first_time(self, keys: list[str]) -> bool:
        # Every key is marked (a list, not a generator): an event seen under any of its keys is a repeat.
        return all([self.seen.first_time(key) for key in keys])

    async def _handle(
        self,
        on_new_message: OnNewMessage,
        text: str,
        output: SlackBot,
        sender: str | None,
        metadata: dict[str, Any],
    ) -> None:
        try:
            await on_new_message(UserMessage(text, output, sender, input_channel=self.name(), metadata=metadata))
        except Exception:
            logger.exception("Could not handle a Slack message from %s", sender)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        # Slack wants an answer within 3 seconds: reply to the request now, answer the question after.
        task = asyncio.create_task(work)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)


def _event_metadata(body: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """What Rasa's get_metadata reads from an event (it needs the content type to be exactly JSON's):
    where to answer, and the bot's own user ids (to take its mention out of the text)."""
    users = body.get("authed_users") or [a.get("user_id") for a in (body.get("authorizations") or [])[:1]]
    return {"out_channel": event.get("channel"), "thread_id": event.get("thread_ts"), "users": users}
