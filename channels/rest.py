"""The REST channel with its input checked and rate-limited: a malformed request gets a 4xx that says what is
wrong, and a client that sends too fast gets a 429 with `Retry-After`.

Rasa's own RestInput answers a JSON array with a 500 and accepts messages of any size. This keeps its
URL (/webhooks/rest/webhook) and behaviour and adds:

- the checks, and the limits (visafaq/ratelimit.py: per sender and per client address, in memory or
  shared through Redis; see the README's "Limits");
- a store outage answered 503 with Retry-After instead of 200 and no reply (channels/outages.py);
- `"message_id"` (letters, digits, `-` and `_`, at most 64), which a client may send: a retry of a
  message whose first attempt was already handled (e.g. by a replica that died before it could answer,
  so the client saw a 502) is then answered from the tracker store with the replies that were stored
  for it, instead of being handled a second time. The widget sends one with every message, so on a SQL
  tracker store the look-up is one indexed query; the conversation is read and rebuilt only for a retry.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import action_failures, action_validation, outages
from visafaq.ratelimit import LimitSettings, RateLimiter, client_address, redacted, too_many_message

logger = logging.getLogger(__name__)

# Every Rasa server we run loads this channel (credentials.yml), so what changes Rasa's handling of
# custom actions is installed here: the faster check of action responses (channels/action_validation.py)
# and the reply, and the timeout, when an action fails (channels/action_failures.py).
action_validation.install()
action_failures.install()

#: Longest message accepted, in characters (VISAFAQ_MAX_MESSAGE_CHARS). A question is a few lines.
MAX_MESSAGE_CHARS = int(os.environ.get("VISAFAQ_MAX_MESSAGE_CHARS", "5000"))
#: Longest sender id accepted: ids come from clients and end up in the tracker store's index.
MAX_SENDER_CHARS = 255
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: An input channel a client may name (Rasa lets the body say which channel a message came by).
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as error:  # sanic raises its own error type for invalid JSON
        raise InvalidUsage('The body must be JSON: {"sender": "...", "message": "..."}') from error
    if not isinstance(body, dict):
        raise InvalidUsage('The body must be a JSON object: {"sender": "...", "message": "..."}')
    return body


def _check_text(value: str, field: str) -> None:
    """No NUL (PostgreSQL refuses it in text) and no lone surrogate ("\\ud800" is valid JSON but not text:
    the tracker store could not save it)."""
    if "\x00" in value:
        raise InvalidUsage(f"'{field}' contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidUsage(f"'{field}' is not valid Unicode text (a lone surrogate such as \\ud800)") from error


def _sender_or_none(request: Request) -> str | None:
    """The body's sender id if the request is well formed enough to have one (for the per-sender limit)."""
    try:
        sender = _body(request).get("sender", "default")
    except InvalidUsage:
        return None
    return sender if isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER_CHARS else None


def too_many(retry_after: int, limit: str) -> HTTPResponse:
    """429 with Retry-After, and the same in the JSON body: a page on another origin cannot read the header
    (CORS does not expose it) but can read `retry_after`."""
    return response.json(
        {"error": "rate_limited", "limit": limit, "message": too_many_message(retry_after), "retry_after": retry_after},
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


class CheckedRestInput(RestInput):
    _app: Any = None  # the Sanic app, seen on the first request

    def __init__(self, settings: LimitSettings | None = None) -> None:
        super().__init__()
        self.limits = settings or LimitSettings.from_env(os.environ)
        self.limiter = RateLimiter(self.limits.redis_url, self.limits.prefix)
        where = f"shared through Redis at {redacted(self.limits.redis_url)}" if self.limits.redis_url else "in memory"
        logger.info(
            "REST limits: per sender %s, per address %s, counted %s; messages up to %d characters; "
            "action server timeout: %.0f s",
            self.limits.per_sender or "off",
            self.limits.per_address or "off",
            where,
            MAX_MESSAGE_CHARS,
            action_failures.ACTION_TIMEOUT_SECONDS,
        )

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def once(message: UserMessage) -> None:
            message_id = (message.metadata or {}).get("message_id")
            if message_id:
                message.message_id = message_id
                if await self._answer_again(message):
                    return
            await on_new_message(message)

        webhook: Blueprint = outages.answer_503(super().blueprint(outages.guard(once)))

        @webhook.middleware("request")
        async def rate_limit(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            return await self.check_limits(request)

        return webhook

    async def check_limits(self, request: Request) -> HTTPResponse | None:
        """None when the request may go on; else the 429. Every POST counts for its address; a request with
        a sender id counts for that sender, even when its message is then refused as malformed."""
        settings = self.limits
        if settings.per_address is not None:
            address = client_address(request.ip, request.headers, settings.trusted_proxies)
            verdict = await self.limiter.hit("rest-address", address, settings.per_address)
            if not verdict.allowed:
                logger.info("rate limit: address over %s (retry after %d s)", settings.per_address, verdict.retry_after)
                return too_many(verdict.retry_after, "address")
        sender = _sender_or_none(request)
        if settings.per_sender is not None and sender is not None:
            verdict = await self.limiter.hit("rest-sender", sender, settings.per_sender)
            if not verdict.allowed:
                logger.info("rate limit: sender over %s (retry after %d s)", settings.per_sender, verdict.retry_after)
                return too_many(verdict.retry_after, "sender")
        return None

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender", "default")
        if not isinstance(sender, str) or not sender.strip():
            raise InvalidUsage("'sender' must be a non-empty string")
        if len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"'sender' is longer than {MAX_SENDER_CHARS} characters")
        _check_text(sender, "sender")
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string")
        if not message.strip():
            raise InvalidUsage("'message' is empty")
        _check_text(message, "message")
        if len(message) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
        return message

    def _extract_input_channel(self, req: Request) -> str:
        channel = _body(req).get("input_channel")
        if channel is None:
            return self.name()
        if not isinstance(channel, str) or not _CHANNEL_NAME.match(channel):
            raise InvalidUsage("'input_channel' must be a short name of letters, digits, '_' or '-'")
        return channel

    # --- a retried message is answered once ---------------------------------------------------------
    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        body = _body(request)
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage("'metadata' must be a JSON object")
        message_id = body.get("message_id")
        if message_id is not None and (not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id)):
            raise InvalidUsage("'message_id' must be 1 to 64 letters, digits, '-' or '_'")
        # The agent (one per process) is reached through the app; the message handler does not see it.
        self._app = request.app
        if message_id is None:
            return metadata
        return {**(metadata or {}), "message_id": message_id}

    async def _answer_again(self, message: UserMessage) -> bool:
        """If the tracker store already has this message, send the replies that were stored for it: the
        bot events after it and, for a conversation's first message, those of the session start
        before it (the disclaimer)."""
        store = self._app.ctx.agent.tracker_store
        if not stored_message_may_exist(store, message.sender_id, str(message.message_id)):
            return False
        tracker = await store.retrieve_full_tracker(message.sender_id)
        events = list(tracker.events) if tracker else []
        at = next(
            (i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.message_id == message.message_id),
            None,
        )
        if at is None:
            return False
        logger.info(
            "message %s of %s was handled before: its stored replies are sent again",
            message.message_id,
            message.sender_id,
        )
        begin = at
        for i in range(at - 1, -1, -1):
            event = events[i]
            if isinstance(event, UserUttered):
                break
            if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME:
                begin = i
                break
        end = next((i for i in range(at + 1, len(events)) if isinstance(events[i], UserUttered)), len(events))
        for event in events[begin:end]:
            if isinstance(event, BotUttered):
                extra = {key: value for key, value in (event.data or {}).items() if value}
                await message.output_channel.send_response(message.sender_id, {"text": event.text, **extra})
        return True


def stored_message_may_exist(store: TrackerStore, sender_id: str, message_id: str) -> bool:
    """False when a SQL tracker store has no user message with this id for the sender, from one query on
    the indexed sender column; True otherwise (found, or another kind of store, which cannot tell without
    reading the whole conversation). Rebuilding a conversation from its events costs more CPU than
    answering a message, and nearly every message id is new."""
    # Rasa wraps every store in a FailSafeTrackerStore, which has no public way to the store it wraps.
    inner = store._tracker_store if isinstance(store, FailSafeTrackerStore) else store
    if not isinstance(inner, SQLTrackerStore):
        return True
    # Rasa stores each event as json.dumps(event.as_dict()); "_" is a LIKE wildcard, so it is escaped.
    pattern = '%"message_id": "' + message_id.replace("\\", "\\\\").replace("_", "\\_") + '"%'
    event = inner.SQLEvent
    with inner.session_scope() as session:
        found = (
            session.query(event.id)
            .filter(event.sender_id == sender_id, event.type_name == UserUttered.type_name)
            .filter(event.data.like(pattern, escape="\\"))
            .first()
        )
    return found is not None
