"""A stand-in for a messaging platform's API, on a free loopback port in the test process.

It records every request it receives (method, path, headers, parsed body) and answers through a
`responder` that imitates the platform's replies. Tests can make the next calls to a method fail with an
HTTP status, or hang for a while, to see what the Rasa server does when the platform misbehaves.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    """One request the stand-in received."""

    http_method: str
    path: str
    headers: dict[str, str]
    body: bytes
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The API method: the last part of the path (sendMessage, chat.postMessage, ...)."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


#: (status, JSON body) to answer a call with.
Responder = Callable[[Call], tuple[int, dict[str, Any]]]


@dataclass
class _Fault:
    method: str
    remaining: int
    status: int | None = None
    hang_seconds: float = 0.0


def parse_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """The request's parameters, whether sent as JSON, a URL-encoded form or a multipart form."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        parsed = json.loads(body or b"{}")
        return parsed if isinstance(parsed, dict) else {"_": parsed}
    if kind == "application/x-www-form-urlencoded":
        return {key: values[-1] for key, values in urllib.parse.parse_qs(body.decode("utf-8")).items()}
    if kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        return {
            str(part.get_param("name", header="content-disposition")): part.get_content()
            for part in message.iter_parts()
        }
    return {}


class StandIn:
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()  # lets hanging handlers go at shutdown
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                call = Call(
                    "POST",
                    urllib.parse.urlsplit(self.path).path,
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                    parse_fields(self.headers.get("Content-Type", ""), body),
                )
                status, answer = stand_in._answer(call)
                payload = json.dumps(answer).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="stand-in", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- programming failures -----------------------------------------------------------------------
    def fail(self, method: str, status: int, times: int = 1) -> None:
        """The next `times` calls to `method` get `status` and an error body."""
        with self._lock:
            self._faults.append(_Fault(method, times, status=status))

    def hang(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls to `method` wait `seconds` before answering (longer than the timeout)."""
        with self._lock:
            self._faults.append(_Fault(method, times, hang_seconds=seconds))

    def _answer(self, call: Call) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(call)
            fault = next((f for f in self._faults if f.method == call.method and f.remaining > 0), None)
            if fault:
                fault.remaining -= 1
        if fault and fault.hang_seconds:
            self._release.wait(fault.hang_seconds)
        if fault and fault.status:
            return fault.status, {"ok": False, "error_code": fault.status, "description": "stand-in failure"}
        return self.responder(call)

    # --- reading what was received ----------------------------------------------------------------------
    def received(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int, timeout: float = 30.0, since: int = 0) -> list[Call]:
        """The calls to `method` after the first `since`, once there are at least `count` of them;
        fails after `timeout` seconds (a bound, not a speed requirement)."""
        deadline = time.monotonic() + timeout
        calls: list[Call] = []
        while time.monotonic() < deadline:
            calls = self.received(method)[since:]
            if len(calls) >= count:
                return calls
            time.sleep(0.05)
        raise AssertionError(f"expected {count} {method} call(s) at the stand-in within {timeout} s, got {calls}")
