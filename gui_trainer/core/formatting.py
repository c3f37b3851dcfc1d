"""How numbers are written on screen: short for reading, full precision for copying."""

from __future__ import annotations

import math


def short(value: float | None, digits: int = 6) -> str:
    """``digits`` significant digits; None stays "None" because that is what PyTorch holds."""
    if value is None:
        return "None"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def full(value: float | None) -> str:
    """The shortest text that reads back as exactly the same float (Python's repr)."""
    return "None" if value is None else repr(value)
