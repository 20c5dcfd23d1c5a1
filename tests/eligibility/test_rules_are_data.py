"""Every rule the code applies is in knowledge/rules.yml with its sources, and every rule there is used."""

from __future__ import annotations

import re
from pathlib import Path

from visafaq.knowledge.reader import KnowledgeBase

CODE = Path(__file__).resolve().parents[2] / "visafaq" / "eligibility"
RULE_ID = re.compile(
    r'"((?:titp-applicant|titp-quota|titp-trainer|titp-training-time|titp-next-stage|'
    r'ssw-transition|gijinkoku|internship-permission|family|permanent-residence)\.[a-z0-9-]+)"'
)


def test_code_and_rules_yml_name_the_same_rules(base: KnowledgeBase) -> None:
    in_code = {m for path in CODE.glob("*.py") for m in RULE_ID.findall(path.read_text(encoding="utf-8"))}
    assert in_code == set(base.rules)


def test_every_number_a_rule_states_is_a_parameter(base: KnowledgeBase) -> None:
    for rule in base.rules.values():
        digits = re.sub(r"\{[^}]+\}|No\.\d|SSW \(i+\)|\d{1,2} \w+ 20\d\d|grade-3", "", rule.text)
        assert not re.search(r"\d", digits), f"{rule.id} states a number outside a parameter: {rule.text}"
