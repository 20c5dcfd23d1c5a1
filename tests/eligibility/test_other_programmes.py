"""SSW, gijinkoku, internships, family and permanent residence."""

from __future__ import annotations

import pytest

from tests.eligibility.conftest import Run
from visafaq.eligibility.registry import InputError
from visafaq.eligibility.verdict import Outcome


def test_ssw_transition_waives_tests_in_the_same_field(run: Run) -> None:
    verdict = run("ssw-transition", completed_titp_stage="no2", same_field=True)
    assert verdict.outcome is Outcome.YES and "waived" in verdict.reasons[0].detail
    other = run("ssw-transition", completed_titp_stage="no3", same_field=False)
    assert other.reasons[0].rule == "ssw-transition.other-field"
    assert run("ssw-transition", completed_titp_stage="none").reasons[0].rule == "ssw-transition.tests-needed"
    assert run("ssw-transition", completed_titp_stage="no2").missing == ("same_field",)


GIJINKOKU_OK = {
    "job_offer": True,
    "qualifying_field": True,
    "pay_comparable_to_japanese": True,
    "duties_match_category": True,
}


@pytest.mark.parametrize(
    ("background", "outcome"),
    [
        ({"related_degree": True}, Outcome.YES),
        ({"related_degree": False, "experience_years": 10}, Outcome.YES),
        ({"related_degree": False, "experience_years": 9, "language_work": False}, Outcome.NO),
        ({"related_degree": False, "experience_years": 3, "language_work": True}, Outcome.YES),
        ({"related_degree": False, "experience_years": 2, "language_work": True}, Outcome.NO),
        ({"related_degree": False, "experience_years": 3}, Outcome.UNKNOWN),
    ],
)
def test_gijinkoku_background(run: Run, background: dict[str, object], outcome: Outcome) -> None:
    verdict = run("gijinkoku", **GIJINKOKU_OK, **background)
    assert verdict.outcome is outcome


def test_gijinkoku_pay_must_match(run: Run) -> None:
    verdict = run("gijinkoku", **{**GIJINKOKU_OK, "pay_comparable_to_japanese": False}, related_degree=True)
    assert verdict.outcome is Outcome.NO


@pytest.mark.parametrize(
    ("inputs", "outcome", "rule"),
    [
        ({"paid": False}, Outcome.YES, "internship-permission.unpaid"),
        ({"paid": True, "hours_per_week": 28}, Outcome.YES, "internship-permission.within-limit"),
        ({"paid": True, "hours_per_week": 29}, Outcome.UNKNOWN, "internship-permission.over-limit"),
        (
            {"paid": True, "during_long_vacation": True, "hours_per_day": 8},
            Outcome.YES,
            "internship-permission.within-limit",
        ),
        (
            {"paid": True, "during_long_vacation": True, "hours_per_day": 9},
            Outcome.UNKNOWN,
            "internship-permission.over-limit",
        ),
    ],
)
def test_internship_permission(run: Run, inputs: dict[str, object], outcome: Outcome, rule: str) -> None:
    verdict = run("internship-permission", **inputs)
    assert verdict.outcome is outcome
    assert [r.rule for r in verdict.reasons] == [rule]


def test_internship_asks_paid_then_hours(run: Run) -> None:
    assert run("internship-permission").missing == ("paid",)
    assert run("internship-permission", paid=True).missing == ("hours_per_week",)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("titp-1", Outcome.NO), ("ssw-1", Outcome.NO), ("ssw-2", Outcome.YES), ("gijinkoku", Outcome.YES)],
)
def test_family_by_status(run: Run, status: str, outcome: Outcome) -> None:
    assert run("family", status=status).outcome is outcome


def test_family_unknown_status_is_an_input_error(run: Run) -> None:
    with pytest.raises(InputError, match="unknown status 'tourist'"):
        run("family", status="tourist")


def test_family_asks_for_the_status_and_names_it(run: Run) -> None:
    assert run("family").missing == ("status",)
    verdict = run("family", status="ssw-1")
    assert verdict.reasons[0].detail.startswith("With Specified Skilled Worker (i), your spouse and children")


def test_permanent_residence_counts_only_work_years(run: Run) -> None:
    verdict = run("permanent-residence", years_in_japan=10, years_titp_or_ssw1=5, years_other_work=5)
    assert verdict.outcome is Outcome.YES
    assert "5 years as a technical intern or on SSW (i) do not count" in verdict.reasons[1].detail
    assert run("permanent-residence", years_in_japan=10, years_other_work=4).outcome is Outcome.NO
    assert run("permanent-residence", years_in_japan=9, years_other_work=9).outcome is Outcome.NO
    assert run("permanent-residence", years_in_japan=12).missing == ("years_other_work",)


def test_bad_inputs_are_reported(run: Run) -> None:
    with pytest.raises(InputError, match="full_time_staff"):
        run("titp-quota", full_time_staff=-3)
    with pytest.raises(InputError, match="unknown check"):
        run("no-such-check")
    with pytest.raises(InputError, match="Extra inputs"):
        run("titp-quota", staff=3)


def test_ssw_asks_stage_then_field(run: Run) -> None:
    assert run("ssw-transition").missing == ("completed_titp_stage",)
    verdict = run("ssw-transition", completed_titp_stage="no3", same_field=True)
    assert verdict.outcome is Outcome.YES and verdict.value is None
    assert "skills test and Japanese test are waived" in verdict.reasons[0].detail


def test_gijinkoku_asks_in_order_and_language_work_only_when_it_matters(run: Run) -> None:
    assert run("gijinkoku").missing == (
        "job_offer",
        "qualifying_field",
        "related_degree",
        "pay_comparable_to_japanese",
        "duties_match_category",
    )
    assert run("gijinkoku", related_degree=False).missing[2] == "experience_years"
    assert "language_work" not in run("gijinkoku", related_degree=False, experience_years=10).missing
    assert "language_work" in run("gijinkoku", related_degree=False, experience_years=9).missing


def test_gijinkoku_detail_names_the_figures(run: Run) -> None:
    verdict = run("gijinkoku", **GIJINKOKU_OK, related_degree=False, experience_years=2, language_work=True)
    [background] = [r for r in verdict.reasons if r.rule == "gijinkoku.background"]
    assert background.detail == (
        "Without a related degree you need 3 years of experience for translation, interpretation or "
        "language teaching; you have 2 years."
    )


def test_internship_in_the_long_vacation_asks_for_daily_hours(run: Run) -> None:
    assert run("internship-permission", paid=True, during_long_vacation=True).missing == ("hours_per_day",)
    assert run("internship-permission", paid=False, hours_per_week=40).outcome is Outcome.YES


@pytest.mark.parametrize(
    ("in_japan", "work", "outcome"),
    [(10, 5, Outcome.YES), (9.9, 5, Outcome.NO), (10, 4.9, Outcome.NO), (15, 8, Outcome.YES)],
)
def test_permanent_residence_boundaries(run: Run, in_japan: float, work: float, outcome: Outcome) -> None:
    assert run("permanent-residence", years_in_japan=in_japan, years_other_work=work).outcome is outcome


def test_permanent_residence_names_what_does_not_count(run: Run) -> None:
    verdict = run("permanent-residence", years_in_japan=10, years_other_work=5)
    detail = verdict.reasons[1].detail
    assert "Technical Intern Training" in detail and "Specified Skilled Worker (i)" in detail
    assert "Specified Skilled Worker (ii)" not in detail.split("Not counted:")[1]


def test_permanent_residence_counts_work_years_only_within_the_residence(run: Run) -> None:
    verdict = run("permanent-residence", years_in_japan=4, years_other_work=6)
    assert verdict.outcome is Outcome.NO
    assert verdict.reasons[1].detail.startswith("Of those, 4 years on a work status count; 5 years are needed.")
    assert not verdict.reasons[1].passed
