"""Engineer / Specialist in Humanities / International Services."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from visafaq.eligibility.context import Context, Missing, RuleResult, apply_rules, years
from visafaq.eligibility.titp import Inputs
from visafaq.eligibility.verdict import Verdict


class Gijinkoku(Inputs):
    job_offer: bool | None = Field(None, description="Do you have a job offer from a company in Japan?")
    qualifying_field: bool | None = Field(
        None, description="Is the job in engineering, humanities or international services (not manual work)?"
    )
    related_degree: bool | None = Field(
        None, description="Do you have a degree (or Japanese vocational diploma) related to the job?"
    )
    language_work: bool | None = Field(None, description="Is the job translation, interpretation or language teaching?")
    experience_years: float | None = Field(
        None, ge=0, le=80, description="How many years of experience do you have in this kind of work?"
    )
    pay_comparable_to_japanese: bool | None = Field(
        None, description="Is the pay at least what Japanese staff get for the same work?"
    )
    duties_match_category: bool | None = Field(None, description="Do the duties match the category of the visa?")


def _flag(field: str, rule_id: str, yes: str, no: str) -> Callable[[Gijinkoku, Context], RuleResult]:
    def rule(inputs: Gijinkoku, ctx: Context) -> RuleResult:
        value = getattr(inputs, field)
        if value is None:
            return Missing((field,), rule_id)
        return ctx.reason(rule_id, bool(value), yes if value else no)

    return rule


def background(inputs: Gijinkoku, ctx: Context) -> RuleResult:
    """A related degree, or enough experience (fewer years for language work). Enough experience
    decides without asking about a degree; too little for even language work decides without asking
    what the job is."""
    rule = "gijinkoku.background"
    if inputs.related_degree:
        return ctx.reason(rule, True, "You have a degree related to the job.")
    general = ctx.whole("gijinkoku.experience.min_years")
    language = ctx.whole("gijinkoku.experience.min_years_language_work")
    experience = inputs.experience_years
    if experience is not None and (experience >= general or (inputs.language_work and experience >= language)):
        needed = general if experience >= general else language
        return ctx.reason(
            rule, True, f"Without a related degree, {years(experience)} of experience meets the {years(needed)} needed."
        )
    if inputs.related_degree is None:
        return Missing(("related_degree",), rule, partly_known=experience is not None)
    if experience is None:
        return Missing(("experience_years",), rule)
    if inputs.language_work is None and experience >= language:
        return Missing(("language_work",), rule)
    language_jobs = "translation, interpretation or language teaching"
    if inputs.language_work is None:
        needs = f"{years(general)} of experience ({years(language)} for {language_jobs})"
    elif inputs.language_work:
        needs = f"{years(language)} of experience for {language_jobs}"
    else:
        needs = f"{years(general)} of experience"
    return ctx.reason(rule, False, f"Without a related degree you need {needs}; you have {years(experience)}.")


RULES = (
    _flag(
        "job_offer",
        "gijinkoku.job-offer",
        "You have a job offer in Japan.",
        "You need a job offer from a company or organisation in Japan.",
    ),
    _flag(
        "qualifying_field",
        "gijinkoku.qualifying-field",
        "The job is in a qualifying field.",
        "The job must use specialist knowledge (engineering, humanities or international services).",
    ),
    background,
    _flag(
        "pay_comparable_to_japanese",
        "gijinkoku.pay",
        "The pay matches Japanese staff.",
        "The pay must be at least what Japanese staff get for the same work.",
    ),
    _flag(
        "duties_match_category",
        "gijinkoku.duties",
        "The duties match the category.",
        "The duties must match the category applied for; a mismatch between studies and job is the "
        "main reason for refusals.",
    ),
)


def check(inputs: Gijinkoku, ctx: Context) -> Verdict:
    return apply_rules("gijinkoku", inputs, ctx, RULES)
