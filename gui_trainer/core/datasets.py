"""The built-in data sets: plain NumPy arrays, made the same way every time.

A data set is only numbers and names; what model learns it, and with which loss, is the
scenario's business (``scenarios.py``). The synthetic sets are drawn from a NumPy generator
with a fixed seed, so every learner sees the same points; the digits are a real data set
shipped in ``resources/datasets`` with its licence.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from gui_trainer.resources import resource_path

Task = Literal["regression", "classification"]
TASKS: tuple[Task, ...] = ("regression", "classification")
FloatArray = npt.NDArray[np.float32]
LabelArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Inputs (one row per sample) and targets, read-only, with the names a view shows.

    Regression targets are floats of shape (n, 1), what ``nn.MSELoss`` compares outputs with;
    classification targets are class indices 0…k−1 of shape (n,), what
    ``nn.CrossEntropyLoss`` takes next to the logits.
    """

    inputs: FloatArray
    targets: FloatArray | LabelArray
    task: Task
    feature_names: tuple[str, ...]
    target_name: str
    #: For classification: the name of each class index (the file's own label values).
    class_names: tuple[str, ...] = ()
    #: What was done to the raw numbers before training (said in the Code panel too).
    preprocessing: str = ""
    #: Where the numbers came from, in a few words (a file path, or "built in").
    source: str = "built in"
    #: For images: the height and width each input row is a flattened picture of.
    image_shape: tuple[int, int] | None = field(default=None)
    #: For a file: every column's name in file order (inputs and target are chosen from them).
    file_columns: tuple[str, ...] = ()
    #: Rows held out for validation (Evaluate), never trained on; None without a split.
    val_inputs: FloatArray | None = None
    val_targets: FloatArray | LabelArray | None = None

    def __post_init__(self) -> None:
        for array in (self.inputs, self.targets, self.val_inputs, self.val_targets):
            if array is not None:
                array.flags.writeable = False

    @property
    def samples(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def in_features(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def classes(self) -> int:
        """How many classes (0 for regression)."""
        return len(self.class_names) if self.task == "classification" else 0

    @property
    def out_features(self) -> int:
        """What the model's last layer must produce: one number, or one logit per class."""
        return self.classes if self.task == "classification" else 1


#: Today's reference scenario (the seed document): miles of each delivery, minutes it took.
DELIVERY_MILES = (1.0, 2.0, 3.0, 4.0)
DELIVERY_MINUTES = (6.96, 12.11, 16.77, 22.21)


def delivery() -> Dataset:
    return Dataset(
        inputs=np.asarray(DELIVERY_MILES, dtype=np.float32).reshape(-1, 1),
        targets=np.asarray(DELIVERY_MINUTES, dtype=np.float32).reshape(-1, 1),
        task="regression", feature_names=("distance (miles)",), target_name="time (minutes)",
    )


def noisy_sine(samples: int = 48, noise: float = 0.1, seed: int = 7) -> Dataset:
    """y = sin(x) plus a little Gaussian noise, x evenly spread over [−3, 3]."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-3.0, 3.0, samples)
    y = np.sin(x) + rng.normal(0.0, noise, samples)
    return Dataset(
        inputs=x.astype(np.float32).reshape(-1, 1),
        targets=y.astype(np.float32).reshape(-1, 1),
        task="regression", feature_names=("x",), target_name="y",
    )


def few_sine_points(train: int = 12, validation: int = 36, noise: float = 0.25,
                    seed: int = 11) -> Dataset:
    """A dozen noisy points of a sine to train on, and more of the same curve held out: a
    wide model can pass through the few and miss the curve (overfitting, measured)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, train + validation)
    y = np.sin(x) + rng.normal(0.0, noise, train + validation)
    order = np.argsort(x[:train])  # the training points left to right, as a plot reads
    train_x, train_y = x[:train][order], y[:train][order]
    return Dataset(
        inputs=train_x.astype(np.float32).reshape(-1, 1),
        targets=train_y.astype(np.float32).reshape(-1, 1),
        task="regression", feature_names=("x",), target_name="y",
        val_inputs=x[train:].astype(np.float32).reshape(-1, 1),
        val_targets=y[train:].astype(np.float32).reshape(-1, 1),
    )


def two_moons(samples: int = 200, noise: float = 0.15, seed: int = 3) -> Dataset:
    """Two interleaving half circles, one per class: no straight line separates them."""
    rng = np.random.default_rng(seed)
    half = samples // 2
    angle = np.linspace(0.0, np.pi, half)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    points = np.vstack([upper, lower]) + rng.normal(0.0, noise, (2 * half, 2))
    labels = np.repeat(np.arange(2), half)
    return Dataset(
        inputs=points.astype(np.float32), targets=labels.astype(np.int64),
        task="classification", feature_names=("x₁", "x₂"), target_name="class",
        class_names=("0", "1"),
    )


def spiral(per_class: int = 100, classes: int = 3, noise: float = 0.2,
           seed: int = 5) -> Dataset:
    """Arms of a spiral, one per class, winding around each other."""
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for label in range(classes):
        radius = np.linspace(0.05, 1.0, per_class)
        angle = (np.linspace(label * 4.0, (label + 1) * 4.0, per_class)
                 + rng.normal(0.0, noise, per_class))
        points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        labels.append(np.full(per_class, label))
    return Dataset(
        inputs=np.vstack(points).astype(np.float32),
        targets=np.concatenate(labels).astype(np.int64),
        task="classification", feature_names=("x₁", "x₂"), target_name="class",
        class_names=tuple(str(k) for k in range(classes)),
    )


def digits() -> Dataset:
    """The 1,797 handwritten digits (8×8 pixels, 0–16 each), pixels scaled to 0–1."""
    from gui_trainer.core.csv_data import parse_csv

    path = resource_path("datasets", "digits.csv.gz")
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    raw = parse_csv(text, source=path.name, target="digit", task="classification")
    return Dataset(
        inputs=(raw.inputs / np.float32(16.0)).astype(np.float32), targets=raw.targets,
        task="classification", feature_names=raw.feature_names, target_name="digit",
        class_names=raw.class_names, preprocessing="pixels divided by 16 (0–16 → 0–1)",
        source="UCI handwritten digits (CC BY 4.0)", image_shape=(8, 8),
    )
