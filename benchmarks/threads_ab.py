"""Thread pools of the Rasa server: the launcher's one thread each against the libraries' defaults.

TensorFlow (DIET, the MiniLM encoder) and OpenBLAS (numpy) each start a pool of threads the size
of the machine and keep them spinning between operations. A Rasa server handles one message at a
time on its event loop, so those pools add CPU time but little speed; on 2 cores the spinning takes
the core another process needs. visafaq/launcher.py therefore sets TF_INTRA_OP_PARALLELISM_THREADS,
TF_INTER_OP_PARALLELISM_THREADS and OMP_NUM_THREADS to 1 unless the environment names them.

This script measures that choice: the assistant is started with each setting in turn (interleaved,
`--rounds` times, so that a change in the machine's load falls on both), and each launch answers
`--messages` REST messages at 1 and at 10 concurrent conversations (benchmarks/latency.py's load).
Reported per launch: p50/p95 latency, messages per second, CPU ms per message of each server.

Usage: VISAFAQ_TODAY=2026-11-24 .venv/bin/python benchmarks/threads_ab.py [--rounds 2]
Writes benchmarks/results/threads_ab.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import common
import latency
from visafaq.launcher import THREAD_POOL_VARIABLES as THREAD_VARIABLES

#: As in benchmarks/latency.py's default load.
CONVERSATION_LENGTH = 5
#: "0" lets TensorFlow size its pools to the machine, as when the variables are unset; OpenBLAS's
#: default is one thread per core.
VARIANTS: dict[str, dict[str, str]] = {
    "one thread each (launcher default)": dict.fromkeys(THREAD_VARIABLES, "1"),
    "library defaults": {
        "TF_INTRA_OP_PARALLELISM_THREADS": "0",
        "TF_INTER_OP_PARALLELISM_THREADS": "0",
        "OMP_NUM_THREADS": str(os.cpu_count() or 1),
    },
}


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """The launcher copies os.environ into the servers' environment, so a variant is set there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def one_launch(model: Path, texts: list[str], messages: int) -> list[dict[str, Any]]:
    with common.running_assistant(model) as running:
        return latency.measure_load(running, texts, messages, (1, 10), CONVERSATION_LENGTH)


def summary(launches: list[dict[str, Any]]) -> dict[str, Any]:
    by_users: dict[str, Any] = {}
    for run in (run for launch in launches for run in launch["runs"]):
        entry = by_users.setdefault(
            str(run["concurrency"]),
            {"p50_ms": [], "p95_ms": [], "msg_per_s": [], "rasa_cpu_ms": []},
        )
        entry["p50_ms"].append(run["latency_ms"]["p50"])
        entry["p95_ms"].append(run["latency_ms"]["p95"])
        entry["msg_per_s"].append(run["messages_per_second"])
        entry["rasa_cpu_ms"].append(run["cpu_ms_per_message"]["rasa"])
    return {
        users: {name: round(statistics.median(values), 1) for name, values in entry.items()}
        for users, entry in by_users.items()
    }


def section(results: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    """The A/B for RESULTS.md (benchmarks/report.py), or nothing when it has not been run."""
    if not results or "variants" not in results:
        return []
    run = results["run"]
    out = [
        "### Thread pools of the Rasa server",
        "",
        f"`VISAFAQ_TODAY={run['answers_as_of']} .venv/bin/python {run['command']}` "
        f"Run {run['date']}, "
        f"commit {(run['git_commit'] or '?')[:12]}: the assistant launched with each setting in "
        f"turn, {results['settings']['rounds']} times, {results['settings']['messages']} messages "
        "per concurrency each; medians over the launches.",
        "",
        "| setting | concurrent | p50 ms | p95 ms | msg/s | Rasa CPU ms per message |",
        "|---|---|---|---|---|---|",
    ]
    for name, variant in results["variants"].items():
        for users, figures in variant["median"].items():
            out.append(
                f"| {name} | {users} | {figures['p50_ms']} | {figures['p95_ms']} | "
                f"{figures['msg_per_s']} | {figures['rasa_cpu_ms']} |"
            )
    out.append("")
    ours, defaults = (variant["median"] for variant in results["variants"].values())
    for users in sorted(ours.keys() & defaults.keys(), key=int):
        a, b = ours[users], defaults[users]
        cpu = a["rasa_cpu_ms"] / b["rasa_cpu_ms"]
        p95 = a["p95_ms"] / b["p95_ms"]
        throughput = a["msg_per_s"] / b["msg_per_s"]
        out.append(
            f"- {users} concurrent: Rasa CPU per message {cpu:.2f}x, p95 {p95:.2f}x, "
            f"throughput {throughput:.2f}x "
            "(one thread each against the defaults)"
        )
    out.append("")
    summary["thread_pools_ab"] = {name: v["median"] for name, v in results["variants"].items()}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=common.MODEL)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--output", type=Path, default=common.RESULTS_DIR / "threads_ab.json")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 5 or not 1 <= args.messages <= 2000:
        parser.error("--rounds must be 1..5 and --messages 1..2000")
    common.stop_on_sigterm()
    texts, source = latency.messages(common.QUESTIONS)
    launches: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    for round_number in range(1, args.rounds + 1):
        for name, values in VARIANTS.items():
            common.log(f"round {round_number}: {name} {values}")
            with environment(values):
                launches[name].append(
                    {
                        "round": round_number,
                        "runs": one_launch(args.model, texts, args.messages),
                    }
                )
    results = {
        "run": common.run_info(" ".join(["benchmarks/threads_ab.py", *(argv or sys.argv[1:])])),
        "settings": {
            "messages": args.messages,
            "rounds": args.rounds,
            "conversation_length": CONVERSATION_LENGTH,
            "message_source": source,
        },
        "variants": {
            name: {"environment": VARIANTS[name], "launches": runs, "median": summary(runs)}
            for name, runs in launches.items()
        },
    }
    common.write_json(args.output, results)
    for name, variant in results["variants"].items():
        common.log(f"{name}: {variant['median']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
