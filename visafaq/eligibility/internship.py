"""Student internships: which permission, if any, a student needs."""

from __future__ import annotations

from pydantic import Field

from visafaq.eligibility.context import Context, verdict_of
from visafaq.eligibility.titp import Inputs
from visafaq.eligibility.verdict import Outcome, Verdict


class InternshipPermission(Inputs):
    paid: bool | None = Field(None, description="Is the internship paid?")
    during_long_vacation: bool = Field(
        False, description="Is it during your school's long vacation (summer, winter or spring break)?"
    )
    hours_per_week: float | None = Field(None, ge=0, le=168, description="How many hours a week will you work?")
    hours_per_day: float | None = Field(
        None, ge=0, le=24, description="How many hours a day will you work during the vacation?"
    )


def check(inputs: InternshipPermission, ctx: Context) -> Verdict:
    """`yes`: allowed, with the permission the reason names. `unknown` over the weekly limit: a
    separate permission is granted case by case, so the answer depends on the immigration office."""
    name = "internship-permission"
    if inputs.paid is None:
        return verdict_of(name, ctx, [], missing=["paid"])
    if not inputs.paid:
        return verdict_of(
            name,
            ctx,
            [ctx.reason("internship-permission.unpaid", True, "An unpaid internship needs no permission.")],
        )
    if inputs.during_long_vacation:
        if inputs.hours_per_day is None:
            return verdict_of(name, ctx, [], missing=["hours_per_day"])
        daily = ctx.whole("internship.outside_status.max_hours_per_day_in_vacation")
        within = inputs.hours_per_day <= daily
        return _paid(
            name,
            ctx,
            within,
            f"{inputs.hours_per_day:g} hours a day in the long vacation; the limit is {daily}.",
        )
    if inputs.hours_per_week is None:
        return verdict_of(name, ctx, [], missing=["hours_per_week"])
    weekly = ctx.whole("internship.outside_status.max_hours_per_week")
    return _paid(
        name,
        ctx,
        inputs.hours_per_week <= weekly,
        f"{inputs.hours_per_week:g} hours a week; the limit is {weekly}.",
    )


def _paid(name: str, ctx: Context, within: bool, figures: str) -> Verdict:
    if within:
        reason = ctx.reason(
            "internship-permission.within-limit",
            True,
            f"Paid, {figures} You need the ordinary permission to engage in activity "
            "outside your status before you start.",
        )
        return verdict_of(name, ctx, [reason])
    reason = ctx.reason(
        "internship-permission.over-limit",
        True,
        f"Paid, {figures} Over the limit you need a separate permission that is granted "
        "case by case (typically to final-year students whose internship fits their major).",
    )
    verdict = verdict_of(name, ctx, [reason])
    return type(verdict)(verdict.check, verdict.on, Outcome.UNKNOWN, None, verdict.reasons, ())
