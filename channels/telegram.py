"""Telegram, through Rasa's connector, with what Rasa 3.6's lacks:

- a configurable Bot API address (`api_url`: a self-hosted Bot API server, or the tests' stand-in) and a
  finite, configurable timeout for every call;
- the webhook's secret token (`secret_token`): Telegram sends it back in X-Telegram-Bot-Api-Secret-Token,
  and a request without it gets 401 and is not processed;
- replies as Telegram shows them well: inline keyboards whose callback_data fits Telegram's 64 bytes,
  long answers split between paragraphs under 4096 characters, plain text so addresses become links;
- stickers, photos without caption and the like get a polite "I can only read text"; an edited message
  is answered as a new question (people edit to fix a typo and expect the answer to the fixed text);
- a repeated update (same update_id) is answered once;
- a failing Bot API call (error, timeout) is logged without the token and loses nothing else: the
  webhook still answers 200, so Telegram does not re-send, and the next message works.

`verify` (the bot's username) is checked once at start against getMe, not on every request as Rasa's does.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import Message, Update
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput as RasaTelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import action_failures, outages
from channels.rendering import (
    EXPIRED_BUTTON_REPLY,
    TELEGRAM_CALLBACK_DATA_LIMIT,
    TEXT_ONLY_REPLY,
    PayloadKeys,
    memory_for,
    redact,
    seconds,
    telegram_messages,
)

logger = logging.getLogger(__name__)
action_failures.install()

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_TIMEOUT_SECONDS = 10.0
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: The update types the assistant reads; Telegram sends no others (setWebhook's allowed_updates).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
#: How many update ids are remembered to answer a re-sent update once.
SEEN_UPDATES = 10_000
#: What the Bot API may raise: its own errors (4xx, 5xx) and aiohttp's, or the timeout.
API_ERRORS = (TelegramAPIError, aiohttp.ClientError, asyncio.TimeoutError)


class TelegramOutput(RasaTelegramOutput):
    def __init__(self, access_token: str, api_url: str, timeout: float, keys: PayloadKeys) -> None:
        # Rasa's __init__ only passes the token to aiogram's Bot; the Bot takes the address and timeout too.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url), timeout=timeout)
        self.keys = keys
        self._access_token = access_token

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        try:
            await super().send_response(recipient_id, message)
        except API_ERRORS as error:
            logger.error(
                "Telegram API call failed, a reply to chat %s was not delivered: %s: %s",
                recipient_id,
                type(error).__name__,
                redact(str(error), [self._access_token]),
            )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text, [])

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "inline",
        **kwargs: Any,
    ) -> None:
        await self._send(recipient_id, text, buttons)

    async def _send(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> None:
        for message in telegram_messages(text, buttons, self.keys):
            await self.send_message(recipient_id, **message)

    async def set_webhook(self, url: str, secret_token: str | None = None) -> bool:  # type: ignore[override]
        # aiogram 2.15 predates setWebhook's secret_token parameter: call the method directly.
        # Form fields are sent as strings: the list goes as JSON, as the Bot API expects.
        payload: dict[str, Any] = {"url": url, "allowed_updates": json.dumps(ALLOWED_UPDATES)}
        if secret_token:
            payload["secret_token"] = secret_token
        return bool(await self.request("setWebhook", payload))


class TelegramInput(RasaTelegramInput):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            secret_token=credentials.get("secret_token") or None,
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
            timeout=seconds(credentials.get("timeout"), DEFAULT_TIMEOUT_SECONDS, "TELEGRAM_API_TIMEOUT"),
        )

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        secret_token: str | None = None,
        api_url: str = DEFAULT_API_URL,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        # debug_mode=False: an error while handling one message is logged, not raised as a 500.
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        if not access_token or not verify or not webhook_url:
            raise RasaException("Telegram needs access_token, verify (the bot's username) and webhook_url")
        self.secret_token = secret_token
        self.api_url = api_url
        self.timeout = timeout
        self.keys = PayloadKeys(TELEGRAM_CALLBACK_DATA_LIMIT, memory=memory_for("telegram-buttons", 10_000))
        self.seen_updates = memory_for("telegram-updates", SEEN_UPDATES)

    def get_output_channel(self) -> TelegramOutput:
        assert self.access_token is not None
        return TelegramOutput(self.access_token, self.api_url, self.timeout, self.keys)

    def _register_webhook(self) -> TelegramOutput:
        """Check the token belongs to the bot named by `verify` and register the webhook: at start, once."""
        channel = self.get_output_channel()

        async def register() -> None:
            try:
                me = await channel.get_me()
                if (me.username or "").lower() != (self.verify or "").lstrip("@").lower():
                    raise RasaException(
                        f"The Telegram token belongs to @{me.username}, not to @{self.verify} (TELEGRAM_VERIFY)"
                    )
                await channel.set_webhook(str(self.webhook_url), self.secret_token)
            finally:
                # The session belongs to this start-up event loop; the server's loop opens its own.
                await channel.session.close()

        try:
            asyncio.run(register())
        except API_ERRORS as error:
            message = redact(f"{type(error).__name__}: {error}", [self.access_token, self.secret_token])
            raise RasaException(f"Could not register the Telegram webhook at {self.api_url}: {message}") from error
        logger.info("Telegram webhook registered with %s", self.api_url)
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = outages.guard(on_new_message)  # a store outage: say so, log a line
        telegram_webhook = Blueprint("telegram_webhook", __name__)
        out_channel = self._register_webhook()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if self.secret_token and not _same(request.headers.get(SECRET_TOKEN_HEADER, ""), self.secret_token):
                logger.warning("Telegram webhook request without the right secret token: rejected")
                return response.json({"error": f"missing or wrong {SECRET_TOKEN_HEADER}"}, status=401)
            try:
                body = request.json
                if not isinstance(body, dict):
                    raise ValueError("not a JSON object")
                update = Update(**body)
            except Exception:  # sanic's and aiogram's parse errors have no common base class
                return response.json({"error": "the body must be a Telegram Update, as a JSON object"}, status=400)
            if update.update_id is not None and not self.seen_updates.first_time(str(update.update_id)):
                logger.info("Telegram re-sent update %s: already answered", update.update_id)
                return response.text("success")
            try:
                await self._handle(update, out_channel, on_new_message, request)
            except Exception:
                logger.exception("Could not handle Telegram update %s", update.update_id)
            return response.text("success")

        return telegram_webhook

    async def _handle(
        self,
        update: Update,
        out_channel: TelegramOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        request: Request,
    ) -> None:
        text: str | None
        if update.callback_query is not None:
            query = update.callback_query
            await _answer_callback_query(out_channel, query.id)
            message: Message | None = query.message
            if message is None:  # a button under an inline-mode message: no chat to answer in
                return
            text = self.keys.decode(query.data or "")
            if text is None:
                await out_channel.send_response(str(message.chat.id), {"text": EXPIRED_BUTTON_REPLY})
                return
        else:
            message = update.message or update.edited_message
            if message is None:  # an update type the assistant does not read
                return
            if message.from_user is not None and message.from_user.is_bot:
                return
            text = message.text or message.caption
        chat_id = str(message.chat.id)
        if not text or not text.strip():
            await out_channel.send_response(chat_id, {"text": TEXT_ONLY_REPLY})
            return
        if text.split("@")[0].strip() == "/start":  # Telegram's first message to a bot
            text = "hello"
        await on_new_message(
            UserMessage(
                text,
                out_channel,
                chat_id,
                input_channel=self.name(),
                metadata=self.get_metadata(request),
            )
        )


async def _answer_callback_query(out_channel: TelegramOutput, query_id: str) -> None:
    """Tell Telegram the press was received (it stops the button's spinner); failing that is harmless."""
    try:
        await out_channel.answer_callback_query(query_id)
    except API_ERRORS as error:
        logger.warning("Telegram answerCallbackQuery failed: %s", type(error).__name__)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
