"""The editable model: a stack of ``nn.Linear`` layers with an activation between them.

Small on purpose: 0–3 hidden layers is enough to show what depth and the activation change
(a straight line, a bend, saturation, dead units) while the parameters stay few enough to
look at one by one. Each hidden layer may add ``nn.BatchNorm1d`` (after its Linear, before
the activation) and ``nn.Dropout`` (after the activation): the two layers that behave
differently in ``model.train()`` and ``model.eval()``, which is why real loops switch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from gui_trainer.core.validation import whole_number

Activation = Literal["relu", "tanh", "sigmoid"]
ACTIVATIONS: dict[Activation, type[nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
}
MAX_HIDDEN_LAYERS = 3
MAX_WIDTH = 256


@dataclass(frozen=True)
class ModelSpec:
    """How many hidden layers, how wide, which activation, and whether each hidden layer
    has BatchNorm and dropout (its probability ``p``); checked when made."""

    hidden_layers: int = 0
    width: int = 16
    activation: Activation = "relu"
    #: ``nn.Dropout(p)`` after each hidden activation (0: none).
    dropout: float = 0.0
    #: ``nn.BatchNorm1d(width)`` after each hidden Linear.
    batch_norm: bool = False

    def __post_init__(self) -> None:
        layers = whole_number(self.hidden_layers, "hidden layers")
        if not 0 <= layers <= MAX_HIDDEN_LAYERS:
            raise ValueError(f"hidden layers must be 0 to {MAX_HIDDEN_LAYERS}, not {layers}")
        width = whole_number(self.width, "width")
        if not 1 <= width <= MAX_WIDTH:
            raise ValueError(f"width must be 1 to {MAX_WIDTH} units, not {width}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}: expected "
                             f"{', '.join(ACTIVATIONS)}")
        if type(self.batch_norm) is not bool:
            raise ValueError(f"batch_norm must be True or False, not {self.batch_norm!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float):
            raise ValueError(f"dropout must be a probability, not {self.dropout!r}")
        if not (math.isfinite(self.dropout) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout must be at least 0 and below 1 (the share of units "
                             f"zeroed), not {self.dropout!r}")
        if layers == 0 and (self.dropout or self.batch_norm):
            raise ValueError("BatchNorm and dropout sit in hidden layers: add a hidden layer "
                             "first")

    @property
    def stochastic(self) -> bool:
        """Whether train mode and eval mode differ (dropout or BatchNorm is on)."""
        return bool(self.dropout) or self.batch_norm

    def build(self, in_features: int, out_features: int, seed: int) -> nn.Sequential:
        """The model, its first weights drawn from ``seed`` (same seed, same weights).

        torch's global generator is left as it was: the rest of the program is unaffected.
        """
        return self.build_with_rng(in_features, out_features, seed)[0]

    def build_with_rng(self, in_features: int, out_features: int,
                       seed: int) -> tuple[nn.Sequential, torch.Tensor]:
        """The model, and torch's global generator state just after building it.

        That state is where a script's dropout draws start after ``torch.manual_seed(seed)``
        and the model's construction: the session's dropout masks start there too.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            width_in = in_features
            for _ in range(self.hidden_layers):
                layers.append(nn.Linear(width_in, self.width))
                if self.batch_norm:
                    layers.append(nn.BatchNorm1d(self.width))
                layers.append(ACTIVATIONS[self.activation]())
                if self.dropout:
                    layers.append(nn.Dropout(self.dropout))
                width_in = self.width
            layers.append(nn.Linear(width_in, out_features))
            return nn.Sequential(*layers), torch.get_rng_state()

    def describe(self) -> str:
        if self.hidden_layers == 0:
            return "one linear layer"
        plural = "s" if self.hidden_layers > 1 else ""
        extras = (["BatchNorm"] if self.batch_norm else []) + (
            [f"dropout {self.dropout:g}"] if self.dropout else [])
        return (f"{self.hidden_layers} hidden layer{plural} of {self.width} "
                f"({self.activation.capitalize() if self.activation != 'relu' else 'ReLU'})"
                + "".join(f", {extra}" for extra in extras))
