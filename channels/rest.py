"""The REST channel with its input checked and rate-limited: a malformed request gets a 4xx that says what is
wrong, and a client that sends too fast gets a 429 with `Retry-After`.

Rasa's own RestInput answers a JSON array with a 500 and accepts messages of any size. This keeps its
URL (/webhooks/rest/webhook) and behaviour and only adds the checks and the limits (visafaq/ratelimit.py:
per sender and per client address, in memory or shared through Redis; see the README's "Limits").

Importing this module also sets the timeout of Rasa's calls to the action server (VISAFAQ_ACTION_TIMEOUT):
Rasa 3.6 hard-codes five minutes (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT, read by RemoteAction.run)
and ignores a `timeout` in endpoints.yml, so a hung action server would hold every message that long.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.core.actions.action
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from visafaq.ratelimit import LimitSettings, RateLimiter, client_address, redacted, too_many_message

log = logging.getLogger("channels.rest")

#: Longest message accepted, in characters (VISAFAQ_MAX_MESSAGE_CHARS). A question is a few lines.
MAX_MESSAGE_CHARS = int(os.environ.get("VISAFAQ_MAX_MESSAGE_CHARS", "5000"))
#: Longest sender id accepted: ids come from clients and end up in the tracker store's index.
MAX_SENDER_CHARS = 255
#: An input channel a client may name (Rasa lets the body say which channel a message came by).
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Seconds Rasa waits for the action server (VISAFAQ_ACTION_TIMEOUT); an action takes well under a second.
ACTION_TIMEOUT = int(os.environ.get("VISAFAQ_ACTION_TIMEOUT", "30"))
rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT  # type: ignore[attr-defined]


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
    def __init__(self, settings: LimitSettings | None = None) -> None:
        super().__init__()
        self.limits = settings or LimitSettings.from_env(os.environ)
        self.limiter = RateLimiter(self.limits.redis_url, self.limits.prefix)
        where = f"shared through Redis at {redacted(self.limits.redis_url)}" if self.limits.redis_url else "in memory"
        log.info(
            "REST limits: per sender %s, per address %s, counted %s; messages up to %d characters; "
            "action server timeout: %d s",
            self.limits.per_sender or "off",
            self.limits.per_address or "off",
            where,
            MAX_MESSAGE_CHARS,
            ACTION_TIMEOUT,
        )

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook: Blueprint = super().blueprint(on_new_message)

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
                log.info("rate limit: address over %s (retry after %d s)", settings.per_address, verdict.retry_after)
                return too_many(verdict.retry_after, "address")
        sender = _sender_or_none(request)
        if settings.per_sender is not None and sender is not None:
            verdict = await self.limiter.hit("rest-sender", sender, settings.per_sender)
            if not verdict.allowed:
                log.info("rate limit: sender over %s (retry after %d s)", settings.per_sender, verdict.retry_after)
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

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage("'metadata' must be a JSON object")
        return metadata
