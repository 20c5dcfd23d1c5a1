"""When the action server cannot run a custom action, the person is told so instead of getting silence.

Rasa 3.6 runs every custom action through `RemoteAction.run`. When the action server is down, hangs,
answers an error or answers something Rasa cannot use, that raises; the processor
(`MessageProcessor._run_action`) logs a stack trace and drops the action's events, so the turn ends
without a word. Here `RemoteAction.run` is wrapped once, in the Rasa process, so that such a failure
instead:

- logs one line (which action, which endpoint, why; no stack trace, no tracker data);
- returns a `BotUttered` with `ACTIONS_UNAVAILABLE_REPLY` as the action's events: the processor sends it
  through the turn's output channel like any other reply, so it reaches every channel (REST, socket.io,
  Telegram, Slack, the HTTP API) and is kept in the tracker store for staff. Once per turn: a second
  failing action in the same turn adds nothing;
- for `action_session_start`, returns what Rasa's built-in session start returns (SessionStarted, the
  carried-over slots, action_listen), so the conversation starts properly and the turn's next action
  decides what is said.

The dialogue then goes on as after any reply, so the next message is answered normally once the action
server is back. A rejection (HTTP 400, `ActionExecutionRejection`, used by forms) is left to Rasa.
A custom action gets `ACTION_TIMEOUT_SECONDS` (VISAFAQ_ACTION_TIMEOUT, default 15) instead of Rasa's
five minutes.

`install()` is idempotent; each of our channel modules calls it when Rasa loads it (REST always is).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from jsonschema import ValidationError
from rasa.core.actions.action import ActionExecutionRejection, ActionSessionStart, RemoteAction
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.exceptions import RasaException

from channels.rendering import ACTIONS_UNAVAILABLE_REPLY, seconds

logger = logging.getLogger(__name__)

#: Seconds a custom action may take before the person is told it cannot be looked up now.
ACTION_TIMEOUT_SECONDS = seconds(os.environ.get("VISAFAQ_ACTION_TIMEOUT"), 15.0, "VISAFAQ_ACTION_TIMEOUT")
#: Marks our reply in the tracker (BotUttered metadata), so that it is said once per turn.
MARKER = {"visafaq": "actions_unavailable"}

#: What a failed action call raises: Rasa's wrapping of connection and HTTP errors, aiohttp's own, the
#: timeout (asyncio's, which is not the builtin TimeoutError on Python 3.10), and a response Rasa cannot
#: use (its check of the response's shape raises jsonschema's error).
FAILURES = (RasaException, aiohttp.ClientError, asyncio.TimeoutError, ValidationError)

Run = Callable[..., Awaitable[list[Event]]]


def install() -> None:
    if getattr(RemoteAction.run, "_visafaq_guarded", False):
        return
    RemoteAction.run = _guarded(RemoteAction.run)  # type: ignore[method-assign]


def _guarded(run: Run) -> Run:
    @functools.wraps(run)
    async def guarded_run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Event]:
        try:
            return await asyncio.wait_for(run(self, output_channel, nlg, tracker, domain), ACTION_TIMEOUT_SECONDS)
        except ActionExecutionRejection:
            raise
        except FAILURES as error:
            url = self.action_endpoint.url if self.action_endpoint else None
            reason = _reason(error)
            logger.error("Action server unavailable: custom action '%s' at %s failed: %s", self.name(), url, reason)
        if self.name() == ACTION_SESSION_START_NAME:
            return list(await ActionSessionStart().run(output_channel, nlg, tracker, domain))
        if _already_said(tracker):
            return []
        return [BotUttered(ACTIONS_UNAVAILABLE_REPLY, metadata=dict(MARKER))]

    guarded_run._visafaq_guarded = True  # type: ignore[attr-defined]
    return guarded_run


def _reason(error: BaseException) -> str:
    """Why the action failed, for the log: never the response's content (it may quote the conversation)."""
    if isinstance(error, asyncio.TimeoutError):
        return f"no answer within {ACTION_TIMEOUT_SECONDS:.0f} s"
    if isinstance(error, ValidationError):
        return "its response is not in Rasa's format (at " + "/".join(map(str, error.absolute_path)) + ")"
    return str(error)


def _already_said(tracker: Any) -> bool:
    """Whether this turn (since the latest user message) already has our reply."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.metadata.get("visafaq") == MARKER["visafaq"]:
            return True
    return False
