"""Limits on the web app's HTTP surface: the request body's size, and how often one address may POST.

`RequestLimits` is pure ASGI middleware around the whole site (the widget page and the staff dashboard):

- headers over 16 KiB in all get 431;
- a body larger than `max_body_bytes` (VISAFAQ_MAX_BODY_BYTES) gets 413, whether it announces its size
  (Content-Length) or streams it (chunked): the app never reads more than the limit;
- POSTs (the staff forms: login, claim, note, close, reveal, logout) are counted per client address
  (VISAFAQ_RATE_LIMIT_WEB_POST), and logins once more on their own (VISAFAQ_RATE_LIMIT_STAFF_LOGIN, on top
  of the per-user lockout in the dashboard); over a limit is 429 with Retry-After.

The address is the connection's peer, or X-Forwarded-For / X-Real-IP when the peer is a trusted proxy
(VISAFAQ_TRUSTED_PROXIES): `visafaq.ratelimit.client_address`.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visafaq.ratelimit import LimitSettings, Rate, RateLimiter, client_address

log = logging.getLogger("visafaq.web.limits")

#: All request headers together, at most (a browser sends a few KiB; Sanic, for the Rasa server, allows 8 KiB).
MAX_HEADER_BYTES = 16 * 1024
#: Methods that carry a body people send us (and that change something): counted per address.
COUNTED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _plain(send: Send, status: int, text: str, headers: dict[str, str] | None = None) -> None:
    body = text.encode("utf-8")
    raw = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *[(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()],
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    def __init__(
        self,
        app: ASGIApp,
        settings: LimitSettings,
        limiter: RateLimiter | None = None,
        login_path: str = "/staff/login",
    ) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter or RateLimiter(settings.redis_url, settings.prefix)
        self.login_path = login_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header_bytes = sum(len(name) + len(value) for name, value in scope.get("headers", []))
        if header_bytes > MAX_HEADER_BYTES:
            # uvicorn's httptools parser sets no limit of its own (nginx's large_client_header_buffers does).
            await _plain(send, 431, f"The request's headers are larger than {MAX_HEADER_BYTES} bytes.")
            return
        headers = Headers(scope=scope)
        limit = self.settings.max_body_bytes
        length = headers.get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            if length.strip().isdigit():
                await _plain(send, 413, f"The request body is larger than {limit} bytes.")
            else:
                await _plain(send, 400, "Content-Length must be a number of bytes.")
            return
        if scope["method"] in COUNTED_METHODS:
            refused = await self._rate_limited(scope, headers)
            if refused is not None:
                await _plain(
                    send,
                    429,
                    f"Too many requests from your address: wait {refused} s and try again.",
                    {"Retry-After": str(refused)},
                )
                return
        await self._with_body_limit(scope, receive, send, limit)

    async def _rate_limited(self, scope: Scope, headers: Headers) -> int | None:
        """Seconds to wait when this request is over a limit, else None."""
        peer = scope.get("client")
        address = client_address(peer[0] if peer else None, headers, self.settings.trusted_proxies)
        checks: list[tuple[str, Rate | None]] = [("web-post", self.settings.web_post)]
        if scope.get("path") == self.login_path:
            checks.insert(0, ("web-login", self.settings.staff_login))
        for name, rate in checks:
            if rate is None:
                continue
            verdict = await self.limiter.hit(name, address, rate)
            if not verdict.allowed:
                log.info("rate limit: %s over %s (retry after %d s)", name, rate, verdict.retry_after)
                return verdict.retry_after
        return None

    async def _with_body_limit(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """A body without Content-Length (chunked) is counted as it arrives: past the limit the app is told
        the client went away, and the client gets 413 (the app's own response, if any, is dropped)."""
        received = 0
        refused = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    refused = True
                    if not started:
                        await _plain(send, 413, f"The request body is larger than {limit} bytes.")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # The app gave up reading (Starlette's ClientDisconnect): the 413 has been sent already.
