"""Specified Skilled Worker: moving from Technical Intern Training to SSW (i)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from visafaq.eligibility.context import Context, verdict_of
from visafaq.eligibility.titp import Inputs
from visafaq.eligibility.verdict import Verdict


class Completed(StrEnum):
    NONE = "none"
    NO2 = "no2"
    NO3 = "no3"

    @property
    def label(self) -> str:
        return {"none": "Not completed", "no2": "No.2 completed", "no3": "No.3 completed"}[self.value]


class SswTransition(Inputs):
    completed_titp_stage: Completed | None = Field(
        None, description="Have you completed Technical Intern Training No.2 or No.3?"
    )
    same_field: bool | None = Field(
        None, description="Is the SSW job in the same field as your technical intern training?"
    )


def check_transition(inputs: SswTransition, ctx: Context) -> Verdict:
    """`yes` means the person can move to SSW (i); the reasons say which tests are still needed."""
    if inputs.completed_titp_stage is None:
        return verdict_of("ssw-transition", ctx, [], missing=["completed_titp_stage"])
    if inputs.completed_titp_stage is Completed.NONE:
        reason = ctx.reason(
            "ssw-transition.tests-needed",
            True,
            "Without a completed No.2 you need to pass the field's skills test and the "
            "Japanese-language test for SSW (i).",
        )
        return verdict_of("ssw-transition", ctx, [reason])
    if inputs.same_field is None:
        return verdict_of("ssw-transition", ctx, [], missing=["same_field"])
    stage = "No.2" if inputs.completed_titp_stage is Completed.NO2 else "No.3"
    if inputs.same_field:
        reason = ctx.reason(
            "ssw-transition.exempt",
            True,
            f"You completed {stage} in the same field, so the SSW (i) skills test and "
            "Japanese test are waived for that field.",
        )
    else:
        reason = ctx.reason(
            "ssw-transition.other-field",
            True,
            f"Your {stage} was in another field: the waiver covers only the corresponding "
            "field, so you need the new field's skills test (and its other conditions).",
        )
    return verdict_of("ssw-transition", ctx, [reason])
