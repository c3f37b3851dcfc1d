"""Predict, then reveal: the learner guesses before Backward or Step, then PyTorch answers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gui_trainer.core.formatting import short
from gui_trainer.core.records import ParamValues, StageRecord
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


# -- a network: no single weight to ask about -------------------------------------------
#: The questions for a model with layers: which layer's gradient is largest (how backward
#: spreads the loss over the layers), and whether a step lowers the loss (it need not).
NETWORK_QUESTIONS: dict[Stage, str] = {
    "backward": "Which layer's weight will get the largest gradient (by its norm) from this "
                "backward?",
    "step": "Will the loss over all the data be lower after this step?",
}


def predict_tip(one_neuron: bool) -> str:
    return ("Guess the sign of the gradient or the new weight, then see PyTorch's answer"
            if one_neuron else "Guess which layer gets the largest gradient, or whether a "
            "step lowers the loss, then see PyTorch's answer")


def questions(one_neuron: bool) -> dict[Stage, str]:
    return QUESTIONS if one_neuron else NETWORK_QUESTIONS


def weight_names(params: ParamValues) -> tuple[str, ...]:
    """The layers' weight matrices, the choices of the backward question."""
    return tuple(t.name for t in params.tensors
                 if t.name.endswith("weight") and len(t.shape) == 2)


def fresh_grad_norms(record: StageRecord) -> dict[str, float]:
    """Each weight's gradient from this backward alone: what it added to ``.grad``."""
    norms = {}
    for name in weight_names(record.after):
        after, before = record.after[name].grad, record.before[name].grad
        if after is not None:
            fresh = after.astype(np.float64) - (0.0 if before is None else before)
            norms[name] = float(np.linalg.norm(fresh))
    return norms


def score_largest(guess: str, record: StageRecord) -> Score:
    """Score a guessed layer against the weight whose fresh gradient PyTorch made largest."""
    norms = fresh_grad_norms(record)
    if not record.ok or not norms:
        return Score(False, f"Backward did not compute a gradient: {record.explanation}")
    largest = max(norms, key=lambda name: norms[name])
    sizes = ", ".join(f"{name} {short(norm, 3)}" for name, norm in norms.items())
    why = ("Each layer's gradient is the chain rule's product of everything between it and "
           "the loss, so the sizes can differ a lot from layer to layer.")
    if guess == largest:
        return Score(True, f"Right: {largest} got the largest gradient ({sizes}). {why}")
    return Score(False, f"Not this time: {largest} got the largest gradient, not {guess} "
                        f"({sizes}). {why}")


def score_loss_falls(guess_lower: bool, record: StageRecord, loss_after: float) -> Score:
    """Score a guess that the step lowers the full-batch loss, from PyTorch's two losses."""
    before = record.full_batch_loss
    if not record.ok or before is None:
        return Score(False, f"Step did not run: {record.explanation}")
    if not math.isfinite(loss_after):
        return Score(False, f"The loss became {short(loss_after)}: the step diverged.")
    lower = loss_after < before
    said = "lower" if guess_lower else "not lower"
    what = f"the loss over all the data went from {short(before)} to {short(loss_after)}"
    if loss_after == before:
        what = f"the loss over all the data stayed {short(before)}"
        reason = ("The step moved nothing: every .grad was None or zero, so there was "
                  "nothing to follow.")
    elif lower:
        reason = "The step went downhill from where it started and landed lower."
    else:
        reason = ("A step follows the slope in .grad from where it starts: a learning rate "
                  "too large for the curve jumps past the low point, and a .grad that is "
                  "not this loss's own gradient (Zero Grad skipped) can point elsewhere.")
    if guess_lower == lower:
        return Score(True, f"Right, {said}: {what}. {reason}")
    return Score(False, f"Not this time: {what}. {reason}")
