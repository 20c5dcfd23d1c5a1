"""Start the assistant's processes together, wait until each is ready, stop them all together.

`make run` uses this (as `visafaq run`), and so do the end-to-end tests. The Rasa server runs from the
Rasa environment (.venv-rasa); the action server and the web app (widget page) from ours. Ports and
secrets come from the environment; the Rasa HTTP API always gets a token (a fresh one when RASA_TOKEN
is unset).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import make_url

from visafaq import channel_config
from visafaq.ratelimit import DEFAULT_MAX_BODY_BYTES, LimitConfigError, LimitSettings
from visafaq.settings import PROJECT_ROOT

#: Thread-pool sizes of TensorFlow and OpenBLAS, set to 1 for the servers unless already set.
THREAD_POOL_VARIABLES = ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS", "OMP_NUM_THREADS")


class StartupError(RuntimeError):
    """A process exited or did not become ready in time; the message says which and why."""


@dataclass(frozen=True)
class Ports:
    rasa: int = 5005
    actions: int = 5055
    web: int = 8000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        def port(name: str, default: int) -> int:
            value = env.get(name, str(default))
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise StartupError(f"{name}={value!r} is not a port number")
            return int(value)

        return cls(
            port("RASA_PORT", cls.rasa),
            port("ACTIONS_PORT", cls.actions),
            port("WEB_PORT", cls.web),
        )


@dataclass
class Settings:
    root: Path = PROJECT_ROOT
    ports: Ports = field(default_factory=Ports)
    token: str = ""
    token_generated: bool = False
    model: Path = PROJECT_ROOT / "models" / "visafaq.tar.gz"
    #: Rasa's endpoints file (action server, tracker store, lock store): absolute, or relative to `root`.
    endpoints: Path | str = "endpoints.yml"
    var: Path = PROJECT_ROOT / "var"
    extra_env: dict[str, str] = field(default_factory=dict)
    #: Origins whose pages may call the Rasa server from a browser (the widget's pages). None by default.
    cors: tuple[str, ...] = ()
    #: Where the Rasa server listens (RASA_INTERFACE): loopback unless a deployment says otherwise,
    #: since its HTTP API holds every conversation (behind the token).
    interface: str = "127.0.0.1"
    #: Where the action server listens (ACTIONS_INTERFACE): anyone who reaches it can run actions (file a
    #: hand-off, read the knowledge store), and only the Rasa server needs to.
    actions_interface: str = "127.0.0.1"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        token = env.get("RASA_TOKEN", "")
        settings = cls(
            ports=Ports.from_env(env),
            token=token or secrets.token_urlsafe(24),
            token_generated=not token,
        )
        # WEB_ORIGINS: space- or comma-separated. The default covers the widget page as `make run` prints it.
        web = settings.ports.web
        origins = env.get("WEB_ORIGINS", f"http://localhost:{web} http://127.0.0.1:{web}")
        settings.cors = tuple(origins.replace(",", " ").split())
        if env.get("VISAFAQ_MODEL"):
            settings.model = Path(env["VISAFAQ_MODEL"])
        settings.interface = env.get("RASA_INTERFACE", settings.interface)
        settings.actions_interface = env.get("ACTIONS_INTERFACE", settings.actions_interface)
        return settings


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


class Assistant:
    """The action server, the Rasa server and the web app, as child processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: list[Process] = []
        self.channels: channel_config.ChannelPlan | None = None

    # --- the commands ---------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        env.setdefault("VISAFAQ_DATABASE_URL", f"sqlite:///{s.var / 'visafaq.sqlite3'}")
        env.update(
            {
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        # TensorFlow's and OpenBLAS's thread pools spin between operations, and a Rasa server handles one
        # message at a time: one thread each halves its CPU time per message, and is no slower
        # (benchmarks/threads_ab.py). A deployment may still name its own.
        for name in THREAD_POOL_VARIABLES:
            env.setdefault(name, "1")
        # rasa-sdk has no --interface option; its Sanic server reads SANIC_HOST (Rasa ignores it).
        env["SANIC_HOST"] = s.actions_interface
        # The action server beside this Rasa server, unless the deployment names another.
        env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{s.ports.actions}/webhook")
        env.update(s.extra_env)
        # One setting for Rasa's tracker store and for the staff reports that read it.
        env.setdefault("VISAFAQ_TRACKER_URL", f"sqlite:///{s.var / 'tracker.sqlite3'}")
        env["TRACKER_STORE_URL"] = rasa_database_url(env["VISAFAQ_TRACKER_URL"])
        env.update(channel_config.rasa_environment(env))
        # Where browsers reach the Rasa server (the widget page names it); differs behind a proxy.
        env.setdefault("VISAFAQ_RASA_PUBLIC_URL", f"http://localhost:{s.ports.rasa}")
        # The largest request body the Rasa server reads (Sanic's own default is 100 MB); Sanic takes its
        # settings from SANIC_* variables when the app is made. One knob for both servers: VISAFAQ_MAX_BODY_BYTES.
        env.setdefault("SANIC_REQUEST_MAX_SIZE", env.get("VISAFAQ_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES)))
        return env

    def limits(self) -> LimitSettings:
        """The rate and size limits the servers will use (README, "Limits"); a StartupError when unusable."""
        try:
            return LimitSettings.from_env(self.environment())
        except LimitConfigError as error:
            raise StartupError(str(error)) from error

    def action_server_command(self) -> list[str]:
        python = self.settings.root / ".venv" / "bin" / "python"
        return [
            str(python),
            "-m",
            "rasa_sdk",
            "--actions",
            "actions",
            "--port",
            str(self.settings.ports.actions),
        ]

    def rasa_command(self) -> list[str]:
        s = self.settings
        rasa = s.root / ".venv-rasa" / "bin" / "rasa"
        return [
            str(rasa),
            "run",
            "--enable-api",
            f"--auth-token={s.token}",  # one argument: a token may start with "-"
            "--model",
            str(s.model),
            "--interface",
            s.interface,
            "--port",
            str(s.ports.rasa),
            "--endpoints",
            str(s.endpoints),
            "--credentials",
            str(s.var / "credentials.yml"),
            *(["--cors", *s.cors] if s.cors else []),
        ]

    def web_command(self) -> list[str]:
        python = self.settings.root / ".venv" / "bin" / "python"
        return [
            str(python),
            "-m",
            "uvicorn",
            "--factory",
            "visafaq.web.app:create_site",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.settings.ports.web),
            "--no-server-header",
            # The client's address is decided by visafaq.ratelimit.client_address (VISAFAQ_TRUSTED_PROXIES),
            # not by uvicorn, which otherwise believes X-Forwarded-For from 127.0.0.1.
            "--no-proxy-headers",
        ]

    # --- starting and stopping --------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> None:
        s = self.settings
        self.limits()  # a mistyped limit stops here, before anything starts
        check_model(s.model)
        s.var.mkdir(parents=True, exist_ok=True)
        self.start_actions(timeout)
        self.write_credentials()
        self.start_rasa(timeout)
        self.start_web(timeout)

    def write_credentials(self) -> None:
        """credentials.yml's channels whose variables are set (see visafaq/channel_config.py)."""
        s = self.settings
        self.channels = channel_config.write_effective_credentials(
            s.root / "credentials.yml", s.var / "credentials.yml", self.environment()
        )

    def spawn_backend(self) -> None:
        """Spawn the action server and the Rasa server without waiting for them (several replicas
        then start side by side); `wait_backend` waits. The Rasa server needs its action server only
        when a message comes."""
        s = self.settings
        check_model(s.model)
        s.var.mkdir(parents=True, exist_ok=True)
        self.write_credentials()
        self._spawn("actions", self.action_server_command())
        self._spawn("rasa", self.rasa_command())

    def wait_backend(self, timeout: float = 180.0) -> None:
        s = self.settings
        self._wait_ready("actions", f"http://127.0.0.1:{s.ports.actions}/health", timeout)
        self._wait_ready("rasa", f"http://127.0.0.1:{s.ports.rasa}/status?token={s.token}", timeout)

    def start_web(self, timeout: float = 180.0) -> None:
        self._spawn("web", self.web_command())
        self._wait_ready("web", f"http://127.0.0.1:{self.settings.ports.web}/health", timeout)

    def start_actions(self, timeout: float = 180.0) -> None:
        """Start the action server (again, after `stop_process("actions")`) and wait until it answers."""
        self._spawn("actions", self.action_server_command())
        self._wait_ready("actions", f"http://127.0.0.1:{self.settings.ports.actions}/health", timeout)

    def start_rasa(self, timeout: float = 180.0) -> None:
        """Start the Rasa server (again, after `stop_process("rasa")`) and wait until it has a model."""
        s = self.settings
        check_model(s.model)
        self._spawn("rasa", self.rasa_command())
        # Rasa's token authentication reads the `token` query parameter. A model Rasa cannot load leaves
        # the server running without one: its log says why, and that ends the wait.
        self._wait_ready(
            "rasa", f"http://127.0.0.1:{s.ports.rasa}/status?token={s.token}", timeout, give_up_on=MODEL_REJECTED
        )

    def start_process(self, name: str, command: list[str], ready_url: str, timeout: float = 180.0) -> None:
        """Another child process (e.g. nginx), logged to var/<name>.log, ready when `ready_url` is 200."""
        self.settings.var.mkdir(parents=True, exist_ok=True)
        self._spawn(name, command)
        self._wait_ready(name, ready_url, timeout)

    def freeze_process(self, name: str) -> None:
        """SIGSTOP one process and its children: it accepts no more work and answers nothing, as a
        hung process would, until it is killed (SIGKILL ends a stopped process too)."""
        for process in [p for p in self.processes if p.name == name]:
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGSTOP)

    def kill_process(self, name: str) -> None:
        """SIGKILL one process and its children at once, as a crash would (no graceful shutdown)."""
        for process in [p for p in self.processes if p.name == name]:
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait(15)
            self.processes.remove(process)

    def stop_process(self, name: str, grace: float = 15.0) -> None:
        """Stop one of the processes (the others keep running), e.g. to see how the rest copes without it."""
        for process in [p for p in self.processes if p.name == name]:
            _terminate(process, grace)
            self.processes.remove(process)

    def _spawn(self, name: str, command: list[str]) -> None:
        log_path = self.settings.var / f"{name}.log"
        log_file = log_path.open("wb")  # one run per file: the tail shown on failure is this run's
        popen = subprocess.Popen(
            command,
            cwd=self.settings.root,
            env=self.environment(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(Process(name, popen, log_path))

    def _wait_ready(
        self,
        name: str,
        url: str,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        give_up_on: tuple[str, ...] = (),
    ) -> None:
        process = next(p for p in self.processes if p.name == name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                self.stop()
                raise StartupError(
                    f"the {name} server exited during start-up; see {process.log}:\n" + tail(process.log)
                )
            reason = _log_line(process.log, give_up_on)
            if reason:
                self.stop()
                raise StartupError(f"the {name} server cannot start: {reason}\n(see {process.log})")
            try:
                request = urllib.request.Request(url, headers=dict(headers or {}))
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise StartupError(f"the {name} server was not ready after {timeout:.0f} s; see {process.log}")

    def stop(self, grace: float = 15.0) -> None:
        """Stop every process: all are sent SIGTERM at once, then each gets what is left of `grace`."""
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.popen.wait(remaining)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
        self.processes.clear()

    def crashed(self) -> Process | None:
        return next((p for p in self.processes if p.popen.poll() is not None), None)


#: What Rasa 3.6 logs when it cannot load the model it was given (rasa/core/agent.py); it then keeps
#: running without a model, so the wait for /status would only time out.
MODEL_REJECTED = ("Could not load model due to", "No valid model found at")


def check_model(path: Path) -> None:
    """Stop start-up with a clear message unless `path` looks like a model Rasa trained: a gzip-compressed
    tar archive with Rasa's metadata.json (what Rasa still rejects, e.g. another version, it says itself)."""
    hint = "run `make train` to train one"
    if not path.is_file():
        raise StartupError(f"no trained model at {path}: {hint}")
    try:
        with tarfile.open(path, "r:gz") as archive:
            names = ("metadata.json", "./metadata.json", "/metadata.json")
            member = next((m for m in archive if m.name in names and m.isfile()), None)
            metadata_file = archive.extractfile(member) if member else None
            raw = metadata_file.read() if metadata_file else None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        reason = f"not a gzip-compressed tar archive: {error}"
        raise StartupError(f"{path} is not a Rasa model ({reason}); {hint}") from error
    if raw is None:
        raise StartupError(f"{path} is not a Rasa model (the archive has no metadata.json); {hint}")
    try:
        metadata = json.loads(raw)
    except ValueError as error:
        raise StartupError(f"{path} is not a Rasa model (its metadata.json is not JSON: {error}); {hint}") from error
    if not isinstance(metadata, dict) or not metadata.get("rasa_open_source_version"):
        raise StartupError(f"{path} is not a Rasa model (its metadata.json names no Rasa version); {hint}")


def _log_line(path: Path, markers: tuple[str, ...]) -> str | None:
    """The first line of the log that contains one of `markers`, without its timestamp and logger."""
    if not markers:
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        for marker in markers:
            if marker in line:
                return line[line.index(marker) :].strip()
    return None


def rasa_database_url(url: str) -> str:
    """The same database for Rasa's SQLAlchemy 1.4, which has psycopg2 where we have psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _terminate(process: Process, grace: float) -> None:
    if process.popen.poll() is None:
        os.killpg(process.popen.pid, signal.SIGTERM)
    try:
        process.popen.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait()


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class StopRequest:
    """Set by SIGINT or SIGTERM (Ctrl-C, a supervisor's stop): the run loops then stop what they started."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True


def run_forever(settings: Settings) -> int:
    """`make run`: start everything, print where to talk to it, stop everything on Ctrl-C."""
    assistant = Assistant(settings)
    stop = StopRequest()
    print("Starting the action server, the Rasa server and the web app (about 20-40 s)...", flush=True)
    try:
        assistant.start()
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if assistant.channels:
        print("Channels:\n" + "\n".join(f"  {line}" for line in assistant.channels.summary()), flush=True)
    p = settings.ports
    print(
        f"\nvisafaq is running.\n"
        f"  Chat:    http://localhost:{p.web}/ (the widget page)\n"
        f"  Staff:   http://localhost:{p.web}/staff/ (log in; create a user: visafaq staff add-user NAME)\n"
        f"  REST:    curl -s -X POST http://localhost:{p.rasa}/webhooks/rest/webhook "
        f'-H \'Content-Type: application/json\' -d \'{{"sender": "me", "message": "hello"}}\'\n'
        f"  Rasa HTTP API: http://localhost:{p.rasa} (add ?token=<RASA_TOKEN> to every request)\n"
        f"  Logs:    {settings.var}/rasa.log, {settings.var}/actions.log, {settings.var}/web.log\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    if settings.token_generated:
        print(f"  RASA_TOKEN was not set; this run's token is: {settings.token}", flush=True)
    while not stop.requested:
        crashed = assistant.crashed()
        if crashed:
            print(
                f"error: the {crashed.name} server stopped; see {crashed.log}:\n{tail(crashed.log)}",
                file=sys.stderr,
            )
            assistant.stop()
            return 1
        time.sleep(0.5)
    print("\nStopping...", flush=True)
    assistant.stop()
    return 0


#: `visafaq serve` runs one of these in the foreground, for a process supervisor (deploy/systemd/).
SERVED = ("actions", "rasa", "web")


def serve_plan(name: str, settings: Settings, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command and environment of one process, as `make run` would start it, for `visafaq serve`.
    With VISAFAQ_REDIS_URL set, Rasa gets the lock store's variables (deploy/endpoints.production.yml)."""
    if name not in SERVED:
        raise StartupError(f"no such process {name!r}: one of {', '.join(SERVED)}")
    settings.extra_env = {**env, **settings.extra_env}  # `env` is the process's environment in `serve`
    assistant = Assistant(settings)
    assistant.limits()
    environment = assistant.environment()
    if env.get("VISAFAQ_REDIS_URL"):
        from visafaq.cluster import DEFAULT_KEY_PREFIX, RedisTarget

        target = RedisTarget.from_url(
            env["VISAFAQ_REDIS_URL"], env.get("VISAFAQ_REDIS_KEY_PREFIX") or DEFAULT_KEY_PREFIX
        )
        environment.update({key: value for key, value in target.environment().items() if key not in env})
    if name == "actions":
        return assistant.action_server_command(), environment
    if name == "web":
        return assistant.web_command(), environment
    check_model(settings.model)
    settings.var.mkdir(parents=True, exist_ok=True)
    assistant.write_credentials()
    return assistant.rasa_command(), environment


def serve(name: str, env: Mapping[str, str] | None = None) -> None:
    """Replace this process with one server (the supervisor then sees and signals the server itself)."""
    env = os.environ if env is None else env
    settings = Settings.from_env(env)
    if env.get("VISAFAQ_ENDPOINTS"):
        settings.endpoints = env["VISAFAQ_ENDPOINTS"]
    if settings.token_generated and name == "rasa":
        raise StartupError("RASA_TOKEN is not set: a supervised Rasa server needs a token of its own")
    command, environment = serve_plan(name, settings, env)
    os.chdir(settings.root)
    os.execvpe(command[0], command, environment)
