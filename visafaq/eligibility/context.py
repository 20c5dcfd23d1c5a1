"""What a rule sees: the day, the parameters in force that day, and the rules' texts and sources."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from pydantic import BaseModel

from visafaq.eligibility.verdict import Pending, Reason, SourceRef, Verdict, decide
from visafaq.knowledge.documents import PLACEHOLDER, Bracket, ParameterVersion, Rule, parse_ratio
from visafaq.knowledge.queries import ParameterNotInForceError, describe_version
from visafaq.knowledge.reader import KnowledgeBase


class InputError(ValueError):
    """The inputs do not fit the check (unknown name, wrong type, out of range, inconsistent)."""


class UnknownRuleError(LookupError):
    def __init__(self, rule_id: str, check: str | None = None) -> None:
        where = f" for check {check!r}" if check else ""
        super().__init__(f"rule {rule_id!r} is not in knowledge/rules.yml{where}")


@dataclass(frozen=True)
class Missing:
    """A rule that cannot be applied until these inputs are known (ask in this order)."""

    inputs: tuple[str, ...]
    rule: str
    #: The rule already has some of what it needs (a figure the person gave): worth saying first.
    partly_known: bool = False


@dataclass
class Context:
    """`check` is the check being run (None in unit tests of single rules): a rule of another
    check is refused, so rules.yml's `check` field stays true."""

    base: KnowledgeBase
    on: date
    check: str | None = None
    used_rules: set[str] = field(default_factory=set)

    def param(self, parameter_id: str) -> ParameterVersion:
        version = self.base.parameter_version(parameter_id, self.on)
        if version is None:
            raise ParameterNotInForceError(parameter_id, self.on)
        return version

    def number(self, parameter_id: str) -> Fraction:
        """A scalar parameter as an exact number ('1/2' -> 1/2, 18 -> 18)."""
        value = self.param(parameter_id).value
        if value is None or isinstance(value, bool):
            raise ValueError(f"parameter {parameter_id!r} is not a number")
        return parse_ratio(str(value))

    def whole(self, parameter_id: str) -> int:
        return int(self.number(parameter_id))

    def scale(self, parameter_id: str, amount: int) -> int:
        return self.bracket(parameter_id, amount).apply(amount)

    def bracket(self, parameter_id: str, amount: int) -> Bracket:
        """The row of a scale that applies to `amount`, so a reason can quote it."""
        bracket = self.param(parameter_id).bracket_for(amount)
        if bracket is None:
            raise ValueError(f"{amount} is outside the scale {parameter_id!r}")
        return bracket

    def reason(self, rule_id: str, passed: bool, detail: str) -> Reason:
        self.used_rules.add(rule_id)
        return Reason(rule_id, passed, detail, self._sources(rule_id))

    def pending(self, rule_id: str, partly_known: bool = False) -> Pending:
        """A rule not applied yet, as the reader sees it: its text with the figures in force."""
        text = PLACEHOLDER.sub(lambda m: describe_version(self.param(m.group(1))), self._rule(rule_id).text)
        return Pending(rule_id, text, self._sources(rule_id), partly_known)

    def _rule(self, rule_id: str) -> Rule:
        rule = self.base.rules.get(rule_id)
        if rule is None or (self.check is not None and rule.check != self.check):
            raise UnknownRuleError(rule_id, self.check)
        return rule

    def _sources(self, rule_id: str) -> tuple[SourceRef, ...]:
        return tuple(SourceRef.of(self.base.sources[s]) for s in self._rule(rule_id).sources)


RuleResult = Reason | Missing | None


def apply_rules[M: BaseModel](
    check: str,
    inputs: M,
    ctx: Context,
    rules: Iterable[Callable[[M, Context], RuleResult]],
    value: int | None = None,
) -> Verdict:
    """Run each rule; collect reasons, what is missing (each input once, first asked first) and the
    rules still waiting for it."""
    reasons: list[Reason] = []
    missing: list[str] = []
    waiting: list[Missing] = []
    for rule in rules:
        result = rule(inputs, ctx)
        if isinstance(result, Reason):
            reasons.append(result)
        elif isinstance(result, Missing):
            missing.extend(name for name in result.inputs if name not in missing)
            waiting.append(result)
    return verdict_of(check, ctx, reasons, value, missing, waiting)


def verdict_of(
    check: str,
    ctx: Context,
    reasons: Iterable[Reason],
    value: int | None = None,
    missing: Iterable[str] = (),
    waiting: Iterable[Missing] = (),
) -> Verdict:
    found, wanted = tuple(reasons), tuple(missing)
    pending = tuple(ctx.pending(m.rule, m.partly_known) for m in waiting)
    return Verdict(check, ctx.on, decide(found, wanted), value, found, wanted, pending)


def fraction_text(value: Fraction) -> str:
    """1/2 -> '1/2', 18 -> '18', 0.4 -> '2/5' (shares read as fractions, as the rules state them)."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def years(value: float) -> str:
    number = int(value) if float(value).is_integer() else value
    return f"{number} year" + ("" if number == 1 else "s")
