"""Logins, sessions and CSRF for the staff dashboard, and the headers every staff response carries.

Sessions are Starlette's signed cookies (itsdangerous), refused once older than the idle limit; the
time of login is kept in the session too, so a session also ends a fixed time after login whatever the
activity. Every form carries a per-session CSRF token; a POST without it (or from another origin) is 403.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf"

# Everything from our own origin, no script at all, no framing, forms only back to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response, and `no-store` to all but static files: staff pages
    hold conversations, which must not stay in a shared browser's cache."""

    def __init__(self, app: ASGIApp, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))[len(str(scope.get("root_path", ""))) :]
        static = path.startswith(self.static_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def same_origin(request: Request) -> bool:
    """A browser sends Origin with every cross-site POST; when it names another site, refuse."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


def csrf_valid(request: Request, form: FormData) -> bool:
    expected = request.session.get(CSRF_FIELD)
    given = form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(given, str) or not same_origin(request):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def log_in(request: Request, username: str) -> None:
    """A fresh session for the user (nothing carried over from before the login)."""
    request.session.clear()
    request.session.update({"user": username, "login_at": int(time.time())})
    csrf_token(request)


def log_out(request: Request) -> None:
    request.session.clear()


def current_user(request: Request, max_age: int) -> str | None:
    session: dict[str, Any] = request.session
    user, login_at = session.get("user"), session.get("login_at")
    if not isinstance(user, str) or not isinstance(login_at, int):
        return None
    now = int(time.time())
    if now - login_at > max_age:
        session.clear()
        return None
    session["seen"] = now  # re-signs the cookie, so the idle limit counts from this request
    return user


def safe_next(target: str | None, root: str) -> str | None:
    """Only a path inside the dashboard: never another site (`//evil`, `https://evil`)."""
    if not target or not target.startswith(root) or target.startswith("//") or "\\" in target:
        return None
    return target if not urlsplit(target).netloc else None
