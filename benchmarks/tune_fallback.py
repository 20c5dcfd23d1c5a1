"""Choose the out-of-scope settings on tuning data, never on the evaluation sets.

In scope: `benchmarks/tuning/in_scope.yml` (written for tuning only). Out of scope: CLINC150's
`val` and `oos_val` splits, which its README reserves for tuning. Each query is parsed once by the
running model; what it said is then replayed against every combination of four settings of
config.yml:

- the FallbackClassifier's `threshold` and `ambiguity_threshold`, on DIET's intent ranking *before*
  the fallback (Rasa puts `nlu_fallback` on top and keeps the ranking below it);
- the NearestExampleOutOfScopeClassifier's `min_similarity` and `out_of_scope_margin`, on the two
  similarities it reports (`nearest_example`: to the nearest in-scope and out-of-scope training
  example; its own decision, if any, is taken off the top of the ranking first). "off" is the
  pipeline without it.

An in-scope question is kept when its top intent is the labelled one, it does not fall back, and
the nearest-example rule does not call it out of scope. A CLINC query is treated as out of scope
when its top intent is `out_of_scope`, it falls back, or the rule calls it out of scope.

The table goes to benchmarks/results/tuning.json. The settings to put in config.yml are the ones
with the best score = in-scope kept - in-scope answered on the wrong topic + CLINC declined: a
wrongly declined question costs a trainee as much as an everyday query wrongly answered, and a
confident wrong answer costs as much as a right one gains, since "I'm not sure" with the closest
topics as buttons still leads to the answer. (Balanced accuracy alone would drop the
FallbackClassifier's threshold to the bottom of the grid and double the wrong answers.) Whether
the chosen settings reach GOAL on CLINC is reported beside them.

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
#: None: the nearest-example rule left out.
MIN_SIMILARITY: list[float | None] = [
    None,
    *(round(0.3 + 0.05 * i, 2) for i in range(7)),
]  # 0.3 .. 0.6
MARGIN = [0.0, 0.05, 0.1]


@dataclass(frozen=True)
class Nearest:
    """What the nearest-example rule saw: the similarity to the nearest in-scope and out-of-scope
    training example, and whether an entity (a programme name) exempts the message."""

    in_scope: float
    out_of_scope: float
    exempt: bool

    def out_of_scope_at(self, min_similarity: float, margin: float) -> bool:
        if self.exempt:
            return False
        return self.in_scope < min_similarity or self.out_of_scope > self.in_scope + margin


@dataclass(frozen=True)
class Parsed:
    """What the model said before any fallback: the top two intents and their confidences."""

    top: str
    confidence: float
    margin: float
    nearest: Nearest | None = None

    @classmethod
    def of(cls, parsed: dict[str, Any]) -> Parsed:
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        seen = parsed.get("nearest_example")
        if isinstance(seen, dict) and seen.get("decided"):
            ranking = ranking[1:]  # the rule's own decision; DIET's ranking is below it
        first: dict[str, Any] = ranking[0] if ranking else {"name": "", "confidence": 0.0}
        second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
        nearest = (
            Nearest(float(seen["in_scope"]), float(seen["out_of_scope"]), bool(seen.get("exempt")))
            if isinstance(seen, dict)
            else None
        )
        return cls(
            str(first["name"]),
            float(first["confidence"]),
            float(first["confidence"]) - second,
            nearest,
        )

    def falls_back(self, threshold: float, ambiguity: float) -> bool:
        return self.confidence < threshold or self.margin < ambiguity

    def declined(self, setting: Setting) -> bool:
        """Out of scope, or not sure, at these settings."""
        if self.top == "out_of_scope" or self.falls_back(setting.threshold, setting.ambiguity):
            return True
        if setting.min_similarity is None or self.nearest is None:
            return False
        return self.nearest.out_of_scope_at(setting.min_similarity, setting.margin)


@dataclass(frozen=True)
class Setting:
    threshold: float
    ambiguity: float
    min_similarity: float | None
    margin: float


def load_tuning(path: Path) -> list[tuple[str, str]]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = rows["questions"] if isinstance(rows, dict) else rows
    return [(str(item["text"]), str(item["intent"])) for item in items]


def score(
    in_scope: Sequence[tuple[Parsed, str]],
    clinc: Sequence[tuple[Parsed, str]],
    setting: Setting,
) -> dict[str, Any]:
    kept = sum(p.top == intent and not p.declined(setting) for p, intent in in_scope)
    wrong = sum(p.top != intent and not p.declined(setting) for p, intent in in_scope)
    out = [p.declined(setting) for p, _ in clinc]
    own = [o for o, (_, intent) in zip(out, clinc, strict=True) if intent not in CLINC_OWN_INTENTS]
    return {
        "threshold": setting.threshold,
        "ambiguity_threshold": setting.ambiguity,
        "min_similarity": setting.min_similarity,
        "out_of_scope_margin": setting.margin if setting.min_similarity is not None else None,
        "in_scope_kept": round(kept / len(in_scope), 4),
        "in_scope_wrong": round(wrong / len(in_scope), 4),
        "clinc_out_of_scope": round(sum(out) / len(out), 4),
        "clinc_out_of_scope_less_own_intents": round(sum(own) / len(own), 4) if own else None,
    }


def settings() -> list[Setting]:
    return [
        Setting(t, a, s, m)
        for t in THRESHOLDS
        for a in AMBIGUITY
        for s in MIN_SIMILARITY
        for m in (MARGIN if s is not None else [0.0])
    ]


def best_of(table: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # Ties go to the larger ambiguity threshold (as many right answers, fewer near coin flips), then
    # to the lower minimum similarity (the rule declines less on its own).
    return max(
        table,
        key=lambda r: (
            round(r["in_scope_kept"] - r["in_scope_wrong"] + r["clinc_out_of_scope"], 4),
            r["in_scope_kept"],
            r["ambiguity_threshold"],
            -(r["min_similarity"] or 0.0),
        ),
    )


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

    table = [score(in_scope, clinc, setting) for setting in settings()]
    best = best_of(table)
    without_rule = best_of([r for r in table if r["min_similarity"] is None])
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
            "best_without_nearest_example": without_rule,
            "criterion": "best in_scope_kept - in_scope_wrong + clinc_out_of_scope",
            "goal_met": best["clinc_out_of_scope"] >= GOAL,
            "table": table,
        },
    )
    for label, row in (("chosen", best), ("best without the nearest-example rule", without_rule)):
        common.log(
            f"{label}: threshold {row['threshold']:.2f} ambiguity {row['ambiguity_threshold']:.2f} "
            f"min similarity {row['min_similarity']} margin {row['out_of_scope_margin']}: "
            f"in scope kept {row['in_scope_kept']:.3f}, wrong {row['in_scope_wrong']:.3f}, "
            f"CLINC out of scope {row['clinc_out_of_scope']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
