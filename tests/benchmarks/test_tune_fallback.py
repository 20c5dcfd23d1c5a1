"""The replay in benchmarks/tune_fallback.py must decide as the pipeline does (config.yml: the
FallbackClassifier, then the nearest-example component with its vote), or the settings it chooses
would not be the ones that work."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from tune_fallback import Parsed, Replay, Setting, best_of, neighbours, right_intents, score, top_intent_right


def parsed(
    top: str, confidence: float, *, inside: float = 0.8, outside: float = 0.1, vote: str = "", share: float = 0.0
) -> Parsed:
    ranking = [{"name": top, "confidence": confidence}, {"name": "ask_other", "confidence": 0.01}]
    seen = {"in_scope": inside, "out_of_scope": outside, "exempt": False, "vote": {"intent": vote, "share": share}}
    return Parsed.of({"intent_ranking": ranking, "nearest_example": {**seen, "decided": False}})


def answers(rows: list[Parsed], setting: Setting) -> list[str | None]:
    intents, declined = Replay([(row, "") for row in rows]).answers(setting)
    return [None if out else str(intent) for intent, out in zip(intents, declined, strict=True)]


def test_a_decision_of_the_component_is_taken_off_the_top_before_replaying() -> None:
    row = Parsed.of(
        {
            "intent_ranking": [
                {"name": "ask_family", "confidence": 0.8},
                {"name": "nlu_fallback", "confidence": 0.45},
                {"name": "ask_documents", "confidence": 0.3},
            ],
            "nearest_example": {
                "in_scope": 0.7,
                "out_of_scope": 0.2,
                "vote": {"intent": "ask_family", "share": 0.8},
                "decided": "vote",
            },
        }
    )
    assert (row.top, row.confidence) == ("ask_documents", 0.3)
    assert row.nearest is not None and (row.nearest.vote, row.nearest.vote_share) == ("ask_family", 0.8)


def test_the_vote_answers_below_its_confidence_and_the_fallback_declines_otherwise() -> None:
    rows = [
        parsed("ask_documents", 0.3, vote="ask_family", share=0.8),  # unsure, a clear vote
        parsed("ask_documents", 0.3, vote="ask_family", share=0.4),  # unsure, a split vote
        parsed("ask_documents", 0.9, vote="ask_family", share=1.0),  # sure: DIET stands
        parsed("out_of_scope", 0.3, vote="ask_family", share=1.0),  # DIET's out_of_scope stands
        parsed("ask_documents", 0.3, inside=0.2, vote="ask_family", share=1.0),  # unlike all examples
    ]
    voting = Setting(0.45, 0.0, 0.5, 0.0, vote_below=0.5, vote_share=0.6)
    assert answers(rows, voting) == ["ask_family", None, "ask_documents", None, None]
    without = Setting(0.45, 0.0, 0.5, 0.0)
    assert answers(rows, without) == [None, None, "ask_documents", None, None]


def test_a_sure_top_intent_overrides_the_similarity_floor_but_not_a_nearer_out_of_scope_example() -> None:
    rows = [
        parsed("ask_stages", 0.99, inside=0.55),  # unlike our examples, but DIET is sure
        parsed("ask_stages", 0.7, inside=0.55),  # unlike them, and unsure
        parsed("ask_stages", 0.99, inside=0.55, outside=0.7),  # an out-of-scope example is nearer
    ]
    sure = Setting(0.2, 0.0, 0.6, 0.0, confident_above=0.9)
    assert answers(rows, sure) == ["ask_stages", None, None]
    assert answers(rows, Setting(0.2, 0.0, 0.6, 0.0)) == [None, None, None]


def test_the_score_counts_kept_wrong_and_declined() -> None:
    in_scope = Replay(
        [
            (parsed("ask_family", 0.9), "ask_family"),
            (parsed("ask_documents", 0.9), "ask_family"),
            (parsed("ask_documents", 0.3, vote="ask_family", share=1.0), "ask_family"),
            (parsed("ask_documents", 0.3), "ask_documents"),
        ]
    )
    clinc = Replay([(parsed("ask_family", 0.3, vote="ask_family", share=1.0), "weather")])
    row: dict[str, Any] = score(in_scope, clinc, Setting(0.45, 0.0, None, 0.0, vote_below=0.5, vote_share=0.6))
    assert (row["in_scope_kept"], row["in_scope_wrong"], row["clinc_out_of_scope"]) == (0.5, 0.25, 0.0)
    off = score(in_scope, clinc, Setting(0.45, 0.0, None, 0.0))
    assert (off["in_scope_kept"], off["clinc_out_of_scope"]) == (0.25, 1.0)
    # Equal scores: the setting that votes less wins.
    assert best_of([row, off]) is off


def test_only_the_rows_the_report_tabulates_are_kept() -> None:
    grid: list[dict[str, Any]] = [
        {"threshold": t, "ambiguity_threshold": 0.05, "min_similarity": s, "out_of_scope_margin": 0.0}
        | {"vote_below": v, "vote_share": 0.6}
        for t in (0.4, 0.45)
        for s in (0.4, 0.5)
        for v in (None, 0.6)
    ]
    chosen, far = grid[-1], grid[0]  # far differs from chosen in three groups
    rows = neighbours(grid, [chosen, far])
    assert chosen in rows and far in rows
    assert len(rows) == 1 + 3 + 1  # chosen, one change in each of three groups, and the far row asked for


def test_a_topic_answered_by_an_eligibility_check_accepts_check_eligibility() -> None:
    assert right_intents("titp", "quota") == {"ask_quota", "check_eligibility"}
    assert right_intents("titp", "documents") == {"ask_documents"}
    assert right_intents("general", "documents") == {"ask_documents"}


def test_a_query_with_several_right_intents_is_kept_by_any_of_them() -> None:
    either = frozenset(("ask_quota", "check_eligibility"))
    in_scope = Replay(
        [
            (parsed("check_eligibility", 0.9), either),
            (parsed("ask_quota", 0.9), either),
            (parsed("ask_documents", 0.9), either),
            (parsed("ask_family", 0.9), "ask_family"),
        ]
    )
    clinc = Replay([(parsed("out_of_scope", 0.9), "weather")])
    row = score(in_scope, clinc, Setting(0.45, 0.0, None, 0.0))
    assert (row["in_scope_kept"], row["in_scope_wrong"]) == (0.75, 0.25)


def test_top_intent_right_counts_diet_s_own_top_and_the_blended_one() -> None:
    blended_right = Parsed.of(
        {
            "intent_ranking": [{"name": "ask_family", "confidence": 0.6}],
            "diet_intent": {"name": "ask_documents", "confidence": 0.5},
        }
    )
    both_wrong = Parsed.of(
        {
            "intent_ranking": [{"name": "ask_quota", "confidence": 0.9}],
            "diet_intent": {"name": "ask_quota", "confidence": 0.9},
        }
    )
    # No blend in the pipeline: DIET's top is the ranking's.
    no_blend = Parsed.of({"intent_ranking": [{"name": "ask_family", "confidence": 0.9}]})
    shares = top_intent_right(
        [(blended_right, "ask_family"), (both_wrong, "ask_family"), (no_blend, frozenset({"ask_family"}))]
    )
    assert shares == {"diet": round(1 / 3, 4), "ranking": round(2 / 3, 4)}
