"""The REST channel with its input checked: a malformed request gets a 4xx that says what is wrong.

Rasa's own RestInput answers a JSON array with a 500 and accepts messages of any size. This keeps its
URL (/webhooks/rest/webhook) and behaviour and only adds the checks.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
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


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception as error:  # sanic raises its own error type for invalid JSON
        raise InvalidUsage('The body must be JSON: {"sender": "...", "message": "..."}') from error
    if not isinstance(body, dict):
        raise InvalidUsage('The body must be a JSON object: {"sender": "...", "message": "..."}')
    return body


class CheckedRestInput(RestInput):
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
