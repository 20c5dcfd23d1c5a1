"""The command line: what staff and scripts run. Wrong usage is exit code 2 with a message, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("VISAFAQ_DATABASE_URL", url)
    return url


def test_kb_check_load_and_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "kb", "check")
    assert code == 0 and "valid" in out
    code, out, _ = run_cli(capsys, "kb", "load")
    assert code == 0 and out.startswith("Loaded")
    code, out, _ = run_cli(capsys, "kb", "stats", "--json")
    stats = json.loads(out)
    assert code == 0
    assert stats["facts"] > 200 and stats["programmes"] == 6
    assert stats["facts_without_source"] == 0 and stats["facts_without_checked_date"] == 0


def test_kb_stats_on_an_empty_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "kb", "stats")
    assert code == 1 and "kb load" in err


def test_kb_check_reports_bad_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, broken)
    facts = broken / "facts" / "titp.yml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("topic: quota", "topic: quotas", 1), encoding="utf-8")
    code, _, err = run_cli(capsys, "kb", "load", "--knowledge-dir", str(broken))
    assert code == 1
    assert "knowledge/facts/titp.yml:" in err and "unknown topic 'quotas'" in err
    assert "nothing was loaded" in err


@pytest.mark.parametrize(
    ("argv", "value"),
    [
        (["titp-quota", "--full-time-staff", "150"], 10),
        (["titp-quota", "--full-time-staff", "45", "--on", "2017-10-31"], 3),
        (["titp-quota", "--full-time-staff", "45", "--on", "2026-11-24"], 5),
        (["titp-quota", "--full-time-staff", "20", "--nursing-care"], 2),
    ],
)
def test_eligibility_quota_json(capsys: pytest.CaptureFixture[str], argv: list[str], value: int) -> None:
    code, out, _ = run_cli(capsys, "eligibility", *argv, "--json")
    verdict = json.loads(out)
    assert code == 0
    assert verdict["value"] == value and verdict["outcome"] == "yes"
    assert set(verdict) == {"check", "on", "outcome", "value", "reasons", "missing", "pending"}
    reason = verdict["reasons"][0]
    assert set(reason) >= {"rule", "passed", "detail", "source"}
    assert reason["source"]["checked"] == "2026-11-24"


def test_eligibility_text_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "eligibility", "titp-applicant", "--age", "17")
    assert code == 0
    assert "NO" in out.splitlines()[0]
    assert "✗ You are 17; the minimum age is 18." in out
    assert "still needed: --good-health" in out


def test_internship_over_28_hours(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "eligibility", "internship-permission", "--paid", "--hours-per-week", "35", "--json")
    verdict = json.loads(out)
    assert code == 0 and verdict["outcome"] == "unknown"
    assert "separate permission" in verdict["reasons"][0]["detail"]


@pytest.mark.parametrize(
    "argv",
    [
        ["eligibility"],
        ["eligibility", "no-such-check"],
        ["eligibility", "titp-quota", "--full-time-staff", "x"],
        ["eligibility", "titp-quota", "--full-time-staff", "0"],
        ["eligibility", "titp-quota", "--on", "2026-13-01"],
        ["eligibility", "titp-quota", "--stage", "no9"],
        ["eligibility", "titp-quota", "--nonsense"],
        [],
    ],
)
def test_wrong_usage_is_exit_2_with_a_message(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert "usage:" in err and "Traceback" not in err
