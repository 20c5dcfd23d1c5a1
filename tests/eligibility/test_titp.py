"""Technical Intern Training checks at their boundaries, on the real knowledge store."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from tests.eligibility.conftest import Run
from visafaq.eligibility.registry import InputError, evaluate
from visafaq.eligibility.verdict import Outcome
from visafaq.knowledge.queries import ParameterNotInForceError
from visafaq.knowledge.reader import KnowledgeBase

OLD_TABLE_DAY = date(2017, 10, 31)
NEW_TABLE_DAY = date(2017, 11, 1)

ALL_CLEAR = {
    "good_health": True,
    "serious_criminal_record": False,
    "through_sending_organisation": True,
    "skills_hard_to_get_at_home": True,
    "simple_repetitive_work": False,
    "will_use_skills_at_home": True,
}


@pytest.mark.parametrize(("age", "outcome"), [(17, Outcome.NO), (18, Outcome.YES), (45, Outcome.YES)])
def test_applicant_minimum_age(run: Run, age: int, outcome: Outcome) -> None:
    verdict = run("titp-applicant", age=age, **ALL_CLEAR)
    assert verdict.outcome is outcome
    [age_reason] = [r for r in verdict.reasons if r.rule == "titp-applicant.minimum-age"]
    assert age_reason.detail == f"You are {age}; the minimum age is 18."
    assert age_reason.source is not None and age_reason.source.id == "seed-000"


def test_applicant_17_is_no_even_with_nothing_else_known(run: Run) -> None:
    verdict = run("titp-applicant", age=17)
    assert verdict.outcome is Outcome.NO
    assert verdict.missing[0] == "good_health"


def test_applicant_missing_inputs_are_asked_age_first(run: Run) -> None:
    verdict = run("titp-applicant")
    assert verdict.outcome is Outcome.UNKNOWN
    assert verdict.missing == ("age", *ALL_CLEAR)


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("good_health", False),
        ("serious_criminal_record", True),
        ("through_sending_organisation", False),
        ("simple_repetitive_work", True),
        ("will_use_skills_at_home", False),
    ],
)
def test_each_applicant_condition_can_fail(run: Run, answer: str, value: bool) -> None:
    verdict = run("titp-applicant", age=25, **{**ALL_CLEAR, answer: value})
    assert verdict.outcome is Outcome.NO
    assert [r.passed for r in verdict.reasons].count(False) == 1


def test_no_new_entrants_after_the_programme_ends(run: Run) -> None:
    assert run("titp-applicant", on=date(2027, 3, 31), age=25, **ALL_CLEAR).outcome is Outcome.YES
    after = run("titp-applicant", on=date(2027, 4, 1), age=25, **ALL_CLEAR)
    assert after.outcome is Outcome.NO
    assert "Employment for Skill Development" in after.reasons[0].detail


@pytest.mark.parametrize(
    ("staff", "old", "new"),
    # 1 staff: basic 3, but No.1 trainees may not outnumber full-time staff, so 1.
    [
        (1, 1, 1),
        (3, 3, 3),
        (30, 3, 3),
        (31, 3, 4),
        (40, 3, 4),
        (41, 3, 5),
        (50, 3, 5),
        (51, 6, 6),
        (100, 6, 6),
        (101, 10, 10),
        (200, 10, 10),
        (201, 15, 15),
        (300, 15, 15),
        (301, 15, 15),
        (600, 30, 30),
    ],
)
def test_basic_quota_on_both_tables(run: Run, staff: int, old: int, new: int) -> None:
    assert run("titp-quota", on=OLD_TABLE_DAY, full_time_staff=staff).value == old
    assert run("titp-quota", on=NEW_TABLE_DAY, full_time_staff=staff).value == new


def test_quota_examples_from_the_issue(run: Run) -> None:
    assert run("titp-quota", full_time_staff=150).value == 10
    assert run("titp-quota", on=OLD_TABLE_DAY, full_time_staff=45).value == 3
    assert run("titp-quota", full_time_staff=45).value == 5
    assert run("titp-quota", full_time_staff=20, nursing_care=True).value == 2


def test_stage_multipliers_and_caps(run: Run) -> None:
    assert run("titp-quota", full_time_staff=150, stage="no2").value == 20
    assert run("titp-quota", full_time_staff=150, stage="no2", excellent=True).value == 40
    assert run("titp-quota", full_time_staff=150, excellent=True).value == 20
    top = run("titp-quota", full_time_staff=150, stage="no3", excellent=True, supervising_excellent=True)
    assert top.value == 60
    # Caps: 2 staff, excellent No.1 would be 2 x 3 = 6, but at most 1 x staff = 2.
    capped = run("titp-quota", full_time_staff=2, excellent=True)
    assert capped.value == 2
    assert any(r.rule == "titp-quota.cap" for r in capped.reasons)


def test_no3_needs_both_organisations_excellent(run: Run) -> None:
    verdict = run("titp-quota", full_time_staff=150, stage="no3", excellent=True)
    assert verdict.outcome is Outcome.NO and verdict.value is None


@pytest.mark.parametrize(
    ("workers", "no1", "total"),
    [(1, 1, 1), (2, 1, 2), (10, 1, 3), (11, 2, 6), (30, 3, 9), (31, 4, 12), (101, 10, 30), (400, 20, 60)],
)
def test_nursing_care_quota_per_site(run: Run, workers: int, no1: int, total: int) -> None:
    verdict = run("titp-quota", full_time_staff=workers, nursing_care=True)
    assert verdict.value == no1
    assert f"may not exceed {total} trainees" in verdict.reasons[1].detail
    assert run("titp-quota", full_time_staff=workers, nursing_care=True, stage="no2").value == total


def test_nursing_care_figures_quote_their_table_rows(run: Run) -> None:
    first, total = run("titp-quota", full_time_staff=25, nursing_care=True).reasons[:2]
    assert first.detail.endswith("gives 21-30: 3.")
    assert total.detail.endswith("(its table gives 21-30: 9).")


def test_nursing_care_excellent_doubles_no1_within_the_cap(run: Run) -> None:
    assert run("titp-quota", full_time_staff=20, nursing_care=True, excellent=True).value == 4
    assert run("titp-quota", full_time_staff=1, nursing_care=True, excellent=True).value == 1


def test_quota_needs_the_staff_count(run: Run) -> None:
    verdict = run("titp-quota")
    assert verdict.outcome is Outcome.UNKNOWN and verdict.missing == ("full_time_staff",)


@pytest.mark.parametrize(("experience", "outcome"), [(4, Outcome.NO), (4.9, Outcome.NO), (5, Outcome.YES)])
def test_trainer_experience(run: Run, experience: float, outcome: Outcome) -> None:
    verdict = run("titp-trainer", trainer_full_time=True, trainer_experience_years=experience)
    assert verdict.outcome is outcome


def test_trainer_must_be_full_time(run: Run) -> None:
    assert run("titp-trainer", trainer_full_time=False, trainer_experience_years=10).outcome is Outcome.NO


@pytest.mark.parametrize(
    ("required", "related", "peripheral", "outcome", "failing"),
    [
        (50, 30, 20, Outcome.YES, None),
        (49, 31, 20, Outcome.NO, "titp-training-time.required"),
        (60, 5, 35, Outcome.NO, "titp-training-time.peripheral"),
        (50, 17, 33, Outcome.YES, None),
    ],
)
def test_training_time_shares(
    run: Run, required: float, related: float, peripheral: float, outcome: Outcome, failing: str | None
) -> None:
    verdict = run("titp-training-time", required_hours=required, related_hours=related, peripheral_hours=peripheral)
    assert verdict.outcome is outcome
    assert [r.rule for r in verdict.reasons if not r.passed] == ([failing] if failing else [])


def test_next_stage_no1_to_no2(run: Run) -> None:
    assert run("titp-next-stage", current_stage="no1").missing == ("passed_basic_test",)
    assert run("titp-next-stage", current_stage="no1", passed_basic_test=True).outcome is Outcome.YES
    assert run("titp-next-stage", current_stage="no1", passed_basic_test=False).outcome is Outcome.NO


def test_next_stage_no_skipping(run: Run) -> None:
    verdict = run("titp-next-stage", current_stage="no1", target_stage="no3")
    assert verdict.outcome is Outcome.NO and "no skipping" in verdict.reasons[0].detail


NO3_READY = {
    "current_stage": "no2",
    "passed_grade3_practical_test": True,
    "organisation_excellent": True,
    "supervising_excellent": True,
    "occupation_allows_no3": True,
    "done_no3_before": False,
}


@pytest.mark.parametrize(
    ("months", "outcome"), [(0.5, Outcome.NO), (1, Outcome.YES), (11.9, Outcome.YES), (12, Outcome.NO)]
)
def test_no3_return_home_between_one_month_and_a_year(run: Run, months: float, outcome: Outcome) -> None:
    assert run("titp-next-stage", returned_home_months=months, **NO3_READY).outcome is outcome


def test_no3_conditions_each_fail(run: Run) -> None:
    for name in ("passed_grade3_practical_test", "organisation_excellent", "occupation_allows_no3"):
        inputs = {**NO3_READY, name: False, "returned_home_months": 2}
        assert run("titp-next-stage", **inputs).outcome is Outcome.NO, name
    assert (
        run("titp-next-stage", **{**NO3_READY, "done_no3_before": True, "returned_home_months": 2}).outcome
        is Outcome.NO
    )


def test_quota_reasons_name_the_figures(run: Run) -> None:
    verdict = run("titp-quota", full_time_staff=150, stage="no2", excellent=True)
    assert [r.rule for r in verdict.reasons] == ["titp-quota.basic", "titp-quota.multiplier"]
    assert verdict.reasons[0].detail.startswith("With 150 full-time staff the basic quota is 10")
    assert "4 x 10 = 40" in verdict.reasons[1].detail


def test_the_quota_reason_quotes_the_row_of_the_table_it_used(run: Run) -> None:
    assert "gives 101-200: 10." in run("titp-quota", full_time_staff=150).reasons[0].detail
    big = run("titp-quota", full_time_staff=650).reasons[0].detail
    assert "the basic quota is 32" in big and "gives 301 or more: 1/20 of that number." in big


def test_the_ordinary_quota_says_it_is_not_the_nursing_care_table(run: Run) -> None:
    assert "but nursing care" in run("titp-quota", full_time_staff=15).reasons[0].detail
    nursing = run("titp-quota", full_time_staff=15, nursing_care=True)
    assert not any("but nursing care" in reason.detail for reason in nursing.reasons)


def test_ordinary_no2_is_capped_at_twice_the_staff(run: Run) -> None:
    verdict = run("titp-quota", full_time_staff=1, stage="no2")  # 2 x 3 = 6, but at most 2 x 1
    assert verdict.value == 2 and verdict.reasons[-1].rule == "titp-quota.cap"
    top = run("titp-quota", full_time_staff=2, stage="no3", excellent=True, supervising_excellent=True)
    assert top.value == 6  # 6 x 3 = 18, but at most 3 x 2


@pytest.mark.parametrize(
    ("company", "supervisor", "named"),
    [(False, False, "the company and the supervising organisation are not"), (True, False, "organisation is not")],
)
def test_no3_refusal_says_who_is_not_excellent(run: Run, company: bool, supervisor: bool, named: str) -> None:
    verdict = run("titp-quota", full_time_staff=150, stage="no3", excellent=company, supervising_excellent=supervisor)
    assert verdict.outcome is Outcome.NO and verdict.value is None
    assert named in verdict.reasons[-1].detail


def test_nursing_no3_also_needs_both_organisations_excellent(run: Run) -> None:
    refused = run("titp-quota", full_time_staff=20, nursing_care=True, stage="no3", excellent=True)
    assert refused.outcome is Outcome.NO and refused.value is None
    allowed = run(
        "titp-quota", full_time_staff=20, nursing_care=True, stage="no3", excellent=True, supervising_excellent=True
    )
    assert allowed.value == 6 and allowed.reasons[-1].rule == "titp-quota.nursing-later-stages"


LAST_TITP_DAY, FIRST_ESD_DAY = date(2027, 3, 31), date(2027, 4, 1)


def test_no_new_no1_quota_after_the_programme_ends(run: Run) -> None:
    assert run("titp-quota", on=LAST_TITP_DAY, full_time_staff=150).value == 10
    after = run("titp-quota", on=FIRST_ESD_DAY, full_time_staff=150)
    assert after.outcome is Outcome.NO and after.value is None
    assert after.reasons[0].rule == "titp-quota.programme-open"
    assert "Employment for Skill Development" in after.reasons[0].detail
    nursing = run("titp-quota", on=FIRST_ESD_DAY, full_time_staff=20, nursing_care=True)
    assert nursing.outcome is Outcome.NO


def test_later_stage_quota_after_the_end_is_for_trainees_already_in(run: Run) -> None:
    verdict = run("titp-quota", on=FIRST_ESD_DAY, full_time_staff=150, stage="no2")
    assert verdict.outcome is Outcome.YES and verdict.value == 20
    first = verdict.reasons[0]
    assert first.rule == "titp-quota.programme-open" and first.passed
    assert "already in the programme" in first.detail


def test_training_hours_of_zero_are_an_input_error(run: Run) -> None:
    with pytest.raises(InputError, match="add up to zero"):
        run("titp-training-time", required_hours=0, related_hours=0, peripheral_hours=0)


def test_training_time_asks_for_every_kind_of_work(run: Run) -> None:
    assert run("titp-training-time", related_hours=10).missing == ("required_hours", "peripheral_hours")


@pytest.mark.parametrize(
    ("required", "related", "peripheral", "failing"),
    [
        (50, 50, 0, []),  # required exactly 1/2, related exactly 1/2
        (40, 60, 0, ["titp-training-time.required", "titp-training-time.related"]),
        (2, 0, 1, []),  # peripheral exactly 1/3
        (1, 0, 1, ["titp-training-time.peripheral"]),
    ],
)
def test_training_time_share_boundaries(
    run: Run, required: float, related: float, peripheral: float, failing: list[str]
) -> None:
    verdict = run("titp-training-time", required_hours=required, related_hours=related, peripheral_hours=peripheral)
    assert [r.rule for r in verdict.reasons if not r.passed] == failing


def test_next_stage_asks_about_no3_in_order(run: Run) -> None:
    assert run("titp-next-stage").missing == ("current_stage",)
    assert run("titp-next-stage", current_stage="no2").missing == (
        "passed_grade3_practical_test",
        "organisation_excellent",
        "supervising_excellent",
        "returned_home_months",
        "occupation_allows_no3",
        "done_no3_before",
    )


def test_next_stage_backwards_is_no(run: Run) -> None:
    verdict = run("titp-next-stage", current_stage="no2", target_stage="no1")
    assert verdict.outcome is Outcome.NO and verdict.reasons[0].rule == "titp-next-stage.in-order"


def test_a_parameter_with_no_version_that_day_is_a_clear_error(base: KnowledgeBase) -> None:
    parameter = base.parameters["titp.applicant.minimum_age"]
    later = parameter.model_copy(
        update={"versions": [v.model_copy(update={"starts": date(2030, 1, 1)}) for v in parameter.versions]}
    )
    shifted = replace(base, parameters={**base.parameters, parameter.id: later})
    expected = re.escape("'titp.applicant.minimum_age' has no version in force on 2026-11-24")
    with pytest.raises(ParameterNotInForceError, match=expected):
        evaluate("titp-applicant", {"age": 20}, date(2026, 11, 24), shifted)
