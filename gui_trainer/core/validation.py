"""Checks for values a learner types, with messages that say what is wrong."""

from __future__ import annotations

import math

#: Larger rates are allowed (they diverge, which is worth seeing) but not absurd ones.
MAX_LEARNING_RATE = 1e6


def parse_learning_rate(value: object) -> float:
    """Return ``value`` as a learning rate, or raise ValueError with a one-line reason."""
    if isinstance(value, bool):
        raise ValueError("The learning rate must be a number, not a true/false value.")
    text = value.strip() if isinstance(value, str) else value
    if text == "":
        raise ValueError("Enter a learning rate, for example 0.01.")
    try:
        rate = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(
            f"{value!r} is not a number: enter a learning rate such as 0.01."
        ) from None
    if math.isnan(rate):
        raise ValueError("The learning rate cannot be NaN: enter a positive number such as 0.01.")
    if math.isinf(rate):
        raise ValueError(f"{value!r} is too large to be a learning rate (it is infinite).")
    if rate <= 0:
        raise ValueError(
            f"The learning rate must be positive ({rate:g} would not move the weights downhill)."
        )
    if rate > MAX_LEARNING_RATE:
        raise ValueError(
            f"{rate:g} is above the largest learning rate allowed ({MAX_LEARNING_RATE:g})."
        )
    return rate
