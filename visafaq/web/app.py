"""The web app: a demo page that explains the assistant and hosts the chat widget, and the widget itself.

The widget (static/widget.js) is one script that any site embeds with

    <script src="https://<this app>/static/widget.js" data-rasa-url="https://<the Rasa server>" defer></script>

It talks to the Rasa server's REST channel directly from the browser (the Rasa server's CORS lets only
WEB_ORIGINS do that), so this app serves pages and files only and never sees the Rasa token.

`make run` serves `create_site()`: this app with the staff dashboard mounted at /staff
(`uvicorn --factory visafaq.web.app:create_site`, started by the launcher).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from visafaq.ratelimit import LimitConfigError, LimitSettings
from visafaq.web.limits import RequestLimits
from visafaq.web.security import SecurityHeadersMiddleware, content_security_policy
from visafaq.web.staff import StaffConfig, create_staff_app

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
#: Seconds /ready waits for each database to answer before calling it unavailable.
READY_TIMEOUT_SECONDS = 5.0
#: Seconds a load balancer is asked to wait before asking /ready again when it answered 503.
RETRY_AFTER_SECONDS = 5

log = logging.getLogger(__name__)

# A host, an IPv4 address or a bracketed IPv6 address, with an optional port: nothing that could end a
# CSP directive or an HTML attribute.
_NETLOC = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


class ConfigError(ValueError):
    """A setting of the web app is unusable; the message names the variable and says why."""


def public_url(value: str, variable: str) -> str:
    """An http(s) address without path, query or fragment, as the browser will reach it; no trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not _NETLOC.match(parts.netloc):
        raise ConfigError(f"{variable}={value!r} must be an http(s) address such as http://localhost:5005")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError(f"{variable}={value!r} must be the server's address only, without a path")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class WebConfig:
    #: Where browsers reach the Rasa server (VISAFAQ_RASA_PUBLIC_URL); the widget posts to its REST channel.
    rasa_public_url: str = "http://localhost:5005"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebConfig:
        env = os.environ if env is None else env
        default = f"http://localhost:{env.get('RASA_PORT', '5005')}"
        return cls(rasa_public_url=public_url(env.get("VISAFAQ_RASA_PUBLIC_URL", default), "VISAFAQ_RASA_PUBLIC_URL"))


def widget_policy(config: WebConfig) -> str:
    """Our pages run only our own script and style, and the widget may connect only to the Rasa server."""
    return content_security_policy(connect_src=config.rasa_public_url, form_action="'none'")


def _answers(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def database_status(name: str, engine: Engine) -> str:
    """'ok' when the database answers `SELECT 1` within READY_TIMEOUT_SECONDS, else 'unavailable' (and a
    log line with the reason; the URL's password never appears)."""
    try:
        await asyncio.wait_for(run_in_threadpool(_answers, engine), READY_TIMEOUT_SECONDS)
    except (SQLAlchemyError, TimeoutError) as error:
        reason = getattr(error, "orig", None) or error or "no answer in time"
        first_line = (str(reason).strip().splitlines() or [type(error).__name__])[0]
        log.error("readiness: the %s (%s) is unavailable: %s", name, engine.url.render_as_string(), first_line)
        return "unavailable"
    return "ok"


def create_app(
    config: WebConfig | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    databases: Mapping[str, Engine] | None = None,
    limits: LimitSettings | None = None,
) -> Starlette:
    """The web app. `extra_routes` are added after ours, e.g. `Mount("/staff", staff_app)`; `databases`
    are what /ready checks (by name); `limits`: body size and POST rate limits (visafaq/web/limits.py),
    from the environment unless given."""
    config = config or WebConfig.from_env()
    try:
        limits = limits or LimitSettings.from_env(os.environ)
    except LimitConfigError as error:
        raise ConfigError(str(error)) from error
    templates = Jinja2Templates(
        env=Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, auto_reload=False)
    )

    async def home(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "index.html",
            {"rasa_url": config.rasa_public_url, "widget_url": str(request.url_for("static", path="widget.js"))},
        )

    async def health(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def ready(_request: Request) -> Response:
        # Liveness is /health (the process answers); readiness also needs the databases to answer.
        checks = {name: await database_status(name, engine) for name, engine in (databases or {}).items()}
        if all(status == "ok" for status in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return JSONResponse(
            {"status": "unavailable", "checks": checks},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )

    async def http_error(request: Request, error: Exception) -> Response:
        # Plain text (with nosniff from the middleware): the path is shown as typed, never as markup.
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            message = f"Not found: there is no page at {request.url.path}."
        else:
            message = f"{error.status_code}: {error.detail}"
        return PlainTextResponse(message, status_code=error.status_code, headers=error.headers)

    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        *extra_routes,
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware, policy=widget_policy(config)),
            Middleware(RequestLimits, settings=limits),
        ],
        exception_handlers={HTTPException: http_error},
    )


def create_site() -> Starlette:
    """What `make run` serves: the widget page, and the staff dashboard (behind its login) at /staff."""
    staff = create_staff_app(StaffConfig.from_env())
    board = staff.state.dashboard
    databases = {"database": board.store}
    if board.tracker is not board.store:
        databases["tracker store"] = board.tracker
    return create_app(extra_routes=[Mount("/staff", app=staff)], databases=databases)
