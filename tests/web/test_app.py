"""The web app without a browser: the page, the widget files, headers, errors and escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from visafaq.web.app import ConfigError, WebConfig, create_app, public_url
from visafaq.web.security import content_security_policy

RASA = "http://localhost:5005"


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(WebConfig(rasa_public_url=RASA)))


def policy(header: str) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in header.split(";"))
    return {name: value for name, value in directives}


def test_the_page_hosts_the_widget_with_the_rasa_address(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert re.search(r'<script src="/static/widget.js" data-rasa-url="http://localhost:5005" defer>', response.text)
    assert "not legal advice" in response.text


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/static/widget.js", "javascript"), ("/static/widget.css", "text/css"), ("/static/page.css", "text/css")],
)
def test_the_widget_files_are_served(client: TestClient, path: str, kind: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert kind in response.headers["content-type"]


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ["/", "/static/widget.js", "/missing", "/health"]:
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "content-security-policy" in headers


def test_the_content_security_policy_allows_only_what_the_widget_needs(client: TestClient) -> None:
    csp = policy(client.get("/").headers["content-security-policy"])
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert csp["style-src"] == "'self'"  # no inline style
    assert csp["connect-src"] == RASA  # the widget talks to the Rasa server and nothing else
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert "unsafe" not in client.get("/").headers["content-security-policy"]


def test_an_unknown_page_is_a_plain_text_404_that_shows_the_path_as_text(client: TestClient) -> None:
    response = client.get("/<script>alert(1)</script>")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert "Not found" in response.text


def test_a_wrong_method_is_a_405(client: TestClient) -> None:
    response = client.post("/", content=b"x")
    assert response.status_code == 405
    assert "405" in response.text


def test_the_page_escapes_what_it_shows() -> None:
    # from_env refuses such an address; the template escapes it anyway (autoescape is on).
    hostile = 'http://x"><script>alert(1)</script>'
    response = TestClient(create_app(WebConfig(rasa_public_url=hostile))).get("/")
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert 'data-rasa-url="http://x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text


@pytest.mark.parametrize(
    "value",
    [
        "localhost:5005",
        "javascript:alert(1)",
        "ftp://example.org",
        "http://",
        "http://example.org/path",
        "http://example.org/?q=1",
        "http://exa mple.org",
        "http://example.org;script-src *",
        'http://example.org"><script>',
    ],
)
def test_an_unusable_rasa_address_is_refused_with_the_variable_named(value: str) -> None:
    with pytest.raises(ConfigError, match="VISAFAQ_RASA_PUBLIC_URL"):
        WebConfig.from_env({"VISAFAQ_RASA_PUBLIC_URL": value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:5005/", "http://localhost:5005"),
        ("https://chat.example.org", "https://chat.example.org"),
        ("http://[::1]:5005", "http://[::1]:5005"),
    ],
)
def test_a_rasa_address_is_normalised(value: str, expected: str) -> None:
    assert public_url(value, "X") == expected


def test_the_rasa_address_defaults_to_rasa_port_on_localhost() -> None:
    assert WebConfig.from_env({}).rasa_public_url == "http://localhost:5005"
    assert WebConfig.from_env({"RASA_PORT": "6000"}).rasa_public_url == "http://localhost:6000"


def test_more_routes_can_be_mounted_and_get_the_headers() -> None:
    async def hello(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    client = TestClient(create_app(WebConfig(rasa_public_url=RASA), extra_routes=[Route("/extra", hello)]))
    response = client.get("/extra")
    assert response.text == "hello"
    assert response.headers["x-frame-options"] == "DENY"


def test_a_policy_set_by_a_mounted_app_is_kept() -> None:
    async def own_policy(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Content-Security-Policy": "default-src 'self'"})

    client = TestClient(create_app(WebConfig(rasa_public_url=RASA), extra_routes=[Route("/own", own_policy)]))
    assert client.get("/own").headers["content-security-policy"] == "default-src 'self'"


def test_content_security_policy_replaces_named_directives() -> None:
    csp = policy(content_security_policy(connect_src="https://rasa.example", img_src="'self' data:"))
    assert csp["connect-src"] == "https://rasa.example"
    assert csp["img-src"] == "'self' data:"
    assert csp["default-src"] == "'none'"


def test_the_site_make_run_serves_has_the_staff_dashboard_behind_its_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from visafaq.web.app import create_site

    monkeypatch.setenv("VISAFAQ_DATABASE_URL", f"sqlite:///{tmp_path}/visafaq.sqlite3")
    monkeypatch.setenv("VISAFAQ_TRACKER_URL", f"sqlite:///{tmp_path}/tracker.sqlite3")
    monkeypatch.setenv("STAFF_SECRET_KEY", "a test key")
    with TestClient(create_site()) as site:
        assert site.get("/").status_code == 200
        queue = site.get("/staff/", follow_redirects=False)
        assert queue.status_code in {302, 303, 401} and "transcript" not in queue.text.lower()
        login = site.get("/staff/login")
        assert login.status_code == 200 and 'name="csrf"' in login.text
        # The dashboard keeps its own policy (its forms post to itself), not the widget page's.
        assert policy(login.headers["content-security-policy"])["form-action"] == "'self'"
