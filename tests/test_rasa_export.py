"""The generated domain and rules match knowledge/ and the eligibility checks (run `make domain`)."""

from __future__ import annotations

from pathlib import Path

from visafaq.knowledge.reader import read_knowledge
from visafaq.rasa_export import generated_files

ROOT = Path(__file__).resolve().parent.parent


def test_generated_files_are_current() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, content in generated_files(read_knowledge(ROOT / "knowledge"), ROOT).items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]
    assert stale == [], f"out of date, run `make domain`: {stale}"


def test_every_topic_has_an_intent_and_a_rule() -> None:
    base = read_knowledge(ROOT / "knowledge")
    files = generated_files(base, ROOT)
    domain = files[ROOT / "domain" / "topics.yml"]
    rules = files[ROOT / "data" / "general" / "topic_rules.yml"]
    for topic in base.topics:
        assert f"- ask_{topic}\n" in domain
        assert f"intent: ask_{topic}\n" in rules
