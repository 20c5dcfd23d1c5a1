"""Choose the out-of-scope settings on tuning data, never on the evaluation sets.

In scope: `benchmarks/tuning/in_scope.yml` (written for tuning only, each with its intent) and the
answer tuning sets `benchmarks/tuning/answers*.yml` (each with its topic: right is `ask_<topic>`, or
`check_eligibility` where an eligibility check answers that programme and topic). Out of scope:
CLINC150's `val` and `oos_val` splits, which its README reserves for tuning. Each query is parsed
once by the running model; what it said is then replayed against every combination of four
settings of config.yml:

- the FallbackClassifier's `threshold` and `ambiguity_threshold`, on the intent ranking *before*
  the fallback (DIET's, blended with the embedding classifier's by nlu/intent_blend.py when
  config.yml has it; Rasa puts `nlu_fallback` on top and keeps the ranking below it);
- the NearestExampleOutOfScopeClassifier's `min_similarity` and `out_of_scope_margin`, on the two
  similarities it reports (`nearest_example`: to the nearest in-scope and out-of-scope training
  example; its own decision, if any, is taken off the top of the ranking first). "off" is the
  pipeline without it;
- its `vote_below` and `vote_share`, on the nearest in-scope examples' vote it reports: below that
  DIET confidence, a vote with at least that share is the intent, and is not "I'm not sure";
- its `confident_above`: at or above that confidence of the top intent, the similarity floor gives
  way (an out-of-scope example nearer than every in-scope one still declines).

An in-scope question is kept when its intent (DIET's, or the vote's) is the labelled one, it does
not fall back, and the nearest-example rule does not call it out of scope. A CLINC query is treated
as out of scope when its top intent is `out_of_scope`, it falls back, or the rule calls it out of
scope.

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

import numpy as np
import yaml

import common
import tune_answers
from accuracy import CLINC_OWN_INTENTS, RasaClient, clinc_queries, load_questions
from visafaq.eligibility.routes import CHECK_FOR_TOPIC

TUNING = common.BENCH_DIR / "tuning" / "in_scope.yml"
#: More in-scope questions, labelled by topic: 187 beside in_scope.yml's 178, so one question moves
#: a share by a quarter of a point instead of half.
ANSWER_SETS = tune_answers.TUNING
CLINC_TUNING_SPLITS = ("val", "oos_val")
GOAL = 0.95
THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(13)]  # 0.2 .. 0.8
AMBIGUITY = [0.0, 0.02, 0.05, 0.08, 0.1, 0.15]
#: None: the nearest-example rule left out.
MIN_SIMILARITY: list[float | None] = [
    None,
    *(round(0.3 + 0.05 * i, 2) for i in range(9)),
]  # 0.3 .. 0.7
MARGIN = [0.0, 0.05, 0.1]
#: None: the nearest examples' vote left out.
VOTE_BELOW: list[float | None] = [None, 0.5, 0.6, 0.7, 0.8]
VOTE_SHARE = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
#: None: the similarity floor holds however sure the classifiers are.
CONFIDENT_ABOVE: list[float | None] = [None, 0.8, 0.85, 0.9, 0.95, 0.98]


@dataclass(frozen=True)
class Nearest:
    """What the nearest-example component saw: the similarity to the nearest in-scope and
    out-of-scope training example, whether an entity (a programme name) exempts the message, and the
    nearest in-scope examples' vote."""

    in_scope: float
    out_of_scope: float
    exempt: bool
    vote: str = ""
    vote_share: float = 0.0


@dataclass(frozen=True)
class Parsed:
    """What the model said before any fallback: the top two intents and their confidences."""

    top: str
    confidence: float
    margin: float
    nearest: Nearest | None = None
    #: DIET's own top intent, before the blend with the embedding classifier (the top when the
    #: pipeline has no blend).
    diet_top: str = ""

    @classmethod
    def of(cls, parsed: dict[str, Any]) -> Parsed:
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        seen = parsed.get("nearest_example")
        if isinstance(seen, dict) and seen.get("decided") in ("out_of_scope", "vote"):
            ranking = ranking[1:]  # the component's own decision; DIET's ranking is below it
        # ("unsure" put nlu_fallback on top, left out above: DIET's out_of_scope is the top, and
        # both count as not answered.)
        first: dict[str, Any] = ranking[0] if ranking else {"name": "", "confidence": 0.0}
        second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
        nearest = None
        if isinstance(seen, dict):
            reported = seen.get("vote")
            vote: dict[str, Any] = reported if isinstance(reported, dict) else {}
            nearest = Nearest(
                float(seen["in_scope"]),
                float(seen["out_of_scope"]),
                bool(seen.get("exempt")),
                str(vote.get("intent") or ""),
                float(vote.get("share") or 0.0),
            )
        diet = parsed.get("diet_intent")
        return cls(
            str(first["name"]),
            float(first["confidence"]),
            float(first["confidence"]) - second,
            nearest,
            str(diet.get("name") or "") if isinstance(diet, dict) else str(first["name"]),
        )


def top_intent_right(parsed: Sequence[tuple[Parsed, str | frozenset[str]]]) -> dict[str, float]:
    """Share of labelled questions whose top intent is a right one, before any fallback or vote:
    DIET's own, and the ranking's (DIET blended with the embedding classifier)."""

    def right(intent: str, label: str | frozenset[str]) -> bool:
        return intent == label if isinstance(label, str) else intent in label

    count = max(len(parsed), 1)
    return {
        "diet": round(sum(right(p.diet_top, label) for p, label in parsed) / count, 4),
        "ranking": round(sum(right(p.top, label) for p, label in parsed) / count, 4),
    }


@dataclass(frozen=True)
class Setting:
    threshold: float
    ambiguity: float
    min_similarity: float | None
    margin: float
    vote_below: float | None = None
    vote_share: float = 1.0
    confident_above: float | None = None


class Replay:
    """Parsed queries as columns, so that each setting is a few array operations: 40,000 settings
    over 3,000 queries take seconds instead of many minutes."""

    def __init__(self, parsed: Sequence[tuple[Parsed, str | frozenset[str]]]) -> None:
        """Each query comes with its label: one intent, or the set of intents that are right."""
        self.label = np.array(
            [label if isinstance(label, str) else "" for _, label in parsed], dtype=object
        )
        self.accepted = [
            frozenset((label,)) if isinstance(label, str) else label for _, label in parsed
        ]
        self.top = np.array([p.top for p, _ in parsed], dtype=object)
        self.confidence = np.array([p.confidence for p, _ in parsed])
        self.margin = np.array([p.margin for p, _ in parsed])
        seen = [p.nearest for p, _ in parsed]
        self.has_nearest = np.array([n is not None for n in seen])
        self.inside = np.array([n.in_scope if n else 1.0 for n in seen])
        self.outside = np.array([n.out_of_scope if n else -1.0 for n in seen])
        self.exempt = np.array([bool(n and n.exempt) for n in seen])
        self.vote = np.array([n.vote if n else "" for n in seen], dtype=object)
        self.vote_share = np.array([n.vote_share if n else 0.0 for n in seen])
        self.said_out_of_scope = self.top == "out_of_scope"

    def answers(self, setting: Setting) -> tuple[np.ndarray, np.ndarray]:
        """The intent each query is answered with at these settings, and whether it is declined
        (out of scope, or "I'm not sure"), in the order of the pipeline in config.yml."""
        declined = self.said_out_of_scope.copy()
        if setting.min_similarity is not None:
            unlike_ours = self.inside < setting.min_similarity
            if setting.confident_above is not None:
                unlike_ours &= self.confidence < setting.confident_above
            rule = unlike_ours | (self.outside > self.inside + setting.margin)
            declined |= rule & self.has_nearest & ~self.exempt
        voted = np.zeros_like(declined)
        if setting.vote_below is not None:
            voted = (
                ~declined
                & (self.confidence < setting.vote_below)
                & (self.vote != "")
                & (self.vote_share >= setting.vote_share)
            )
        falls_back = (self.confidence < setting.threshold) | (self.margin < setting.ambiguity)
        declined |= falls_back & ~voted
        return np.where(voted, self.vote, self.top), declined


def load_tuning(path: Path) -> list[tuple[str, str]]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = rows["questions"] if isinstance(rows, dict) else rows
    return [(str(item["text"]), str(item["intent"])) for item in items]


def right_intents(programme: str, topic: str) -> frozenset[str]:
    """The intents that lead to the right answer for a question on this programme and topic."""
    if (programme, topic) in CHECK_FOR_TOPIC:
        return frozenset((f"ask_{topic}", "check_eligibility"))
    return frozenset((f"ask_{topic}",))


def load_answer_sets(paths: Sequence[Path]) -> list[tuple[str, frozenset[str]]]:
    return [
        (question.question, right_intents(question.programme, question.topic))
        for path in paths
        for question in load_questions(path)
    ]


def score(in_scope: Replay, clinc: Replay, setting: Setting) -> dict[str, Any]:
    intents, declined = in_scope.answers(setting)
    answered = ~declined
    right = np.array(
        [intent in accepted for intent, accepted in zip(intents, in_scope.accepted, strict=True)],
        dtype=bool,
    )
    kept = int(np.sum(answered & right))
    wrong = int(np.sum(answered & ~right))
    _, out = clinc.answers(setting)
    own = ~np.isin(clinc.label, list(CLINC_OWN_INTENTS))
    n = len(in_scope.label)
    return {
        "threshold": setting.threshold,
        "ambiguity_threshold": setting.ambiguity,
        "min_similarity": setting.min_similarity,
        "out_of_scope_margin": setting.margin if setting.min_similarity is not None else None,
        "vote_below": setting.vote_below,
        "vote_share": setting.vote_share if setting.vote_below is not None else None,
        "confident_above": setting.confident_above,
        "in_scope_kept": round(kept / n, 4),
        "in_scope_wrong": round(wrong / n, 4),
        "clinc_out_of_scope": round(float(np.mean(out)), 4),
        "clinc_out_of_scope_less_own_intents": round(float(np.mean(out[own])), 4)
        if own.any()
        else None,
    }


def settings() -> list[Setting]:
    return [
        Setting(t, a, s, m, v, share, sure)
        for t in THRESHOLDS
        for a in AMBIGUITY
        for s in MIN_SIMILARITY
        for m in (MARGIN if s is not None else [0.0])
        for v in VOTE_BELOW
        for share in (VOTE_SHARE if v is not None else [1.0])
        for sure in (CONFIDENT_ABOVE if s is not None else [None])
    ]


def best_of(table: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # Ties go to the larger ambiguity threshold (as many right answers, fewer near coin flips), then
    # to the lower minimum similarity (the rule declines less on its own), then to less voting,
    # then to fewer exceptions to the similarity floor.
    return max(
        table,
        key=lambda r: (
            round(r["in_scope_kept"] - r["in_scope_wrong"] + r["clinc_out_of_scope"], 4),
            r["in_scope_kept"],
            r["ambiguity_threshold"],
            -(r["min_similarity"] or 0.0),
            -(r["vote_below"] or 0.0),
            r["vote_share"] or 1.0,
            r.get("confident_above") or 2.0,
        ),
    )


#: Settings that move together in the report's tables.
GROUPS = (
    ("threshold",),
    ("ambiguity_threshold",),
    ("min_similarity", "out_of_scope_margin"),
    ("vote_below", "vote_share"),
    ("confident_above",),
)


def neighbours(
    table: Sequence[dict[str, Any]], kept: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows worth keeping: `kept`, and every row that differs from the first of them in one
    group of settings only (what RESULTS.md tabulates). The whole grid is tens of thousands."""
    chosen = kept[0]

    def differs(row: dict[str, Any], group: tuple[str, ...]) -> bool:
        return any(row.get(key) != chosen.get(key) for key in group)

    near = [row for row in table if sum(differs(row, group) for group in GROUPS) <= 1]
    return [*near, *(row for row in kept[1:] if row not in near)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=common.MODEL)
    parser.add_argument("--output", type=Path, default=common.RESULTS_DIR / "tuning.json")
    args = parser.parse_args(argv)
    common.stop_on_sigterm()

    tuning: list[tuple[str, str | frozenset[str]]] = [
        *load_tuning(TUNING),
        *load_answer_sets(ANSWER_SETS),
    ]
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

    in_scope_replay, clinc_replay = Replay(in_scope), Replay(clinc)
    table = [score(in_scope_replay, clinc_replay, setting) for setting in settings()]
    best = best_of(table)
    without_rule = best_of(
        [r for r in table if r["min_similarity"] is None and r["vote_below"] is None]
    )
    without_vote = best_of([r for r in table if r["vote_below"] is None])
    common.write_json(
        args.output,
        {
            "run": common.run_info(
                " ".join(["benchmarks/tune_fallback.py", *(argv or sys.argv[1:])])
            ),
            "in_scope": {
                "files": [
                    str(path.relative_to(common.PROJECT_ROOT)) for path in (TUNING, *ANSWER_SETS)
                ],
                "count": len(in_scope),
                "top_intent_right": top_intent_right(in_scope),
            },
            "clinc": {"splits": list(CLINC_TUNING_SPLITS), "count": len(clinc)},
            "goal": GOAL,
            "chosen": best,
            "best_without_nearest_example": without_rule,
            "best_without_vote": without_vote,
            "criterion": "best in_scope_kept - in_scope_wrong + clinc_out_of_scope",
            "goal_met": best["clinc_out_of_scope"] >= GOAL,
            "settings_tried": len(table),
            "table": neighbours(table, [best, without_vote, without_rule]),
        },
    )
    common.log(f"top intent right, before any fallback: {top_intent_right(in_scope)}")
    for label, row in (
        ("chosen", best),
        ("best without the vote", without_vote),
        ("best without the nearest-example component", without_rule),
    ):
        common.log(
            f"{label}: threshold {row['threshold']:.2f} ambiguity {row['ambiguity_threshold']:.2f} "
            f"min similarity {row['min_similarity']} margin {row['out_of_scope_margin']} "
            f"vote below {row['vote_below']} share {row['vote_share']} "
            f"confident above {row['confident_above']}: "
            f"in scope kept {row['in_scope_kept']:.3f}, wrong {row['in_scope_wrong']:.3f}, "
            f"CLINC out of scope {row['clinc_out_of_scope']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
