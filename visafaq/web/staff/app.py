"""The staff dashboard as a Starlette application: `create_staff_app(StaffConfig.from_env())`.

Mounted at /staff by the main web app. Every page and export needs a login; every form carries a CSRF
token; all user text is escaped (Jinja autoescape) and personal data masked unless revealed on purpose.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL, FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from visafaq import settings
from visafaq.db.engine import make_engine
from visafaq.db.migrate import upgrade
from visafaq.triage import reports, staff, tickets
from visafaq.triage.events import Line, read_transcript
from visafaq.triage.privacy import find_personal_data, mask
from visafaq.web.staff import charts
from visafaq.web.staff.security import (
    CSRF_FIELD,
    SecurityHeaders,
    csrf_token,
    csrf_valid,
    current_user,
    log_in,
    log_out,
    safe_next,
)

log = logging.getLogger("visafaq.staff")
HERE = Path(__file__).parent
#: The longest period a report covers in one page (and one chart).
MAX_DAYS = 731
DEFAULT_DAYS = 7
#: Failed logins allowed per user name within LOCKOUT_SECONDS before further tries are refused.
MAX_FAILED_LOGINS = 10
LOCKOUT_SECONDS = 15 * 60
REPORT_TABLES = ("summary", "per_day", "by_programme", "by_topic", "by_channel", "unanswered")


@dataclass(frozen=True)
class StaffConfig:
    database_url: str
    tracker_url: str
    secret_key: str
    #: A session ends after this long without a request (the signed cookie's age)...
    idle_seconds: int = 2 * 3600
    #: ...and this long after login, whatever the activity.
    session_seconds: int = 12 * 3600
    https_only: bool = False
    initial_user: str | None = None
    initial_password: str | None = None

    @classmethod
    def from_env(cls) -> StaffConfig:
        secret = os.environ.get("STAFF_SECRET_KEY", "")
        if not secret:
            # Sessions then end with the process; fine on one machine, not behind several replicas.
            log.warning("STAFF_SECRET_KEY is not set: staff sessions will not survive a restart")
            secret = secrets.token_urlsafe(32)
        return cls(
            database_url=settings.database_url(),
            tracker_url=settings.tracker_url(),
            secret_key=secret,
            idle_seconds=int(float(os.environ.get("STAFF_IDLE_HOURS", "2")) * 3600),
            session_seconds=int(float(os.environ.get("STAFF_SESSION_HOURS", "12")) * 3600),
            https_only=os.environ.get("STAFF_COOKIE_SECURE", "").lower() in {"1", "true", "yes"},
            initial_user=os.environ.get("STAFF_USER") or None,
            initial_password=os.environ.get("STAFF_PASSWORD") or None,
        )


class Dashboard:
    """The application's state: its databases, templates, and whether the tables are ready."""

    def __init__(self, config: StaffConfig) -> None:
        self.config = config
        self.store: Engine = make_engine(config.database_url)
        self.tracker: Engine = (
            self.store if config.tracker_url == config.database_url else make_engine(config.tracker_url)
        )
        environment = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
        )
        environment.globals["url_for"] = _template_url_for
        environment.filters["masked"] = mask
        environment.filters["waited"] = format_waiting
        environment.filters["percent"] = lambda share: f"{share:.0%}"
        environment.filters["moment"] = lambda at: f"{at:%Y-%m-%d %H:%M}" if at else ""
        self.templates = Jinja2Templates(env=environment)
        self._ready = False
        self._lock = threading.Lock()
        self._failed_logins: dict[str, list[float]] = {}

    def locked_out(self, username: str) -> bool:
        """Too many wrong passwords for this name lately (per process: a brake on guessing, not a wall)."""
        now = time.monotonic()
        recent = [t for t in self._failed_logins.get(username.lower(), []) if now - t < LOCKOUT_SECONDS]
        self._failed_logins[username.lower()] = recent
        return len(recent) >= MAX_FAILED_LOGINS

    def login_failed(self, username: str) -> None:
        self._failed_logins.setdefault(username.lower(), []).append(time.monotonic())

    def login_succeeded(self, username: str) -> None:
        self._failed_logins.pop(username.lower(), None)

    def prepare(self) -> None:
        """Our tables up to date and the first staff user (STAFF_USER / STAFF_PASSWORD); once."""
        with self._lock:
            if self._ready:
                return
            upgrade(self.store)
            if staff.ensure_initial_user(self.store, self.config.initial_user, self.config.initial_password):
                log.info("created the staff user %r from STAFF_USER", self.config.initial_user)
            self._ready = True

    def dispose(self) -> None:
        self.store.dispose()
        self.tracker.dispose()


@pass_context
def _template_url_for(context: Mapping[str, Any], name: str, /, **params: Any) -> URL:
    return url_for(context["request"], name, **params)


def format_waiting(waited: timedelta) -> str:
    minutes = int(waited.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


# --- helpers shared by the pages ------------------------------------------------------------------
Endpoint = Callable[[Request], Awaitable[Response]]


def url_for(request: Request, name: str, /, **params: Any) -> URL:
    """A path inside this app, wherever it is mounted: our own routes under the mount's root_path.
    (Starlette's request.url_for asks the outermost router, where our names would need a prefix.)"""
    path = request.app.router.url_path_for(name, **params)
    return URL(str(request.scope.get("root_path", "")) + str(path))


def dashboard(request: Request) -> Dashboard:
    board: Dashboard = request.app.state.dashboard
    return board


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    board = dashboard(request)
    context = {"user": request.state.user, "csrf": csrf_token(request), "csrf_field": CSRF_FIELD, **context}
    return board.templates.TemplateResponse(request, name, context, status_code=status_code)


def staff_page(endpoint: Endpoint) -> Endpoint:
    """Login required. A page without one redirects to the login page; anything else is 401. Every POST
    must carry the session's CSRF token."""

    async def guarded(request: Request) -> Response:
        board = dashboard(request)
        await run_in_threadpool(board.prepare)
        user = current_user(request, board.config.session_seconds)
        if user is None:
            if request.method == "GET" and not request.url.path.endswith(".csv"):
                login = url_for(request, "login").include_query_params(next=_relative(request))
                return RedirectResponse(str(login), status_code=303)
            return Response("Log in first.", status_code=401, media_type="text/plain")
        request.state.user = user
        if request.method == "POST":
            request.state.form = await request.form()
            if not csrf_valid(request, request.state.form):
                return Response("This form has expired or came from another site.", 403, media_type="text/plain")
        return await endpoint(request)

    return guarded


def _relative(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _form(request: Request) -> FormData:
    form: FormData = request.state.form
    return form


def _period(request: Request) -> tuple[reports.Period, date, date]:
    today = datetime.now(UTC).date()
    try:
        last = date.fromisoformat(request.query_params.get("to") or today.isoformat())
        first = date.fromisoformat(
            request.query_params.get("from") or (last - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        )
        period = reports.period_between(first, last)
    except ValueError as error:
        message = str(error) if isinstance(error, reports.PeriodError) else "dates are written like 2026-11-24"
        raise HTTPException(400, f"That period cannot be shown: {message}.") from error
    if (last - first).days >= MAX_DAYS:
        raise HTTPException(400, f"That period cannot be shown: choose at most {MAX_DAYS} days.")
    return period, first, last


# --- pages ----------------------------------------------------------------------------------------
async def login_page(request: Request) -> Response:
    board = dashboard(request)
    await run_in_threadpool(board.prepare)
    request.state.user = None
    root = str(url_for(request, "queue"))
    next_page = safe_next(request.query_params.get("next"), root) or root
    if current_user(request, board.config.session_seconds):
        return RedirectResponse(next_page, status_code=303)
    return render(request, "login.html", {"next": next_page, "error": None})


async def login_submit(request: Request) -> Response:
    board = dashboard(request)
    await run_in_threadpool(board.prepare)
    request.state.user = None
    form = await request.form()
    root = str(url_for(request, "queue"))
    next_page = safe_next(str(form.get("next") or ""), root) or root
    if not csrf_valid(request, form):
        return render(request, "login.html", {"next": next_page, "error": "The form had expired: try again."}, 403)
    username, password = str(form.get("username") or "").strip()[:120], str(form.get("password") or "")
    if board.locked_out(username):
        message = "Too many wrong passwords for this user: wait 15 minutes and try again."
        return render(request, "login.html", {"next": next_page, "error": message}, 429)
    if not await run_in_threadpool(staff.authenticate, board.store, username, password):
        board.login_failed(username)
        log.info("failed staff login for %r", username)
        return render(request, "login.html", {"next": next_page, "error": "Wrong user name or password."}, 401)
    board.login_succeeded(username)
    log_in(request, username)
    log.info("staff login: %s", username)
    return RedirectResponse(next_page, status_code=303)


@staff_page
async def logout(request: Request) -> Response:
    log_out(request)
    return RedirectResponse(str(url_for(request, "login")), status_code=303)


@staff_page
async def queue_page(request: Request) -> Response:
    board = dashboard(request)
    queue = await run_in_threadpool(tickets.list_tickets, board.store)
    return render(request, "queue.html", {"tickets": queue, "now": datetime.now(UTC), "page": "queue"})


async def _ticket_or_404(board: Dashboard, ticket_id: int) -> tickets.Ticket:
    try:
        return await run_in_threadpool(tickets.get_ticket, board.store, ticket_id)
    except tickets.TicketError as error:
        raise HTTPException(404, str(error)) from error


@staff_page
async def ticket_page(request: Request) -> Response:
    board = dashboard(request)
    ticket = await _ticket_or_404(board, request.path_params["ticket_id"])
    transcript = await run_in_threadpool(read_transcript, board.tracker, ticket.conversation_id)
    return render(
        request,
        "ticket.html",
        {
            "ticket": ticket,
            "lines": _shown(transcript, revealed=None),
            "now": datetime.now(UTC),
            "page": "queue",
            "error": request.query_params.get("error"),
        },
    )


def _ticket_action(action: Callable[[Engine, int, str, FormData], Any]) -> Endpoint:
    @staff_page
    async def act(request: Request) -> Response:
        board = dashboard(request)
        ticket_id: int = request.path_params["ticket_id"]
        target = url_for(request, "ticket", ticket_id=ticket_id)
        try:
            await run_in_threadpool(action, board.store, ticket_id, request.state.user, _form(request))
        except tickets.TicketError as error:
            return RedirectResponse(str(target.include_query_params(error=str(error))), status_code=303)
        return RedirectResponse(str(target), status_code=303)

    return act


claim = _ticket_action(lambda store, ticket_id, user, _form: tickets.claim(store, ticket_id, user))
close = _ticket_action(lambda store, ticket_id, user, _form: tickets.close(store, ticket_id, user))
note = _ticket_action(
    lambda store, ticket_id, user, form: tickets.add_note(store, ticket_id, user, str(form.get("text") or ""))
)


@dataclass(frozen=True)
class ShownLine:
    line: Line
    text: str
    private: bool  # has personal data (masked unless revealed)
    revealed: bool


def _shown(lines: list[Line], revealed: int | None) -> list[ShownLine]:
    shown = []
    for line in lines:
        private = bool(find_personal_data(line.text))
        reveal = private and line.event_id == revealed
        shown.append(ShownLine(line, line.text if reveal else mask(line.text), private, reveal))
    return shown


async def _conversation(request: Request, conversation_id: str, revealed: int | None) -> Response:
    board = dashboard(request)
    transcript = await run_in_threadpool(read_transcript, board.tracker, conversation_id)
    handoffs = await run_in_threadpool(tickets.tickets_for_conversation, board.store, conversation_id)
    if not transcript and not handoffs:
        raise HTTPException(404, "There is no conversation with that id (it may have been purged).")
    return render(
        request,
        "conversation.html",
        {
            "conversation_id": conversation_id,
            "lines": _shown(transcript, revealed),
            "tickets": handoffs,
            "page": "unanswered",
        },
    )


@staff_page
async def conversation_page(request: Request) -> Response:
    return await _conversation(request, request.path_params["conversation_id"], revealed=None)


@staff_page
async def reveal(request: Request) -> Response:
    """Show one message's personal data, on purpose, and log who looked at what."""
    board = dashboard(request)
    form = _form(request)
    conversation_id = str(form.get("conversation_id") or "")
    try:
        event_id = int(str(form.get("event_id") or ""))
    except ValueError as error:
        raise HTTPException(400, "Which message? (event_id must be a number)") from error
    transcript = await run_in_threadpool(read_transcript, board.tracker, conversation_id)
    line = next((line for line in transcript if line.event_id == event_id), None)
    if line is None:
        raise HTTPException(404, "That message is not in this conversation.")
    kinds = [found.kind for found in find_personal_data(line.text)]
    if kinds:
        await run_in_threadpool(tickets.log_reveal, board.store, request.state.user, conversation_id, event_id, kinds)
        log.info("%s revealed %s in a message of %s", request.state.user, ", ".join(kinds), conversation_id)
    return await _conversation(request, conversation_id, revealed=event_id)


async def _report(board: Dashboard, period: reports.Period) -> reports.Report:
    return await run_in_threadpool(reports.build_report, board.tracker, board.store, period)


@staff_page
async def unanswered_page(request: Request) -> Response:
    period, first, last = _period(request)
    report = await _report(dashboard(request), period)
    return render(
        request,
        "unanswered.html",
        {"report": report, "first": first, "last": last, "page": "unanswered"},
    )


@staff_page
async def trends_page(request: Request) -> Response:
    period, first, last = _period(request)
    report = await _report(dashboard(request), period)
    tables = reports.report_tables(report)
    return render(
        request,
        "trends.html",
        {
            "report": report,
            "tables": tables,
            "first": first,
            "last": last,
            "page": "trends",
            "per_day": charts.per_day_columns("Questions per day", report.per_day),
            "bar_charts": [
                charts.horizontal_bars("By topic", report.by_topic),
                charts.horizontal_bars("By programme", report.by_programme),
                charts.horizontal_bars("By channel", report.by_channel),
            ],
        },
    )


def _spreadsheet_safe(value: Any) -> Any:
    """A cell starting with = + - @ is a formula to a spreadsheet: user text must never run as one."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def csv_response(filename: str, headers: list[str], rows: list[list[Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([[_spreadsheet_safe(cell) for cell in row] for row in rows])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@staff_page
async def export(request: Request) -> Response:
    board = dashboard(request)
    table: str = request.path_params["table"]
    if table == "queue":
        now = datetime.now(UTC)
        queue = await run_in_threadpool(tickets.list_tickets, board.store)
        rows = [
            [
                t.id,
                t.status,
                mask(t.question),
                t.programme or "",
                t.channel or "",
                t.conversation_id,
                t.created_at.isoformat(),
                int(t.waiting(now).total_seconds() // 60),
                t.claimed_by or "",
            ]
            for t in queue
        ]
        headers = ["id", "status", "question", "programme", "channel", "conversation", "created_at"]
        return csv_response(f"visafaq-queue-{now:%Y-%m-%d}.csv", [*headers, "waiting_minutes", "claimed_by"], rows)
    if table not in REPORT_TABLES:
        raise HTTPException(404, f"There is no table called {table!r}.")
    period, first, last = _period(request)
    report = await _report(board, period)
    headers, rows = reports.report_tables(report)[table]
    return csv_response(f"visafaq-{table}-{first}-{last}.csv", headers, rows)


# --- errors ---------------------------------------------------------------------------------------
async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if not hasattr(request.state, "user"):
        return Response(error.detail, status_code=error.status_code, media_type="text/plain")
    return render(request, "error.html", {"message": error.detail, "page": None}, error.status_code)


async def database_error(request: Request, error: Exception) -> Response:
    kind = "unavailable" if isinstance(error, OperationalError) else "error"
    log.error("staff dashboard: database %s: %s", kind, error)
    return Response(
        "The database is temporarily unavailable; please try again in a minute.",
        status_code=503,
        media_type="text/plain",
    )


def create_staff_app(config: StaffConfig) -> Starlette:
    """The dashboard. Mount it (e.g. at /staff); it needs no lifespan of the parent to work."""
    board = Dashboard(config)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(board.prepare)
        except SQLAlchemyError as error:  # the pages will say so, and try again
            log.error("staff dashboard: database not ready at start: %s", error)
        yield
        board.dispose()

    routes = [
        Route("/", queue_page, name="queue"),
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/login", login_submit, methods=["POST"], name="login_submit"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/tickets/{ticket_id:int}", ticket_page, name="ticket"),
        Route("/tickets/{ticket_id:int}/claim", claim, methods=["POST"], name="claim"),
        Route("/tickets/{ticket_id:int}/note", note, methods=["POST"], name="note"),
        Route("/tickets/{ticket_id:int}/close", close, methods=["POST"], name="close"),
        Route("/conversations/{conversation_id:path}", conversation_page, name="conversation"),
        Route("/reveal", reveal, methods=["POST"], name="reveal"),
        Route("/unanswered", unanswered_page, name="unanswered"),
        Route("/trends", trends_page, name="trends"),
        Route("/export/{table:str}.csv", export, name="export"),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=config.secret_key,
            session_cookie="visafaq_staff",
            max_age=config.idle_seconds,
            same_site="strict",
            https_only=config.https_only,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, SQLAlchemyError: database_error},
    )
    app.state.dashboard = board
    return app
