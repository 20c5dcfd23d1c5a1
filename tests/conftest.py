"""Shared fixtures: databases for the knowledge store on SQLite and on the real PostgreSQL server.

PostgreSQL tests run against VISAFAQ_TEST_POSTGRES_URL. When it cannot be reached they fail in CI
(CI=true, or VISAFAQ_REQUIRE_POSTGRES=1) and are skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from visafaq.db.engine import make_engine, normalise_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
#: Redis for the shared rate-limit tests (VISAFAQ_TEST_REDIS_URL); keys carry a prefix of their own per run.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def postgres_required() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or bool(os.environ.get("VISAFAQ_REQUIRE_POSTGRES"))


def _postgres_admin_url() -> str:
    return normalise_url(os.environ.get("VISAFAQ_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards. Fails in CI and
    skips elsewhere, with the reason, when the server cannot be reached."""
    admin_url = _postgres_admin_url()
    try:
        admin = make_engine(admin_url)
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect decides fail-or-skip below
        message = f"PostgreSQL at {make_url(admin_url).render_as_string()} unreachable: {error}"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`visafaq ARGV...` in process: its exit code, standard output and standard error."""
    from visafaq.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'visafaq.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param.replace('postgresql', 'postgres')}_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def redis_required() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or bool(os.environ.get("VISAFAQ_REQUIRE_REDIS"))


def redis_url_or_skip() -> str:
    """VISAFAQ_TEST_REDIS_URL when Redis answers; else the test fails in CI and is skipped, with the reason,
    elsewhere."""
    import redis

    url = os.environ.get("VISAFAQ_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis at {url} unreachable: {error}"
        if redis_required():
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return url
