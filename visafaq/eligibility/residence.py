"""Family members and permanent residence, by status of residence."""

from __future__ import annotations

from pydantic import Field

from visafaq.eligibility.context import Context, InputError, verdict_of, years
from visafaq.eligibility.titp import Inputs
from visafaq.eligibility.verdict import Verdict


class Family(Inputs):
    status: str | None = Field(
        None,
        description="Which status of residence do you have?",
        json_schema_extra={"choices_from": "statuses"},
    )


def check_family(inputs: Family, ctx: Context) -> Verdict:
    if inputs.status is None:
        return verdict_of("family", ctx, [], missing=["status"])
    status = ctx.base.statuses.get(inputs.status)
    if status is None:
        known = ", ".join(ctx.base.statuses)
        raise InputError(f"status: unknown status {inputs.status!r} (known: {known})")
    may = status.family_may_accompany
    detail = (
        f"With {status.name}, your spouse and children can come to live with you."
        if may
        else f"With {status.name}, your spouse and children generally cannot come with you."
    )
    return verdict_of("family", ctx, [ctx.reason("family.by-status", may, detail)])


class PermanentResidence(Inputs):
    years_in_japan: float | None = Field(
        None, ge=0, le=100, description="How many years have you lived in Japan without a break?"
    )
    years_titp_or_ssw1: float | None = Field(
        None,
        ge=0,
        le=100,
        description="Of those, how many years as a technical intern or on SSW (i)?",
    )
    years_other_work: float | None = Field(
        None,
        ge=0,
        le=100,
        description="How many years on other work statuses (such as SSW (ii) or Engineer / Humanities)?",
    )


def check_permanent_residence(inputs: PermanentResidence, ctx: Context) -> Verdict:
    """Only the residence-years part of the rule: tax, income and conduct are not checked here."""
    reasons, missing = [], []
    if inputs.years_in_japan is None:
        missing.append("years_in_japan")
    else:
        needed = ctx.whole("residence.permanent.min_years")
        reasons.append(
            ctx.reason(
                "permanent-residence.residence-years",
                inputs.years_in_japan >= needed,
                f"You have lived in Japan {years(inputs.years_in_japan)}; the general rule asks for {years(needed)}.",
            )
        )
    if inputs.years_other_work is None:
        missing.append("years_other_work")
    else:
        needed = ctx.whole("residence.permanent.work_status_min_years")
        not_counting = [
            s.name for s in ctx.base.statuses.values() if not s.counts_as_work_status_for_permanent_residence
        ]
        excluded = ""
        if inputs.years_titp_or_ssw1:
            excluded = f" Your {years(inputs.years_titp_or_ssw1)} as a technical intern or on SSW (i) do not count."
        # The work years must fall within the continuous residence: no more of them count than that.
        counted = inputs.years_other_work
        if inputs.years_in_japan is not None and counted > inputs.years_in_japan:
            counted = inputs.years_in_japan
            excluded += f" Only the work years within your {years(inputs.years_in_japan)} in Japan count."
        reasons.append(
            ctx.reason(
                "permanent-residence.work-years",
                counted >= needed,
                f"Of those, {years(counted)} on a work status count; {years(needed)} are needed."
                f"{excluded} Not counted: {', '.join(not_counting)}.",
            )
        )
    return verdict_of("permanent-residence", ctx, reasons, missing=missing)
