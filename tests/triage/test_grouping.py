"""Grouping unanswered questions: paraphrases together, different questions apart (a labelled set)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import yaml

from visafaq.triage.grouping import group_questions, normalise

LABELLED = Path(__file__).parent / "paraphrases.yml"


def labelled() -> tuple[list[str], list[str]]:
    groups: dict[str, list[str]] = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["groups"]
    questions = [q for members in groups.values() for q in members]
    labels = [label for label, members in groups.items() for _ in members]
    return questions, labels


def test_paraphrases_are_grouped_and_different_questions_kept_apart() -> None:
    questions, labels = labelled()
    cluster = {index: n for n, members in enumerate(group_questions(questions)) for index in members}
    split = [
        (questions[i], questions[j])
        for i, j in combinations(range(len(questions)), 2)
        if labels[i] == labels[j] and cluster[i] != cluster[j]
    ]
    merged = [
        (questions[i], questions[j])
        for i, j in combinations(range(len(questions)), 2)
        if labels[i] != labels[j] and cluster[i] == cluster[j]
    ]
    assert split == [], "paraphrases put apart"
    assert merged == [], "different questions put together"


def test_biggest_group_comes_first_and_every_question_is_in_one_group() -> None:
    questions = ["visa fee?", "how do I renew my visa", "How do I renew my visa?", "how do i renew my visa"]
    groups = group_questions(questions)
    assert groups[0] == [1, 2, 3] and groups[1] == [0]
    assert sorted(i for g in groups for i in g) == list(range(len(questions)))


def test_edge_cases() -> None:
    assert group_questions([]) == []
    assert group_questions(["only one"]) == [[0]]
    assert sorted(map(sorted, group_questions(["?!", "...", "a visa question"]))) == [[0, 1], [2]]
    assert normalise("Hi!! My e-mail: A@B.JP") == "hi my e mail e mail hidden"
