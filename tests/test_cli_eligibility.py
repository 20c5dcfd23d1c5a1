"""`visafaq eligibility CHECK ...`: the verdict as text or one JSON object; wrong usage is exit code 2
with a usage message, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import run_cli
from visafaq.eligibility.registry import CHECKS

TODAY = "2026-11-24"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database for this module: the first check loads knowledge/ into it, the others read it."""
    return f"sqlite:///{tmp_path_factory.mktemp('cli') / 'eligibility.sqlite3'}"


@pytest.fixture(autouse=True)
def environment(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISAFAQ_DATABASE_URL", database_url)
    monkeypatch.setenv("VISAFAQ_TODAY", TODAY)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "eligibility", *argv)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    verdict: dict[str, Any] = json.loads(out)  # exactly one JSON object, nothing else on stdout
    return verdict


@pytest.mark.parametrize(
    ("argv", "value"),
    [
        (["titp-quota", "--full-time-staff", "150"], 10),
        (["titp-quota", "--full-time-staff", "45", "--on", "2017-10-31"], 3),
        (["titp-quota", "--full-time-staff", "45", "--on", "2017-11-01"], 5),
        (["titp-quota", "--full-time-staff", "45", "--on", "2026-11-24"], 5),
        (["titp-quota", "--full-time-staff", "20", "--nursing-care"], 2),
        (["titp-quota", "--full-time-staff", "150", "--stage", "no2", "--excellent"], 40),
        (["titp-quota", "--full-time-staff", "600"], 30),
    ],
)
def test_quota_values(capsys: pytest.CaptureFixture[str], argv: list[str], value: int) -> None:
    verdict = run_json(capsys, *argv)
    assert verdict["value"] == value
    assert verdict["outcome"] == "yes"
    assert verdict["missing"] == []


def test_rules_waiting_for_inputs_are_stated_with_their_figures(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = run_json(capsys, "gijinkoku", "--experience-years", "5")
    assert verdict["outcome"] == "unknown" and "related_degree" in verdict["missing"]
    pending = {p["rule"]: p for p in verdict["pending"]}
    background = pending["gijinkoku.background"]
    # The rule as a reader needs it, with the parameters' values in force (not placeholders).
    assert "10 years" in background["text"] and "{" not in background["text"]
    assert background["sources"]


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = run_json(capsys, "titp-quota", "--full-time-staff", "150")
    assert list(verdict) == ["check", "on", "outcome", "value", "reasons", "missing", "pending"]
    assert verdict["check"] == "titp-quota" and verdict["on"] == TODAY
    for reason in verdict["reasons"]:
        assert list(reason) == ["rule", "passed", "detail", "source", "sources"]
        assert reason["rule"].startswith("titp-quota.") and reason["passed"] is True
        assert reason["source"] == reason["sources"][0]
        assert list(reason["source"]) == ["id", "title", "publisher", "url", "checked"]
        assert reason["source"]["checked"] == "2026-11-24"
    assert verdict["reasons"][0]["source"]["url"].startswith("https://")


def test_json_missing_is_snake_case_in_asking_order(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = run_json(capsys, "titp-applicant", "--age", "17")
    assert verdict["outcome"] == "no" and verdict["value"] is None
    assert verdict["missing"][:2] == ["good_health", "serious_criminal_record"]
    assert run_json(capsys, "titp-quota")["missing"] == ["full_time_staff"]


def test_text_explains_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "titp-applicant", "--age", "17")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "titp-applicant on 24 November 2026: NO"
    assert "✗ You are 17; the minimum age is 18.  [titp-applicant.minimum-age]" in out
    # a seed guide has no web address: its file is named instead
    assert "seeds/000_c95a676be04dbff6.txt), checked 24 November 2026" in out
    assert "still needed: --good-health --serious-criminal-record" in out


def test_text_shows_value_and_source_addresses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "titp-quota", "--full-time-staff", "45", "--on", "2017-10-31")
    assert code == 0
    assert out.splitlines()[:2] == ["titp-quota on 31 October 2017: YES", "value: 3"]
    assert "✓ With 45 full-time staff the basic quota is 3" in out
    assert "https://arbourfield.jp/?p=683), checked 24 November 2026" in out
    assert "still needed" not in out


def test_applicant_after_the_programme_ends(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = run_json(capsys, "titp-applicant", "--age", "30", "--on", "2027-04-01")
    assert verdict["outcome"] == "no"
    assert verdict["reasons"][0]["rule"] == "titp-applicant.programme-open"
    assert run_json(capsys, "titp-applicant", "--age", "30", "--on", "2027-03-31")["outcome"] == "unknown"


@pytest.mark.parametrize(("hours", "rule"), [("28", "within-limit"), ("29", "over-limit"), ("35", "over-limit")])
def test_paid_internship_hours(capsys: pytest.CaptureFixture[str], hours: str, rule: str) -> None:
    verdict = run_json(capsys, "internship-permission", "--paid", "--hours-per-week", hours)
    assert [r["rule"] for r in verdict["reasons"]] == [f"internship-permission.{rule}"]
    if rule == "over-limit":
        assert verdict["outcome"] == "unknown" and verdict["missing"] == []
        assert "separate permission" in verdict["reasons"][0]["detail"]
    else:
        assert verdict["outcome"] == "yes"
        assert "ordinary permission" in verdict["reasons"][0]["detail"]


def test_booleans_keep_unknown_apart_from_no(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "internship-permission")["missing"] == ["paid"]
    unpaid = run_json(capsys, "internship-permission", "--no-paid")
    assert unpaid["outcome"] == "yes" and unpaid["reasons"][0]["rule"] == "internship-permission.unpaid"


def test_every_check_runs_with_nothing_known(capsys: pytest.CaptureFixture[str]) -> None:
    for name in CHECKS:
        verdict = run_json(capsys, name)
        assert verdict["check"] == name
        assert verdict["outcome"] == "unknown" and verdict["missing"], name


def test_options_come_from_the_input_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "titp-quota", "--help")
    assert code == 0
    for option in ("--full-time-staff", "--stage {no1,no2,no3}", "--excellent, --no-excellent", "--nursing-care"):
        assert option in out
    assert "How many full-time staff" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["no-such-check"],
        ["titp-quota", "--full-time-staff", "x"],
        ["titp-quota", "--full-time-staff", "0"],
        ["titp-quota", "--full-time-staff", "150", "--on", "2026-13-01"],
        ["titp-quota", "--full-time-staff", "150", "--on", "tomorrow"],
        ["titp-quota", "--stage", "no9"],
        ["titp-quota", "--nonsense"],
        ["titp-quota", "--full-time-staff"],
        ["titp-applicant", "--age", "-1"],
        ["titp-applicant", "--good-health", "yes"],
        ["family", "--status", "tourist"],
        ["titp-training-time", "--required-hours", "0", "--related-hours", "0", "--peripheral-hours", "0"],
    ],
)
def test_wrong_usage_is_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err and "Traceback" not in err
    assert out == ""
