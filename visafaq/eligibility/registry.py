"""Every eligibility check by name, with its inputs; `evaluate` runs one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from visafaq.eligibility import gijinkoku, internship, residence, ssw, titp
from visafaq.eligibility.context import Context, InputError
from visafaq.eligibility.verdict import Verdict
from visafaq.knowledge.reader import KnowledgeBase

__all__ = ["CHECKS", "Check", "InputError", "evaluate"]


@dataclass(frozen=True)
class Check:
    """A check: its inputs (every field optional: None is "not known yet"; the field's description
    is the CLI help and the question the chat asks), the function that runs it, and the ids of the
    rules in knowledge/rules.yml it may apply."""

    name: str
    summary: str
    inputs: type[BaseModel]
    run: Callable[[Any, Context], Verdict]
    rule_ids: tuple[str, ...]


CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        Check(
            "titp-applicant",
            "Can this person join Technical Intern Training?",
            titp.TitpApplicant,
            titp.check_applicant,
            (
                "titp-applicant.programme-open",
                "titp-applicant.minimum-age",
                "titp-applicant.good-health",
                "titp-applicant.no-serious-record",
                "titp-applicant.sending-organisation",
                "titp-applicant.skills-not-at-home",
                "titp-applicant.not-simple-work",
                "titp-applicant.use-skills-at-home",
            ),
        ),
        Check(
            "titp-quota",
            "How many technical intern trainees may a company accept?",
            titp.TitpQuota,
            titp.check_quota,
            (
                "titp-quota.programme-open",
                "titp-quota.basic",
                "titp-quota.multiplier",
                "titp-quota.no3-needs-excellent",
                "titp-quota.cap",
                "titp-quota.nursing-no1",
                "titp-quota.nursing-total",
                "titp-quota.nursing-later-stages",
            ),
        ),
        Check(
            "titp-trainer",
            "Does the trainer meet the requirements?",
            titp.TitpTrainer,
            titp.check_trainer,
            (
                "titp-trainer.full-time",
                "titp-trainer.experience",
            ),
        ),
        Check(
            "titp-training-time",
            "Is training time divided as the rules require?",
            titp.TitpTrainingTime,
            titp.check_training_time,
            (
                "titp-training-time.required",
                "titp-training-time.related",
                "titp-training-time.peripheral",
            ),
        ),
        Check(
            "titp-next-stage",
            "Can a trainee move to the next stage?",
            titp.TitpNextStage,
            titp.check_next_stage,
            (
                "titp-next-stage.in-order",
                "titp-next-stage.basic-test",
                "titp-next-stage.grade3-test",
                "titp-next-stage.excellent",
                "titp-next-stage.return-home",
                "titp-next-stage.occupation",
                "titp-next-stage.once",
            ),
        ),
        Check(
            "ssw-transition",
            "Can a technical intern move to Specified Skilled Worker (i), and with which tests?",
            ssw.SswTransition,
            ssw.check_transition,
            (
                "ssw-transition.exempt",
                "ssw-transition.other-field",
                "ssw-transition.tests-needed",
            ),
        ),
        Check(
            "gijinkoku",
            "Does this person meet the Engineer / Humanities / International Services requirements?",
            gijinkoku.Gijinkoku,
            gijinkoku.check,
            (
                "gijinkoku.job-offer",
                "gijinkoku.qualifying-field",
                "gijinkoku.background",
                "gijinkoku.pay",
                "gijinkoku.duties",
            ),
        ),
        Check(
            "internship-permission",
            "Which permission does a student need for an internship?",
            internship.InternshipPermission,
            internship.check,
            (
                "internship-permission.unpaid",
                "internship-permission.within-limit",
                "internship-permission.over-limit",
            ),
        ),
        Check(
            "family",
            "Can family members come with this status?",
            residence.Family,
            residence.check_family,
            ("family.by-status",),
        ),
        Check(
            "permanent-residence",
            "Do the years in Japan meet the permanent-residence rule?",
            residence.PermanentResidence,
            residence.check_permanent_residence,
            (
                "permanent-residence.residence-years",
                "permanent-residence.work-years",
            ),
        ),
    )
}


def evaluate(name: str, inputs: Mapping[str, object], on: date, base: KnowledgeBase) -> Verdict:
    """Run check `name` with what is known (missing inputs may be left out)."""
    check = CHECKS.get(name)
    if check is None:
        raise InputError(f"unknown check {name!r}; the checks are: {', '.join(CHECKS)}")
    try:
        model = check.inputs.model_validate(dict(inputs))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'inputs'}: {e['msg']}" for e in error.errors())
        raise InputError(problems) from error
    return check.run(model, Context(base, on, check.name))
