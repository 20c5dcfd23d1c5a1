from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from visafaq.eligibility.registry import evaluate
from visafaq.eligibility.verdict import Verdict
from visafaq.knowledge.reader import KnowledgeBase, read_knowledge

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
TODAY = date(2026, 11, 24)

Run = Callable[..., Verdict]


@pytest.fixture(scope="session")
def base() -> KnowledgeBase:
    return read_knowledge(KNOWLEDGE)


@pytest.fixture
def run(base: KnowledgeBase) -> Run:
    """run("titp-quota", full_time_staff=150, on=date(...)) -> Verdict."""

    def run_check(name: str, on: date = TODAY, **inputs: object) -> Verdict:
        return evaluate(name, inputs, on, base)

    return run_check
