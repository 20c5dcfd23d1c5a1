"""The tuning sets stay apart from the training data and from each other's ids, and name only topics
and programmes the knowledge store has: tuning on a training example would measure recall, not
generalisation."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from accuracy import load_questions
from tune_answers import TUNING

from visafaq.knowledge.reader import read_knowledge

ROOT = Path(__file__).resolve().parents[2]


def _folded(text: str) -> str:
    # Both annotation forms: [TITP](programme) and [TITP]{"entity": "programme", "value": "titp"}.
    return " ".join(re.sub(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})", r"\1", text).casefold().split())


def training_examples() -> set[str]:
    """Every NLU example in data/, entity annotations removed ("[TITP](programme)" -> "titp")."""
    found: set[str] = set()
    for path in (ROOT / "data").rglob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    found.add(_folded(line.strip()[2:]))
    return found


def test_annotations_fold_to_their_text() -> None:
    assert _folded('what is [TITP]{"entity": "programme", "value": "titp"} [now](when)') == "what is titp now"


def test_no_tuning_question_is_a_training_example() -> None:
    examples = training_examples()
    assert len(examples) > 500  # the reader found the training data
    questions = [q for path in TUNING for q in load_questions(path)]
    assert [q.id for q in questions if _folded(q.question) in examples] == []


def test_tuning_ids_are_unique_and_labels_exist() -> None:
    knowledge = read_knowledge(ROOT / "knowledge")
    questions = [q for path in TUNING for q in load_questions(path)]
    ids = [q.id for q in questions]
    assert len(ids) == len(set(ids))
    assert {q.topic for q in questions} <= set(knowledge.topics)
    assert {q.programme for q in questions} <= set(knowledge.programmes)
