"""The catalogue of scenarios: a real data set, a real model and a real loss, named.

``TrainingSession(scenario="moons")`` looks a name up in :data:`SCENARIOS`;
:func:`load_csv` makes a scenario from a learner's own file. ``delivery`` is the seed
document's one-neuron example and stays the default, with its numbers exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from gui_trainer.core.csv_data import read_csv_file
from gui_trainer.core.datasets import (
    DELIVERY_MILES,
    DELIVERY_MINUTES,
    Dataset,
    Task,
    delivery,
    digits,
    few_sine_points,
    noisy_sine,
    spiral,
    two_moons,
)
from gui_trainer.core.models import ModelSpec

OptimizerName = Literal["sgd", "adam"]


@dataclass(frozen=True, eq=False)
class Scenario:
    """What one training run is about; the session builds the real objects from it."""

    name: str
    title: str
    #: One or two sentences for the learner: what the data is and what to watch.
    description: str
    data: Dataset
    model_spec: ModelSpec
    lr: float
    optimizer: OptimizerName = "sgd"
    seed: int = 42

    @property
    def task(self) -> Task:
        return self.data.task

    @property
    def is_one_neuron(self) -> bool:
        """The seed's case: one input, one output, no hidden layer (worked by hand too)."""
        return (self.model_spec.hidden_layers == 0 and self.data.in_features == 1
                and self.data.out_features == 1 and self.task == "regression")

    def build_model(self, seed: int | None = None) -> nn.Sequential:
        return self.build_model_with_rng(seed)[0]

    def build_model_with_rng(self, seed: int | None = None
                             ) -> tuple[nn.Sequential, torch.Tensor]:
        """The model and the generator state after it (see ``ModelSpec.build_with_rng``)."""
        return self.model_spec.build_with_rng(self.data.in_features, self.data.out_features,
                                              self.seed if seed is None else seed)

    def loss_fn(self) -> nn.Module:
        """Mean squared error for a number, cross-entropy on logits for a class."""
        return nn.MSELoss() if self.task == "regression" else nn.CrossEntropyLoss()

    def per_sample_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The same loss without the mean: one number per sample (what the mean is over)."""
        if self.task == "regression":
            return nn.functional.mse_loss(outputs, targets, reduction="none")
        return nn.functional.cross_entropy(outputs, targets, reduction="none")

    def with_model(self, spec: ModelSpec) -> Scenario:
        """The same data with another model (the learner's edit)."""
        return replace(self, model_spec=spec)

    def with_task(self, task: Task, *, target: str | None = None) -> Scenario:
        """Only for file data: read the file again as the other task."""
        if self.data.source == "built in" or not Path(self.data.source).exists():
            raise ValueError("only data opened from a file can change its task")
        return load_csv(self.data.source, target=target or self.data.target_name, task=task)


def _delivery() -> Scenario:
    return Scenario(
        name="delivery", title="Delivery times (one neuron)",
        description="Four deliveries: how many minutes a trip of so many miles takes. One "
                    "weight and one bias, every number small enough to check by hand.",
        data=delivery(), model_spec=ModelSpec(hidden_layers=0), lr=0.01, seed=42,
    )


def _curve() -> Scenario:
    return Scenario(
        name="curve", title="A noisy sine curve (regression)",
        description="48 noisy points along a sine. A straight line cannot follow them; two "
                    "hidden Tanh layers bend the model's curve to fit.",
        data=noisy_sine(), model_spec=ModelSpec(hidden_layers=2, width=16, activation="tanh"),
        lr=0.01, optimizer="adam", seed=0,
    )


def _overfit() -> Scenario:
    return Scenario(
        name="overfit", title="Few points, a wide model (overfitting)",
        description="12 noisy points of a sine to train on and 36 more held out. A wide model "
                    "can thread every training point and miss the curve: Evaluate measures "
                    "the held-out loss, which stops falling and climbs while the training "
                    "loss goes on down.",
        data=few_sine_points(),
        model_spec=ModelSpec(hidden_layers=2, width=64, activation="tanh"),
        lr=0.01, optimizer="adam", seed=0,
    )


def _moons() -> Scenario:
    return Scenario(
        name="moons", title="Two moons (two classes)",
        description="200 points in two interleaving half circles. The model outputs two "
                    "logits per point; cross-entropy pushes the right one up.",
        data=two_moons(), model_spec=ModelSpec(hidden_layers=2, width=16, activation="relu"),
        lr=0.01, optimizer="adam", seed=0,
    )


def _spiral() -> Scenario:
    return Scenario(
        name="spiral", title="A spiral (three classes)",
        description="300 points on three arms winding round each other: hard for a small "
                    "model, so watch the decision regions twist as it trains.",
        data=spiral(), model_spec=ModelSpec(hidden_layers=2, width=32, activation="relu"),
        lr=0.01, optimizer="adam", seed=0,
    )


def _digits() -> Scenario:
    return Scenario(
        name="digits", title="Handwritten digits (ten classes)",
        description="1,797 real 8×8 pictures of handwritten digits (UCI, CC BY 4.0). Each "
                    "picture is 64 inputs; the model scores the ten digits.",
        data=digits(), model_spec=ModelSpec(hidden_layers=1, width=32, activation="relu"),
        lr=0.01, optimizer="adam", seed=0,
    )


class _Catalogue(Mapping[str, Scenario]):
    """Name → scenario; each is made on first use (digits reads a file), then kept."""

    def __init__(self, makers: dict[str, Callable[[], Scenario]]) -> None:
        self._makers = makers

    def __getitem__(self, name: str) -> Scenario:
        if name not in self._makers:
            raise KeyError(name)
        return _made(self._makers[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


@cache
def _made(maker: Callable[[], Scenario]) -> Scenario:
    return maker()


#: The built-in scenarios by name, in menu order; ``delivery`` is the default.
SCENARIOS: Mapping[str, Scenario] = _Catalogue({
    "delivery": _delivery, "curve": _curve, "overfit": _overfit, "moons": _moons, "spiral": _spiral,
    "digits": _digits,
})
DEFAULT_SCENARIO = "delivery"


def scenario_named(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}: expected one of "
                         f"{', '.join(SCENARIOS)}") from None


#: A learner's file starts with one hidden ReLU layer: enough to bend, quick to train.
FILE_MODEL = ModelSpec(hidden_layers=1, width=16, activation="relu")


def load_csv(path: str | Path, target: str | None = None, task: str | None = None, *,
             inputs: Sequence[str] | None = None) -> Scenario:
    """A scenario from a CSV file: header row, numeric columns, one of them the target.

    ``target`` is a column name (the last column by default); ``task`` "regression" or
    "classification" (inferred from the target by default). A bad file raises
    ``ValueError`` naming the line and column, and nothing is loaded.
    """
    data = read_csv_file(path, target=target, task=task, inputs=inputs)
    name = Path(path).name
    kind = (f"{data.classes} classes" if data.task == "classification" else "regression")
    return Scenario(
        name=f"file:{name}", title=f"{name} ({kind})",
        description=f"{data.samples} rows from {name}: {', '.join(data.feature_names)} → "
                    f"{data.target_name}.",
        data=data, model_spec=FILE_MODEL, lr=0.01, optimizer="adam", seed=0,
    )


# -- the one neuron on given numbers (TrainingSession(inputs=..., targets=...)) -----------
#: The reference scenario: delivery distances (miles) and the minutes each delivery took.
DEFAULT_INPUTS = tuple((m,) for m in DELIVERY_MILES)
DEFAULT_TARGETS = tuple((m,) for m in DELIVERY_MINUTES)


def _column(values: Sequence[Sequence[float]], name: str) -> np.ndarray:
    """One feature per row, finite: what the one-input model can take."""
    try:
        column = torch.tensor(values, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{name} must be rows of numbers: {exc}") from None
    if column.ndim != 2 or column.shape[1] != 1 or len(column) == 0:
        raise ValueError(f"{name} must be one column of numbers, one row per sample "
                         f"(got shape {tuple(column.shape)}): the model has one input")
    if not torch.isfinite(column).all():
        raise ValueError(f"{name} must be finite numbers (no NaN or inf)")
    return column.numpy()


def with_given_data(scenario: Scenario, inputs: Sequence[Sequence[float]] | None,
              targets: Sequence[Sequence[float]] | None) -> Scenario:
    """The one-neuron scenario on other numbers (a test's or a teacher's four points)."""
    if inputs is None and targets is None:
        return scenario
    if not scenario.is_one_neuron:
        raise ValueError("inputs and targets replace the one-neuron scenario's data; for "
                         "other data use a scenario (scenarios.load_csv for a file)")
    x = _column(inputs if inputs is not None else DEFAULT_INPUTS, "inputs")
    y = _column(targets if targets is not None else DEFAULT_TARGETS, "targets")
    if len(x) != len(y):
        raise ValueError(f"inputs and targets must have as many rows: {len(x)} inputs, "
                         f"{len(y)} targets")
    data = Dataset(inputs=x, targets=y, task="regression",
                   feature_names=scenario.data.feature_names,
                   target_name=scenario.data.target_name, source="given")
    return replace(scenario, data=data)
