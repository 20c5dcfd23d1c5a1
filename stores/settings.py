"""Numbers from the environment for the stores: a bad value stops start-up with the variable's name."""

from __future__ import annotations

import os


def number(name: str, default: float, *, allow_zero: bool = False) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        result = float(value)
    except ValueError:
        result = -1.0
    if not (0 <= result < float("inf")) or (result == 0 and not allow_zero):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} number, not {value!r}")
    return result
