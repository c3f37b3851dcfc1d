"""What a Step did inside the optimizer: its state per parameter, and an update ledger.

After ``optimizer.step()`` the state PyTorch keeps for each parameter (``momentum_buffer``;
``exp_avg``, ``exp_avg_sq``, ``step``; ``square_avg``; ``sum``…) is copied out as it is. The
ledger then breaks each parameter's change into the terms of the optimizer's update rule —
written from that state, the gradient and the step's hyperparameters — and adds them up: the
sum must agree with the change PyTorch really made. The terms are computed in float64 from
PyTorch's float32 numbers, so they agree within float32 rounding: ``TOLERANCE_ULPS`` units in
the last place of the parameter plus ``TOLERANCE_RELATIVE`` of the change, and any gap below
``TOLERANCE_FLOOR``, where float32 itself runs out of digits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import torch

from gui_trainer.core.optimizers import TORCH_CLASS, OptimizerName, Options, values
from gui_trainer.core.records import ParamValues

Array = npt.NDArray[np.float64]
TOLERANCE_ULPS = 4
TOLERANCE_RELATIVE = 1e-5
#: float32's smallest normal number: below it (weights decayed towards 0, products of tiny
#: factors) float32 keeps fewer digits, so gaps that small say nothing about the rule.
TOLERANCE_FLOOR = float(np.finfo(np.float32).tiny)
TOLERANCE_TEXT = (f"within {TOLERANCE_ULPS} float32 units in the last place of the weight "
                  f"+ {TOLERANCE_RELATIVE:g} of the change "
                  f"(and any gap below float32's smallest normal, {TOLERANCE_FLOOR:.2g})")


@dataclass(frozen=True)
class Term:
    """One part of a parameter's change, e.g. ``−lr × m̂ / (√v̂ + eps)``."""

    label: str
    values: Array


@dataclass(frozen=True)
class TensorLedger:
    """One parameter tensor: the optimizer's state for it and its change, term by term."""

    name: str
    #: ``optimizer.state[p]`` after the step, as PyTorch holds it (tensors as arrays).
    state: Mapping[str, Array]
    #: Quantities the rule uses that PyTorch does not store: Adam's m̂ and v̂, Adagrad's lr.
    derived: Mapping[str, Array]
    terms: tuple[Term, ...]
    #: The change PyTorch made: p after − p before.
    change: Array
    before: Array

    @property
    def total(self) -> Array:
        total = np.zeros_like(self.change)
        for term in self.terms:
            total = total + term.values
        return total

    @property
    def tolerance(self) -> Array:
        after = self.before + self.change
        scale = np.maximum(np.abs(self.before), np.abs(after)).astype(np.float32)
        ulp = np.spacing(scale).astype(np.float64)
        return (TOLERANCE_ULPS * ulp + TOLERANCE_RELATIVE * np.abs(self.change)
                + TOLERANCE_FLOOR)

    @property
    def worst_gap(self) -> float:
        """The largest |sum of the terms − the real change| over the tensor's elements."""
        return float(np.max(np.abs(self.total - self.change))) if self.change.size else 0.0

    @property
    def agrees(self) -> bool:
        return bool(np.all(np.abs(self.total - self.change) <= self.tolerance))


@dataclass(frozen=True)
class StepLedger:
    """The whole step: which optimizer, its hyperparameters, and every tensor's ledger."""

    optimizer: str
    lr: float
    hyperparameters: Mapping[str, float | bool]
    tensors: tuple[TensorLedger, ...]
    tolerance_text: str = TOLERANCE_TEXT

    @property
    def agrees(self) -> bool:
        return all(t.agrees for t in self.tensors)

    def __getitem__(self, name: str) -> TensorLedger:
        for tensor in self.tensors:
            if tensor.name == name:
                return tensor
        raise KeyError(name)


class StepState:
    """What one Step left in the optimizer, kept as copies; the ledger is worked out when
    first asked for (a run of thousands of steps only copies)."""

    def __init__(self, name: OptimizerName, options: Options, lr: float, before: ParamValues,
                 after: ParamValues, carried: Mapping[int, Array],
                 states: list[dict[str, Array]]) -> None:
        self.name, self.options, self.lr = name, options, lr
        self.before, self.after, self.carried, self.states = before, after, carried, states

    @cached_property
    def ledger(self) -> StepLedger:
        return ledger(self.name, self.options, self.lr, self.before, self.after, self.carried,
                      self.states)


def carried_buffers(optimizer: torch.optim.Optimizer,
                    params: Sequence[torch.Tensor]) -> dict[int, Array]:
    """The momentum buffers before a step (the one thing a ledger needs that the step
    overwrites), by parameter position."""
    kept = {}
    for index, param in enumerate(params):
        buffer = optimizer.state.get(param, {}).get("momentum_buffer")
        if isinstance(buffer, torch.Tensor):
            kept[index] = buffer.detach().numpy().astype(np.float64)
    return kept


def state_after(optimizer: torch.optim.Optimizer,
                params: Sequence[torch.Tensor]) -> list[dict[str, Array]]:
    """``optimizer.state[p]`` for each parameter, copied out (numbers as 0-d arrays)."""
    copied = []
    for param in params:
        entries = {}
        for key, value in optimizer.state.get(param, {}).items():
            if isinstance(value, torch.Tensor):
                entries[key] = value.detach().numpy().astype(np.float64).copy()
            elif isinstance(value, int | float):
                entries[key] = np.asarray(float(value))
        copied.append(entries)
    return copied


def ledger(name: OptimizerName, options: Options, lr: float, before: ParamValues,
           after: ParamValues, carried: Mapping[int, Array],
           states: list[dict[str, Array]]) -> StepLedger:
    """Every tensor's change broken into the terms of ``name``'s update rule."""
    hyper = values(name, options)
    rule = {"sgd": _sgd, "rmsprop": _rmsprop, "adagrad": _adagrad, "adam": _adam,
            "adamw": _adam}[name]
    tensors = []
    for index, (b, a) in enumerate(zip(before.tensors, after.tensors, strict=True)):
        p = b.value.astype(np.float64)
        change = a.value.astype(np.float64) - p
        state = states[index]
        if b.grad is None:  # PyTorch skips a parameter without a gradient
            tensors.append(TensorLedger(b.name, state, {}, (), change, p))
            continue
        g = b.grad.astype(np.float64)
        derived, terms = rule(name, hyper, lr, p, g, carried.get(index), state)
        tensors.append(TensorLedger(b.name, state, derived, tuple(terms), change, p))
    return StepLedger(TORCH_CLASS[name], lr, hyper, tuple(tensors))


Derived = dict[str, Array]


def _decayed(hyper: Mapping[str, float | bool], p: Array) -> Array:
    return float(hyper["weight_decay"]) * p


def _sgd(_name: str, hyper: Mapping[str, float | bool], lr: float, p: Array, g: Array,
         carried: Array | None, state: Mapping[str, Array]) -> tuple[Derived, list[Term]]:
    momentum, dampening = float(hyper["momentum"]), float(hyper["dampening"])
    decay = _decayed(hyper, p)
    with_decay = float(hyper["weight_decay"]) != 0
    if momentum == 0:
        terms = [Term("−lr × grad", -lr * g)]
        if with_decay:
            terms.append(Term("−lr × weight_decay × p", -lr * decay))
        return {}, terms
    if hyper["nesterov"]:
        buffer = state["momentum_buffer"]
        terms = [Term("−lr × grad", -lr * g)]
        if with_decay:
            terms.append(Term("−lr × weight_decay × p", -lr * decay))
        terms.append(Term("−lr × momentum × buffer (Nesterov's look-ahead)",
                          -lr * momentum * buffer))
        return {}, terms
    if carried is None:  # the first step: the buffer starts as this gradient
        terms = [Term("−lr × grad (the buffer starts as it)", -lr * g)]
        if with_decay:
            terms.append(Term("−lr × weight_decay × p", -lr * decay))
        return {}, terms
    share = 1 - dampening
    terms = [Term("−lr × momentum × last buffer (carried over)", -lr * momentum * carried),
             Term("−lr × (1 − dampening) × grad", -lr * share * g)]
    if with_decay:
        terms.append(Term("−lr × (1 − dampening) × weight_decay × p", -lr * share * decay))
    return {}, terms


def _rmsprop(_name: str, hyper: Mapping[str, float | bool], lr: float, p: Array, g: Array,
             carried: Array | None, state: Mapping[str, Array]) -> tuple[Derived, list[Term]]:
    square_avg = state["square_avg"]
    if hyper["centered"]:
        grad_avg = state["grad_avg"]
        # float32 rounding can leave v − ḡ² a hair below zero where PyTorch's own
        # addcmul_ gave zero; clamp as the real variance is never negative.
        variance = np.maximum(square_avg - grad_avg * grad_avg, 0.0)
        denominator = np.sqrt(variance) + float(hyper["eps"])
        label = "√(v − ḡ²) + eps"
    else:
        denominator = np.sqrt(square_avg) + float(hyper["eps"])
        label = "√v + eps"
    derived = {"denominator": denominator}
    with_decay = float(hyper["weight_decay"]) != 0
    terms = []
    momentum = float(hyper["momentum"])
    if momentum > 0 and carried is not None:
        terms.append(Term("−lr × momentum × last buffer (carried over)",
                          -lr * momentum * carried))
    terms.append(Term(f"−lr × grad / ({label})", -lr * g / denominator))
    if with_decay:
        terms.append(Term(f"−lr × weight_decay × p / ({label})",
                          -lr * _decayed(hyper, p) / denominator))
    return derived, terms


def _adagrad(_name: str, hyper: Mapping[str, float | bool], lr: float, p: Array, g: Array,
             _carried: Array | None, state: Mapping[str, Array]) -> tuple[Derived, list[Term]]:
    step = float(state["step"])
    step_lr = lr / (1 + (step - 1) * float(hyper["lr_decay"]))
    denominator = np.sqrt(state["sum"]) + float(hyper["eps"])
    derived = {"lr at this step": np.asarray(step_lr), "denominator": denominator}
    terms = [Term("−lr_t × grad / (√sum + eps)", -step_lr * g / denominator)]
    if float(hyper["weight_decay"]) != 0:
        terms.append(Term("−lr_t × weight_decay × p / (√sum + eps)",
                          -step_lr * _decayed(hyper, p) / denominator))
    return derived, terms


def _adam(name: str, hyper: Mapping[str, float | bool], lr: float, p: Array, g: Array,
          _carried: Array | None, state: Mapping[str, Array]) -> tuple[Derived, list[Term]]:
    beta1, beta2, eps = float(hyper["beta1"]), float(hyper["beta2"]), float(hyper["eps"])
    step = float(state["step"])
    m_hat = state["exp_avg"] / (1 - beta1 ** step)
    second = state["max_exp_avg_sq"] if hyper["amsgrad"] else state["exp_avg_sq"]
    v_hat = second / (1 - beta2 ** step)
    derived = {"m̂ = m / (1 − β1ᵗ)": m_hat, "v̂ = v / (1 − β2ᵗ)": v_hat}
    terms = []
    if name == "adamw" and float(hyper["weight_decay"]) != 0:
        terms.append(Term("−lr × weight_decay × p (decoupled)", -lr * _decayed(hyper, p)))
    terms.append(Term("−lr × m̂ / (√v̂ + eps)", -lr * m_hat / (np.sqrt(v_hat) + eps)))
    return derived, terms
