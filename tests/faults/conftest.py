"""Private PostgreSQL and Redis servers that the fault tests may stop and start (never the shared ones).

Each is started once per test session on a free loopback port, with its data in a fresh temporary
directory, and always removed at the end. PostgreSQL runs as the `postgres` OS user when the tests run
as root (initdb refuses root). When one cannot be started, the tests that need it fail under CI=true
and are skipped elsewhere, with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import postgres_required
from tests.e2e.conftest import free_port

PG_BIN = Path(os.environ.get("VISAFAQ_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: Every wait for a server to stop or start is bounded by this.
SERVER_TIMEOUT_SECONDS = 60


def unavailable(message: str) -> None:
    if postgres_required():
        pytest.fail(message)
    pytest.skip(message)


class PrivatePostgres:
    """A PostgreSQL cluster of our own: `stop()` and `start()` it freely."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "postgres.log"
        self.port = port
        self.as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://root@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return subprocess.run(
            [*prefix, *command],
            capture_output=True,
            text=True,
            timeout=SERVER_TIMEOUT_SECONDS,
            check=False,
            cwd=self.root,
        )

    def _checked(self, *command: str) -> None:
        result = self._run(*command)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr or result.stdout}")

    def create(self) -> None:
        self.root.chmod(0o755)
        for directory in (self.data, self.sockets):
            directory.mkdir()
            if self.as_postgres:
                shutil.chown(directory, "postgres", "postgres")
        if self.as_postgres:
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        # A superuser named as the shared server's (root), trusted on this cluster's own sockets only.
        self._checked(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "root", "-A", "trust", "-E", "UTF8", "--no-sync"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._checked(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
            "-t", str(SERVER_TIMEOUT_SECONDS), "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._checked(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def running(self) -> bool:
        return self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status").returncode == 0

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


class PrivateRedis:
    """A Redis server of our own, without persistence: `stop()` and `start()` it freely."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.log = root / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + SERVER_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.process.returncode}); see {self.log}")
            if self.answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server on port {self.port} did not answer in {SERVER_TIMEOUT_SECONDS} s")

    def answers(self) -> bool:
        """PING in Redis's protocol (RESP), without a client library."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"*1\r\n$4\r\nPING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(SERVER_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="visafaq-pg-"))
    server = PrivatePostgres(root, free_port())
    try:
        if not (PG_BIN / "initdb").exists():
            unavailable(f"PostgreSQL binaries not found in {PG_BIN} (VISAFAQ_TEST_PG_BIN)")
        try:
            server.create()
            server.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            unavailable(f"could not start a private PostgreSQL: {error}")
        yield server
    finally:
        if server.data.exists() and server.running():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    root = Path(tempfile.mkdtemp(prefix="visafaq-redis-"))
    server = PrivateRedis(root, free_port())
    try:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed")
        try:
            server.start()
        except (RuntimeError, OSError) as error:
            unavailable(f"could not start a private Redis: {error}")
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
