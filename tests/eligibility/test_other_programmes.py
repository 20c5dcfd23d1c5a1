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
    with pytest.raises(ValueError, match="unknown status 'tourist'"):
        run("family", status="tourist")


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
