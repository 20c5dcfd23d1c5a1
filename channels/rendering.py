"""How the assistant's replies look in messaging apps, and the small bounded memories the connectors
need. Pure Python (no Rasa, no aiogram, no Slack SDK), so it is tested in the app environment too.

A reply from Rasa is a text (paragraphs, ending with a "Source: ... https://..." line) and optional
buttons whose payloads look like `/ask_documents{"programme":"titp"}`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

logger = logging.getLogger(__name__)

#: Telegram: a message holds 1-4096 characters (counted in UTF-16 code units); callback_data 1-64 bytes.
TELEGRAM_MESSAGE_LIMIT = 4096
TELEGRAM_CALLBACK_DATA_LIMIT = 64
#: Slack: a section block's text holds up to 3000 characters; a button's value up to 2000, its label 75;
#: an actions block up to 25 elements.
SLACK_SECTION_LIMIT = 3000
SLACK_BUTTON_VALUE_LIMIT = 2000
SLACK_BUTTON_LABEL_LIMIT = 75
SLACK_MAX_BUTTONS = 25

#: What people who send a sticker, a photo or a voice note get back.
TEXT_ONLY_REPLY = "Sorry, I can only read text messages. Please type your question in words."
#: A button whose short key this process no longer remembers (e.g. pressed after a restart).
EXPIRED_BUTTON_REPLY = 'Sorry, that button has expired. Please type your question, or say "hello" to start again.'

#: What people get when the action server cannot run the action that answers them (channels/action_failures.py).
ACTIONS_UNAVAILABLE_REPLY = "I can't look that up right now, please try again shortly."
#: What people get when the conversation store (database or Redis) is down: their message was not taken.
STORES_UNAVAILABLE_REPLY = "The assistant is temporarily unavailable, please try again shortly."

#: Prefix of a button key that stands for a payload too long for the platform's limit.
KEY_PREFIX = "k:"

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """Cut a text into messages of at most `limit`, between paragraphs where possible, then between
    lines, then between words; a single word longer than the limit is cut where it must be."""
    return [part for part in _split(text.strip(), limit, length, ("\n\n", "\n", " ")) if part]


def _split(text: str, limit: int, length: Callable[[str], int], separators: tuple[str, ...]) -> list[str]:
    if length(text) <= limit:
        return [text.strip()]
    if not separators:  # one unbroken run of characters longer than the limit
        parts, current = [], ""
        for character in text:
            if current and length(current + character) > limit:
                parts.append(current)
                current = ""
            current += character
        return [*parts, current]
    separator, finer = separators[0], separators[1:]
    chunks, current = [], ""
    for piece in text.split(separator):
        candidate = f"{current}{separator}{piece}" if current else piece
        if length(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = piece
    if current:
        chunks.append(current)
    return [part for chunk in chunks for part in _split(chunk, limit, length, finer)]


class BoundedMemory:
    """The most recent `capacity` keys and their values; the oldest are forgotten first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, str] = OrderedDict()

    def remember(self, key: str, value: str = "") -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def recall(self, key: str) -> str | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def first_time(self, key: str) -> bool:
        """True the first time a key is seen (and remembers it); False for a repeat."""
        if key in self._items:
            self._items.move_to_end(key)
            return False
        self.remember(key)
        return True

    def __len__(self) -> int:
        return len(self._items)


class Memory(Protocol):
    """What the connectors remember: seen updates and events, and button keys."""

    def remember(self, key: str, value: str = "") -> None: ...

    def recall(self, key: str) -> str | None: ...

    def first_time(self, key: str) -> bool: ...


class SharedMemory:
    """BoundedMemory's interface kept in Redis, so that every replica sees what the others saw: a
    Telegram update or Slack event re-sent to another replica is still answered once, and a button
    pressed on a message another replica sent still works. Keys expire after `ttl_seconds`.

    When Redis does not answer, the process's own BoundedMemory stands in (one log line per outage):
    a repeat might then be answered twice, which is better than dropping a question."""

    def __init__(self, client: Any, namespace: str, ttl_seconds: int, fallback: BoundedMemory) -> None:
        self.client = client
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds
        self.fallback = fallback
        self._redis_down = False

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def _down(self, error: Exception) -> None:
        if not self._redis_down:
            logger.warning("Redis unavailable for %s (%s): this process's own memory stands in", self.namespace, error)
        self._redis_down = True

    def _up(self) -> None:
        if self._redis_down:
            logger.info("Redis available again for %s", self.namespace)
        self._redis_down = False

    def remember(self, key: str, value: str = "") -> None:
        self.fallback.remember(key, value)
        try:
            self.client.set(self._key(key), value, ex=self.ttl_seconds)
            self._up()
        except Exception as error:  # redis.RedisError, or an OSError from the socket
            self._down(error)

    def recall(self, key: str) -> str | None:
        try:
            value = self.client.get(self._key(key))
            self._up()
        except Exception as error:
            self._down(error)
            return self.fallback.recall(key)
        return None if value is None else value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def first_time(self, key: str) -> bool:
        local_first = self.fallback.first_time(key)
        try:
            first = bool(self.client.set(self._key(key), "", nx=True, ex=self.ttl_seconds))
            self._up()
        except Exception as error:
            self._down(error)
            return local_first
        return first


#: How long shared keys live: a re-sent update comes within minutes; a button is pressed within a day.
SHARED_TTL_SECONDS = 2 * 24 * 3600


def memory_for(namespace: str, capacity: int, env: dict[str, str] | None = None) -> Memory:
    """Shared through Redis when VISAFAQ_REDIS_URL is set (several replicas), else this process's own."""
    env = dict(os.environ) if env is None else env
    local = BoundedMemory(capacity)
    url = env.get("VISAFAQ_REDIS_URL", "")
    if not url:
        return local
    import redis  # in the Rasa environment (Rasa's lock store) and ours

    prefix = env.get("VISAFAQ_REDIS_KEY_PREFIX", "visafaq")
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return SharedMemory(client, f"{prefix}:channels:{namespace}", SHARED_TTL_SECONDS, local)


class PayloadKeys:
    """Button payloads that fit the platform's limit are sent as they are; longer ones as a short key
    (a hash of the payload) that is mapped back when the button is pressed. The mapping is bounded (in
    memory, or shared through Redis with `memory_for`): a key no longer known is reported as expired
    rather than guessed."""

    def __init__(self, limit_bytes: int, capacity: int = 10_000, memory: Memory | None = None) -> None:
        self.limit_bytes = limit_bytes
        self._memory = memory if memory is not None else BoundedMemory(capacity)

    def encode(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= self.limit_bytes and not payload.startswith(KEY_PREFIX):
            return payload
        key = KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        self._memory.remember(key, payload)
        return key

    def decode(self, data: str) -> str | None:
        """The payload behind a button's data, or None when it is a key this process has forgotten."""
        if not data.startswith(KEY_PREFIX):
            return data
        return self._memory.recall(data)


def button_rows(buttons: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(title, payload) of the buttons that have both."""
    rows = []
    for button in buttons:
        title, payload = str(button.get("title") or "").strip(), str(button.get("payload") or "")
        if title and payload:
            rows.append((title, payload))
    return rows


# --- Telegram ---------------------------------------------------------------------------------------------


def telegram_messages(text: str, buttons: Sequence[dict[str, Any]], keys: PayloadKeys) -> list[dict[str, Any]]:
    """sendMessage parameters for one reply: the text in as few messages as fit, the buttons as an inline
    keyboard (one button per row: titles are long and read best stacked on a phone) under the last one.
    Plain text, no parse_mode: Telegram makes the source's address a link by itself, and nothing in the
    text can break the formatting."""
    parts = split_message(text, TELEGRAM_MESSAGE_LIMIT, utf16_length) or ([" "] if buttons else [])
    messages: list[dict[str, Any]] = [{"text": part, "disable_web_page_preview": True} for part in parts]
    rows = button_rows(buttons)
    if rows and messages:
        keyboard = [[{"text": title, "callback_data": keys.encode(payload)}] for title, payload in rows]
        messages[-1]["reply_markup"] = {"inline_keyboard": keyboard}
    return messages


# --- Slack ------------------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's three control characters, escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mrkdwn(text: str) -> str:
    """Escaped text with every address written as a Slack link (<url>), so it is always clickable."""
    pieces, position = [], 0
    for match in _URL.finditer(text):
        pieces.append(slack_escape(text[position : match.start()]))
        pieces.append(f"<{slack_escape(match.group(0))}>")
        position = match.end()
    pieces.append(slack_escape(text[position:]))
    return "".join(pieces)


def slack_messages(text: str, buttons: Sequence[dict[str, Any]], keys: PayloadKeys) -> list[dict[str, Any]]:
    """chat.postMessage parameters for one reply: a section block per message (at most 3000 characters
    each, cut between paragraphs), the buttons as an actions block under the last one. `text` is the
    notification's fallback."""
    # Split the plain text first, with room for what escaping and link brackets add.
    parts = split_message(text, SLACK_SECTION_LIMIT - 300)
    parts = [piece for part in parts for piece in _fit_escaped(part)]
    if not parts and buttons:
        parts = [" "]
    messages: list[dict[str, Any]] = []
    for part in parts:
        mrkdwn = slack_mrkdwn(part)
        messages.append({"text": mrkdwn, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}]})
    rows = button_rows(buttons)[:SLACK_MAX_BUTTONS]
    if rows and messages:
        elements = [
            {
                "type": "button",
                "action_id": f"button-{index}",
                "text": {"type": "plain_text", "text": _shorten(title, SLACK_BUTTON_LABEL_LIMIT), "emoji": True},
                "value": keys.encode(payload),
            }
            for index, (title, payload) in enumerate(rows)
        ]
        messages[-1]["blocks"].append({"type": "actions", "elements": elements})
    return messages


def _fit_escaped(part: str) -> list[str]:
    if len(slack_mrkdwn(part)) <= SLACK_SECTION_LIMIT:
        return [part]
    # Mostly "&<>" characters: split finer until each escaped piece fits.
    return [piece for half in split_message(part, max(1, len(part) // 2)) for piece in _fit_escaped(half)]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def seconds(value: object, default: float, name: str) -> float:
    """A timeout setting: empty means the default; anything but a positive number is an error that
    names the variable, raised at start."""
    if value is None or not str(value).strip():
        return default
    try:
        number = float(str(value))
    except ValueError:
        number = 0.0
    if not 0 < number < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return number


def redact(text: str, secrets: Sequence[str | None]) -> str:
    """The text with every secret replaced by ***, for log lines about failed API calls."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
