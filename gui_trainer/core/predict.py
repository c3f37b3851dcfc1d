"""Predict, then reveal: the learner guesses before Backward or Step, then PyTorch answers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gui_trainer.core.formatting import short
from gui_trainer.core.records import StageRecord
from gui_trainer.core.stages import Stage

#: Stages a learner can predict, and the question asked.
QUESTIONS: dict[Stage, str] = {
    "backward": "Will ∂loss/∂weight from this backward be positive or negative?",
    "step": "What will the weight be after this step?",
}
#: A guessed weight this close (relative, or absolute for tiny weights) counts as right.
CLOSE_ENOUGH = 0.02


@dataclass(frozen=True)
class Score:
    correct: bool
    message: str


def parse_weight_guess(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"“{text}” is not a number: type the weight you expect.") from None
    if not math.isfinite(value):
        raise ValueError("Type a finite number for the weight you expect.")
    return value


def score_sign(guess_positive: bool, record: StageRecord) -> Score:
    """Score a guessed sign of ∂loss/∂weight against autograd's gradient for this loss."""
    if not record.ok or record.fresh_grads is None:
        return Score(False, f"Backward did not compute a gradient: {record.explanation}")
    gradient = record.fresh_grads[0]
    actual_positive = gradient > 0
    said = "positive" if guess_positive else "negative"
    if guess_positive == actual_positive:
        why = ("increasing the weight would increase the loss, so Step will lower it"
               if actual_positive else
               "increasing the weight would lower the loss, so Step will raise it")
        return Score(True, f"Right: ∂loss/∂weight = {short(gradient)} is {said} — {why}.")
    actual = "positive" if actual_positive else "negative"
    return Score(False, f"Not this time: ∂loss/∂weight = {short(gradient)} is {actual}: the "
                        f"errors (output − target), weighted by the inputs, add up to a "
                        f"{actual} number.")


def score_weight(guess: float, record: StageRecord) -> Score:
    """Score a guessed new weight against the weight PyTorch's optimizer produced."""
    actual = record.after.weight
    off = abs(guess - actual)
    if not math.isfinite(actual):
        return Score(False, f"The weight became {short(actual)}: the step diverged.")
    close = off <= CLOSE_ENOUGH * max(abs(actual), 0.05)
    grad = record.before.weight_grad
    factor = short(grad) if grad is None or grad >= 0 else f"({short(grad)})"
    how = (f"{short(record.before.weight)} − {short(record.lr)} × {factor}"
           if grad is not None and record.optimizer == "sgd" else "the optimizer's update")
    verdict = "Close enough" if close else "Not quite"
    return Score(close, f"{verdict}: you said {short(guess)}, the new weight is {short(actual)} "
                        f"({how}); off by {short(off, 3)}.")
