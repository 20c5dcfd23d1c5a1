"""A message that arrives while the conversation stores are down gets a clear answer, not silence.

Rasa reads and writes the conversation (tracker store: SQL on PostgreSQL) and takes the conversation's
lock (lock store: Redis) around every message. When either is down, the error comes out of Rasa's
`on_new_message`; Rasa's REST channel logs a stack trace and answers 200 with no reply, and the message
is silently lost. `guard()` wraps `on_new_message` for each of our channels:

- a store outage (see OUTAGE_ERRORS; the stores themselves already retried, stores/) is logged as one
  line, without a stack trace or the message's text;
- the person is told STORES_UNAVAILABLE_REPLY through the channel (Telegram, Slack);
- on the REST channel (the widget) the answer becomes 503 with that text and Retry-After, so the
  client keeps the message and sends it again (`answer_503()`). Nothing of the turn was saved (a
  tracker is saved in one transaction at the end of the turn), so the retried message is stored once.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy.exc
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from redis import exceptions as redis_errors
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.rendering import STORES_UNAVAILABLE_REPLY

logger = logging.getLogger(__name__)

#: Seconds a client is asked to wait before sending the message again (the Retry-After header).
RETRY_AFTER_SECONDS = 5

#: Errors that mean a store is unreachable or busy, not that the message is wrong.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,  # connection refused or lost, server shutting down, timeouts
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection free in time
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    LockError,  # the conversation's lock could not be had in time
)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

#: Set when this request's message met an outage. One per request: sanic runs a connection's requests
#: one after another in one task, so the value is reset at the start of each.
_outage: contextvars.ContextVar[bool] = contextvars.ContextVar("visafaq_outage", default=False)


def guard(on_new_message: OnNewMessage) -> OnNewMessage:
    async def on_message(message: UserMessage) -> None:
        _outage.set(False)
        try:
            await on_new_message(message)
        except OUTAGE_ERRORS as error:
            _outage.set(True)
            logger.error(
                "Conversation store unavailable, a message on %s was not stored (sender asked to resend): %s: %s",
                message.input_channel,
                type(error).__name__,
                _one_line(error),
            )
            try:
                await message.output_channel.send_text_message(message.sender_id, STORES_UNAVAILABLE_REPLY)
            except Exception as send_error:  # the channel's own failures are the channel's to log
                logger.warning("Could not tell %s about the outage: %s", message.input_channel, type(send_error))

    return on_message


def answer_503(blueprint: Blueprint) -> Blueprint:
    """The blueprint's answer to a message that met an outage becomes 503 with Retry-After."""

    @blueprint.middleware("request")  # type: ignore[misc]
    async def reset(_: Request) -> None:
        _outage.set(False)

    @blueprint.middleware("response")  # type: ignore[misc]
    async def unavailable(_: Request, _response: HTTPResponse) -> HTTPResponse | None:
        if not _outage.get():
            return None
        _outage.set(False)
        return response.json(
            {"description": "Service Unavailable", "status": 503, "message": STORES_UNAVAILABLE_REPLY},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    return blueprint


def _one_line(error: BaseException) -> str:
    """The error's message on one line, without what SQLAlchemy appends: the statement and its parameters
    (conversation data)."""
    text = str(getattr(error, "orig", None) or error).split("[SQL:")[0]
    return " ".join(text.split())[:300]
