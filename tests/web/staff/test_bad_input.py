"""Bad input against the web app with the staff dashboard mounted, as `make run` serves it (create_app with
/staff): each request gets a 4xx with a message, no staff table gains or changes a row, and the site still
answers afterwards. Limits: request body size and rate limits on POSTs and logins (visafaq/web/limits.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.web.staff.conftest import PASSWORD, USER, Site, csrf_of, log_in, make_site
from visafaq.ratelimit import LimitSettings, Rate
from visafaq.web.app import WebConfig, create_app
from visafaq.web.staff import create_staff_app

STAFF_TABLES = ("staff_users", "triage_handoffs", "triage_handoff_notes", "triage_reveals", "triage_unanswered")


#: Generous rate limits for the bad-input table (one test client sends it all); the limit tests set their own.
def limit_settings(login: str, post: str) -> LimitSettings:
    return LimitSettings.from_env({"VISAFAQ_RATE_LIMIT_STAFF_LOGIN": login, "VISAFAQ_RATE_LIMIT_WEB_POST": post})


QUIET = limit_settings(login="off", post="1000/minute")


def snapshot(store: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the staff tables (so a changed password hash or login time shows too)."""
    with store.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in STAFF_TABLES
        }


def site_app(site: Site, limits: LimitSettings = QUIET) -> Starlette:
    return create_app(
        WebConfig(rasa_public_url="http://localhost:5005"),
        extra_routes=[Mount("/staff", app=create_staff_app(site.config))],
        limits=limits,
    )


def site_client(site: Site, limits: LimitSettings = QUIET) -> TestClient:
    return TestClient(site_app(site, limits), base_url="http://testserver")


@dataclass(frozen=True)
class Shared:
    site: Site
    app: Starlette
    #: A logged-in session's cookie and its CSRF token (logging in costs an Argon2 hash: once per module).
    session: str
    csrf: str


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    with make_site(tmp_path_factory.mktemp("staff-bad-input")) as site:
        app = site_app(site)
        client = TestClient(app, base_url="http://testserver")
        csrf = log_in(client)
        yield Shared(site, app, str(client.cookies["visafaq_staff"]), csrf)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int | tuple[int, ...]
    says: str
    #: Form fields (the real CSRF token is added when "csrf" is "valid").
    form: Mapping[str, str] | None = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    logged_in: bool = False
    cookies: Mapping[str, str] = field(default_factory=dict)


BIG = "x" * 200_000
CASES = {
    # --- the login form
    "login-without-csrf": Case("POST", "/staff/login", 403, "expired", {"username": USER, "password": PASSWORD}),
    "login-wrong-csrf": Case("POST", "/staff/login", 403, "expired", {"csrf": "forged", "username": USER}),
    "login-oversized-form": Case("POST", "/staff/login", 413, "larger than 65536", {"csrf": "valid", "username": BIG}),
    "login-oversized-password": Case(
        "POST", "/staff/login", 413, "larger than", {"csrf": "valid", "username": USER, "password": BIG}
    ),
    "login-wrong-password": Case("POST", "/staff/login", 401, "wrong user name or password", {"csrf": "valid"}),
    "login-sql-injection": Case(
        "POST", "/staff/login", 401, "wrong user name", {"csrf": "valid", "username": "' OR 1=1 --", "password": "x"}
    ),
    "login-nul-in-name": Case(
        "POST", "/staff/login", 401, "wrong user name", {"csrf": "valid", "username": "aiko\x00", "password": "x"}
    ),
    "login-json-body": Case(
        "POST",
        "/staff/login",
        403,
        "expired",
        content=b'{"username": "aiko", "password": "a long staff password"}',
        headers={"content-type": "application/json"},
    ),
    "login-invalid-utf8": Case(
        "POST",
        "/staff/login",
        (400, 403),
        "",
        content=b"username=\xff\xfe&password=\xc3",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    "login-from-another-site": Case(
        "POST",
        "/staff/login",
        403,
        "expired",
        {"csrf": "valid", "username": USER, "password": PASSWORD},
        headers={"origin": "https://evil.example"},
    ),
    "login-put": Case("PUT", "/staff/login", 405, "not allowed"),
    "login-bad-content-length": Case(
        "POST", "/staff/login", 400, "Content-Length", content=b"a=b", headers={"content-length": "abc"}
    ),
    # --- forms behind the login
    "note-without-csrf": Case("POST", "/staff/tickets/{ticket}/note", 403, "expired", {"text": "hi"}, logged_in=True),
    "close-wrong-csrf": Case("POST", "/staff/tickets/{ticket}/close", 403, "expired", {"csrf": "nope"}, logged_in=True),
    "note-oversized": Case(
        "POST", "/staff/tickets/{ticket}/note", 413, "larger than", {"csrf": "valid", "text": BIG}, logged_in=True
    ),
    "reveal-not-a-number": Case(
        "POST",
        "/staff/reveal",
        400,
        "must be a number",
        {"csrf": "valid", "conversation_id": "web-1", "event_id": "1 OR 1=1"},
        logged_in=True,
    ),
    "reveal-unknown-message": Case(
        "POST",
        "/staff/reveal",
        404,
        "not in this conversation",
        {"csrf": "valid", "conversation_id": "../../etc/passwd", "event_id": "1"},
        logged_in=True,
    ),
    "claim-unknown-ticket": Case("POST", "/staff/tickets/999999/claim", 303, "", {"csrf": "valid"}, logged_in=True),
    "ticket-id-not-a-number": Case("GET", "/staff/tickets/1%20OR%201=1", 404, "not found", logged_in=True),
    "period-not-a-date": Case("GET", "/staff/trends?from=yesterday&to=<b>", 400, "cannot be shown", logged_in=True),
    "period-too-long": Case("GET", "/staff/unanswered?from=1900-01-01&to=2030-01-01", 400, "at most", logged_in=True),
    "export-unknown-table": Case("GET", "/staff/export/staff_users.csv", 404, "no table", logged_in=True),
    # --- sessions
    "bad-session-cookie": Case("GET", "/staff/export/queue.csv", 401, "log in", cookies={"visafaq_staff": "garbage"}),
    "forged-session-cookie": Case(
        "GET",
        "/staff/export/queue.csv",
        401,
        "log in",
        cookies={"visafaq_staff": "eyJ1c2VyIjogImFpa28iLCAibG9naW5fYXQiOiA5OTk5OTk5OTk5fQ==.fake.sig"},
    ),
    "post-without-session": Case("POST", "/staff/tickets/{ticket}/close", 401, "log in", {"csrf": "x"}),
    # --- the widget page and static files
    "static-traversal": Case("GET", "/static/../app.py", 404, "not found"),
    "static-encoded-traversal": Case("GET", "/static/%2e%2e/app.py", 404, "not found"),
    "static-double-encoded": Case("GET", "/static/%252e%252e/app.py", 404, "not found"),
    "static-backslash": Case("GET", "/static/..%5capp.py", 404, "not found"),
    "staff-static-traversal": Case("GET", "/staff/static/%2e%2e/app.py", 404, "not found"),
    "static-nul": Case("GET", "/static/widget.js%00.png", 404, "not found"),
    "post-to-the-page": Case("POST", "/", 405, "405", content=b"x"),
    "oversized-post-to-the-page": Case("POST", "/", 413, "larger than", content=b"x" * 100_000),
    "delete-health": Case("DELETE", "/health", 405, "405"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_to_the_web_app_gets_a_4xx_and_changes_nothing(shared: Shared, case: Case) -> None:
    client = TestClient(shared.app, base_url="http://testserver")  # a cookie jar of its own
    if case.logged_in:
        client.cookies.set("visafaq_staff", shared.session)
        csrf = shared.csrf
    else:
        csrf = csrf_of(client.get("/staff/login").text)  # a session with a CSRF token, not logged in
    for name, value in case.cookies.items():
        client.cookies.set(name, value)
    form = {name: (csrf if value == "valid" else value) for name, value in (case.form or {}).items()}
    before = snapshot(shared.site.store)
    response = client.request(
        case.method,
        case.path.format(ticket=shared.site.ticket),
        data=form or None,
        content=case.content,
        headers=dict(case.headers),
        follow_redirects=False,
    )
    expected = case.status if isinstance(case.status, tuple) else (case.status,)
    assert response.status_code in expected, response.text[:300]
    assert case.says.lower() in response.text.lower()
    assert "root:" not in response.text and "def create_app" not in response.text  # nothing outside static/
    assert snapshot(shared.site.store) == before
    assert client.get("/health").text == "ok"


def test_the_web_app_sends_no_cors_headers_to_any_origin(shared: Shared) -> None:
    """Only the Rasa server has CORS (WEB_ORIGINS); nothing here may be read by another site's script."""
    for method, path in [("GET", "/"), ("GET", "/static/widget.js"), ("GET", "/staff/login"), ("OPTIONS", "/")]:
        response = TestClient(shared.app).request(
            method, path, headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
        )
        assert not any(name.lower().startswith("access-control-") for name in response.headers), (path, response)


# --- rate limits ------------------------------------------------------------------------------------------
def test_logins_from_one_address_are_limited_with_retry_after_and_allowed_again_after_the_window(site: Site) -> None:
    limits = limit_settings(login="3/2s", post="off")
    assert limits.staff_login == Rate(3, 2)
    with site_client(site, limits) as client:
        csrf = csrf_of(client.get("/staff/login").text)
        # Tries without the CSRF token (refused without a password check) count as much as wrong passwords.
        statuses = [
            client.post("/staff/login", data={"username": USER, "password": "guess"}).status_code for _ in range(3)
        ]
        assert statuses == [403, 403, 403]
        right = {"csrf": csrf, "username": USER, "password": PASSWORD}
        refused = client.post("/staff/login", data=right)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        assert "wait" in refused.text and "try again" in refused.text
        assert "visafaq_staff" not in refused.headers.get("set-cookie", "")  # no session for a refused login
        before = snapshot(site.store)
        deadline = time.monotonic() + 6
        time.sleep(int(refused.headers["retry-after"]))
        while True:
            response = client.post("/staff/login", data=right)
            if response.status_code != 429 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert response.status_code in {200, 303}, response.text
        assert client.get("/staff/", follow_redirects=False).status_code == 200  # logged in
        assert snapshot(site.store)["staff_users"] != before["staff_users"]  # last login recorded now


def test_other_posts_from_one_address_are_limited_too(site: Site) -> None:
    limits = LimitSettings.from_env(
        {"VISAFAQ_RATE_LIMIT_WEB_POST": "5/minute", "VISAFAQ_RATE_LIMIT_STAFF_LOGIN": "off"}
    )
    with site_client(site, limits) as client:
        csrf = log_in(client)  # one POST
        path = f"/staff/tickets/{site.ticket}/note"
        statuses = [client.post(path, data={"csrf": csrf, "text": f"note {i}"}).status_code for i in range(5)]
        assert statuses[:4] == [200, 200, 200, 200] and statuses[4] == 429
        with site.store.connect() as connection:
            notes = connection.execute(text("SELECT count(*) FROM triage_handoff_notes")).scalar_one()
        assert notes == 4  # the refused note was not added
        assert client.get("/staff/").status_code == 200  # reading is not limited


def test_a_trusted_proxy_names_the_client_and_an_untrusted_one_does_not(site: Site) -> None:
    """TestClient's peer is "testclient"; trusting nothing, X-Forwarded-For cannot make a new address."""
    limits = LimitSettings.from_env(
        {"VISAFAQ_RATE_LIMIT_STAFF_LOGIN": "2/minute", "VISAFAQ_RATE_LIMIT_WEB_POST": "off"}
    )
    with site_client(site, limits) as client:
        statuses = [
            client.post("/staff/login", data={"username": "x"}, headers={"x-forwarded-for": f"203.0.113.{i}"})
            for i in range(3)
        ]
        assert [response.status_code for response in statuses] == [403, 403, 429]


def test_a_streamed_body_over_the_limit_is_cut_off_with_413(site: Site) -> None:
    """No Content-Length (chunked): the middleware counts what arrives and stops the app reading."""
    with site_client(site) as client:
        csrf = csrf_of(client.get("/staff/login").text)
        chunks = [f"csrf={csrf}&username=".encode()] + [b"x" * 8192] * 16

        response = client.post(
            "/staff/login",
            content=iter(chunks),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413
        assert "larger than" in response.text
        assert client.get("/health").text == "ok"


def test_headers_over_16_kib_get_431(shared: Shared) -> None:
    client = TestClient(shared.app, base_url="http://testserver")
    response = client.get("/", headers={"x-padding": "a" * 17_000})
    assert response.status_code == 431 and "larger than 16384 bytes" in response.text
    assert client.get("/", headers={"x-padding": "a" * 8_000}).status_code == 200  # a big but sane header
