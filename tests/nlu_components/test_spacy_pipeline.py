"""The rule-built spaCy pipeline (scripts/build_spacy_pipeline.py): the tokens Rasa's featurizers and
DIET see, and the programme names its entity ruler finds. Built into a temporary directory in the
Rasa environment, where spaCy lives."""

from __future__ import annotations

import pytest

from tests.rasa_env import run_in_rasa_env

SCRIPT = """
import json, sys, tempfile
from pathlib import Path
import spacy
sys.path.insert(0, "scripts")
from build_spacy_pipeline import build
texts = json.load(sys.stdin)
with tempfile.TemporaryDirectory() as out:
    build(Path("knowledge"), Path(out))
    nlp = spacy.load(out)  # as Rasa's SpacyNLP does: the rules must survive the round trip
    docs = [nlp(text) for text in texts]
print(json.dumps([[[t.text for t in d], [[e.text, e.label_, e.ent_id_] for e in d.ents]] for d in docs]))
"""

TEXTS = [
    "paid internship 40h a week",
    "only 20h/week",
    "28hrs per week",
    "i am 17yo with 5yrs experience",
    "3go after No.3, 1st year",
    "COVID-19 rules for the trainee visa",
    "our Nursing Home has 15 care workers",
]


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[list[str], list[list[str]]]]:
    out = run_in_rasa_env(SCRIPT, TEXTS)
    return {text: (tokens, ents) for text, (tokens, ents) in zip(TEXTS, out, strict=True)}


def test_a_unit_written_against_a_number_is_split_off(parsed: dict[str, tuple[list[str], list[list[str]]]]) -> None:
    assert parsed["paid internship 40h a week"][0] == ["paid", "internship", "40", "h", "a", "week"]
    assert parsed["only 20h/week"][0] == ["only", "20", "h", "/", "week"]
    assert parsed["28hrs per week"][0][:2] == ["28", "hrs"]
    assert parsed["i am 17yo with 5yrs experience"][0] == ["i", "am", "17", "yo", "with", "5", "yrs", "experience"]


def test_stages_ordinals_and_hyphenated_words_stay_whole(parsed: dict[str, tuple[list[str], list[list[str]]]]) -> None:
    assert parsed["3go after No.3, 1st year"][0][:3] == ["3go", "after", "No.3"]
    assert "1st" in parsed["3go after No.3, 1st year"][0]
    assert parsed["COVID-19 rules for the trainee visa"][0][0] == "COVID-19"


def test_numbers_and_programmes_are_entities(parsed: dict[str, tuple[list[str], list[list[str]]]]) -> None:
    assert ["40", "NUMBER", ""] in parsed["paid internship 40h a week"][1]
    assert ["trainee visa", "PROGRAMME", "titp"] in parsed["COVID-19 rules for the trainee visa"][1]


def test_fields_of_work_are_entities(parsed: dict[str, tuple[list[str], list[list[str]]]]) -> None:
    # Names from knowledge/fields.yml, in any case; the number stays an entity of its own.
    assert parsed["our Nursing Home has 15 care workers"][1] == [
        ["Nursing Home", "FIELD", "nursing_care"],
        ["15", "NUMBER", ""],
        ["care workers", "FIELD", "nursing_care"],
    ]
