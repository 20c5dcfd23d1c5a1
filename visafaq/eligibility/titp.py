"""Technical Intern Training: the applicant, the quota, the trainer, training time, the next stage."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from fractions import Fraction
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from visafaq.eligibility.context import (
    Context,
    Missing,
    RuleResult,
    apply_rules,
    fraction_text,
    verdict_of,
    years,
)
from visafaq.eligibility.verdict import Reason, Verdict
from visafaq.wording import format_day


class Stage(StrEnum):
    NO1 = "no1"
    NO2 = "no2"
    NO3 = "no3"

    @property
    def label(self) -> str:
        return f"No.{self.value[-1]}"

    @property
    def number(self) -> int:
        return int(self.value[-1])


class Inputs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- titp-applicant -------------------------------------------------------------------------


class TitpApplicant(Inputs):
    age: int | None = Field(None, ge=0, le=120, description="How old are you?")
    good_health: bool | None = Field(None, description="Are you in good health?")
    serious_criminal_record: bool | None = Field(None, description="Do you have a serious criminal record?")
    through_sending_organisation: bool | None = Field(
        None, description="Are you applying through a sending organisation in your home country?"
    )
    skills_hard_to_get_at_home: bool | None = Field(
        None, description="Are the skills you want to learn hard to get in your home country?"
    )
    simple_repetitive_work: bool | None = Field(None, description="Is the planned work only simple, repetitive tasks?")
    will_use_skills_at_home: bool | None = Field(
        None, description="Will you use the skills in your home country after the training?"
    )


def _ended(ctx: Context) -> str | None:
    """After Technical Intern Training's last day: a sentence saying so and naming its successor."""
    programme = ctx.base.programmes["titp"]
    if programme.ends is None or ctx.on <= programme.ends:
        return None
    successor = ctx.base.programmes.get(programme.successor or "")
    then = successor.name if successor else "its successor"
    return (
        f"Technical Intern Training took no new entrants after {format_day(programme.ends)}; "
        f"new entrants go through {then}."
    )


def programme_open(inputs: BaseModel, ctx: Context) -> RuleResult:
    """On a day after the programme's end, nobody can start it (the successor's own rules apply)."""
    ended = _ended(ctx)
    if ended is None:
        return None  # nothing to say while new entrants are taken
    return ctx.reason("titp-applicant.programme-open", False, ended)


def minimum_age(inputs: TitpApplicant, ctx: Context) -> RuleResult:
    if inputs.age is None:
        return Missing(("age",), "titp-applicant.minimum-age")
    minimum = ctx.whole("titp.applicant.minimum_age")
    passed = inputs.age >= minimum
    return ctx.reason("titp-applicant.minimum-age", passed, f"You are {inputs.age}; the minimum age is {minimum}.")


def _yes_no_rule(
    field: str, rule_id: str, wanted: bool, yes_text: str, no_text: str
) -> Callable[[TitpApplicant, Context], RuleResult]:
    def rule(inputs: TitpApplicant, ctx: Context) -> RuleResult:
        value = getattr(inputs, field)
        if value is None:
            return Missing((field,), rule_id)
        passed = value is wanted
        return ctx.reason(rule_id, passed, yes_text if passed else no_text)

    rule.__name__ = rule_id.rsplit(".", 1)[-1].replace("-", "_")
    return rule


APPLICANT_RULES = (
    programme_open,
    minimum_age,
    _yes_no_rule(
        "good_health",
        "titp-applicant.good-health",
        True,
        "You are in good health.",
        "Trainees must be in good health.",
    ),
    _yes_no_rule(
        "serious_criminal_record",
        "titp-applicant.no-serious-record",
        False,
        "You have no serious criminal record.",
        "A serious criminal record rules an applicant out.",
    ),
    _yes_no_rule(
        "through_sending_organisation",
        "titp-applicant.sending-organisation",
        True,
        "You apply through a sending organisation.",
        "You cannot apply alone: you must go through a sending organisation in your country.",
    ),
    _yes_no_rule(
        "skills_hard_to_get_at_home",
        "titp-applicant.skills-not-at-home",
        True,
        "The skills are hard to get at home.",
        "The skills must be ones that are hard to learn in your home region.",
    ),
    _yes_no_rule(
        "simple_repetitive_work",
        "titp-applicant.not-simple-work",
        False,
        "The work is more than simple repetition.",
        "Simple, repetitive work does not qualify as training.",
    ),
    _yes_no_rule(
        "will_use_skills_at_home",
        "titp-applicant.use-skills-at-home",
        True,
        "You plan to use the skills at home.",
        "Trainees are expected to use the skills in their home country afterwards.",
    ),
)


def check_applicant(inputs: TitpApplicant, ctx: Context) -> Verdict:
    return apply_rules("titp-applicant", inputs, ctx, APPLICANT_RULES)


# --- titp-quota -----------------------------------------------------------------------------


class TitpQuota(Inputs):
    full_time_staff: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="How many full-time staff does the company have (not counting trainees)?",
    )
    stage: Stage = Field(Stage.NO1, description="For which stage: No.1, No.2 or No.3?")
    excellent: bool = Field(False, description="Is the company rated an excellent implementing organisation?")
    supervising_excellent: bool = Field(False, description="Is the supervising organisation rated excellent?")
    nursing_care: bool = Field(
        False, description="Is it nursing care? (Then count full-time care workers at the site.)"
    )


def _quota_after_end(inputs: TitpQuota, ctx: Context) -> Reason | None:
    """After the programme's end no new No.1 trainees come in; trainees already in it are expected to
    continue under the old rules (the transitional rules were pending when the sources were checked),
    so No.2 and No.3 quotas are still computed, with a reason that says so."""
    ended = _ended(ctx)
    if ended is None:
        return None
    if inputs.stage is Stage.NO1:
        return ctx.reason("titp-quota.programme-open", False, f"{ended} No new No.1 trainees can be accepted.")
    return ctx.reason(
        "titp-quota.programme-open",
        True,
        f"{ended} This {inputs.stage.label} quota concerns only trainees already in the programme, who are "
        "expected to continue under its rules (the transitional rules were still pending when checked).",
    )


def _no3_not_allowed(inputs: TitpQuota, ctx: Context) -> Reason | None:
    if inputs.stage is not Stage.NO3 or (inputs.excellent and inputs.supervising_excellent):
        return None
    rated = {"the company": inputs.excellent, "the supervising organisation": inputs.supervising_excellent}
    missing = [who for who, excellent in rated.items() if not excellent]
    return ctx.reason(
        "titp-quota.no3-needs-excellent",
        False,
        "No.3 trainees can only be accepted when both the company and the supervising organisation are "
        f"rated excellent; {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not.",
    )


def check_quota(inputs: TitpQuota, ctx: Context) -> Verdict:
    """The value is the number of trainees the company may accept at the stage, on the day; the
    outcome is yes when it can be computed, no when the stage is closed to the company."""
    if inputs.full_time_staff is None:
        return verdict_of("titp-quota", ctx, [], missing=["full_time_staff"])
    reasons: list[Reason] = []
    for reason in (_quota_after_end(inputs, ctx), _no3_not_allowed(inputs, ctx)):
        if reason is not None:
            reasons.append(reason)
    if any(not reason.passed for reason in reasons):
        return _verdict(ctx, reasons, None)
    if inputs.nursing_care:
        return _nursing_quota(inputs, inputs.full_time_staff, ctx, reasons)
    staff, stage = inputs.full_time_staff, inputs.stage
    row = ctx.bracket("titp.quota.basic", staff)
    basic = row.apply(staff)
    reasons.append(
        ctx.reason(
            "titp-quota.basic",
            True,
            f"With {staff} full-time staff the basic quota is {basic}: the table in force on "
            f"{format_day(ctx.on)} gives {row.describe()}."
            # Said, because the words that tell nursing care are easy to miss ("care home", "our
            # facility"), and its own table gives other figures.
            " This table is for every field but nursing care, which has its own.",
        )
    )
    kind = "excellent" if inputs.excellent else "ordinary"
    multiplier = ctx.whole(f"titp.quota.multiplier.{kind}.{stage.value}")
    value = basic * multiplier
    who = "an excellent" if inputs.excellent else "an ordinary"
    reasons.append(
        ctx.reason(
            "titp-quota.multiplier",
            True,
            f"For {stage.label} trainees at {who} organisation the quota is {multiplier} x {basic} = {value}.",
        )
    )
    cap_rate = ctx.whole(f"titp.quota.cap.{stage.value}")
    cap = cap_rate * staff
    if value > cap:
        reasons.append(
            ctx.reason(
                "titp-quota.cap",
                True,
                f"It cannot be more than {cap_rate} x the full-time staff ({cap}), so the quota is {cap}.",
            )
        )
        value = cap
    return _verdict(ctx, reasons, value)


def _nursing_quota(inputs: TitpQuota, workers: int, ctx: Context, reasons: list[Reason]) -> Verdict:
    # Each figure quotes its table's row, as the ordinary quota does, so the verdict can be checked.
    row = ctx.bracket("titp.quota.nursing.no1", workers)
    first = row.apply(workers)
    detail = (
        f"With {workers} full-time care workers at the site, the No.1 quota is {first}: the nursing care "
        f"table in force on {format_day(ctx.on)} gives {row.describe()}"
    )
    if inputs.excellent:
        multiplier = ctx.whole("titp.quota.nursing.excellent_multiplier")
        first *= multiplier
        detail += f"; times {multiplier} for an excellent organisation: {first}"
    reasons.append(ctx.reason("titp-quota.nursing-no1", True, detail + "."))
    cap_row = ctx.bracket("titp.quota.nursing.total_cap", workers)
    total = cap_row.apply(workers)
    reasons.append(
        ctx.reason(
            "titp-quota.nursing-total",
            True,
            f"All stages together may not exceed {total} trainees at the site (its table gives {cap_row.describe()}).",
        )
    )
    value = first if inputs.stage is Stage.NO1 else total
    if inputs.stage is not Stage.NO1:
        reasons.append(
            ctx.reason(
                "titp-quota.nursing-later-stages",
                True,
                f"For {inputs.stage.label} the sources give only the limit for all "
                f"stages together, so {total} is an upper bound.",
            )
        )
    return _verdict(ctx, reasons, min(value, total))


def _verdict(ctx: Context, reasons: list[Reason], value: int | None) -> Verdict:
    return verdict_of("titp-quota", ctx, reasons, value)


# --- titp-trainer ---------------------------------------------------------------------------


class TitpTrainer(Inputs):
    trainer_full_time: bool | None = Field(None, description="Is the trainer a full-time employee of the company?")
    trainer_experience_years: float | None = Field(
        None, ge=0, le=80, description="How many years of experience does the trainer have in the skill?"
    )


def trainer_full_time(inputs: TitpTrainer, ctx: Context) -> RuleResult:
    if inputs.trainer_full_time is None:
        return Missing(("trainer_full_time",), "titp-trainer.full-time")
    return ctx.reason(
        "titp-trainer.full-time",
        inputs.trainer_full_time,
        "The trainer is a full-time employee."
        if inputs.trainer_full_time
        else "The trainer must be a full-time employee of the company.",
    )


def trainer_experience(inputs: TitpTrainer, ctx: Context) -> RuleResult:
    if inputs.trainer_experience_years is None:
        return Missing(("trainer_experience_years",), "titp-trainer.experience")
    minimum = ctx.whole("titp.trainer.minimum_experience_years")
    return ctx.reason(
        "titp-trainer.experience",
        inputs.trainer_experience_years >= minimum,
        f"The trainer has {years(inputs.trainer_experience_years)} of experience; at least "
        f"{years(minimum)} are needed.",
    )


def check_trainer(inputs: TitpTrainer, ctx: Context) -> Verdict:
    return apply_rules("titp-trainer", inputs, ctx, (trainer_full_time, trainer_experience))


# --- titp-training-time ---------------------------------------------------------------------


class TitpTrainingTime(Inputs):
    required_hours: float | None = Field(None, ge=0, description="How many hours of required (essential) work?")
    related_hours: float | None = Field(None, ge=0, description="How many hours of related work?")
    peripheral_hours: float | None = Field(None, ge=0, description="How many hours of peripheral work?")

    @model_validator(mode="after")
    def _some_time(self) -> Self:
        hours = (self.required_hours, self.related_hours, self.peripheral_hours)
        if all(h is not None for h in hours) and sum(h or 0 for h in hours) == 0:
            raise ValueError("the training hours add up to zero: give the planned hours of each kind of work")
        return self


def check_training_time(inputs: TitpTrainingTime, ctx: Context) -> Verdict:
    hours = {
        "required_hours": inputs.required_hours,
        "related_hours": inputs.related_hours,
        "peripheral_hours": inputs.peripheral_hours,
    }
    unknown = tuple(name for name, value in hours.items() if value is None)
    if unknown:
        return verdict_of("titp-training-time", ctx, [], missing=unknown)
    total = sum(Fraction(str(v)) for v in hours.values() if v is not None)  # above zero: see the model

    def share(name: str) -> Fraction:
        value = hours[name]
        assert value is not None
        return Fraction(str(value)) / total

    def percent(value: Fraction) -> str:
        return f"{float(value):.0%}"

    reasons: list[Reason] = []
    for name, parameter, rule_id, at_least, label in (
        (
            "required_hours",
            "titp.training_time.required_min_share",
            "titp-training-time.required",
            True,
            "Required",
        ),
        (
            "related_hours",
            "titp.training_time.related_max_share",
            "titp-training-time.related",
            False,
            "Related",
        ),
        (
            "peripheral_hours",
            "titp.training_time.peripheral_max_share",
            "titp-training-time.peripheral",
            False,
            "Peripheral",
        ),
    ):
        limit = ctx.number(parameter)
        actual = share(name)
        passed = actual >= limit if at_least else actual <= limit
        bound = "at least" if at_least else "at most"
        reasons.append(
            ctx.reason(
                rule_id,
                passed,
                f"{label} work is {percent(actual)} of the time; it must be {bound} {fraction_text(limit)}.",
            )
        )
    return verdict_of("titp-training-time", ctx, reasons)


# --- titp-next-stage ------------------------------------------------------------------------


class TitpNextStage(Inputs):
    current_stage: Stage | None = Field(None, description="Which stage are you in now: No.1 or No.2?")
    target_stage: Stage | None = Field(None, description="Which stage do you want to move to?")
    passed_basic_test: bool | None = Field(
        None, description="Have you passed the basic-level skills test (written and practical)?"
    )
    passed_grade3_practical_test: bool | None = Field(
        None, description="Have you passed the grade-3 practical skills test?"
    )
    organisation_excellent: bool | None = Field(
        None, description="Is your company (implementing organisation) rated excellent?"
    )
    supervising_excellent: bool | None = Field(None, description="Is your supervising organisation rated excellent?")
    returned_home_months: float | None = Field(
        None, ge=0, description="How many months will you spend back home between No.2 and No.3?"
    )
    occupation_allows_no3: bool | None = Field(None, description="Does your occupation allow No.3?")
    done_no3_before: bool | None = Field(None, description="Have you done No.3 before?")


def _bool_rule(
    inputs: TitpNextStage, ctx: Context, field: str, rule_id: str, wanted: bool, yes_text: str, no_text: str
) -> RuleResult:
    value = getattr(inputs, field)
    if value is None:
        return Missing((field,), rule_id)
    passed = value is wanted
    return ctx.reason(rule_id, passed, yes_text if passed else no_text)


def check_next_stage(inputs: TitpNextStage, ctx: Context) -> Verdict:
    if inputs.current_stage is None:
        return verdict_of("titp-next-stage", ctx, [], missing=["current_stage"])
    current = inputs.current_stage
    target = inputs.target_stage or (Stage.NO2 if current is Stage.NO1 else Stage.NO3)
    if target.number != current.number + 1:
        detail = (
            f"You cannot go from {current.label} to {target.label}: every stage is taken in order, with no skipping."
            if target.number > current.number
            else f"{target.label} is not a next stage after {current.label}."
        )
        return verdict_of("titp-next-stage", ctx, [ctx.reason("titp-next-stage.in-order", False, detail)])
    if target is Stage.NO2:
        rules = [
            lambda i, c: _bool_rule(
                i,
                c,
                "passed_basic_test",
                "titp-next-stage.basic-test",
                True,
                "You passed the basic-level skills test.",
                "Moving to No.2 needs a pass in the basic-level skills test.",
            )
        ]
        return apply_rules("titp-next-stage", inputs, ctx, rules)
    return apply_rules(
        "titp-next-stage",
        inputs,
        ctx,
        [
            lambda i, c: _bool_rule(
                i,
                c,
                "passed_grade3_practical_test",
                "titp-next-stage.grade3-test",
                True,
                "You passed the grade-3 practical test.",
                "Moving to No.3 needs a pass in the grade-3 practical test.",
            ),
            lambda i, c: _bool_rule(
                i,
                c,
                "organisation_excellent",
                "titp-next-stage.excellent",
                True,
                "Your company is rated excellent.",
                "No.3 needs the company to be rated excellent.",
            ),
            lambda i, c: _bool_rule(
                i,
                c,
                "supervising_excellent",
                "titp-next-stage.excellent",
                True,
                "Your supervising organisation is rated excellent.",
                "No.3 needs the supervising organisation to be rated excellent.",
            ),
            return_home,
            lambda i, c: _bool_rule(
                i,
                c,
                "occupation_allows_no3",
                "titp-next-stage.occupation",
                True,
                "Your occupation allows No.3.",
                "Your occupation does not offer No.3.",
            ),
            lambda i, c: _bool_rule(
                i,
                c,
                "done_no3_before",
                "titp-next-stage.once",
                False,
                "You have not done No.3 before.",
                "No.3 can be done only once.",
            ),
        ],
    )


def return_home(inputs: TitpNextStage, ctx: Context) -> RuleResult:
    if inputs.returned_home_months is None:
        return Missing(("returned_home_months",), "titp-next-stage.return-home")
    low = ctx.number("titp.no3.return_home_min_months")
    high = ctx.number("titp.no3.return_home_max_months")
    months = Fraction(str(inputs.returned_home_months))
    passed = low <= months < high
    return ctx.reason(
        "titp-next-stage.return-home",
        passed,
        f"You go home for {fraction_text(months)} months; it must be at least "
        f"{fraction_text(low)} month and less than {fraction_text(high)} months.",
    )
