"""What the benchmarks share: the real servers on free loopback ports, a bounded wait for files that
other steps produce, resident memory of a process tree, and the facts about the run (date, machine,
git commit) that every results file records.

Runs in .venv (Python 3.12) with the project root as the working directory; the scripts beside this
file import it as `common` (Python puts the script's folder first on sys.path).
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from visafaq.db.engine import make_engine
from visafaq.knowledge import store
from visafaq.launcher import Assistant, Ports, Settings, StartupError
from visafaq.settings import PROJECT_ROOT as PROJECT_ROOT  # re-exported for the other scripts

BENCH_DIR = PROJECT_ROOT / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
QUESTIONS = BENCH_DIR / "questions.yml"
MODEL = PROJECT_ROOT / "models" / "visafaq.tar.gz"
KNOWLEDGE = PROJECT_ROOT / "knowledge"
#: The day every answer is given for, so that results do not drift with the calendar.
BENCH_TODAY = os.environ.get("VISAFAQ_TODAY") or "2026-11-24"
#: Polling for files another step writes (questions.yml, the model): every 2 min, 40 min at most.
POLL_SECONDS = 120.0
POLL_LIMIT_SECONDS = 40 * 60.0
#: Intents that mean "not something this assistant answers".
OUT_OF_SCOPE_INTENTS = frozenset({"out_of_scope", "nlu_fallback"})


def today() -> date:
    return date.fromisoformat(BENCH_TODAY)


def shown(path: str | Path) -> str:
    """A path as the project sees it: relative to the project root when inside it, else as given
    (a model kept in /tmp for an A/B run)."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def stop_on_sigterm() -> None:
    """Turn SIGTERM (e.g. from `timeout`) into SystemExit, so `finally` blocks stop the servers."""

    def on_term(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)


def wait_for_file(
    path: Path,
    what: str,
    *,
    poll: float = POLL_SECONDS,
    limit: float = POLL_LIMIT_SECONDS,
) -> bool:
    """True once `path` exists; checks every `poll` seconds for at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while not path.exists():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            log(f"gave up waiting for {what} ({path}) after {limit / 60:.0f} min")
            return False
        log(f"waiting for {what} ({path}); next look in {min(poll, remaining):.0f} s")
        time.sleep(min(poll, remaining))
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- facts about the run -------------------------------------------------------------------------
def _memory_total_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def run_info(command: str) -> dict[str, Any]:
    """Date, machine, commit and command: recorded with every figure."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "answers_as_of": BENCH_TODAY,
        "command": command,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "machine": {
            "nproc": os.cpu_count(),
            "memory_bytes": _memory_total_bytes(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }


def to_json(value: Any, indent: int = 0) -> str:
    """Indented JSON in which lists of records (e.g. per-question results) keep one record to a
    line: readable, diff-friendly and a fraction of the size of fully indented JSON."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, Mapping) and value:
        items = [f"{inner}{json.dumps(str(k))}: {to_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        rows = [f"{inner}{json.dumps(v, ensure_ascii=False)}" for v in value]
        return "[\n" + ",\n".join(rows) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(data) + "\n", encoding="utf-8")
    log(f"wrote {path}")


# --- memory --------------------------------------------------------------------------------------
def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_bytes(pid: int) -> int:
    """VmRSS of one process, in bytes (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time one process has used, in seconds (0 when it is gone)."""
    try:
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children, summed."""
    return sum(cpu_seconds(p) for p in descendants(pid))


def tree_rss(pid: int) -> dict[str, int]:
    """Resident memory of a process and its children, summed (shared pages count in each)."""
    pids = descendants(pid)
    return {"processes": len(pids), "rss_bytes": sum(rss_bytes(p) for p in pids)}


# --- the servers ---------------------------------------------------------------------------------
class TimedAssistant(Assistant):
    """The launcher's Assistant, recording when each server was spawned and when it answered ready.

    Readiness is polled every 0.1 s here (the launcher polls every 0.5 s), then the launcher's own
    check runs and returns at once; its error handling is unchanged."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.spawned: dict[str, float] = {}
        self.ready: dict[str, float] = {}

    def _spawn(self, name: str, command: list[str]) -> None:
        self.spawned[name] = time.monotonic()
        super()._spawn(name, command)

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
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline and process.popen.poll() is None:
                try:
                    if client.get(url, headers=dict(headers or {})).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.ready[name] = time.monotonic()
        super()._wait_ready(name, url, max(1.0, deadline - time.monotonic()), headers, give_up_on)

    def startup_seconds(self) -> dict[str, float]:
        """Seconds from spawn to ready, per server, and from the first spawn to the last ready."""
        times = {name: self.ready[name] - self.spawned[name] for name in self.spawned}
        times["total"] = max(self.ready.values()) - min(self.spawned.values())
        return {name: round(seconds, 3) for name, seconds in times.items()}

    def pids(self) -> dict[str, int]:
        return {process.name: process.popen.pid for process in self.processes}


@dataclass
class Running:
    assistant: TimedAssistant
    rasa_url: str
    token: str
    database_url: str
    var: Path


@contextmanager
def running_assistant(model: Path = MODEL, timeout: float = 300.0) -> Iterator[Running]:
    """The action server and the Rasa server on free loopback ports, with a fresh SQLite knowledge
    store and tracker store in a temporary directory; stopped on exit, whatever happens."""
    if not model.exists():
        raise StartupError(f"no trained model at {model}")
    with tempfile.TemporaryDirectory(prefix="visafaq-bench-") as tmp:
        var = Path(tmp)
        database_url = f"sqlite:///{var / 'visafaq.sqlite3'}"
        store.load_directory(make_engine(database_url), KNOWLEDGE)
        settings = Settings(
            ports=Ports(rasa=free_port(), actions=free_port(), web=free_port()),
            token=secrets.token_urlsafe(24),
            model=model,
            var=var,
            extra_env={
                "VISAFAQ_DATABASE_URL": database_url,
                "VISAFAQ_TODAY": BENCH_TODAY,
                # One client asking thousands of questions: limits would measure themselves.
                "VISAFAQ_RATE_LIMIT_SENDER": "off",
                "VISAFAQ_RATE_LIMIT_ADDRESS": "off",
            },
        )
        assistant = TimedAssistant(settings)
        log(f"starting the action server and the Rasa server (model {model.name})")
        try:
            assistant.start(timeout=timeout)
            log(f"servers ready: {assistant.startup_seconds()}")
            yield Running(
                assistant,
                f"http://127.0.0.1:{settings.ports.rasa}",
                settings.token,
                database_url,
                var,
            )
        finally:
            assistant.stop()
            log("servers stopped")
