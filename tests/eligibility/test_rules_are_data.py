"""Rules are data: every rule the code applies is in knowledge/rules.yml with its sources, every rule there
is applied by the code, and the figures the rules compare with are parameters, not constants in code."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from visafaq.eligibility.context import Context, UnknownRuleError
from visafaq.eligibility.registry import CHECKS
from visafaq.knowledge.reader import KnowledgeBase

CODE = Path(__file__).resolve().parents[2] / "visafaq" / "eligibility"
RULE_ID = re.compile(rf'"((?:{"|".join(map(re.escape, CHECKS))})\.[a-z0-9-]+)"')


def _rule_ids_applied_in_code() -> set[str]:
    """Rule ids as string literals in the checks' modules (the registry only lists them)."""
    return {
        match
        for path in CODE.glob("*.py")
        if path.name != "registry.py"
        for match in RULE_ID.findall(path.read_text(encoding="utf-8"))
    }


def test_code_and_rules_yml_name_the_same_rules(base: KnowledgeBase) -> None:
    assert _rule_ids_applied_in_code() == set(base.rules)


def test_each_check_lists_exactly_its_rules(base: KnowledgeBase) -> None:
    for name, check in CHECKS.items():
        assert len(set(check.rule_ids)) == len(check.rule_ids), name
        assert set(check.rule_ids) == {r.id for r in base.rules.values() if r.check == name}, name


def test_a_check_cannot_apply_another_checks_rule(base: KnowledgeBase) -> None:
    ctx = Context(base, date(2026, 11, 24), "titp-quota")
    assert ctx.reason("titp-quota.basic", True, "fine").rule == "titp-quota.basic"
    with pytest.raises(UnknownRuleError, match=re.escape("'titp-applicant.minimum-age' is not in knowledge/rules.yml")):
        ctx.reason("titp-applicant.minimum-age", True, "not this check's rule")
    with pytest.raises(UnknownRuleError):
        ctx.reason("titp-quota.no-such-rule", True, "")


def test_every_rule_has_sources_and_a_checked_date(base: KnowledgeBase) -> None:
    for rule in base.rules.values():
        assert rule.sources and rule.checked == date(2026, 11, 24), rule.id
        assert all(source in base.sources for source in rule.sources), rule.id


def test_every_number_a_rule_states_is_a_parameter(base: KnowledgeBase) -> None:
    for rule in base.rules.values():
        digits = re.sub(r"\{[^}]+\}|No\.\d|SSW \(i+\)|\d{1,2} \w+ 20\d\d|grade-3", "", rule.text)
        assert not re.search(r"\d", digits), f"{rule.id} states a number outside a parameter: {rule.text}"


def test_the_parameters_a_rule_names_exist(base: KnowledgeBase) -> None:
    for rule in base.rules.values():
        assert all(p in base.parameters for p in rule.parameters), rule.id


BOUNDS = {"ge", "le", "gt", "lt"}  # an input's plausible range (age 0-120) is validation, not a rule


def _figures_in(tree: ast.AST) -> list[tuple[int, object]]:
    bounds = {
        id(keyword.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg in BOUNDS
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
        and node.value not in (0, 1)
        and id(node) not in bounds
    ]


#: routes.py reads numbers in what people type ("twenty"): conversation, not rules.
RULE_MODULES = sorted(path for path in CODE.glob("*.py") if path.name != "routes.py")


@pytest.mark.parametrize("path", RULE_MODULES, ids=lambda p: p.name)
def test_no_figures_in_code(path: Path) -> None:
    """Ages, hours, years and quota tables come from parameters: the code holds no numbers but 0 and 1."""
    assert _figures_in(ast.parse(path.read_text(encoding="utf-8"))) == []
