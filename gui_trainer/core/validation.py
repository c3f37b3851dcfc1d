"""Checks for values a learner types, with messages that say what is wrong."""

from __future__ import annotations

import math
import operator
import re

#: Larger rates are allowed (they diverge, which is worth seeing) but not absurd ones.
MAX_LEARNING_RATE = 1e6
#: Smaller rates would not move a float32 weight at all (and 5e-324 is not a rate).
MIN_LEARNING_RATE = 1e-12
#: A number as a person types it: ASCII digits, one point, an optional exponent. Python's
#: float() also takes "0_1" and Arabic-Indic digits, which no learner means as a rate.
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)",
                    re.IGNORECASE | re.ASCII)


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
    if isinstance(text, str) and not NUMBER.fullmatch(text):
        raise ValueError(f"{value!r} is not a number: enter a learning rate such as 0.01.")
    try:
        rate = float(text)  # type: ignore[arg-type]
    except OverflowError:  # an int such as 10**400
        raise ValueError(f"{value!r} is too large to be a learning rate.") from None
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
    if rate < MIN_LEARNING_RATE:
        raise ValueError(
            f"{plain_number(rate)} is below the smallest allowed learning rate, "
            f"{plain_number(MIN_LEARNING_RATE)}."
        )
    if rate > MAX_LEARNING_RATE:
        raise ValueError(
            f"{plain_number(rate)} is above the largest allowed learning rate, "
            f"{plain_number(MAX_LEARNING_RATE)}."
        )
    return rate


def whole_number(value: object, name: str) -> int:
    """``value`` as an int (numpy integers too); TypeError for 2.0, True or "2"."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number, not {value!r}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be a whole number, not {value!r}") from None


def flag(value: object, name: str) -> bool:
    """``value`` as a bool; TypeError for "False" (a string that Python reads as True)."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy's bool, without importing numpy here
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {value!r}")
