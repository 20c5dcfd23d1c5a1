"""Turn the raw benchmark results into benchmarks/RESULTS.md, a summary and plots.

Reads benchmarks/results/accuracy.json (benchmarks/accuracy.py) and benchmarks/results/latency.json
(benchmarks/latency.py); either may be absent, and its sections then say so. Writes:
- benchmarks/results/summary.json: the headline figures and ratios, with the date, the machine
  (nproc, memory) and the git commit of this report and of each run;
- benchmarks/results/accuracy.png (accuracy per method), latency.png (percentiles per concurrency);
- benchmarks/RESULTS.md: a table per measurement, the command that produced it, ratios.

Usage: .venv/bin/python benchmarks/report.py
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure  # no pyplot: no GUI backend, Agg draws the PNG files

import cluster_bench
import common
import threads_ab

GIB = 1024**3
MIB = 1024**2
#: The assistant's goal for out-of-scope detection on CLINC150 (test + oos_test).
OOS_GOAL = 0.95
#: How the methods are shown, in order: (key in accuracy.json, label).
BASELINES = (
    ("tfidf", "TF-IDF"),
    ("tfidf+keywords", "TF-IDF + keywords"),
    ("bm25", "BM25"),
    ("bm25+keywords", "BM25 + keywords"),
    ("minilm", "MiniLM"),
    ("minilm+keywords", "MiniLM + keywords"),
)


def read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "n/a"
    if b == 0:
        return "n/a (baseline 0)" if a else "1.0x"
    return f"{a / b:.2f}x"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def command_line(run: dict[str, Any] | None) -> str:
    command = (run or {}).get("command") or "?"
    today = (run or {}).get("answers_as_of")
    return f"`{f'VISAFAQ_TODAY={today} ' if today else ''}.venv/bin/python {command}`"


def run_line(run: dict[str, Any] | None) -> str:
    if not run:
        return ""
    commit = (run.get("git_commit") or "?")[:12] + (
        " (uncommitted changes)" if run.get("git_dirty") else ""
    )
    return f"Run {run.get('date')}, commit {commit}, answers as of {run.get('answers_as_of')}."


# --- accuracy ------------------------------------------------------------------------------------
def methods(accuracy: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, label, summary) for the assistant (when run) and every baseline that ran."""
    found = []
    assistant = (accuracy.get("assistant") or {}).get("assistant")
    if assistant:
        found.append(("assistant", "visafaq assistant", assistant["summary"]))
    ran = (accuracy.get("baselines") or {}).get("methods") or {}
    found += [(key, label, ran[key]["summary"]) for key, label in BASELINES if key in ran]
    return found


def best_baseline(
    rows: list[tuple[str, str, dict[str, Any]]], family: str
) -> tuple[str, dict[str, Any]] | None:
    """The better of a family's two variants (text, text + keywords) by answer accuracy."""
    candidates = [(label, s) for key, label, s in rows if key.split("+")[0] == family]
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[1]["answer_accuracy"] or 0.0)


def accuracy_section(accuracy: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    out = ["## Answer accuracy", ""]
    if accuracy is None:
        return [*out, "Not run (no `benchmarks/results/accuracy.json`).", ""]
    rows = methods(accuracy)
    questions = accuracy["questions"]["count"]
    knowledge = accuracy["knowledge"]
    out += [
        command_line(accuracy.get("run")) + " " + run_line(accuracy.get("run")),
        "",
        f"{questions} questions from `{common.shown(accuracy['questions']['file'])}`. "
        "Baselines rank the "
        f"{knowledge['current_in_force']} facts that are current and in force on the day (of "
        f"{knowledge['facts']}), rendered with that day's parameter values; their answer is the "
        f"top {accuracy.get('top_k', 3)} facts' texts. The assistant's answer is its reply texts "
        "to the "
        "question sent as a new REST conversation (the opening disclaimer, the same for every "
        "conversation, is left out). An answer is right when it contains every key fact of the "
        "question (case-insensitive). Topic and programme: the top fact's (baselines) or the "
        "ones the assistant answered for (its `topic` and `programme` slots after the turn, so a "
        "programme it implied from the question's words counts; the parsed intent and programme "
        "entity where it set none, as after a fallback).",
        "",
    ]
    out += table(
        ["method", "answer accuracy", "key-fact recall", "topic", "programme", "right"],
        [
            (
                label,
                pct(s["answer_accuracy"]),
                pct(s["key_fact_recall"]),
                pct(s["topic_accuracy"]),
                pct(s["programme_accuracy"]),
                f"{s['correct']}/{s['questions']}",
            )
            for _key, label, s in rows
        ],
    )
    out.append("")
    assistant = next((s for key, _l, s in rows if key == "assistant"), None)
    ratios: dict[str, str] = {}
    if assistant:
        for family in ("tfidf", "bm25", "minilm"):
            best = best_baseline(rows, family)
            if best:
                label, s = best
                ratios[label] = ratio(assistant["answer_accuracy"], s["answer_accuracy"])
        if ratios:
            out.append(
                "Assistant vs baselines (answer accuracy, the better variant of each): "
                + "; ".join(f"vs {label}: {r}" for label, r in ratios.items())
                + "."
            )
            out.append("")
    else:
        reason = (accuracy.get("assistant") or {}).get("not_run", "not run")
        out += [f"The assistant was not measured: {reason}.", ""]
    not_run = (accuracy.get("baselines") or {}).get("not_run") or {}
    for key, reason in not_run.items():
        out += [f"Baseline `{key}` not run: {reason}", ""]
    coverage = accuracy.get("coverage") or {}
    if coverage.get("questions_with_key_facts_in_no_fact"):
        out += [
            f"{coverage['questions_with_key_facts_in_no_fact']} question(s) have key facts that no "
            "current fact contains (only the assistant's own wording can score them): "
            + ", ".join(f"`{q}`" for q in coverage["detail"]),
            "",
        ]
    out += [
        "Reading these figures: a baseline always answers at once with three facts from anywhere "
        "in the store; the assistant answers from one (programme, topic) and asks which programme "
        "when a question names none, which counts as wrong here (one turn per question). Some key "
        'facts are short (a digit, "not") and can be matched by chance by three facts\' texts.',
        "",
    ]
    kinds = ((accuracy.get("assistant") or {}).get("assistant") or {}).get("outcomes_by_kind")
    if kinds:
        out += [
            "Where the assistant's answers went (the first reason that applies; "
            '"asked which programme" means it replied with the programme buttons):',
            "",
        ]
        out += table(["outcome", "questions"], list(kinds.items()))
        out.append("")
    if assistant:
        wrong = [
            q
            for q in accuracy["assistant"]["assistant"]["per_question"]
            if not q["correct"] or not q["topic_ok"]
        ]
        if wrong:
            out += ["Questions the assistant got wrong (missing key facts; predicted intent):", ""]
            out += table(
                ["id", "missing", "intent", "programme"],
                [
                    (
                        q["id"],
                        "; ".join(q["detail"]["missing_key_facts"]) or "(all found)",
                        q["detail"]["intent"],
                        q["programme"] or "-",
                    )
                    for q in wrong[:40]
                ],
            )
            if len(wrong) > 40:
                out.append(f"| ... {len(wrong) - 40} more in results/accuracy.json | | | |")
            out.append("")
    out += ["![Accuracy per method](results/accuracy.png)", ""]
    summary["accuracy"] = {
        "questions": questions,
        "methods": {key: s for key, _label, s in rows},
        "assistant_vs": ratios,
    }
    return out


def oos_section(accuracy: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    out = ["## Out of scope (CLINC150)", ""]
    clinc = ((accuracy or {}).get("assistant") or {}).get("clinc")
    if not clinc or "not_run" in clinc:
        reason = (clinc or {}).get("not_run") or ((accuracy or {}).get("assistant") or {}).get(
            "not_run"
        )
        return [*out, f"Not run: {reason or 'no accuracy results'}.", ""]
    out += [
        command_line((accuracy or {}).get("run")),
        "",
        "Every query of CLINC150's `test` and `oos_test` splits (Larson et al., 2019; "
        f"{clinc['left_out']} left out) through `/model/parse`; out of scope = predicted "
        "`out_of_scope` or `nlu_fallback`. None of CLINC150's intents is about Japanese visas. "
        f"Goal: at least {pct(OOS_GOAL)} while keeping the questions in scope.",
        "",
    ]
    rows: list[tuple[object, ...]] = [
        (split, s["queries"], s["out_of_scope"], pct(s["out_of_scope_share"]))
        for split, s in clinc["splits"].items()
    ]
    combined = clinc["combined"]
    rows.append(
        (
            "**combined**",
            combined["queries"],
            combined["out_of_scope"],
            f"**{pct(combined['out_of_scope_share'])}**",
        )
    )
    own = clinc["excluding_own_intents"]
    rows.append(
        (
            "combined, less intents the assistant handles itself*",
            own["queries"],
            own["out_of_scope"],
            pct(own["out_of_scope_share"]),
        )
    )
    out += table(["split", "queries", "out of scope", "share"], rows)
    assistant = accuracy["assistant"]["assistant"]["summary"] if accuracy else {}
    in_scope = assistant.get("in_scope_rate")
    out += [
        "",
        f"\\* {', '.join(own['left_out'])}: the assistant answers greetings, thanks, yes/no and "
        '"are you a bot" itself.',
        "",
        f"In-scope rate on `benchmarks/questions.yml` (not predicted out of scope): "
        f"**{pct(in_scope)}** ({assistant.get('in_scope')}/{assistant.get('questions')}).",
        "",
        f"Goal met: {'yes' if (combined['out_of_scope_share'] or 0) >= OOS_GOAL else 'no'} "
        f"({pct(combined['out_of_scope_share'])} against {pct(OOS_GOAL)}).",
        "",
        "Most frequent predictions for CLINC queries not treated as out of scope:",
        "",
    ]
    misses: dict[str, int] = {}
    for split in clinc["splits"].values():
        for intent, count in split["missed_predicted_as"].items():
            misses[intent] = misses.get(intent, 0) + count
    top = sorted(misses.items(), key=lambda item: -item[1])[:10]
    out += table(["predicted intent", "queries"], top) if top else ["(none)"]
    out.append("")
    summary["out_of_scope"] = {
        "splits": {k: v["out_of_scope_share"] for k, v in clinc["splits"].items()},
        "combined": combined["out_of_scope_share"],
        "excluding_own_intents": own["out_of_scope_share"],
        "in_scope_rate_questions": in_scope,
        "goal": OOS_GOAL,
    }
    return out


# --- NLU pipelines and fallback tuning -----------------------------------------------------------
def pipelines_section(pipelines: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    out = [
        "## NLU pipeline: spaCy (rule-built) against whitespace tokens, with and without MiniLM",
        "",
    ]
    if not pipelines:
        return [*out, "Not run: no benchmarks/results/pipelines.json (`make bench-pipelines`).", ""]
    results = pipelines["results"]
    out += [
        command_line(pipelines.get("run")),
        "",
        f"Each trained NLU-only on `data/` and evaluated with `rasa test nlu` on "
        f"`{pipelines['held_out']}` (held out, never trained on). `spacy` is config.yml as it was "
        "at the commit above; `whitespace` is the same with `WhitespaceTokenizer` in place of the "
        "spaCy parts; `spacy_without_minilm`, when run, is that config.yml without the components "
        "that use MiniLM.",
        "",
    ]
    rows = [
        (
            name,
            pct(r["intent_accuracy"]),
            pct(r["intent_macro_f1"]),
            pct(r["programme_entity_f1"]),
            r["training_seconds"],
        )
        for name, r in results.items()
    ]
    out += table(
        ["pipeline", "intent accuracy", "intent macro F1", "programme F1", "training s"], rows
    )
    spacy, whitespace = results.get("spacy"), results.get("whitespace")
    if spacy and whitespace:

        def better(key: str) -> str:
            return "spaCy" if (spacy[key] or 0) >= (whitespace[key] or 0) else "whitespace"

        out += [
            "",
            f"spaCy vs whitespace: intent accuracy "
            f"{ratio(spacy['intent_accuracy'], whitespace['intent_accuracy'])}, programme F1 "
            f"{ratio(spacy['programme_entity_f1'], whitespace['programme_entity_f1'])}. Better on "
            f"intent accuracy: {better('intent_accuracy')}; on the programme entity: "
            f"{better('programme_entity_f1')}. Training s: wall clock on this machine, without "
            "Rasa's training cache.",
        ]
    plain = results.get("spacy_without_minilm")
    if spacy and plain:
        out += [
            "",
            f"With MiniLM vs without: intent accuracy "
            f"{ratio(spacy['intent_accuracy'], plain['intent_accuracy'])}, intent macro F1 "
            f"{ratio(spacy['intent_macro_f1'], plain['intent_macro_f1'])}, training time "
            f"{ratio(spacy['training_seconds'], plain['training_seconds'])}.",
        ]
    out.append("")
    summary["pipelines"] = results
    return out


def _setting(row: dict[str, Any]) -> str:
    sure = row.get("confident_above")
    rule = (
        f"min_similarity {row['min_similarity']:.2f}, "
        f"out_of_scope_margin {row['out_of_scope_margin']:.2f}, "
        + (f"confident_above {sure:.2f}" if sure is not None else "no confident_above")
        if row.get("min_similarity") is not None
        else "no nearest-example rule"
    )
    vote = (
        f"vote_below {row['vote_below']:.2f}, vote_share {row['vote_share']:.2f}"
        if row.get("vote_below") is not None
        else "no vote"
    )
    return (
        f"threshold {row['threshold']:.2f}, "
        f"ambiguity_threshold {row['ambiguity_threshold']:.2f}, {rule}, {vote}"
    )


def _tuning_scores(row: dict[str, Any]) -> tuple[str, str, str]:
    """The three figures every tuning table ends with: kept, wrong, CLINC declined."""
    return pct(row["in_scope_kept"]), pct(row.get("in_scope_wrong")), pct(row["clinc_out_of_scope"])


def tuning_files(in_scope: dict[str, Any]) -> str:
    """The tuning files, as older results name one (`file`) and newer ones several (`files`)."""
    files = in_scope.get("files") or [in_scope["file"]]
    return ", ".join(f"`{name}`" for name in files)


def tuning_section(tuning: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    out = ["## Out-of-scope settings (tuning data only)", ""]
    if not tuning:
        return [*out, "Not run: no benchmarks/results/tuning.json (`make bench-tune`).", ""]
    chosen = tuning["chosen"]
    without = tuning.get("best_without_nearest_example")
    without_vote = tuning.get("best_without_vote")
    out += [
        command_line(tuning.get("run")),
        "",
        f"{tuning['in_scope']['count']} in-scope questions of "
        f"{tuning_files(tuning['in_scope'])} and "
        f"{tuning['clinc']['count']} CLINC150 queries of its tuning splits "
        f"({', '.join(tuning['clinc']['splits'])}), parsed once; the FallbackClassifier's "
        "thresholds replayed on the ranking below the fallback, and the nearest-example "
        "component's on the similarities and the vote it reports. Chosen: the settings with the "
        "best in-scope kept minus in-scope answered on the wrong topic plus CLINC declined: a "
        "confident wrong answer costs as much as a right one gains (balanced accuracy alone "
        "would not count the wrong answers at all). "
        f"With them the CLINC goal of {pct(tuning['goal'])} is "
        f"{'met' if tuning['goal_met'] else 'not met'} on the tuning splits.",
        "",
    ]
    top_right = tuning["in_scope"].get("top_intent_right")
    if top_right:
        out += [
            "Top intent right on the in-scope tuning questions, before any fallback: DIET's own "
            f"{pct(top_right['diet'])}, the ranking the fallback sees (DIET blended with the "
            f"embedding classifier, nlu/intent_blend.py) {pct(top_right['ranking'])}.",
            "",
        ]
    best_rows = [
        ("chosen", chosen),
        *([("best without the vote", without_vote)] if without_vote else []),
        *([("best without the nearest-example component", without)] if without else []),
    ]
    out += table(
        ["", "settings", "in scope kept", "in scope wrong", "CLINC out of scope"],
        [
            (
                label,
                _setting(r),
                *_tuning_scores(r),
            )
            for label, r in best_rows
        ],
    )
    out += ["", "The FallbackClassifier threshold, the other settings as chosen:", ""]

    def same_except(row: dict[str, Any], *keys: str) -> bool:
        fixed = (
            "threshold",
            "ambiguity_threshold",
            "min_similarity",
            "out_of_scope_margin",
            "vote_below",
            "vote_share",
            "confident_above",
        )
        return all(row.get(k) == chosen.get(k) for k in fixed if k not in keys)

    rows = [
        (
            f"**{r['threshold']:.2f}**" if r == chosen else f"{r['threshold']:.2f}",
            *_tuning_scores(r),
        )
        for r in tuning["table"]
        if same_except(r, "threshold")
    ]
    out += table(["threshold", "in scope kept", "in scope wrong", "CLINC out of scope"], rows)
    if chosen.get("min_similarity") is not None:
        out += [
            "",
            "The nearest-example rule's minimum similarity, the other settings as chosen:",
            "",
        ]
        rule_rows = [
            (
                "off" if r["min_similarity"] is None else f"{r['min_similarity']:.2f}",
                *_tuning_scores(r),
            )
            for r in tuning["table"]
            if same_except(r, "min_similarity", "out_of_scope_margin")
            and r.get("out_of_scope_margin") in (None, chosen["out_of_scope_margin"])
        ]
        out += table(
            ["min_similarity", "in scope kept", "in scope wrong", "CLINC out of scope"], rule_rows
        )
    if chosen.get("min_similarity") is not None:
        out += [
            "",
            "The confidence of the top intent at which the similarity floor gives way "
            "(`confident_above`), the other settings as chosen:",
            "",
        ]
        sure_rows = [
            (
                "off" if r.get("confident_above") is None else f"{r['confident_above']:.2f}",
                *_tuning_scores(r),
            )
            for r in tuning["table"]
            if same_except(r, "confident_above")
        ]
        out += table(
            ["confident_above", "in scope kept", "in scope wrong", "CLINC out of scope"], sure_rows
        )
    if chosen.get("vote_below") is not None:
        out += [
            "",
            "The nearest examples' vote (below this confidence of the top intent, with at least "
            "this share), the other settings as chosen:",
            "",
        ]
        vote_rows = [
            (
                "off" if r["vote_below"] is None else f"{r['vote_below']:.2f}",
                "" if r["vote_share"] is None else f"{r['vote_share']:.2f}",
                *_tuning_scores(r),
            )
            for r in tuning["table"]
            if same_except(r, "vote_below", "vote_share")
            and r.get("vote_share") in (None, chosen["vote_share"])
        ]
        out += table(
            ["vote_below", "vote_share", "in scope kept", "in scope wrong", "CLINC out of scope"],
            vote_rows,
        )
    out.append("")
    summary["fallback_tuning"] = chosen
    return out


# --- latency -------------------------------------------------------------------------------------
def cpu_demand_lines(runs: list[dict[str, Any]], run_info: dict[str, Any] | None) -> list[str]:
    """CPU time per message, and the latency floor it sets under concurrent load (Little's law)."""
    measured = [run for run in runs if run.get("cpu_ms_per_message")]
    if not measured:
        return []
    cores = int(((run_info or {}).get("machine") or {}).get("nproc") or 2)
    out = [
        "CPU time per answered message (user + system, each server with its child processes):",
        "",
    ]
    rows = []
    for run in measured:
        demand = run["cpu_ms_per_message"]
        rows.append(
            (
                run["concurrency"],
                *(demand.get(name, "-") for name in sorted(demand)),
                round(sum(demand.values()), 2),
            )
        )
    names = sorted(measured[0]["cpu_ms_per_message"])
    out += table(
        ["concurrent conversations", *(f"{name} ms" for name in names), "all servers ms"], rows
    )
    single = min(measured, key=lambda run: run["concurrency"])
    total = sum(single["cpu_ms_per_message"].values())
    if total > 0:
        ceiling = cores * 1000 / total
        out += [
            "",
            f"With {total:.1f} ms of CPU per message on {cores} cores, the servers can answer "
            f"at most {ceiling:.1f} messages/s, whatever the concurrency; so N conversations that "
            f"each wait for their reply wait on average at least N x {total:.1f} / {cores} ms once "
            f"the cores are busy (Little's law): {10 * total / cores:.0f} ms at 10. A p95 of 150 "
            f"ms at 10 would need at most {150 * cores / 10:.0f} ms of CPU per message in all, the "
            "load client's included.",
        ]
    out.append("")
    return out


def latency_section(latency: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    out = ["## Latency and throughput (REST)", ""]
    if latency is None or "rest" not in latency:
        reason = (latency or {}).get("not_run", "no `benchmarks/results/latency.json`")
        return [*out, f"Not run: {reason}.", ""]
    settings = latency["settings"]
    out += [
        command_line(latency.get("run")) + " " + run_line(latency.get("run")),
        "",
        f"{settings['messages_per_setting']} messages per setting after "
        f"{settings['warmup_messages']} warm-up messages, over loopback; each concurrent user "
        "waits for its reply before the next "
        f"message and starts a new conversation every {settings['conversation_length']} messages. "
        f"Messages: {settings['message_source']} ({settings['distinct_messages']} distinct). The "
        "client runs on the same 2 cores as the servers.",
        "",
    ]
    rows = []
    for run in latency["rest"]:
        ms = run["latency_ms"]
        rows.append(
            (
                run["concurrency"],
                run["messages"],
                ms["p50"],
                ms["p95"],
                ms["p99"],
                ms["mean"],
                run["messages_per_second"],
                run["errors"],
            )
        )
    out += table(
        [
            "concurrent conversations",
            "messages",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "mean ms",
            "msg/s",
            "errors",
        ],
        rows,
    )
    out.append("")
    runs = {run["concurrency"]: run for run in latency["rest"]}
    ratios: dict[str, str] = {}
    if len(runs) >= 2:
        low, high = runs[min(runs)], runs[max(runs)]
        ratios = {
            "p50": ratio(high["latency_ms"]["p50"], low["latency_ms"]["p50"]),
            "p95": ratio(high["latency_ms"]["p95"], low["latency_ms"]["p95"]),
            "throughput": ratio(high["messages_per_second"], low["messages_per_second"]),
        }
        out += [
            f"{max(runs)} vs {min(runs)} concurrent: p50 {ratios['p50']}, p95 {ratios['p95']}, "
            f"throughput {ratios['throughput']}.",
            "",
        ]
    out += cpu_demand_lines(latency["rest"], latency.get("run"))
    out += ["![Latency percentiles per concurrency](results/latency.png)", ""]
    summary["latency"] = {
        str(run["concurrency"]): {
            **run["latency_ms"],
            "messages_per_second": run["messages_per_second"],
        }
        for run in latency["rest"]
    }
    summary["latency_ratios_high_vs_low_concurrency"] = ratios
    return out


def startup_section(latency: dict[str, Any] | None, summary: dict[str, Any]) -> list[str]:
    out = ["## Start-up, memory, training", ""]
    if latency is None:
        return [*out, "Not run.", ""]
    out += [command_line(latency.get("run")), ""]
    startup = latency.get("startup_seconds")
    if startup:
        launches = startup["launches"]
        out += [
            f"Start-up, seconds from spawn to ready ({len(launches)} launches; median): action "
            "server "
            f"to `/health` 200, Rasa server to `/status` 200 with the model loaded "
            f"({latency['model']['bytes'] / MIB:.1f} MiB), total from the first spawn.",
            "",
        ]
        out += table(
            ["server", "median s", "launches s"],
            [
                (name, median, ", ".join(str(s[name]) for s in launches))
                for name, median in startup["median"].items()
            ],
        )
        out.append("")
        summary["startup_seconds_median"] = startup["median"]
    memory = latency.get("memory")
    if memory:
        out += [
            "Resident memory (VmRSS of each server and its child processes, summed):",
            "",
        ]
        idle, after = memory["idle_after_startup"], memory["after_load"]
        out += table(
            ["process", "processes", "idle after start-up MiB", "after the load runs MiB"],
            [
                (
                    name,
                    after[name]["processes"],
                    round(idle[name]["rss_bytes"] / MIB),
                    round(after[name]["rss_bytes"] / MIB),
                )
                for name in after
            ],
        )
        out.append("")
        summary["rss_mib_after_load"] = {
            name: round(m["rss_bytes"] / MIB) for name, m in after.items()
        }
    training = latency.get("training") or {}
    if "seconds" in training:
        peak = training.get("peak_rss_bytes")
        out += [
            f"Training: **{training['seconds']} s** ({training['source']}"
            + (f"; peak resident memory {peak / GIB:.2f} GiB" if peak else "")
            + (", cold training cache" if training.get("cold_cache") else "")
            + ").",
            "",
        ]
        summary["training_seconds"] = training["seconds"]
    else:
        out += [f"Training: not measured ({training.get('not_run', 'no result')}).", ""]
    return out


# --- plots ---------------------------------------------------------------------------------------
def plot_accuracy(accuracy: dict[str, Any], path: Path) -> bool:
    rows = methods(accuracy)
    if not rows:
        return False
    measures = (
        ("answer_accuracy", "answer"),
        ("topic_accuracy", "topic"),
        ("programme_accuracy", "programme"),
    )
    figure = Figure(figsize=(10, 4.8), layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / len(measures)
    for n, (key, label) in enumerate(measures):
        values = [100 * (s[key] or 0.0) for _k, _l, s in rows]
        positions = [i + (n - (len(measures) - 1) / 2) * width for i in range(len(rows))]
        bars = axes.bar(positions, values, width, label=label)
        axes.bar_label(bars, fmt="%.0f", fontsize=7)
    axes.set_xticks(range(len(rows)), [label for _k, label, _s in rows], rotation=20, ha="right")
    axes.set_ylabel("% of questions")
    axes.set_ylim(0, 105)
    axes.set_title(
        f"Accuracy on {accuracy['questions']['count']} questions "
        f"(baselines: top {accuracy.get('top_k', 3)} facts)"
    )
    axes.legend(loc="upper right")
    figure.savefig(path, dpi=110)
    return True


def plot_latency(latency: dict[str, Any], path: Path) -> bool:
    runs = latency.get("rest") or []
    if not runs:
        return False
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    axes = figure.add_subplot()
    names = ("p50", "p95", "p99")
    width = 0.8 / len(names)
    for n, name in enumerate(names):
        values = [run["latency_ms"][name] or 0.0 for run in runs]
        positions = [i + (n - 1) * width for i in range(len(runs))]
        bars = axes.bar(positions, values, width, label=name)
        axes.bar_label(bars, fmt="%.0f", fontsize=8)
    axes.set_xticks(
        range(len(runs)),
        [f"{run['concurrency']} concurrent\n{run['messages_per_second']} msg/s" for run in runs],
    )
    axes.set_ylabel("REST round trip, ms")
    axes.set_title("Latency percentiles per concurrency")
    axes.legend()
    figure.savefig(path, dpi=110)
    return True


# --- main ----------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, default=common.RESULTS_DIR)
    parser.add_argument("--markdown", type=Path, default=common.BENCH_DIR / "RESULTS.md")
    args = parser.parse_args(argv)
    results_dir: Path = args.results
    accuracy = read(results_dir / "accuracy.json")
    latency = read(results_dir / "latency.json")
    pipelines = read(results_dir / "pipelines.json")
    tuning = read(results_dir / "tuning.json")
    run = common.run_info(" ".join(["benchmarks/report.py", *(argv or sys.argv[1:])]))
    machine = run["machine"]
    summary: dict[str, Any] = {
        "report": run,
        "runs": {
            "accuracy": (accuracy or {}).get("run"),
            "latency": (latency or {}).get("run"),
            "pipelines": (pipelines or {}).get("run"),
            "tuning": (tuning or {}).get("run"),
        },
    }
    lines = [
        "# Benchmarks",
        "",
        "GENERATED by `make bench` (benchmarks/bench.mk): tune_fallback.py, pipelines.py, "
        "accuracy.py, latency.py, then report.py. "
        "Raw figures: `benchmarks/results/*.json`.",
        "",
        f"Machine: {machine['nproc']} cores, "
        f"{(machine['memory_bytes'] or 0) / GIB:.1f} GiB memory, "
        f"{machine['platform']}. Report written {run['date']} at commit "
        f"{(run['git_commit'] or '?')[:12]}{' (uncommitted changes)' if run['git_dirty'] else ''}.",
        "",
    ]
    lines += accuracy_section(accuracy, summary)
    lines += oos_section(accuracy, summary)
    lines += tuning_section(tuning, summary)
    lines += pipelines_section(pipelines, summary)
    lines += latency_section(latency, summary)
    lines += threads_ab.section(read(results_dir / "threads_ab.json"), summary)
    lines += startup_section(latency, summary)
    cluster = read(results_dir / "cluster.json")
    lines += cluster_bench.section(cluster, summary)
    results_dir.mkdir(parents=True, exist_ok=True)
    if accuracy and plot_accuracy(accuracy, results_dir / "accuracy.png"):
        common.log(f"wrote {results_dir / 'accuracy.png'}")
    if latency and plot_latency(latency, results_dir / "latency.png"):
        common.log(f"wrote {results_dir / 'latency.png'}")
    if cluster and cluster_bench.plot(cluster, results_dir / "cluster.png"):
        common.log(f"wrote {results_dir / 'cluster.png'}")
    common.write_json(results_dir / "summary.json", summary)
    args.markdown.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    common.log(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
