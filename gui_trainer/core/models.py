"""The editable model: a stack of ``nn.Linear`` layers with an activation between them.

Small on purpose: 0–3 hidden layers is enough to show what depth and the activation change
(a straight line, a bend, saturation, dead units) while the parameters stay few enough to
look at one by one.
"""

from __future__ import annotations

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
    """How many hidden layers, how wide, which activation; checked when made."""

    hidden_layers: int = 0
    width: int = 16
    activation: Activation = "relu"

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

    def build(self, in_features: int, out_features: int, seed: int) -> nn.Sequential:
        """The model, its first weights drawn from ``seed`` (same seed, same weights).

        torch's global generator is left as it was: the rest of the program is unaffected.
        """
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            width_in = in_features
            for _ in range(self.hidden_layers):
                layers += [nn.Linear(width_in, self.width), ACTIVATIONS[self.activation]()]
                width_in = self.width
            layers.append(nn.Linear(width_in, out_features))
            return nn.Sequential(*layers)

    def describe(self) -> str:
        if self.hidden_layers == 0:
            return "one linear layer"
        plural = "s" if self.hidden_layers > 1 else ""
        return (f"{self.hidden_layers} hidden layer{plural} of {self.width} "
                f"({self.activation.capitalize() if self.activation != 'relu' else 'ReLU'})")
