"""What a rule sees: the day, the parameters in force that day, and the rules' texts and sources."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from pydantic import BaseModel

from visafaq.eligibility.verdict import Reason, SourceRef, Verdict, decide
from visafaq.knowledge.documents import ParameterVersion, parse_ratio
from visafaq.knowledge.queries import ParameterNotInForceError
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
        bracket = self.param(parameter_id).bracket_for(amount)
        if bracket is None:
            raise ValueError(f"{amount} is outside the scale {parameter_id!r}")
        return bracket.apply(amount)

    def reason(self, rule_id: str, passed: bool, detail: str) -> Reason:
        rule = self.base.rules.get(rule_id)
        if rule is None or (self.check is not None and rule.check != self.check):
            raise UnknownRuleError(rule_id, self.check)
        self.used_rules.add(rule_id)
        sources = tuple(SourceRef.of(self.base.sources[s]) for s in rule.sources)
        return Reason(rule_id, passed, detail, sources)


RuleResult = Reason | Missing | None


def apply_rules[M: BaseModel](
    check: str,
    inputs: M,
    ctx: Context,
    rules: Iterable[Callable[[M, Context], RuleResult]],
    value: int | None = None,
) -> Verdict:
    """Run each rule; collect reasons and what is missing (each input once, first asked first)."""
    reasons: list[Reason] = []
    missing: list[str] = []
    for rule in rules:
        result = rule(inputs, ctx)
        if isinstance(result, Reason):
            reasons.append(result)
        elif isinstance(result, Missing):
            missing.extend(name for name in result.inputs if name not in missing)
    return verdict_of(check, ctx, reasons, value, missing)


def verdict_of(
    check: str, ctx: Context, reasons: Iterable[Reason], value: int | None = None, missing: Iterable[str] = ()
) -> Verdict:
    found, wanted = tuple(reasons), tuple(missing)
    return Verdict(check, ctx.on, decide(found, wanted), value, found, wanted)


def fraction_text(value: Fraction) -> str:
    """1/2 -> '1/2', 18 -> '18', 0.4 -> '2/5' (shares read as fractions, as the rules state them)."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def years(value: float) -> str:
    number = int(value) if float(value).is_integer() else value
    return f"{number} year" + ("" if number == 1 else "s")
