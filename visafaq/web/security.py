"""Security headers for every page the web app serves (the widget page and the staff dashboard).

`SecurityHeadersMiddleware` adds a content security policy and the usual hardening headers to each HTTP
response. A header that the wrapped app already set is left alone, so a mounted sub-app (the staff
dashboard) can send a policy of its own while the outer app's middleware still covers everything else.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Nothing is allowed unless named: pages load only their own scripts, styles and images, are never framed,
#: and post forms only to themselves. `connect-src` is what the caller adds (the Rasa server, for the widget).
BASE_POLICY: dict[str, str] = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**directives: str) -> str:
    """The base policy with some directives replaced, e.g. `connect_src="'self' https://rasa.example"`."""
    policy = dict(BASE_POLICY)
    policy.update({name.replace("_", "-"): value for name, value in directives.items()})
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def security_headers(policy: str) -> dict[str, str]:
    """Every header the middleware adds. No Cross-Origin-Resource-Policy: other sites embed our widget."""
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (works with streaming and file responses) adding `security_headers(policy)`."""

    def __init__(self, app: ASGIApp, policy: str, extra: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.headers = {**security_headers(policy), **(extra or {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
