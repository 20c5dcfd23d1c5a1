"""The REST channel with its input checked: a malformed request gets a 4xx that says what is wrong.

Rasa's own RestInput answers a JSON array with a 500 and accepts messages of any size. This keeps its
URL (/webhooks/rest/webhook) and behaviour and only adds the checks.

A client may also send `"message_id"` (letters, digits, `-` and `_`, at most 64): a retry of a message
whose first attempt was already handled (e.g. by a replica that died before it could answer, so the
client saw a 502) is then answered from the tracker store with the replies that were stored for it,
instead of being handled a second time.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sanic import Blueprint
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request

from channels import action_failures, action_validation, outages

# Every Rasa server we run loads this channel (credentials.yml), so what changes Rasa's handling of
# custom actions is installed here: the faster check of action responses (channels/action_validation.py)
# and the reply when an action fails (channels/action_failures.py).
action_validation.install()
action_failures.install()

#: Longest message accepted, in characters (VISAFAQ_MAX_MESSAGE_CHARS). A question is a few lines.
MAX_MESSAGE_CHARS = int(os.environ.get("VISAFAQ_MAX_MESSAGE_CHARS", "5000"))
#: Longest sender id accepted: ids come from clients and end up in the tracker store's index.
MAX_SENDER_CHARS = 255
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

logger = logging.getLogger(__name__)


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as error:  # sanic raises its own error type for invalid JSON
        raise InvalidUsage('The body must be JSON: {"sender": "...", "message": "..."}') from error
    if not isinstance(body, dict):
        raise InvalidUsage('The body must be a JSON object: {"sender": "...", "message": "..."}')
    return body


class CheckedRestInput(RestInput):
    _app: Any = None  # the Sanic app, seen on the first request

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # A store outage answers 503 with Retry-After instead of 200 and no reply (channels/outages.py).
        return outages.answer_503(super().blueprint(outages.guard(on_new_message)))

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender", "default")
        if not isinstance(sender, str) or not sender.strip():
            raise InvalidUsage("'sender' must be a non-empty string")
        if len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f"'sender' is longer than {MAX_SENDER_CHARS} characters")
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string")
        if not message.strip():
            raise InvalidUsage("'message' is empty")
        if "\x00" in message:
            raise InvalidUsage("'message' contains a NUL character")
        if len(message) > MAX_MESSAGE_CHARS:
            raise PayloadTooLarge(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
        return message

    # --- a retried message is answered once ---------------------------------------------------------
    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        body = _body(request)
        message_id = body.get("message_id")
        if message_id is not None and (not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id)):
            raise InvalidUsage("'message_id' must be 1 to 64 letters, digits, '-' or '_'")
        # The agent (one per process) is reached through the app; the message handler does not see it.
        self._app = request.app
        metadata = body.get("metadata")
        if message_id is None:
            return metadata  # type: ignore[no-any-return]
        return {**(metadata if isinstance(metadata, dict) else {}), "message_id": message_id}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def once(message: UserMessage) -> None:
            message_id = (message.metadata or {}).get("message_id")
            if message_id:
                message.message_id = message_id
                if await self._answer_again(message):
                    return
            await on_new_message(message)

        return super().blueprint(once)

    async def _answer_again(self, message: UserMessage) -> bool:
        """If the tracker store already has this message, send the replies that were stored for it: the
        bot events after it and, for a conversation's first message, those of the session start
        before it (the disclaimer)."""
        tracker = await self._app.ctx.agent.tracker_store.retrieve_full_tracker(message.sender_id)
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
