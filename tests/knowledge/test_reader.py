"""The reader: valid knowledge becomes records; every problem is named by file, line and field."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from visafaq.knowledge.reader import KnowledgeError, read_knowledge

FIXTURE = Path(__file__).parent / "fixture"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, target)
    return target


def problems_for(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        read_knowledge(directory)
    return [str(problem) for problem in caught.value.problems]


def test_reads_every_section(knowledge: Path) -> None:
    base = read_knowledge(knowledge)
    assert set(base.facts) >= {"titp.quota.table", "titp.family.none"}
    assert base.programmes["titp"].aliases == ["TITP", "trainee visa", "技能実習"]
    assert base.checklists["titp.documents.applicant"].items == ["Passport", "Photos"]
    assert base.rules["titp-applicant.minimum-age"].parameters == ["titp.applicant.minimum_age"]


def test_parameter_version_is_chosen_by_date(knowledge: Path) -> None:
    base = read_knowledge(knowledge)
    old = base.parameter_version("titp.quota.basic", date(2017, 10, 31))
    new = base.parameter_version("titp.quota.basic", date(2017, 11, 1))
    assert old is not None and new is not None
    assert old.bracket_for(45) is not None and old.bracket_for(45).apply(45) == 3  # type: ignore[union-attr]
    assert new.bracket_for(45) is not None and new.bracket_for(45).apply(45) == 5  # type: ignore[union-attr]
    assert new.bracket_for(600).apply(600) == 30  # type: ignore[union-attr]
    assert base.parameter_version("no.such", date(2020, 1, 1)) is None


def test_unknown_field_names_file_line_and_field(knowledge: Path) -> None:
    (knowledge / "extra.yml").write_text(
        "topics:\n  - id: rights\n    title: Rights\n    descripton: typo here\n", encoding="utf-8"
    )
    found = problems_for(knowledge)
    assert "extra.yml:4: topics[0].descripton: unknown field (check its spelling)" in "\n".join(found)
    assert any("topics[0].description: Field required" in p for p in found)


def test_bad_date_is_reported_not_raised(knowledge: Path) -> None:
    (knowledge / "dates.yml").write_text(
        "topics:\n  - {id: x, title: X, description: D}\nsources:\n"
        "  - {id: s, title: T, publisher: P, url: u, kind: seed, checked: 2026-13-01}\n",
        encoding="utf-8",
    )
    [problem] = problems_for(knowledge)
    assert problem.startswith("knowledge/dates.yml:4: sources[0].checked:")


def test_broken_yaml_names_the_line(knowledge: Path) -> None:
    (knowledge / "broken.yml").write_text("facts:\n  - id: [unclosed\n", encoding="utf-8")
    [problem] = problems_for(knowledge)
    assert problem.startswith("knowledge/broken.yml:3: not valid YAML")


def test_references_are_checked(knowledge: Path) -> None:
    facts = knowledge / "facts.yml"
    text = facts.read_text(encoding="utf-8")
    text = (
        text.replace("topic: family", "topic: families")
        .replace("{titp.quota.basic}", "{titp.quota.basic} and {titp.quota.nothing}")
        .replace("sources: [office, guide]", "sources: [office, nowhere]")
    )
    facts.write_text(text, encoding="utf-8")
    found = "\n".join(problems_for(knowledge))
    assert "facts.yml:25: facts[3].topic: unknown topic 'families'" in found
    assert "facts[0].text: unknown parameter in {…} 'titp.quota.nothing'" in found
    assert "facts[1].sources[1]: unknown source 'nowhere'" in found


def test_duplicate_ids_across_files(knowledge: Path) -> None:
    (knowledge / "again.yml").write_text("topics:\n  - {id: quota, title: Again, description: D}\n", encoding="utf-8")
    [problem] = problems_for(knowledge)
    # Files are read in name order, so the later file's record is the duplicate.
    assert problem == (
        "knowledge/base.yml:11: topics[0].id: duplicate id 'quota' (first defined at knowledge/again.yml:2)"
    )


def test_overlapping_parameter_versions_are_rejected(knowledge: Path) -> None:
    facts = knowledge / "facts.yml"
    facts.write_text(
        facts.read_text(encoding="utf-8").replace("ends: 2017-10-31", "ends: 2018-01-01"),
        encoding="utf-8",
    )
    [problem] = problems_for(knowledge)
    assert "facts.yml:39: parameters[0]: Value error, versions overlap" in problem


def test_bracket_gaps_are_rejected(knowledge: Path) -> None:
    facts = knowledge / "facts.yml"
    facts.write_text(
        facts.read_text(encoding="utf-8").replace("{min: 31, max: 50, value: 5}", "{min: 32, max: 50, value: 5}"),
        encoding="utf-8",
    )
    [problem] = problems_for(knowledge)
    assert "brackets leave a gap between 30 and 32" in problem


def test_missing_directory() -> None:
    [problem] = problems_for(Path("/nonexistent/knowledge"))
    assert "no such directory" in problem


def test_the_project_knowledge_is_valid() -> None:
    base = read_knowledge(Path(__file__).resolve().parents[2] / "knowledge")
    assert base.programmes.keys() >= {"titp", "esd", "ssw", "gijinkoku", "internship", "general"}
