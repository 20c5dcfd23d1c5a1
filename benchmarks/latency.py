"""Speed and size of the assistant on this machine: REST round trips, throughput, start-up, memory,
training time.

- Start-up: the action server and the Rasa server are launched `--startups` times (default 3) on
  free loopback ports with a fresh knowledge store and tracker store; each launch records seconds
  from spawn to ready (action server `/health` 200, Rasa `/status` 200 with the trained model).
- Round trips: on the last launch, after a warm-up, `--messages` REST messages (default 200) per
  concurrency setting (default 1 and 10 concurrent conversations), from asyncio + httpx over
  loopback. Each worker is one user: it sends its next message when the previous reply has come,
  and starts a new conversation every `--conversation-length` messages (default 5), so sessions
  start as they do in real use. Messages are the questions of benchmarks/questions.yml, in turn,
  each with a new `message_id` as the widget sends (`--no-message-ids`: without).
  Reported: p50/p95/p99 and mean latency, messages per second (messages / wall time), errors.
- Memory: VmRSS from /proc/<pid>/status of each server and its children, when idle after start-up
  and after the load runs.
- Training: `rasa train --force` once, with the Makefile's command, into a temporary directory with
  a cold training cache (RASA_CACHE_DIRECTORY), and its peak resident memory.

Every loop is bounded in count and in time. The client shares the machine's 2 cores with the
servers, as a co-located proxy would.

Usage: .venv/bin/python benchmarks/latency.py [--messages N] [--concurrency 1 10] [--skip-train]
Writes benchmarks/results/latency.json; benchmarks/report.py turns it into RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml

import common
from visafaq.settings import PROJECT_ROOT

#: Used when benchmarks/questions.yml is absent (latency does not depend on which questions).
FALLBACK_MESSAGES = (
    "what documents do I need for the trainee visa?",
    "how long does the CoE take for the engineer visa?",
    "can my family come with me on SSW 1?",
    "how many trainees can a company take?",
    "can I change my employer as a technical intern?",
    "do I need Japanese for the specified skilled worker visa?",
    "can a student work part time during an internship?",
    "what replaces the technical intern training program?",
)
WARMUP_MESSAGES = 10
REQUEST_TIMEOUT = 60.0
#: Upper bound on one load run, whatever --messages says.
RUN_DEADLINE = 15 * 60.0
TRAIN_TIMEOUT = 45 * 60.0
RASA_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def messages(path: Path) -> tuple[list[str], str]:
    if path.exists():
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found = [str(q["question"]) for q in document.get("questions", []) if q.get("question")]
        if found:
            return found, str(path.relative_to(PROJECT_ROOT))
    return list(FALLBACK_MESSAGES), "built-in list (benchmarks/questions.yml absent)"


def percentiles(latencies: Sequence[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    values = np.asarray(latencies, dtype=np.float64) * 1000.0
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "mean": round(float(values.mean()), 2),
        "max": round(float(values.max()), 2),
    }


async def load_run(
    rasa_url: str,
    texts: Sequence[str],
    total: int,
    concurrency: int,
    conversation_length: int,
    message_ids: bool = True,
) -> dict[str, Any]:
    """`total` messages from `concurrency` users at once; latencies in milliseconds. Each message
    carries a `message_id`, as the widget's do (the REST channel then looks for it among the
    conversation's stored messages, to answer a retry once): `message_ids=False` leaves it out."""
    run_id = uuid.uuid4().hex[:8]
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + RUN_DEADLINE
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(
        base_url=rasa_url, timeout=REQUEST_TIMEOUT, limits=limits
    ) as client:

        async def user(worker: int) -> None:
            sent = 0
            while time.monotonic() < deadline:
                index = next(counter)
                if index >= total:
                    return
                conversation = sent // conversation_length
                body = {
                    "sender": f"bench-latency-{run_id}-c{concurrency}-u{worker}-{conversation}",
                    "message": texts[index % len(texts)],
                }
                if message_ids:
                    body["message_id"] = uuid.uuid4().hex
                started = time.perf_counter()
                try:
                    response = await client.post("/webhooks/rest/webhook", json=body)
                    response.raise_for_status()
                    response.json()
                except (httpx.HTTPError, ValueError) as error:
                    errors.append(f"{type(error).__name__}: {error}"[:200])
                else:
                    latencies.append(time.perf_counter() - started)
                sent += 1

        started = time.perf_counter()
        await asyncio.gather(*(user(w) for w in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "messages": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "wall_seconds": round(wall, 3),
        "messages_per_second": round(len(latencies) / wall, 2) if wall > 0 else None,
        "latency_ms": percentiles(latencies),
        "stopped_by_time_limit": len(latencies) + len(errors) < total,
    }


def memory(pids: dict[str, int]) -> dict[str, dict[str, int]]:
    found = {name: common.tree_rss(pid) for name, pid in pids.items()}
    found["total"] = {
        "processes": sum(m["processes"] for m in found.values()),
        "rss_bytes": sum(m["rss_bytes"] for m in found.values()),
    }
    return found


def measure_load(
    running: common.Running,
    texts: list[str],
    messages: int,
    concurrency: Sequence[int],
    conversation_length: int,
    message_ids: bool = True,
) -> list[dict[str, Any]]:
    """A warm-up, then `messages` REST messages at each concurrency, with each server's CPU time."""
    pids = running.assistant.pids()
    common.log(f"warm-up: {WARMUP_MESSAGES} messages")
    asyncio.run(load_run(running.rasa_url, texts, WARMUP_MESSAGES, 1, 5))
    runs = []
    for users in concurrency:
        common.log(f"{messages} messages, {users} concurrent conversation(s)")
        cpu_before = {name: common.tree_cpu_seconds(pid) for name, pid in pids.items()}
        run = asyncio.run(
            load_run(running.rasa_url, texts, messages, users, conversation_length, message_ids)
        )
        common.log(
            f"  p50 {run['latency_ms']['p50']} ms, p95 {run['latency_ms']['p95']} ms, "
            f"p99 {run['latency_ms']['p99']} ms, {run['messages_per_second']} msg/s, "
            f"{run['errors']} errors"
        )
        # CPU time each server spent per answered message: the service demand that bounds
        # throughput (cores / demand) and so latency under concurrent load.
        run["cpu_ms_per_message"] = {
            name: round(
                (common.tree_cpu_seconds(pid) - cpu_before[name]) * 1000 / run["messages"],
                2,
            )
            for name, pid in pids.items()
            if run["messages"]
        }
        runs.append(run)
    return runs


def serve_and_measure(args: argparse.Namespace, texts: list[str]) -> dict[str, Any]:
    startups: list[dict[str, float]] = []
    runs: list[dict[str, Any]] = []
    idle: dict[str, dict[str, int]] = {}
    after: dict[str, dict[str, int]] = {}
    for launch in range(1, args.startups + 1):
        with common.running_assistant(args.model) as running:
            startups.append(running.assistant.startup_seconds())
            if launch < args.startups:
                continue
            pids = running.assistant.pids()
            idle = memory(pids)
            runs = measure_load(
                running,
                texts,
                args.messages,
                args.concurrency,
                args.conversation_length,
                not args.no_message_ids,
            )
            after = memory(pids)
    return {
        "startup_seconds": {
            "launches": startups,
            "median": {
                name: round(float(np.median([s[name] for s in startups])), 3)
                for name in startups[0]
            },
        },
        "rest": runs,
        "memory": {"idle_after_startup": idle, "after_load": after},
    }


def train_command(out: Path) -> list[str]:
    """The Makefile's `$(MODEL)` recipe, with --force and another output directory."""
    return [
        str(PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"),
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain",
        "--data",
        "data",
        "--out",
        str(out),
        "--fixed-model-name",
        "visafaq",
        "--force",
    ]


def training(args: argparse.Namespace) -> dict[str, Any]:
    if args.skip_train:
        return {"not_run": "--skip-train"}
    with tempfile.TemporaryDirectory(prefix="visafaq-bench-train-") as tmp:
        out = Path(tmp) / "models"
        command = train_command(out)
        env = dict(os.environ) | RASA_ENV | {"RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache")}
        log_path = Path(tmp) / "train.log"
        common.log("training once: " + " ".join(command[1:]))
        started = time.monotonic()
        peak = 0
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
            try:
                while process.poll() is None:
                    if time.monotonic() - started > TRAIN_TIMEOUT:
                        process.kill()
                        process.wait()
                        return {"not_run": f"training took over {TRAIN_TIMEOUT:.0f} s; stopped"}
                    peak = max(peak, common.tree_rss(process.pid)["rss_bytes"])
                    time.sleep(0.5)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        seconds = time.monotonic() - started
        model = out / "visafaq.tar.gz"
        if process.returncode != 0 or not model.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            return {"not_run": f"rasa train exited {process.returncode}", "log_tail": tail}
        return {
            "seconds": round(seconds, 1),
            "source": "measured: rasa " + " ".join(command[1:]).replace(str(out), "<tmp>"),
            "peak_rss_bytes": peak,
            "model_bytes": model.stat().st_size,
            "cold_cache": True,
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=common.MODEL)
    parser.add_argument("--questions", type=Path, default=common.QUESTIONS)
    parser.add_argument("--messages", type=int, default=200, help="per concurrency setting")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--conversation-length", type=int, default=5)
    parser.add_argument("--startups", type=int, default=3, help="server launches timed")
    parser.add_argument("--skip-train", action="store_true", help="no training-time measurement")
    parser.add_argument(
        "--no-message-ids", action="store_true", help="send no message_id (the widget sends one)"
    )
    parser.add_argument("--output", type=Path, default=common.RESULTS_DIR / "latency.json")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 10_000 or not all(1 <= c <= 100 for c in args.concurrency):
        parser.error("--messages must be 1..10000 and each --concurrency 1..100")
    if not 1 <= args.startups <= 10 or args.conversation_length < 1:
        parser.error("--startups must be 1..10 and --conversation-length at least 1")
    common.stop_on_sigterm()

    texts, source = messages(args.questions)
    results: dict[str, Any] = {
        "run": common.run_info(" ".join(["benchmarks/latency.py", *(argv or sys.argv[1:])])),
        "settings": {
            "messages_per_setting": args.messages,
            "concurrency": args.concurrency,
            "conversation_length": args.conversation_length,
            "message_ids": not args.no_message_ids,
            "warmup_messages": WARMUP_MESSAGES,
            "message_source": source,
            "distinct_messages": len(texts),
        },
    }
    if common.wait_for_file(args.model, "the trained model"):
        results["model"] = {
            "path": common.shown(args.model),
            "bytes": args.model.stat().st_size,
        }
        results |= serve_and_measure(args, texts)
    else:
        results["not_run"] = f"no trained model at {args.model} after waiting 40 minutes"
    # After the servers are gone, so that training has the machine to itself.
    results["training"] = training(args)
    common.log(f"training: {results['training']}")
    common.write_json(args.output, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
