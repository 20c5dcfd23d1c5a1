"""Build the project's spaCy pipeline from rules (run in the Rasa environment, Python 3.10).

The official English models are downloaded from the internet, which we cannot do at install or run
time. This pipeline is made from parts that ship in packages: a blank English tokenizer, the lookup
lemmatizer (spacy-lookups-data) and an entity ruler whose patterns are the programme names staff keep
in knowledge/programmes.yml and the field names in knowledge/fields.yml. Rasa's SpacyNLP loads it
from the directory it is saved to.
The tokenizer also splits a number from the unit written against it ("40h", "28hrs", "17yo"), so
the number is a token of its own that the entity extractor can label.

Usage: python scripts/build_spacy_pipeline.py KNOWLEDGE_DIR OUTPUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
import yaml
from spacy.language import Language


def programme_patterns(knowledge_dir: Path) -> list[dict[str, object]]:
    programmes = yaml.safe_load((knowledge_dir / "programmes.yml").read_text(encoding="utf-8"))
    patterns: list[dict[str, object]] = []
    for programme in programmes["programmes"]:
        # "general" gathers shared notions (CoE, residence card) that appear inside questions about
        # every programme: tagging them as a programme would overwrite the one the user meant.
        if programme["id"] == "general":
            continue
        names = {programme["name"], programme["short_name"], *programme.get("aliases", [])}
        for name in sorted(names):
            patterns.append({"label": "PROGRAMME", "pattern": name, "id": programme["id"]})
    return patterns


def field_patterns(knowledge_dir: Path) -> list[dict[str, object]]:
    fields = yaml.safe_load((knowledge_dir / "fields.yml").read_text(encoding="utf-8"))
    return [
        {"label": "FIELD", "pattern": name, "id": field["id"]}
        for field in fields["fields"]
        for name in sorted({field["name"], *field.get("aliases", [])})
    ]


#: Units people write against a number: hours for work limits, years for age and experience.
#: Only these: a stage written "3go" or an ordinal "1st" stays one token.
NUMBER_UNITS = ("h", "hr", "hrs", "hour", "hours", "yo", "yr", "yrs", "year", "years")


def split_units_from_numbers(nlp: Language) -> None:
    units = "|".join(sorted(NUMBER_UNITS, key=len, reverse=True))
    suffixes = [*nlp.Defaults.suffixes, rf"(?<=[0-9])(?:{units})$"]  # type: ignore[misc]
    nlp.tokenizer.suffix_search = spacy.util.compile_suffix_regex(suffixes).search  # type: ignore[attr-defined]
    # "20h/week": the slash is split off as an infix, after suffixes are looked for.
    infixes = [*nlp.Defaults.infixes, rf"(?<=[0-9])(?:{units})(?=[/-])"]  # type: ignore[misc]
    nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer  # type: ignore[attr-defined]


def build(knowledge_dir: Path, output: Path) -> None:
    nlp = spacy.blank("en")
    split_units_from_numbers(nlp)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lookup tables; it also clears ruler patterns, so add them after
    ruler.add_patterns(programme_patterns(knowledge_dir))  # type: ignore[attr-defined]
    ruler.add_patterns(field_patterns(knowledge_dir))  # type: ignore[attr-defined]
    ruler.add_patterns([{"label": "NUMBER", "pattern": [{"LIKE_NUM": True}]}])  # type: ignore[attr-defined]
    nlp.meta["name"] = "visafaq"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Rule-built English pipeline for visafaq: tokens, lemmas, programmes, fields"
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"spaCy pipeline written to {sys.argv[2]}")
