"""Several Rasa replicas behind nginx on one machine: the production profile, to try out and to test.

`visafaq run-cluster --replicas 2` (`make run-cluster REPLICAS=2`) starts, against the PostgreSQL and
Redis that the environment names:

- per replica, an action server and a Rasa server (deploy/endpoints.production.yml: SQL tracker store
  on PostgreSQL, RedisLockStore), all on the same model, on free loopback ports;
- one web app (widget page, staff dashboard) on the same PostgreSQL;
- nginx, unprivileged, from a prefix under var/cluster/ with a config rendered from
  deploy/nginx.conf.j2: REST round-robin across the replicas, socket.io sticky by client address.

It reuses the launcher's Assistant (one per replica, plus one for the web app and nginx). The
replicas start side by side, since each takes most of a minute to load the model.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import jinja2
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from visafaq.launcher import Assistant, Ports, Settings, StartupError, StopRequest, tail
from visafaq.settings import PROJECT_ROOT

ENDPOINTS = "deploy/endpoints.production.yml"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.j2"
#: Where nginx listens (CLUSTER_PORT).
DEFAULT_PORT = 8088
DEFAULT_KEY_PREFIX = "visafaq"
MAX_REPLICAS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Redis ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    db: int
    password: str
    key_prefix: str

    @classmethod
    def from_url(cls, url: str, key_prefix: str = DEFAULT_KEY_PREFIX) -> RedisTarget:
        """redis://[:password@]host[:port][/db]; the variable's name is in every error."""
        parts = urlsplit(url)
        where = "VISAFAQ_REDIS_URL"
        if parts.scheme != "redis" or not parts.hostname:
            raise StartupError(f"{where} must look like redis://[:password@]host[:port][/db]")
        try:
            port = parts.port or 6379
        except ValueError as error:
            raise StartupError(f"{where} has a bad port: {error}") from None
        db_text = parts.path.strip("/") or "0"
        if not db_text.isdigit():
            raise StartupError(f"{where}: the database after the host must be a number, not {db_text!r}")
        if not key_prefix.isalnum():
            raise StartupError(f"VISAFAQ_REDIS_KEY_PREFIX={key_prefix!r} must be letters and digits only")
        return cls(parts.hostname, port, int(db_text), unquote(parts.password or ""), key_prefix)

    def environment(self) -> dict[str, str]:
        """The variables deploy/endpoints.production.yml reads."""
        return {
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.port),
            "REDIS_DB": str(self.db),
            "REDIS_PASSWORD": self.password,
            "REDIS_KEY_PREFIX": self.key_prefix,
        }

    def url(self) -> str:
        """The whole URL, password included: for the processes' environment, never for a log line."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"

    def client(self, timeout: float = 3.0) -> redis.Redis:
        return redis.Redis(
            host=self.host,
            port=self.port,
            db=self.db,
            password=self.password or None,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )

    def delete_keys(self) -> int:
        """Delete every key under this target's prefix (the lock store's, the limits', the channels')."""
        client = self.client()
        try:
            keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
            deleted: int = client.delete(*keys) if keys else 0  # type: ignore[assignment]
            return deleted
        finally:
            client.close()

    def __str__(self) -> str:  # never the password
        return f"redis://{self.host}:{self.port}/{self.db}"


# --- settings --------------------------------------------------------------------------------------
def _postgres_url(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise StartupError(f"{name} is not set: the cluster needs PostgreSQL, e.g. {name}=postgresql://user@host/db")
    try:
        backend = make_url(value).get_backend_name()
    except Exception:  # SQLAlchemy's ArgumentError and friends: say which variable
        raise StartupError(f"{name} is not a database URL") from None
    if backend != "postgresql":
        raise StartupError(f"{name} must name PostgreSQL (several replicas cannot share {backend})")
    return value


@dataclass
class ClusterSettings:
    replicas: int
    database_url: str
    tracker_url: str
    redis: RedisTarget
    port: int = DEFAULT_PORT
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    token_generated: bool = True
    model: Path = PROJECT_ROOT / "models" / "visafaq.tar.gz"
    var: Path = PROJECT_ROOT / "var" / "cluster"
    #: Reaches every process (e.g. VISAFAQ_TODAY in tests).
    extra_env: dict[str, str] = field(default_factory=dict)
    client_max_body_size: str = "64k"
    read_timeout: str = "60s"

    @classmethod
    def from_env(cls, replicas: int, env: Mapping[str, str] | None = None) -> ClusterSettings:
        env = os.environ if env is None else env
        if not 1 <= replicas <= MAX_REPLICAS:
            raise StartupError(f"--replicas must be 1..{MAX_REPLICAS}, not {replicas}")
        redis_url = env.get("VISAFAQ_REDIS_URL", "")
        if not redis_url:
            raise StartupError(
                "VISAFAQ_REDIS_URL is not set: the replicas share a Redis lock store, "
                "e.g. VISAFAQ_REDIS_URL=redis://127.0.0.1:6379/1"
            )
        port = env.get("CLUSTER_PORT", str(DEFAULT_PORT))
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise StartupError(f"CLUSTER_PORT={port!r} is not a port number")
        token = env.get("RASA_TOKEN", "")
        settings = cls(
            replicas=replicas,
            database_url=_postgres_url(env, "VISAFAQ_DATABASE_URL"),
            tracker_url=_postgres_url(env, "VISAFAQ_TRACKER_URL"),
            redis=RedisTarget.from_url(redis_url, env.get("VISAFAQ_REDIS_KEY_PREFIX") or DEFAULT_KEY_PREFIX),
            port=int(port),
        )
        if token:
            settings.token, settings.token_generated = token, False
        if env.get("VISAFAQ_MODEL"):
            settings.model = Path(env["VISAFAQ_MODEL"])
        return settings


def check_dependencies(settings: ClusterSettings) -> None:
    """PostgreSQL (both URLs) and Redis answer; otherwise a StartupError naming the variable."""
    from visafaq.db.engine import make_engine

    for name, url in (("VISAFAQ_DATABASE_URL", settings.database_url), ("VISAFAQ_TRACKER_URL", settings.tracker_url)):
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # any failure to connect: name the variable and the server
            shown = make_url(url).render_as_string(hide_password=True)
            reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
            raise StartupError(f"{name}: PostgreSQL at {shown} is unreachable: {reason}") from None
        finally:
            engine.dispose()
    client = settings.redis.client()
    try:
        client.ping()
    except redis.RedisError as error:
        raise StartupError(f"VISAFAQ_REDIS_URL: Redis at {settings.redis} is unreachable: {error}") from None
    finally:
        client.close()


def nginx_binary() -> str:
    found = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).is_file():
        raise StartupError("nginx is not installed: `make nginx` installs Debian's package")
    return found


@dataclass(frozen=True)
class Replica:
    name: str
    port: int
    actions_port: int


def render_nginx_config(
    settings: ClusterSettings, replicas: list[Replica], web_port: int, prefix: Path, logs: Path
) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(NGINX_TEMPLATE.parent),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return environment.get_template(NGINX_TEMPLATE.name).render(
        replicas=replicas,
        web_port=web_port,
        port=settings.port,
        prefix=str(prefix),
        logs=str(logs),
        client_max_body_size=settings.client_max_body_size,
        read_timeout=settings.read_timeout,
    )


# --- the processes ---------------------------------------------------------------------------------
class Cluster:
    """N replicas (action server + Rasa server each), one web app and nginx, as child processes."""

    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        s = settings
        public_url = os.environ.get("VISAFAQ_RASA_PUBLIC_URL", f"http://localhost:{s.port}")
        self.shared_env = {
            # Behind nginx on this machine: the client's address is the X-Forwarded-For that nginx sets.
            "VISAFAQ_TRUSTED_PROXIES": os.environ.get("VISAFAQ_TRUSTED_PROXIES", "127.0.0.1/32"),
            # One count of each rate limit for all replicas, and one memory of seen Telegram/Slack events.
            "VISAFAQ_RATE_LIMIT_REDIS_URL": os.environ.get("VISAFAQ_RATE_LIMIT_REDIS_URL", s.redis.url()),
            "VISAFAQ_RATE_LIMIT_PREFIX": f"{s.redis.key_prefix}:ratelimit:",
            "VISAFAQ_REDIS_URL": s.redis.url(),
            "VISAFAQ_REDIS_KEY_PREFIX": s.redis.key_prefix,
            "VISAFAQ_DATABASE_URL": s.database_url,
            "VISAFAQ_TRACKER_URL": s.tracker_url,
            "VISAFAQ_RASA_PUBLIC_URL": public_url,
            **s.redis.environment(),
            **s.extra_env,
        }
        self.replicas = [Replica(f"rasa-{i}", free_port(), free_port()) for i in range(1, s.replicas + 1)]
        self.assistants = [
            Assistant(
                Settings(
                    ports=Ports(rasa=r.port, actions=r.actions_port, web=s.port),
                    token=s.token,
                    model=s.model,
                    var=s.var / r.name,
                    extra_env=dict(self.shared_env),
                    endpoints=ENDPOINTS,
                )
            )
            for r in self.replicas
        ]
        self.web_port = free_port()
        self.front = Assistant(
            Settings(
                ports=Ports(rasa=s.port, actions=0, web=self.web_port),
                token=s.token,
                model=s.model,
                var=s.var,
                extra_env=dict(self.shared_env),
            )
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def upstream_names(self) -> dict[str, str]:
        """What nginx's X-Upstream header says ("127.0.0.1:<port>") → the replica's name."""
        return {f"127.0.0.1:{r.port}": r.name for r in self.replicas}

    def replica(self, name: str) -> Assistant:
        return self.assistants[[r.name for r in self.replicas].index(name)]

    def start(self, timeout: float = 300.0) -> None:
        s = self.settings
        if not s.model.exists():
            raise StartupError(f"no trained model at {s.model}: run `make train` first")
        nginx = nginx_binary()
        check_dependencies(s)
        self._load_knowledge()
        try:
            for assistant in self.assistants:
                assistant.spawn_backend()
            self.front.start_web(timeout)
            for assistant in self.assistants:
                assistant.wait_backend(timeout)
            self.front.start_process("nginx", self._nginx_command(nginx), f"{self.url}/nginx-health", 30)
        except BaseException:
            self.stop()
            raise

    def _load_knowledge(self) -> None:
        from visafaq.db.engine import make_engine
        from visafaq.knowledge import store
        from visafaq.settings import knowledge_dir

        engine = make_engine(self.settings.database_url)
        try:
            store.prepare(engine)
            if store.is_stale(engine, knowledge_dir()):
                store.load_directory(engine, knowledge_dir())
        finally:
            engine.dispose()

    def _nginx_command(self, nginx: str) -> list[str]:
        prefix = self.settings.var / "nginx"
        for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / folder).mkdir(parents=True, exist_ok=True)
        config = prefix / "nginx.conf"
        config.write_text(
            render_nginx_config(self.settings, self.replicas, self.web_port, prefix, self.settings.var),
            encoding="utf-8",
        )
        # -e: the error log before the config is read (nginx's built-in one is under /var/log).
        return [nginx, "-p", f"{prefix}/", "-c", str(config), "-e", str(self.settings.var / "nginx-error.log")]

    def stop(self) -> None:
        """nginx and the web app first (no new requests), then every replica."""
        self.front.stop()
        for assistant in self.assistants:
            assistant.stop()

    def crashed(self) -> str | None:
        for assistant in [self.front, *self.assistants]:
            process = assistant.crashed()
            if process:
                return f"{process.name} ({process.log}):\n{tail(process.log)}"
        return None


def run_cluster_forever(settings: ClusterSettings) -> int:
    """`make run-cluster`: start everything, print where to talk to it, stop everything on Ctrl-C."""
    cluster = Cluster(settings)
    stop = StopRequest()
    print(
        f"Starting {settings.replicas} Rasa replica(s) with their action servers, the web app and nginx "
        f"(tracker store {make_url(settings.tracker_url).render_as_string(hide_password=True)}, "
        f"lock store {settings.redis}; about a minute)...",
        flush=True,
    )
    try:
        cluster.start()
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    url = f"http://localhost:{settings.port}"
    replicas = "\n".join(
        f"  {r.name}: Rasa 127.0.0.1:{r.port}, actions 127.0.0.1:{r.actions_port}, logs {settings.var / r.name}/"
        for r in cluster.replicas
    )
    print(
        f"\nvisafaq cluster is running behind nginx at {url}\n"
        f"  Chat:    {url}/ (the widget page)\n"
        f"  Staff:   {url}/staff/\n"
        f"  REST:    curl -si -X POST {url}/webhooks/rest/webhook "
        f'-H \'Content-Type: application/json\' -d \'{{"sender": "me", "message": "hello"}}\' '
        f"(X-Upstream names the replica)\n"
        f"  Health:  {url}/health (a replica), {url}/nginx-health (nginx)\n"
        f"{replicas}\n"
        f"  nginx:   {settings.var}/nginx/nginx.conf, logs {settings.var}/nginx-access.log\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    if settings.token_generated:
        print(f"  RASA_TOKEN was not set; the replicas' HTTP API token is: {settings.token}", flush=True)
    while not stop.requested:
        crashed = cluster.crashed()
        if crashed:
            print(f"error: {crashed}", file=sys.stderr)
            cluster.stop()
            return 1
        time.sleep(0.5)
    print("\nStopping...", flush=True)
    cluster.stop()
    return 0
