"""The real servers, started once for the end-to-end tests: the trained model, the action server and
the Rasa server on free loopback ports, with a fresh SQLite knowledge store and tracker store."""

from __future__ import annotations

import json
import os
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_REDIS_URL
from visafaq.db.engine import make_engine
from visafaq.knowledge import store
from visafaq.launcher import Assistant, Ports, Settings
from visafaq.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Server:
    rasa_url: str
    token: str
    database_url: str
    tracker_url: str
    var: Path
    #: The processes behind it, to stop and start one of them (tests/faults/).
    assistant: Assistant | None = None

    def request(
        self,
        path: str,
        body: bytes | None = None,
        method: str = "POST",
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        request = urllib.request.Request(
            f"{self.rasa_url}{path}",
            data=body,
            method=method,
            headers={"Content-Type": content_type, **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Response(response.status, response.read().decode("utf-8"), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode("utf-8", errors="replace"), dict(error.headers))

    def say(self, sender: str, message: str) -> list[dict[str, object]]:
        response = self.request("/webhooks/rest/webhook", json.dumps({"sender": sender, "message": message}).encode())
        assert response.status == 200, response.body
        replies = response.json()
        assert isinstance(replies, list)
        return replies

    def alive(self) -> bool:
        return self.request("/", method="GET").status == 200


def texts(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(reply.get("text", "")) for reply in replies)


@contextmanager
def running_assistant(
    var: Path,
    extra_env: Mapping[str, str] | None = None,
    *,
    database_url: str | None = None,
    tracker_url: str | None = None,
    endpoints: Path | None = None,
) -> Iterator[Server]:
    """The action server and the Rasa server on free ports, with a fresh knowledge store (SQLite files
    under `var` unless other databases are given); `extra_env` reaches both (e.g. to switch a
    messaging channel on); `endpoints` replaces endpoints.yml (e.g. PostgreSQL and Redis stores)."""
    model = PROJECT_ROOT / "models" / "visafaq.tar.gz"
    if not model.exists():
        pytest.fail(f"no trained model at {model}: `make test` trains it first (make train)")
    database_url = database_url or f"sqlite:///{var / 'visafaq.sqlite3'}"
    tracker_url = tracker_url or f"sqlite:///{var / 'tracker.sqlite3'}"
    store.load_directory(make_engine(database_url), PROJECT_ROOT / "knowledge")
    settings = Settings(
        ports=Ports(rasa=free_port(), actions=free_port(), web=free_port()),
        token=secrets.token_urlsafe(16),
        model=model,
        var=var,
        endpoints=endpoints or "endpoints.yml",
        extra_env={
            "VISAFAQ_DATABASE_URL": database_url,
            "VISAFAQ_TRACKER_URL": tracker_url,
            "VISAFAQ_TODAY": "2026-11-24",
            **(extra_env or {}),
        },
    )
    assistant = Assistant(settings)
    assistant.start(timeout=240)
    try:
        yield Server(
            f"http://127.0.0.1:{settings.ports.rasa}", settings.token, database_url, tracker_url, var, assistant
        )
    finally:
        assistant.stop()


#: The shared server's limits (tests/e2e/test_limits.py exceeds them). The per-sender window is short so a
#: test can wait for it to end; every other test uses a sender of its own and stays well under 20 per 5 s.
#: The address limit is high because every test here comes from 127.0.0.1; the rate-limit tests use
#: addresses of their own through X-Forwarded-For, which the server trusts from 127.0.0.1 only.
E2E_LIMITS = {
    "VISAFAQ_RATE_LIMIT_SENDER": "20/5s",
    "VISAFAQ_RATE_LIMIT_ADDRESS": "600/minute",
    "VISAFAQ_TRUSTED_PROXIES": "127.0.0.1",
    "VISAFAQ_RATE_LIMIT_PREFIX": f"visafaq-test:{secrets.token_hex(6)}:",
    # Shared through Redis, as replicas would; when Redis is down the server counts on its own (fail-open),
    # and the Redis test itself fails under CI=true (tests/e2e/test_limits.py).
    "VISAFAQ_RATE_LIMIT_REDIS_URL": os.environ.get("VISAFAQ_TEST_REDIS_URL", DEFAULT_REDIS_URL),
}


# Package scope: stopped when these tests end, so other packages' servers never run beside them.
@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_assistant(tmp_path_factory.mktemp("e2e-var"), E2E_LIMITS) as running:
        yield running
