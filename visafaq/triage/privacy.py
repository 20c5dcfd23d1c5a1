"""Masking personal data (e-mail addresses, phone numbers, passport and residence-card numbers) in what
staff see and export. The stored text is unchanged; a staff member can reveal one message on purpose,
and that is logged (visafaq.triage.tickets.log_reveal)."""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Ten or more digits, optionally with +, spaces, dots, dashes or brackets between them: Japanese
# numbers are 10-11 digits (03-1234-5678, 090-1234-5678), international ones longer. Dates
# (2027-03-31) and counts ("150 staff") have fewer digits and are left alone.
PHONE = re.compile(r"(?<![\w+(])[+(]?\d(?:[\s.()-]{0,2}\d){9,14}(?!\w)")
# Passports: one or two letters and seven or eight digits (TK1234567, MA12345678); residence cards:
# two letters, eight digits, two letters (AB12345678CD).
PASSPORT = re.compile(r"\b(?:[A-Za-z]{2}\d{8}[A-Za-z]{2}|[A-Za-z]{1,2}\d{7,8})\b")

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("e-mail", EMAIL),
    ("passport or card number", PASSPORT),
    ("phone", PHONE),
)


@dataclass(frozen=True)
class Found:
    kind: str
    start: int
    end: int


def find_personal_data(text: str) -> list[Found]:
    """Every e-mail, phone and passport-like number in `text`, in order, never overlapping."""
    found: list[Found] = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            if not any(match.start() < f.end and f.start < match.end() for f in found):
                found.append(Found(kind, match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def mask(text: str) -> str:
    """The text with each piece of personal data replaced by [e-mail hidden], [phone hidden], ..."""
    pieces: list[str] = []
    position = 0
    for item in find_personal_data(text):
        pieces.append(text[position : item.start])
        pieces.append(f"[{item.kind} hidden]")
        position = item.end
    pieces.append(text[position:])
    return "".join(pieces)


def has_personal_data(text: str) -> bool:
    return bool(find_personal_data(text))
