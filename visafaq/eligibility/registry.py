"""Every eligibility check by name, with its inputs; `evaluate` runs one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from visafaq.eligibility import gijinkoku, internship, residence, ssw, titp
from visafaq.eligibility.context import Context
from visafaq.eligibility.verdict import Verdict
from visafaq.knowledge.reader import KnowledgeBase


class InputError(ValueError):
    """The inputs do not fit the check (unknown name, wrong type, out of range)."""


@dataclass(frozen=True)
class Check:
    name: str
    summary: str
    inputs: type[BaseModel]
    run: Callable[[Any, Context], Verdict]


CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        Check(
            "titp-applicant",
            "Can this person join Technical Intern Training?",
            titp.TitpApplicant,
            titp.check_applicant,
        ),
        Check(
            "titp-quota",
            "How many technical intern trainees may a company accept?",
            titp.TitpQuota,
            titp.check_quota,
        ),
        Check("titp-trainer", "Does the trainer meet the requirements?", titp.TitpTrainer, titp.check_trainer),
        Check(
            "titp-training-time",
            "Is training time divided as the rules require?",
            titp.TitpTrainingTime,
            titp.check_training_time,
        ),
        Check(
            "titp-next-stage",
            "Can a trainee move to the next stage?",
            titp.TitpNextStage,
            titp.check_next_stage,
        ),
        Check(
            "ssw-transition",
            "Can a technical intern move to Specified Skilled Worker (i), and with which tests?",
            ssw.SswTransition,
            ssw.check_transition,
        ),
        Check(
            "gijinkoku",
            "Does this person meet the Engineer / Humanities / International Services requirements?",
            gijinkoku.Gijinkoku,
            gijinkoku.check,
        ),
        Check(
            "internship-permission",
            "Which permission does a student need for an internship?",
            internship.InternshipPermission,
            internship.check,
        ),
        Check("family", "Can family members come with this status?", residence.Family, residence.check_family),
        Check(
            "permanent-residence",
            "Do the years in Japan meet the permanent-residence rule?",
            residence.PermanentResidence,
            residence.check_permanent_residence,
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
    return check.run(model, Context(base, on))
