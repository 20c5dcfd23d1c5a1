"""Small pieces of wording shared by replies and verdicts."""

from __future__ import annotations

from datetime import date


def format_day(day: date) -> str:
    """'24 November 2026': no day/month order to misread."""
    return f"{day.day} {day:%B %Y}"
