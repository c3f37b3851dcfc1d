"""Checks for values a learner types, with messages that say what is wrong."""

from __future__ import annotations

import math

#: Larger rates are allowed (they diverge, which is worth seeing) but not absurd ones.
MAX_LEARNING_RATE = 1e6


def plain_number(value: float) -> str:
    """A number as a person writes it: 1e9, not 1e+09; 0.01, not 1.000000e-02."""
    text = f"{value:g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


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
            f"The learning rate must be positive ({plain_number(rate)} would not move the "
            "weights downhill)."
        )
    if rate > MAX_LEARNING_RATE:
        raise ValueError(
            f"{plain_number(rate)} is above the largest allowed learning rate, "
            f"{plain_number(MAX_LEARNING_RATE)}."
        )
    return rate
