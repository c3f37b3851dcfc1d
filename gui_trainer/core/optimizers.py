"""The optimizers a learner can pick, their hyperparameters, and how each is built.

Each hyperparameter is the real keyword of the ``torch.optim`` class (Adam's and AdamW's
``betas`` is edited as ``beta1`` and ``beta2`` and passed as the pair). A choice is checked
twice before anything changes: against the range a learner could mean, then by PyTorch
itself, building the optimizer on a throwaway tensor — so its own messages (Nesterov without
momentum, …) reach the learner too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

OptimizerName = Literal["sgd", "rmsprop", "adagrad", "adam", "adamw"]
OPTIMIZERS: tuple[OptimizerName, ...] = ("sgd", "rmsprop", "adagrad", "adam", "adamw")
TORCH_CLASS = {"sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad", "adam": "Adam",
               "adamw": "AdamW"}
#: The optimizers that divide each gradient by a running measure of its size.
ADAPTIVE = frozenset({"rmsprop", "adagrad", "adam", "adamw"})
#: A hyperparameter's value: a number, or a switch.
Value = float | bool
#: The non-default hyperparameters as sorted (name, value) pairs: hashable, comparable, and
#: the same value however a caller spelled it.
Options = tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: its keyword, default, allowed range and what it does."""

    name: str
    default: Value
    low: float = 0.0
    high: float = 1.0
    #: Whether ``high`` itself is allowed (momentum 1 never forgets: refused).
    high_inclusive: bool = True
    doc: str = ""

    @property
    def is_switch(self) -> bool:
        return isinstance(self.default, bool)

    def check(self, value: object) -> Value:
        if self.is_switch:
            if not isinstance(value, bool | np.bool_):
                raise ValueError(f"{self.name} is on or off (True or False), not {value!r}")
            return bool(value)
        if isinstance(value, bool | np.bool_):
            raise ValueError(f"{self.name} is a number, not {value!r}")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{self.name} must be a number, not {value!r}") from None
        top = "]" if self.high_inclusive else ")"
        inside = self.low <= number <= self.high and (self.high_inclusive or number < self.high)
        if not (math.isfinite(number) and inside):
            raise ValueError(f"{self.name} must be a number in [{self.low:g}, {self.high:g}{top},"
                             f" not {value!r}")
        return number


def _momentum(doc: str) -> Hyper:
    return Hyper("momentum", 0.0, 0.0, 1.0, False, doc)


_WEIGHT_DECAY = Hyper("weight_decay", 0.0, 0.0, 1.0, True,
                      "adds weight_decay × p to every gradient (L2 regularisation)")
_EPS = Hyper("eps", 1e-8, 1e-12, 1.0, True, "keeps the division safe when the average is ~0")
_BETA1 = Hyper("beta1", 0.9, 0.0, 1.0, False, "how much of the gradient's running mean is kept")
_BETA2 = Hyper("beta2", 0.999, 0.0, 1.0, False,
               "how much of the squared gradient's running mean is kept")
_AMSGRAD = Hyper("amsgrad", False, doc="divide by the largest v̂ so far, never a smaller one")

HYPERPARAMETERS: dict[OptimizerName, tuple[Hyper, ...]] = {
    "sgd": (
        _momentum("how much of the last update carries into this one"),
        Hyper("dampening", 0.0, 0.0, 1.0, True, "scales the new gradient in the momentum sum"),
        Hyper("nesterov", False, doc="look ahead along the momentum before stepping"),
        _WEIGHT_DECAY,
    ),
    "rmsprop": (
        Hyper("alpha", 0.99, 0.0, 1.0, False, "how much of the squared gradients' mean is kept"),
        _EPS,
        _momentum("how much of the last update carries into this one"),
        Hyper("centered", False, doc="divide by the gradient's variance, not its square"),
        _WEIGHT_DECAY,
    ),
    "adagrad": (
        Hyper("lr_decay", 0.0, 0.0, 1.0, True, "lr ÷ (1 + (t − 1) × lr_decay) at step t"),
        Hyper("initial_accumulator_value", 0.0, 0.0, 1e6, True,
              "where the sum of squared gradients starts"),
        Hyper("eps", 1e-10, 1e-12, 1.0, True, "keeps the division safe when the sum is ~0"),
        _WEIGHT_DECAY,
    ),
    "adam": (_BETA1, _BETA2, _EPS, _WEIGHT_DECAY, _AMSGRAD),
    "adamw": (_BETA1, _BETA2, _EPS,
              Hyper("weight_decay", 0.01, 0.0, 1.0, True,
                    "shrinks every weight by lr × weight_decay × p, apart from the gradient"),
              _AMSGRAD),
}


def check_optimizer(name: object) -> OptimizerName:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: expected one of "
                         f"{', '.join(repr(n) for n in OPTIMIZERS)}")
    return name


def hyper_named(name: OptimizerName, key: str) -> Hyper:
    for hyper in HYPERPARAMETERS[name]:
        if hyper.name == key:
            return hyper
    known = ", ".join(h.name for h in HYPERPARAMETERS[name])
    raise ValueError(f"{TORCH_CLASS[name]} has no hyperparameter {key!r} here: it takes "
                     f"{known} (and lr, set on its own)")


def check_options(name: OptimizerName, given: Mapping[str, object] | Iterable[Any]) -> Options:
    """``given`` (a mapping or (name, value) pairs; ``betas`` as a pair is accepted too)
    checked and reduced to the values that differ from the defaults."""
    items = dict(given.items() if isinstance(given, Mapping) else given)
    if "lr" in items:
        raise ValueError("lr is its own setting (session.lr), not one of the optimizer's")
    if "betas" in items:
        if "beta1" in items or "beta2" in items:
            raise ValueError("give betas=(beta1, beta2) or beta1/beta2, not both")
        betas = items.pop("betas")
        try:
            items["beta1"], items["beta2"] = betas  # type: ignore[misc]
        except (TypeError, ValueError):
            raise ValueError(f"betas is a pair (beta1, beta2), not {betas!r}") from None
    checked = {key: hyper_named(name, key).check(value) for key, value in items.items()}
    options = tuple(sorted((key, value) for key, value in checked.items()
                           if value != hyper_named(name, key).default))
    full = values(name, options)
    if full.get("centered") and full.get("alpha") == 0:
        # v − ḡ² of a single gradient is 0 up to rounding, which can dip below zero: √ → NaN.
        raise ValueError("centered RMSprop needs alpha above 0: with alpha 0 it divides by "
                         "the variance of one gradient, which is zero")
    build(name, [torch.zeros(1, requires_grad=True)], 0.1, options)  # PyTorch's own checks
    return options


def values(name: OptimizerName, options: Options) -> dict[str, Value]:
    """Every hyperparameter of ``name`` with its value: the options over the defaults."""
    full: dict[str, Value] = {hyper.name: hyper.default for hyper in HYPERPARAMETERS[name]}
    full.update(dict(options))
    return full


def options_of_group(name: OptimizerName, options: Options,
                     group: Mapping[str, Any]) -> Options:
    """The options as a param group holds them now: a scheduler may have changed some
    (OneCycleLR cycles momentum or beta1). Only hyperparameters of ours are read."""
    full: dict[str, Value] = values(name, options)
    for hyper in HYPERPARAMETERS[name]:
        if hyper.name in ("beta1", "beta2") and "betas" in group:
            full[hyper.name] = float(group["betas"][0 if hyper.name == "beta1" else 1])
        elif hyper.name in group and not hyper.is_switch:
            full[hyper.name] = float(group[hyper.name])
    return tuple(sorted((key, value) for key, value in full.items()
                        if value != hyper_named(name, key).default))


def torch_keywords(name: OptimizerName, options: Options) -> dict[str, Any]:
    """The keywords the ``torch.optim`` class takes for these options (betas as a pair)."""
    full: dict[str, Any] = values(name, options)
    if "beta1" in full:
        full["betas"] = (full.pop("beta1"), full.pop("beta2"))
    return full


def build(name: OptimizerName, params: Iterable[torch.Tensor], lr: float,
          options: Options) -> torch.optim.Optimizer:
    """The real optimizer; PyTorch's ValueError (a message for the learner) passes through."""
    cls = getattr(torch.optim, TORCH_CLASS[name])
    optimizer: torch.optim.Optimizer = cls(params, lr=lr, **torch_keywords(name, options))
    return optimizer


def code(name: OptimizerName, options: Options, lr_text: str) -> str:
    """``torch.optim.Adam(model.parameters(), lr=0.1, betas=(0.8, 0.999))``: only what differs
    from PyTorch's defaults is written, as a person would."""
    args = ["model.parameters()", f"lr={lr_text}"]
    given = dict(options)
    if "beta1" in given or "beta2" in given:
        full = values(name, options)
        args.append(f"betas=({full['beta1']!r}, {full['beta2']!r})")
    for hyper in HYPERPARAMETERS[name]:
        if hyper.name in given and hyper.name not in ("beta1", "beta2"):
            args.append(f"{hyper.name}={given[hyper.name]!r}")
    return f"torch.optim.{TORCH_CLASS[name]}({', '.join(args)})"
