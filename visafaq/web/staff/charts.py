"""Charts as server-drawn SVG: coordinates computed here, drawn by the templates (no script needed).

Each chart is a list of bars with their positions already worked out, so the template only places
rectangles and labels (Jinja escapes every label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from visafaq.triage.reports import DayCount

WIDTH = 720
ROW = 22
LABEL_WIDTH = 200


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    series: str = "questions"


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    axis_labels: list[Bar]  # where to write the day labels (bar charts over time)
    maximum: int


def horizontal_bars(title: str, rows: Sequence[tuple[str, int]], limit: int = 12) -> Chart:
    """One bar per row, longest first, for counts by topic, programme or channel."""
    shown = list(rows)[:limit]
    maximum = max((value for _, value in shown), default=0) or 1
    usable = WIDTH - LABEL_WIDTH - 60
    bars = [
        Bar(label, value, LABEL_WIDTH, index * ROW + 4, max(1.0, usable * value / maximum) if value else 0, ROW - 8)
        for index, (label, value) in enumerate(shown)
    ]
    return Chart(title, WIDTH, max(ROW, len(shown) * ROW + 8), bars, [], maximum)


def per_day_columns(title: str, days: Sequence[DayCount]) -> Chart:
    """Questions per day as columns, with fallbacks and hand-offs as narrower columns in front."""
    height, top, bottom = 220, 16, 30
    plot = height - top - bottom
    maximum = max((d.questions for d in days), default=0) or 1
    slot = (WIDTH - 40) / max(1, len(days))
    bars: list[Bar] = []
    labels: list[Bar] = []
    every = max(1, len(days) // 10)  # at most about ten day labels
    for index, day in enumerate(days):
        x = 40 + index * slot
        for series, value, share, offset in (
            ("questions", day.questions, 0.8, 0.1),
            ("fallbacks", day.fallbacks, 0.35, 0.15),
            ("handoffs", day.handoffs, 0.35, 0.5),
        ):
            bar_height = plot * value / maximum
            bars.append(
                Bar(
                    day.day.isoformat(),
                    value,
                    x + slot * offset,
                    top + plot - bar_height,
                    slot * share,
                    bar_height,
                    series,
                )
            )
        if index % every == 0:
            labels.append(Bar(day.day.strftime("%d %b"), 0, x + slot / 2, height - 10, 0, 0))
    return Chart(title, WIDTH, height, bars, labels, maximum)
