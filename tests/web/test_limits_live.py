"""Limits of the web app as `make run` serves it (uvicorn, started by the launcher), on the package's running
stack: what only a real HTTP server shows (header size, paths exactly as written, body size over the wire)."""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import Stack


def raw(stack: Stack, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] = {}) -> tuple[int, str]:
    """One request exactly as written (a client library would normalise the path); (0, why) if hung up."""
    url = urlsplit(stack.page_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", errors="replace")
    except (ConnectionError, http.client.HTTPException) as error:
        return 0, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def alive(stack: Stack) -> bool:
    return raw(stack, "GET", "/health") == (200, "ok")


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/app.py",
        "/static/%2e%2e%2f%2e%2e%2fapp.py",
        "/static/..%2fapp.py",
        "/static/..%5capp.py",
        "/staff/static/../app.py",
        "/staff/static/%2e%2e/%2e%2e/app.py",
        "/static/%ff%fe.js",
        "/static/widget.js%00.html",
    ],
)
def test_paths_outside_the_static_folders_are_not_served(stack: Stack, path: str) -> None:
    status, body = raw(stack, "GET", path)
    assert status in {400, 404}, (status, body[:200])
    assert "def create_app" not in body and "root:" not in body
    assert alive(stack)


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Padding", "a" * 70_000), ("Cookie", "visafaq_staff=" + "b" * 70_000)],
    ids=["huge-header", "huge-cookie"],
)
def test_a_huge_header_is_refused_and_the_web_app_stays_up(stack: Stack, header: str, value: str) -> None:
    status, body = raw(stack, "GET", "/", headers={header: value})
    assert status in {0, 400, 413, 431}, (status, body[:200])
    assert "<html" not in body
    assert alive(stack)


def test_an_oversized_form_post_over_the_wire_gets_413(stack: Stack) -> None:
    body = b"csrf=x&username=" + b"a" * 200_000
    status, text = raw(stack, "POST", "/staff/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413 and "larger than 65536 bytes" in text
    assert alive(stack)


def test_a_content_length_that_lies_is_refused(stack: Stack) -> None:
    status, _text = raw(stack, "POST", "/staff/login", b"a=b", {"Content-Length": "-5"})
    assert status in {0, 400}
    assert alive(stack)
