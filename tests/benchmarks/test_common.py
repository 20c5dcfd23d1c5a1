"""Paths in the benchmark results read the same on every machine when they are the project's own."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import common


def test_a_project_path_is_shown_relative_to_the_project() -> None:
    assert common.shown(common.MODEL) == "models/visafaq.tar.gz"


def test_a_path_outside_the_project_is_shown_as_given(tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    assert common.shown(model) == str(model)
