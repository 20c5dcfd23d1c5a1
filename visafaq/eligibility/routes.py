"""Which eligibility check answers a question, by programme and topic, and what the conversation's
entities tell a check. Conversation routing, kept beside the checks so both change together."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

#: (programme, topic) -> check. A topic not listed for a programme is answered from facts only.
CHECK_FOR_TOPIC: Mapping[tuple[str, str], str] = {
    ("titp", "applicant_requirements"): "titp-applicant",
    ("titp", "quota"): "titp-quota",
    ("titp", "employer_requirements"): "titp-trainer",
    ("titp", "training_time"): "titp-training-time",
    ("titp", "stages"): "titp-next-stage",
    ("titp", "path_to_ssw"): "ssw-transition",
    ("ssw", "path_to_ssw"): "ssw-transition",
    ("ssw", "applicant_requirements"): "ssw-transition",
    ("gijinkoku", "applicant_requirements"): "gijinkoku",
    ("internship", "paid_work"): "internship-permission",
    ("internship", "side_jobs"): "internship-permission",
    ("titp", "family"): "family",
    ("ssw", "family"): "family",
    ("gijinkoku", "family"): "family",
    ("titp", "permanent_residence"): "permanent-residence",
    ("ssw", "permanent_residence"): "permanent-residence",
    ("gijinkoku", "permanent_residence"): "permanent-residence",
    ("general", "permanent_residence"): "permanent-residence",
}

#: The check offered by "am I eligible?" when the topic does not name one.
DEFAULT_CHECK: Mapping[str, str] = {
    "titp": "titp-applicant",
    "ssw": "ssw-transition",
    "gijinkoku": "gijinkoku",
    "internship": "internship-permission",
}


def check_for(programme: str | None, topic: str | None) -> str | None:
    if programme is None:
        return None
    if topic is not None and (programme, topic) in CHECK_FOR_TOPIC:
        return CHECK_FOR_TOPIC[(programme, topic)]
    return DEFAULT_CHECK.get(programme)


#: Checks about a company, not the person asking: "am I eligible?" never means these.
COMPANY_CHECKS = frozenset({"titp-quota"})


def form_check_for(programme: str | None, topic: str | None) -> str | None:
    """The check an "am I eligible?" conversation runs: the last topic's, unless that is about the
    company (a quota question has no "me" in it), then the programme's usual check."""
    check = check_for(programme, topic)
    if check in COMPANY_CHECKS and programme is not None:
        return DEFAULT_CHECK.get(programme)
    return check


def status_for(programme: str | None, stage: str | None = None, level: str | None = None) -> str | None:
    """The residence status a programme (and stage or level) stands for, for the family and
    permanent-residence rules."""
    if programme == "titp":
        return {"no2": "titp-2", "no3": "titp-3"}.get(stage or "", "titp-1")
    if programme == "ssw":
        return "ssw-2" if level in {"ii", "2"} else "ssw-1" if level in {"i", "1"} else None
    if programme == "gijinkoku":
        return "gijinkoku"
    return None


def inputs_from_entities(entities: Iterable[Mapping[str, object]]) -> dict[str, object]:
    """What a message's entities say about a check's inputs ("150 staff", "paid", "nursing care")."""
    numeric = {
        "age": "age",
        "staff_count": "full_time_staff",
        "experience_years": "experience_years",
        "hours_per_week": "hours_per_week",
        "months_back_home": "returned_home_months",
    }
    found: dict[str, object] = {}
    for entity in entities:
        name, value = str(entity.get("entity")), entity.get("value")
        if name in numeric and value is not None:
            number = parse_number(str(value))
            if number is not None:
                found[numeric[name]] = number
        elif name == "payment":
            found["paid"] = str(value).lower() == "paid"
        elif name == "field" and value:
            # A field of work (its id, from knowledge/fields.yml) turns on the check input named
            # after it, where a check has one: nursing_care.
            found[str(value)] = True
        elif name == "stage" and value in {"no1", "no2", "no3"}:
            found["stage"] = value
    return found


#: An age said in so many words, for when the NLU labelled none: "17 years old", "17yo", "aged 17",
#: "my age is 17", and "I'm 17" where the clause ends or goes on ("im 17 now, can i ..."). A bare
#: "age 18" is left out: it is more often the rule asked about than the person's own age.
_STATED_AGE = re.compile(
    r"(?<![\w.-])(\d{1,2})\s*(?:years?\s*old|yrs?\s*old|y/o|y\.?\s?o\.?)(?!\w)"
    r"|\b(?:aged|my\s+age\s+is|my\s+age:?)\s*(\d{1,2})(?![\w.])"
    r"|\b(?:i\s+am|i['\u2019]m|im)\s+(\d{1,2})(?=\s*(?:$|[,.;:!?]|(?:now|and|but|so|already|this\s+year)\b))",
    re.IGNORECASE,
)


def stated_age(text: str) -> int | None:
    """The age a message states in so many words (None: it states none)."""
    match = _STATED_AGE.search(text)
    if match is None:
        return None
    return int(next(group for group in match.groups() if group))


def inputs_from_message(entities: Iterable[Mapping[str, object]], text: str) -> dict[str, object]:
    """What a message tells a check: its entities, and an age its words state when no entity had one."""
    found = inputs_from_entities(entities)
    if "age" not in found:
        age = stated_age(text)
        if age is not None:
            found["age"] = age
    return found


_NUMBER = re.compile(r"(?:(?<![\w.-])-)?\d+(?:\.\d+)?")

_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
}


def parse_number(text: str) -> int | float | None:
    """The first number in a short answer: '17', 'I am 17 years old', '1,200 staff', 'ten', '-3'.

    A minus sign is kept when it starts a word ("-3 staff"), so the form can reject it instead of
    reading 3; a hyphen inside a word ("COVID-19", "18-30") is not a sign."""
    match = _NUMBER.search(text.replace(",", ""))
    if match:
        number = float(match.group())
        return int(number) if number.is_integer() else number
    for word in text.lower().replace("-", " ").split():
        if word in _WORDS:
            return _WORDS[word]
    return None
