"""One Rasa replica against two, behind nginx, on PostgreSQL and Redis: throughput, latency, memory,
and where one message's time goes.

- For 1 and then 2 replicas (`visafaq.cluster.Cluster`: each replica a Rasa server and its action
  server, one web app, nginx), on a fresh PostgreSQL database (created, dropped after) and a Redis
  key prefix of its own: after a warm-up, REST messages through nginx at 1, 10, 50 and 100
  concurrent conversations (latency.py's load_run: each user waits for its reply before its next
  message; max(--messages, 4 x concurrency) messages per setting). p50/p95/p99, messages per second.
- nginx's own share: request_time - upstream_response_time per request, from its access log.
- Memory: VmRSS of each process tree (Rasa, action server, web app, nginx) after the load.
- Profile: py-spy (from .venv-profile, not the Rasa environment) samples the one-replica Rasa
  process while it answers messages one at a time; samples are grouped by the part
  of the code nearest the leaf.

Usage: .venv/bin/python benchmarks/cluster_bench.py [--messages N] [--concurrency 1 10 50 100]
Needs PostgreSQL (VISAFAQ_TEST_POSTGRES_URL) and Redis (VISAFAQ_TEST_REDIS_URL) and nginx.
Writes benchmarks/results/cluster.json; report.py puts it in RESULTS.md with results/cluster.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from redis import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url

import common
import latency
from visafaq.cluster import Cluster, ClusterSettings, RedisTarget, free_port
from visafaq.db.engine import make_engine, normalise_url
from visafaq.settings import PROJECT_ROOT

POSTGRES_URL = os.environ.get(
    "VISAFAQ_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("VISAFAQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PY_SPY = PROJECT_ROOT / ".venv-profile" / "bin" / "py-spy"
PROFILE_SECONDS = 20
#: About as many as one replica answers one at a time in PROFILE_SECONDS.
PROFILE_MESSAGES = 250
#: What a sample was doing: the frame nearest the leaf whose file matches one of these (path parts).
PHASES = (
    ("TensorFlow (DIET intent/entities, TED policy)", ("/tensorflow/", "/keras/")),
    ("spaCy (tokens, lemmas, entity ruler)", ("/spacy/", "/thinc/")),
    ("numpy / scipy / scikit-learn", ("/numpy/", "/scipy/", "/sklearn/")),
    ("tracker store (SQLAlchemy, psycopg2)", ("/sqlalchemy/", "/psycopg2/")),
    ("lock store (Redis)", ("/redis/", "rasa/core/lock")),
    ("action server call (aiohttp)", ("/aiohttp/", "/yarl/", "/multidict/")),
    ("NLU pipeline (Rasa code)", ("rasa/nlu/", "rasa/utils/tensorflow/")),
    (
        "dialogue policies and featurizers (Rasa code)",
        ("rasa/core/policies/", "rasa/core/featurizers/"),
    ),
    ("graph engine (Rasa code)", ("rasa/engine/",)),
    ("tracker, events, slots (Rasa code)", ("rasa/shared/core/", "rasa/core/tracker")),
    ("message handling (Rasa processor, agent, channels)", ("rasa/core/", "/channels/")),
    (
        "HTTP server and event loop (Sanic, asyncio)",
        ("/sanic/", "/asyncio/", "/uvloop/", "/httptools/"),
    ),
)


def phase_of(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        for name, parts in PHASES:
            if any(part in frame for part in parts):
                return name
    return "other"


@contextmanager
def fresh_database() -> Iterator[str]:
    admin_url = normalise_url(POSTGRES_URL)
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"visafaq_bench_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def nginx_overhead_ms(access_log: Path) -> float | None:
    """Median of nginx's time on top of the replica's, in milliseconds, over the REST requests."""
    pattern = re.compile(r"request_time=([\d.]+) upstream_time=([\d.]+)$")
    gaps = []
    for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = pattern.search(line)
        if match and "/webhooks/rest/" in line:
            gaps.append((float(match.group(1)) - float(match.group(2))) * 1000.0)
    return round(statistics.median(gaps), 3) if gaps else None


def memory(cluster: Cluster) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for name, assistant in [
        ("front", cluster.front),
        *zip([r.name for r in cluster.replicas], cluster.assistants, strict=True),
    ]:
        for process in assistant.processes:
            found[f"{name}/{process.name}"] = common.tree_rss(process.popen.pid)
    return found


def profile(cluster: Cluster, texts: list[str]) -> dict[str, Any]:
    """py-spy samples of the Rasa process while it answers one message at a time."""
    if not PY_SPY.exists():
        return {"not_run": f"{PY_SPY.relative_to(PROJECT_ROOT)} is missing (make bench-cluster)"}
    pid = next(p.popen.pid for p in cluster.assistants[0].processes if p.name == "rasa")
    with tempfile.TemporaryDirectory(prefix="visafaq-profile-") as tmp:
        out = Path(tmp) / "profile.txt"
        spy = subprocess.Popen(
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(PROFILE_SECONDS),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(out),
                "--nonblocking",
                "--full-filenames",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        run = asyncio.run(latency.load_run(cluster.url, texts, PROFILE_MESSAGES, 1, 5))
        try:
            _, err = spy.communicate(timeout=PROFILE_SECONDS + 60)
        except subprocess.TimeoutExpired:
            spy.kill()
            return {"not_run": "py-spy did not finish"}
        if spy.returncode != 0 or not out.exists():
            return {"not_run": f"py-spy exited {spy.returncode}: {err.decode()[-300:]}"}
        stacks = out.read_text(encoding="utf-8", errors="replace").splitlines()
    phases: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    total = 0
    for line in stacks:
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        phases[phase_of(stack)] += count
        for frame in set(stack.split(";")):
            if "rasa/" in frame and "site-packages/rasa/" in frame:
                frames[re.sub(r" \(.*site-packages/", " (", frame)] += count
    return {
        "seconds": PROFILE_SECONDS,
        "rate_hz": 200,
        "messages": run["messages"],
        "latency_ms": run["latency_ms"],
        "samples": total,
        "phases": {name: round(100.0 * n / total, 1) for name, n in phases.most_common()}
        if total
        else {},
        "top_rasa_frames": [
            {"frame": frame, "share": round(100.0 * n / total, 1)}
            for frame, n in frames.most_common(12)
        ]
        if total
        else [],
    }


def measure(replicas: int, args: argparse.Namespace, texts: list[str]) -> dict[str, Any]:
    with (
        fresh_database() as database,
        tempfile.TemporaryDirectory(prefix="visafaq-cluster-") as tmp,
    ):
        redis = RedisTarget.from_url(REDIS_URL, key_prefix=f"bench{secrets.token_hex(4)}")
        settings = ClusterSettings(
            replicas=replicas,
            database_url=database,
            tracker_url=database,
            redis=redis,
            port=free_port(),
            model=args.model,
            var=Path(tmp),
            extra_env={"VISAFAQ_TODAY": common.BENCH_TODAY},
        )
        cluster = Cluster(settings)
        common.log(f"starting {replicas} replica(s) behind nginx")
        cluster.start(timeout=400)
        try:
            asyncio.run(
                latency.load_run(cluster.url, texts, latency.WARMUP_MESSAGES * replicas, 2, 5)
            )
            runs = []
            for concurrency in args.concurrency:
                total = max(args.messages, 4 * concurrency)
                run = asyncio.run(
                    latency.load_run(
                        cluster.url, texts, total, concurrency, args.conversation_length
                    )
                )
                common.log(
                    f"  {replicas} replica(s), {concurrency} concurrent: "
                    f"p50 {run['latency_ms']['p50']} ms, p95 {run['latency_ms']['p95']} ms, "
                    f"{run['messages_per_second']} msg/s, "
                    f"{run['errors']} errors"
                )
                runs.append(run)
            result: dict[str, Any] = {
                "replicas": replicas,
                "rest": runs,
                "memory_after_load": memory(cluster),
                "nginx_overhead_ms_median": nginx_overhead_ms(Path(tmp) / "nginx-access.log"),
            }
            if replicas == 1 and not args.skip_profile:
                result["profile"] = profile(cluster, texts)
                common.log(f"  profile: {result['profile'].get('phases')}")
            return result
        finally:
            cluster.stop()
            with suppress(RedisError):
                redis.delete_keys()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=common.MODEL)
    parser.add_argument("--questions", type=Path, default=common.QUESTIONS)
    parser.add_argument("--messages", type=int, default=200, help="at least, per setting")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50, 100])
    parser.add_argument("--conversation-length", type=int, default=5)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-profile", action="store_true")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only the setups measured now (same replica count) in --output",
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="only the profile (one replica), replacing the one in --output",
    )
    parser.add_argument("--output", type=Path, default=common.RESULTS_DIR / "cluster.json")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 10_000 or not all(1 <= c <= 100 for c in args.concurrency):
        parser.error("--messages must be 1..10000 and each --concurrency 1..100")
    common.stop_on_sigterm()
    texts, source = latency.messages(args.questions)
    if args.profile_only:
        previous: dict[str, Any] = json.loads(args.output.read_text(encoding="utf-8"))
        args.concurrency = []
        profiled = measure(1, args, texts)["profile"]
        for setup in previous["setups"]:
            if setup["replicas"] == 1:
                setup["profile"] = profiled | {
                    "run": common.run_info("benchmarks/cluster_bench.py --profile-only")
                }
        common.write_json(args.output, previous)
        return 0
    results: dict[str, Any] = {
        "run": common.run_info(" ".join(["benchmarks/cluster_bench.py", *(argv or sys.argv[1:])])),
        "settings": {
            "messages_per_setting": f"max({args.messages}, 4 x concurrency)",
            "concurrency": args.concurrency,
            "conversation_length": args.conversation_length,
            "message_source": source,
        },
        "setups": [measure(replicas, args, texts) for replicas in args.replicas],
    }
    if args.merge and args.output.exists():
        kept = json.loads(args.output.read_text(encoding="utf-8"))
        remeasured = {setup["replicas"] for setup in results["setups"]}
        for setup in results["setups"]:
            setup["run"] = results["run"]
        others = [s for s in kept["setups"] if s["replicas"] not in remeasured]
        kept["setups"] = sorted(others + results["setups"], key=lambda setup: setup["replicas"])
        results = kept
    common.write_json(args.output, results)
    plot(results, args.output.with_suffix(".png"))
    return 0


# --- for report.py ----------------------------------------------------------------------------
def plot(results: dict[str, Any], path: Path) -> bool:
    setups = results.get("setups") or []
    if not setups:
        return False
    figure = Figure(figsize=(10, 4), layout="constrained")
    rate, lat = figure.subplots(1, 2)
    for setup in setups:
        runs = setup["rest"]
        c = [run["concurrency"] for run in runs]
        label = f"{setup['replicas']} replica(s)"
        rate.plot(c, [run["messages_per_second"] or 0 for run in runs], marker="o", label=label)
        for name, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
            lat.plot(
                c,
                [run["latency_ms"][name] or 0 for run in runs],
                style,
                marker="o",
                label=f"{label} {name}",
            )
    for axes in (rate, lat):
        axes.set_xscale("log")
        axes.set_xlabel("concurrent conversations")
        axes.legend(fontsize=8)
    rate.set_ylabel("messages per second")
    rate.set_title("Throughput behind nginx")
    lat.set_yscale("log")
    lat.set_ylabel("REST round trip, ms")
    lat.set_title("Latency behind nginx")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return True


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def section(results: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    out = ["## Several replicas behind nginx", ""]
    if not results or not results.get("setups"):
        return [*out, "Not run: no `benchmarks/results/cluster.json` (`make bench-cluster`).", ""]
    run = results["run"]
    out += [
        f"`{run.get('command', 'benchmarks/cluster_bench.py')}` Run {run.get('date')}, commit "
        f"{(run.get('git_commit') or '?')[:12]}.",
        "",
        "Each setup: N Rasa replicas, each with its own action server, one web app and nginx "
        "(deploy/nginx.conf.j2, REST round-robin), on a fresh PostgreSQL database (tracker store, "
        "knowledge store) and Redis (lock store), all on this machine's 2 cores with the load "
        f"client. Messages per setting: {results['settings']['messages_per_setting']}; each user "
        "waits for its reply, a new conversation every "
        f"{results['settings']['conversation_length']} messages. The machine was shared with "
        "other engineers' test runs, so absolute figures are low and noisy; the ratios between "
        "setups, measured minutes apart, mean more (and the load of the other runs changed between "
        "setups too: a ratio above 2x is partly that).",
        "",
    ]
    rows = []
    by = {s["replicas"]: {r["concurrency"]: r for r in s["rest"]} for s in results["setups"]}
    for setup in results["setups"]:
        for r in setup["rest"]:
            ms = r["latency_ms"]
            rows.append(
                (
                    setup["replicas"],
                    r["concurrency"],
                    r["messages"],
                    ms["p50"],
                    ms["p95"],
                    ms["p99"],
                    r["messages_per_second"],
                    r["errors"],
                )
            )
    out += [
        "| replicas | concurrent | messages | p50 ms | p95 ms | p99 ms | msg/s | errors |",
        "|---|---|---|---|---|---|---|---|",
        *("| " + " | ".join(str(v) for v in row) + " |" for row in rows),
        "",
    ]
    if 1 in by and 2 in by:
        ratios = {
            c: (
                _ratio(by[2][c]["messages_per_second"], by[1][c]["messages_per_second"]),
                _ratio(by[2][c]["latency_ms"]["p50"], by[1][c]["latency_ms"]["p50"]),
            )
            for c in by[1]
            if c in by[2]
        }
        out += [
            "Two replicas against one, same concurrency (throughput; p50 latency): "
            + "; ".join(f"{c}: {t}, {p}" for c, (t, p) in ratios.items())
            + ".",
            "",
        ]
        summary["cluster_ratios_2_vs_1"] = ratios
    for setup in results["setups"]:
        overhead = setup.get("nginx_overhead_ms_median")
        out.append(
            f"- {setup['replicas']} replica(s): nginx's own time per request (median of "
            f"request_time - upstream_response_time): {overhead} ms."
        )
    out.append("")
    out += ["Resident memory after the load (VmRSS of each process and its children, MiB):", ""]
    for setup in results["setups"]:
        parts = [
            f"{name} {m['rss_bytes'] / 2**20:.0f}" for name, m in setup["memory_after_load"].items()
        ]
        total = sum(m["rss_bytes"] for m in setup["memory_after_load"].values()) / 2**20
        out.append(
            f"- {setup['replicas']} replica(s): " + ", ".join(parts) + f"; total {total:.0f}."
        )
    out.append("")
    prof = next((s.get("profile") for s in results["setups"] if s.get("profile")), None)
    if prof and "phases" in prof:
        out += [
            f"Where one message's time goes: py-spy sampled the one-replica Rasa process at "
            f"{prof['rate_hz']} Hz for {prof['seconds']} s while it answered {prof['messages']} "
            f"messages one at a time (p50 {prof['latency_ms']['p50']} ms through nginx); "
            f"{prof['samples']} samples of the busy thread, grouped by the first part found on "
            "the stack nearest the leaf (the code that was running, not its callers):",
            "",
            "| part | share of samples |",
            "|---|---|",
            *(f"| {name} | {share}% |" for name, share in prof["phases"].items()),
            "",
            "Rasa frames on most samples (inclusive; below the server's own start-up frames):",
            "",
            *(
                f"- `{f['frame']}`: {f['share']}%"
                for f in [f for f in prof["top_rasa_frames"] if f["share"] < 90][:8]
            ),
            "",
            *(
                f"Of note: Rasa checks every action server response against a JSON schema "
                f"(`{f['frame']}`, jsonschema) on {f['share']}% of the samples, more than NLU and "
                "policies together; the action calls themselves are loopback HTTP."
                for f in prof["top_rasa_frames"][:12]
                if "_validate_action_result" in f["frame"]
            ),
            "",
        ]
    elif prof:
        out += [f"Profile not run: {prof.get('not_run')}.", ""]
    out += ["![Throughput and latency, one and two replicas](results/cluster.png)", ""]
    out += hundred_times(results)
    summary["cluster"] = {
        str(s["replicas"]): {
            str(r["concurrency"]): {
                **r["latency_ms"],
                "messages_per_second": r["messages_per_second"],
            }
            for r in s["rest"]
        }
        for s in results["setups"]
    }
    return out


def hundred_times(results: dict[str, Any]) -> list[str]:
    """What 100x the measured load would need, from the figures above."""
    peaks = {
        s["replicas"]: max((r["messages_per_second"] or 0) for r in s["rest"])
        for s in results["setups"]
    }
    top = max(peaks, key=lambda n: peaks[n])
    per_replica = peaks[top] / top
    rasa_rss = [
        m["rss_bytes"] / 2**30
        for s in results["setups"]
        for name, m in s["memory_after_load"].items()
        if name.endswith("/rasa")
    ]
    rss = statistics.median(rasa_rss) if rasa_rss else 0.0
    target = 100 * peaks[top]
    replicas = int(-(-target // per_replica)) if per_replica else 0
    prof: dict[str, Any] = next(
        (s["profile"] for s in results["setups"] if (s.get("profile") or {}).get("phases")), {}
    )
    busiest = ", ".join(
        f"{name} {share}%" for name, share in list(prof.get("phases", {}).items())[:3]
    )
    overheads = [
        s["nginx_overhead_ms_median"]
        for s in results["setups"]
        if s.get("nginx_overhead_ms_median")
    ]
    nginx_ms = max(overheads) if overheads else None
    return [
        "**What 100x the load would need.** The best measured here is "
        f"{peaks[top]} messages/s ({top} replica(s) on 2 shared cores, about {per_replica:.1f} per "
        f"replica); 100x is about {target:.0f} messages/s. A replica is one Python process, so at "
        f"most one core (its busiest parts in the profile: {busiest or 'not profiled'}); that is "
        "roughly "
        f"{replicas} replica-cores at this rate (fewer on a quiet machine: see the REST section "
        f"above), e.g. {-(-replicas // 8)} hosts of 8 cores, "
        f"and about {rss:.1f} GiB of memory per replica (the model is loaded in each), so "
        f"{replicas * rss:.0f} GiB in all: several hosts behind a load balancer (nginx or the "
        "cloud's), replicas scaled on CPU, each with its action server or a shared pool of them. "
        "PostgreSQL would then take every message's tracker read (the whole conversation, "
        "read again on each turn) and its event inserts, about ten rows a turn: a pooler "
        "(PgBouncer) in front, since each replica's SQLAlchemy pool may open up to 150 connections "
        "(POSTGRESQL_POOL_SIZE 50 + POSTGRESQL_MAX_OVERFLOW 100), "
        "and old conversations purged (`visafaq triage purge`) or the events table partitioned; "
        "the staff reports on a read replica. Redis (one short lock per message) and nginx "
        f"(at most {nginx_ms} ms of its own per request here, on the overloaded machine; one "
        "worker does thousands of requests a second) are far from their limits at that rate. "
        "The model is loaded by each replica, so start-up takes about 45 s on a quiet machine "
        "and minutes on a busy one: scale out ahead of the load, not in answer to it.",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
