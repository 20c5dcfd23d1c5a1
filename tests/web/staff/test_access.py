"""Access to the staff dashboard: every route needs a login; wrong passwords, expired or forged sessions
and cross-site form posts are refused, and none of them gets any conversation data."""

from __future__ import annotations

import json
import time
from base64 import b64encode

import pytest
from httpx import Response
from itsdangerous import TimestampSigner
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.web.staff.conftest import PASSWORD, USER, Site, csrf_of, log_in, mounted
from visafaq.db.engine import transaction
from visafaq.triage import tickets
from visafaq.triage.schema import StaffUserRow
from visafaq.web.staff import StaffConfig

#: Every route of the dashboard with a request that would show or change data.
ROUTES = [
    ("GET", "/staff/"),
    ("GET", "/staff/tickets/{ticket}"),
    ("GET", "/staff/conversations/web-1"),
    ("GET", "/staff/unanswered?from=2020-01-01&to=2030-01-01"),
    ("GET", "/staff/trends?from=2020-01-01&to=2030-01-01"),
    ("GET", "/staff/export/queue.csv"),
    ("GET", "/staff/export/unanswered.csv?from=2020-01-01&to=2030-01-01"),
    ("GET", "/staff/export/per_day.csv"),
    ("GET", "/staff/export/by_topic.csv"),
    ("GET", "/staff/export/by_programme.csv"),
    ("GET", "/staff/export/by_channel.csv"),
    ("GET", "/staff/export/summary.csv"),
    ("POST", "/staff/tickets/{ticket}/claim"),
    ("POST", "/staff/tickets/{ticket}/note"),
    ("POST", "/staff/tickets/{ticket}/close"),
    ("POST", "/staff/reveal"),
    ("POST", "/staff/logout"),
]
#: What must never be in a response to someone not logged in.
PRIVATE = ("TK1234567", "090-1234-5678", "change my employer", "alert(1)", "web-2", "[phone hidden]")


def assert_refused(response: Response, site: Site) -> None:
    if response.status_code == 303:
        assert response.headers["location"].startswith("/staff/login")
    else:
        assert response.status_code == 401
    for secret in PRIVATE:
        assert secret not in response.text
    assert tickets.get_ticket(site.store, site.ticket).status == "open"  # nothing was changed


def request(client: TestClient, method: str, path: str, site: Site, **data: str) -> Response:
    path = path.format(ticket=site.ticket)
    form = {"text": "note", "conversation_id": "web-1", "event_id": "1", **data}
    response: Response = (
        client.get(path, follow_redirects=False)
        if method == "GET"
        else client.post(path, data=form, follow_redirects=False)
    )
    return response


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_login(client: TestClient, site: Site, method: str, path: str) -> None:
    assert_refused(request(client, method, path, site), site)


def test_pages_redirect_to_the_login_page_and_back(client: TestClient, site: Site) -> None:
    response = client.get("/staff/unanswered?from=2026-01-01", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Funanswered%3Ffrom%3D2026-01-01"
    login = client.get(response.headers["location"])
    answer = client.post(
        "/staff/login",
        data={"csrf": csrf_of(login.text), "username": USER, "password": PASSWORD, "next": "/staff/unanswered"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/unanswered"


@pytest.mark.parametrize(("user", "password"), [(USER, "wrong password!"), ("nobody", PASSWORD), (USER, "")])
def test_a_wrong_password_or_user_is_refused(client: TestClient, site: Site, user: str, password: str) -> None:
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"csrf": csrf_of(page.text), "username": user, "password": password, "next": "/staff/"},
        follow_redirects=False,
    )
    assert response.status_code == 401 and "Wrong user name or password" in response.text
    for secret in PRIVATE:
        assert secret not in response.text
    assert_refused(client.get("/staff/", follow_redirects=False), site)


def test_the_login_form_itself_needs_its_csrf_token(client: TestClient, site: Site) -> None:
    client.get("/staff/login")
    response = client.post("/staff/login", data={"username": USER, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert_refused(client.get("/staff/", follow_redirects=False), site)


def test_the_login_never_sends_anyone_to_another_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/elsewhere", "/staff\\@evil.example"):
        page = client.get("/staff/login")
        response = client.post(
            "/staff/login",
            data={"csrf": csrf_of(page.text), "username": USER, "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/staff/"
        client.cookies.clear()


def forged_cookie(secret: str, session: dict[str, object], signed_seconds_ago: float = 0) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it, optionally signed in the past."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - signed_seconds_ago)

    data = b64encode(json.dumps(session).encode())
    return Signer(secret).sign(data).decode()


def test_an_expired_session_is_refused(client: TestClient, site: Site) -> None:
    now = int(time.time())
    fresh = forged_cookie(site.config.secret_key, {"user": USER, "login_at": now, "csrf": "x" * 43})
    client.cookies.set("visafaq_staff", fresh)
    assert client.get("/staff/", follow_redirects=False).status_code == 200  # the forgery works when fresh...

    idle = forged_cookie(
        site.config.secret_key, {"user": USER, "login_at": now}, signed_seconds_ago=site.config.idle_seconds + 60
    )
    client.cookies.clear()
    client.cookies.set("visafaq_staff", idle)
    assert_refused(client.get("/staff/", follow_redirects=False), site)  # ...but not after the idle limit

    old_login = forged_cookie(
        site.config.secret_key, {"user": USER, "login_at": now - site.config.session_seconds - 60}
    )
    client.cookies.clear()
    client.cookies.set("visafaq_staff", old_login)
    assert_refused(client.get("/staff/", follow_redirects=False), site)  # nor long after the login


def test_a_session_signed_with_another_key_is_refused(client: TestClient, site: Site) -> None:
    client.cookies.set("visafaq_staff", forged_cookie("another key", {"user": USER, "login_at": int(time.time())}))
    assert_refused(client.get("/staff/", follow_redirects=False), site)


def test_logging_out_ends_the_session(staff_client: tuple[TestClient, str], site: Site) -> None:
    client, csrf = staff_client
    assert client.post("/staff/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert_refused(client.get("/staff/", follow_redirects=False), site)


@pytest.mark.parametrize(
    ("csrf", "headers"),
    [
        (None, {}),
        ("forged-token", {}),
        ("<the session's>", {"origin": "https://evil.example"}),
        ("<the session's>", {"origin": "null"}),
    ],
)
def test_cross_site_form_posts_are_refused(
    staff_client: tuple[TestClient, str], site: Site, csrf: str | None, headers: dict[str, str]
) -> None:
    client, token = staff_client
    data = {} if csrf is None else {"csrf": token if csrf.startswith("<") else csrf}
    for action in ("claim", "close", "note"):
        response = client.post(
            f"/staff/tickets/{site.ticket}/{action}",
            data={**data, "text": "x"},
            headers=headers,
            follow_redirects=False,
        )
        assert response.status_code == 403
    response = client.post("/staff/reveal", data={**data, "conversation_id": "web-1", "event_id": "4"}, headers=headers)
    assert response.status_code == 403 and "TK1234567" not in response.text
    ticket = tickets.get_ticket(site.store, site.ticket)
    assert ticket.status == "open" and ticket.notes == ()


def test_the_same_post_with_the_token_from_our_own_origin_works(
    staff_client: tuple[TestClient, str], site: Site
) -> None:
    client, token = staff_client
    response = client.post(
        f"/staff/tickets/{site.ticket}/claim",
        data={"csrf": token},
        headers={"origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert tickets.get_ticket(site.store, site.ticket).claimed_by == USER


def test_stored_passwords_are_argon2_hashes_not_the_password(site: Site) -> None:
    with transaction(site.store) as session:
        stored = session.execute(select(StaffUserRow.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored and len(stored) > 80


def test_the_first_user_can_come_from_the_environment(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_USER", "first-admin")
    monkeypatch.setenv("STAFF_PASSWORD", "the first admin's password")
    monkeypatch.setenv("VISAFAQ_DATABASE_URL", site.config.database_url)
    monkeypatch.setenv("VISAFAQ_TRACKER_URL", site.config.tracker_url)
    with TestClient(mounted(StaffConfig.from_env())) as client:
        assert log_in(client, "first-admin", "the first admin's password")


def test_repeated_wrong_passwords_lock_the_name_out_for_a_while(client: TestClient) -> None:
    def attempt(password: str) -> int:
        page = client.get("/staff/login")
        response = client.post(
            "/staff/login",
            data={"csrf": csrf_of(page.text), "username": USER, "password": password, "next": "/staff/"},
            follow_redirects=False,
        )
        return int(response.status_code)

    assert [attempt(f"guess {n}") for n in range(10)] == [401] * 10
    assert attempt(PASSWORD) == 429  # even the right password, until the lockout ends
