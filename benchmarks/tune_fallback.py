"""Choose the FallbackClassifier's thresholds on tuning data, never on the evaluation sets.

In scope: `benchmarks/tuning/in_scope.yml` (written for tuning only). Out of scope: CLINC150's
`val` and `oos_val` splits, which its README reserves for tuning. Each query is parsed once by the
running model; the intent ranking *before* the fallback (Rasa puts `nlu_fallback` on top and keeps
the ranking below it) is then replayed against every pair of thresholds:

- an in-scope question is kept when its top intent is the labelled one, its confidence reaches the
  threshold and it leads the second intent by the ambiguity threshold;
- a CLINC query is treated as out of scope when its top intent is `out_of_scope`, or it falls back.

The table goes to benchmarks/results/tuning.json. The pair to put in config.yml is the one with
the best balanced accuracy (the mean of the two shares): raising the threshold further trades more
right answers for fewer out-of-scope misses than it gains, and a wrongly declined question costs a
trainee as much as an everyday query wrongly answered. Whether that pair reaches GOAL on CLINC is
reported beside it.

Usage: VISAFAQ_TODAY=2026-11-24 .venv/bin/python benchmarks/tune_fallback.py [--model PATH]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import common
from accuracy import CLINC_OWN_INTENTS, RasaClient, clinc_queries

TUNING = common.BENCH_DIR / "tuning" / "in_scope.yml"
CLINC_TUNING_SPLITS = ("val", "oos_val")
GOAL = 0.95
THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(13)]  # 0.2 .. 0.8
AMBIGUITY = [0.0, 0.02, 0.05, 0.08, 0.1, 0.15]


@dataclass(frozen=True)
class Parsed:
    """What the model said before any fallback: the top two intents and their confidences."""

    top: str
    confidence: float
    margin: float

    @classmethod
    def of(cls, parsed: dict[str, Any]) -> Parsed:
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        first: dict[str, Any] = ranking[0] if ranking else {"name": "", "confidence": 0.0}
        second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
        return cls(
            str(first["name"]), float(first["confidence"]), float(first["confidence"]) - second
        )

    def falls_back(self, threshold: float, ambiguity: float) -> bool:
        return self.confidence < threshold or self.margin < ambiguity


def load_tuning(path: Path) -> list[tuple[str, str]]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = rows["questions"] if isinstance(rows, dict) else rows
    return [(str(item["text"]), str(item["intent"])) for item in items]


def score(
    in_scope: Sequence[tuple[Parsed, str]],
    clinc: Sequence[tuple[Parsed, str]],
    threshold: float,
    ambiguity: float,
) -> dict[str, Any]:
    kept = sum(p.top == intent and not p.falls_back(threshold, ambiguity) for p, intent in in_scope)
    out = [p.top == "out_of_scope" or p.falls_back(threshold, ambiguity) for p, _ in clinc]
    own = [o for o, (_, intent) in zip(out, clinc, strict=True) if intent not in CLINC_OWN_INTENTS]
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "in_scope_kept": round(kept / len(in_scope), 4),
        "clinc_out_of_scope": round(sum(out) / len(out), 4),
        "clinc_out_of_scope_less_own_intents": round(sum(own) / len(own), 4) if own else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=common.MODEL)
    parser.add_argument("--output", type=Path, default=common.RESULTS_DIR / "tuning.json")
    args = parser.parse_args(argv)
    common.stop_on_sigterm()

    tuning = load_tuning(TUNING)
    clinc_rows = [
        row for split, rows in clinc_queries(None, CLINC_TUNING_SPLITS).items() for row in rows
    ]
    with common.running_assistant(args.model) as running:
        client = RasaClient(running)
        try:
            in_scope = [(Parsed.of(client.parse(text)), intent) for text, intent in tuning]
            common.log(f"parsed {len(in_scope)} tuning questions")
            clinc = [(Parsed.of(client.parse(text)), intent) for text, intent in clinc_rows]
            common.log(f"parsed {len(clinc)} CLINC tuning queries")
        finally:
            client.close()

    table = [score(in_scope, clinc, t, a) for t in THRESHOLDS for a in AMBIGUITY]
    # Ties go to the larger ambiguity threshold: as many right answers, fewer near coin flips.
    best = max(
        table,
        key=lambda r: (
            r["in_scope_kept"] + r["clinc_out_of_scope"],
            r["in_scope_kept"],
            r["ambiguity_threshold"],
        ),
    )
    common.write_json(
        args.output,
        {
            "run": common.run_info(
                " ".join(["benchmarks/tune_fallback.py", *(argv or sys.argv[1:])])
            ),
            "in_scope": {
                "file": str(TUNING.relative_to(common.PROJECT_ROOT)),
                "count": len(in_scope),
            },
            "clinc": {"splits": list(CLINC_TUNING_SPLITS), "count": len(clinc)},
            "goal": GOAL,
            "chosen": best,
            "criterion": "best mean of in_scope_kept and clinc_out_of_scope",
            "goal_met": best["clinc_out_of_scope"] >= GOAL,
            "table": table,
        },
    )
    for row in table:
        mark = "  <- chosen" if row is best else ""
        common.log(
            f"threshold {row['threshold']:.2f} ambiguity {row['ambiguity_threshold']:.2f}: "
            f"in scope kept {row['in_scope_kept']:.3f}, "
            f"CLINC out of scope {row['clinc_out_of_scope']:.3f}{mark}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
