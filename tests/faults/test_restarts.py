"""One conversation while, in turn, the action server stops (and hangs), PostgreSQL and Redis stop, and each
starts again.

The Rasa server runs on the production stores: the SQL tracker store on PostgreSQL
(stores.trackers.SQLTrackerStore) and the Redis lock store (stores.locks.RedisLockStore), on private
servers (conftest.py); the knowledge store of the action server and the web app is on the same
PostgreSQL. While a dependency is down the person gets a clear answer (a reply saying the answer cannot
be looked up, or 503 with Retry-After that the widget keeps the message for); after each restart the
next message gets the same answer as before the fault, and every message that was taken is in the
tracker store exactly once, in order.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import Server, running_assistant
from tests.faults.conftest import PrivatePostgres, PrivateRedis
from visafaq.settings import PROJECT_ROOT

# The wording is the channels' (Rasa-side, not importable here); the test reads it from the source.
RENDERING = Path(__file__).resolve().parents[2] / "channels" / "rendering.py"
QUESTION = "what documents do I need for the trainee visa?"
REQUEST_TIMEOUT_SECONDS = 60
#: VISAFAQ_ACTION_TIMEOUT for this server: short, so that the hung action server costs the test little.
ACTION_TIMEOUT_SECONDS = 3
#: How long each message took, by step: a record for the report (a test artifact), never asserted on.
TIMINGS = PROJECT_ROOT / "results" / "faults" / "timings.json"


def wording(name: str) -> str:
    for line in RENDERING.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name} = "):
            value = json.loads(line.split(" = ", 1)[1])
            assert isinstance(value, str)
            return value
    raise AssertionError(f"{name} not found in {RENDERING}")


@dataclass
class Reply:
    status: int
    headers: Message
    body: object

    def texts(self) -> list[str]:
        assert isinstance(self.body, list), self.body
        return [str(message.get("text", "")) for message in self.body]


@dataclass
class Conversation:
    server: Server
    sender: str = field(default_factory=lambda: f"faults-{secrets.token_hex(6)}")
    #: The messages the server took (answered 200), in order: what the tracker store must hold.
    taken: list[str] = field(default_factory=list)
    timings: list[dict[str, object]] = field(default_factory=list)

    def say(self, message: str, step: str = "") -> Reply:
        request = urllib.request.Request(
            f"{self.server.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": self.sender, "message": message}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                reply = Reply(response.status, response.headers, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            reply = Reply(error.code, error.headers, json.loads(error.read() or b"null"))
        if step:
            self.timings.append({"step": step, "status": reply.status, "seconds": round(time.monotonic() - started, 3)})
        if reply.status == 200:
            self.taken.append(message)
        return reply

    def stored_user_messages(self) -> list[str]:
        engine = create_engine(self.server.tracker_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"),
                    {"sender": self.sender},
                )
                return [json.loads(row.data)["text"] for row in rows]
        finally:
            engine.dispose()


def web_ready(server: Server) -> int:
    assert server.assistant is not None
    url = f"http://127.0.0.1:{server.assistant.settings.ports.web}/ready"
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


ENDPOINTS = """\
action_endpoint:
  url: ${{ACTION_ENDPOINT_URL}}
tracker_store:
  type: stores.trackers.SQLTrackerStore
  url: ${{TRACKER_STORE_URL}}
lock_store:
  type: stores.locks.RedisLockStore
  url: 127.0.0.1
  port: {redis_port}
  db: 1
"""


@pytest.fixture(scope="module")
def production_server(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    var = tmp_path_factory.mktemp("faults-var")
    endpoints = var / "endpoints.yml"
    endpoints.write_text(ENDPOINTS.format(redis_port=private_redis.port), encoding="utf-8")
    database = private_postgres.create_database(f"visafaq_{secrets.token_hex(4)}")
    tracker = private_postgres.create_database(f"tracker_{secrets.token_hex(4)}")
    with running_assistant(
        var,
        {"VISAFAQ_ACTION_TIMEOUT": str(ACTION_TIMEOUT_SECONDS)},
        database_url=database,
        tracker_url=tracker,
        endpoints=endpoints,
    ) as server:
        yield server


def assert_unavailable_503(reply: Reply) -> None:
    assert reply.status == 503, reply
    assert reply.headers["Retry-After"] and reply.headers["Retry-After"].isdigit()
    assert isinstance(reply.body, dict)
    assert reply.body["message"] == wording("STORES_UNAVAILABLE_REPLY")


def test_a_conversation_survives_restarts_of_actions_postgres_and_redis(
    production_server: Server, private_postgres: PrivatePostgres, private_redis: PrivateRedis
) -> None:
    server = production_server
    assistant = server.assistant
    assert assistant is not None
    talk = Conversation(server)
    actions_unavailable = wording("ACTIONS_UNAVAILABLE_REPLY")

    assert talk.say("hello").status == 200
    before = talk.say(QUESTION, "answer, all up")
    assert before.status == 200
    baseline = before.texts()
    assert baseline and actions_unavailable not in baseline
    assert web_ready(server) == 200

    # The action server stops: the person is told, once; the conversation goes on when it is back.
    assistant.stop_process("actions")
    during = talk.say(QUESTION, "action server down")
    assert during.status == 200
    assert during.texts().count(actions_unavailable) == 1, during.texts()
    assistant.start_actions(timeout=120)
    assert talk.say(QUESTION, "first after action server restart").texts() == baseline

    # The action server hangs (its process group, Sanic's manager and worker, stopped by SIGSTOP): after
    # VISAFAQ_ACTION_TIMEOUT the person is told.
    actions = next(p for p in assistant.processes if p.name == "actions")
    os.killpg(actions.popen.pid, signal.SIGSTOP)
    try:
        hung = talk.say(QUESTION, "action server hung")
    finally:
        os.killpg(actions.popen.pid, signal.SIGCONT)
    assert hung.status == 200
    assert hung.texts().count(actions_unavailable) == 1, hung.texts()
    assert talk.say(QUESTION, "first after the action server resumed").texts() == baseline

    # PostgreSQL stops: messages get 503 with Retry-After (and nothing is stored); the web app is not ready.
    private_postgres.stop()
    try:
        assert_unavailable_503(talk.say(QUESTION, "PostgreSQL down"))
        assert web_ready(server) == 503
    finally:
        private_postgres.start()
    # The client sends the message again: the first message after the restart is answered as before.
    assert talk.say(QUESTION, "first after PostgreSQL restart").texts() == baseline
    assert web_ready(server) == 200

    # Redis stops: the same.
    private_redis.stop()
    try:
        assert_unavailable_503(talk.say(QUESTION, "Redis down"))
    finally:
        private_redis.start()
    assert talk.say(QUESTION, "first after Redis restart").texts() == baseline

    # A PostgreSQL restart with no message in between: the next message still finds the database.
    private_postgres.stop()
    private_postgres.start()
    assert talk.say(QUESTION, "first after a quiet PostgreSQL restart").texts() == baseline
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps(talk.timings, indent=1), encoding="utf-8")

    assert server.alive()
    assert talk.stored_user_messages() == talk.taken
    rasa_log = (server.var / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "Action server unavailable" in rasa_log
    assert f"no answer within {ACTION_TIMEOUT_SECONDS} s" in rasa_log
    assert "Conversation store unavailable" in rasa_log
    assert "Encountered an exception while running action" not in rasa_log
