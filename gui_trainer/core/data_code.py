"""The lines of a script that make a scenario's data, as a learner would write them.

Each makes ``inputs`` and ``targets`` as tensors equal, bit for bit, to the session's
(``tests/core/test_code_listing.py`` runs every one and compares). The synthetic sets are
drawn with the same NumPy calls as ``datasets.py``; the digits and a learner's file are read
with ``np.loadtxt`` from the file the app itself read.
"""

from __future__ import annotations

from gui_trainer.core.datasets import Dataset
from gui_trainer.core.scenarios import Scenario
from gui_trainer.resources import resource_path


def _float32(value: float | int) -> str:
    import numpy as np

    return str(np.float32(value))


def _column(values: list[float] | list[int]) -> str:
    return "[" + ", ".join(f"[{_float32(v)}]" for v in values) + "]"


_CURVE = '''rng = np.random.default_rng(7)
x = np.linspace(-3.0, 3.0, 48)
y = np.sin(x) + rng.normal(0.0, 0.1, 48)  # a sine with a little noise
inputs = torch.tensor(x, dtype=torch.float32).reshape(-1, 1)
targets = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)'''

_MOONS = '''rng = np.random.default_rng(3)
angle = np.linspace(0.0, np.pi, 100)
upper = np.column_stack([np.cos(angle), np.sin(angle)])
lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
points = np.vstack([upper, lower]) + rng.normal(0.0, 0.15, (200, 2))
inputs = torch.tensor(points, dtype=torch.float32)
targets = torch.tensor(np.repeat(np.arange(2), 100))  # class 0: upper moon, 1: lower'''

_SPIRAL = '''rng = np.random.default_rng(5)
points, labels = [], []
for label in range(3):  # one arm per class
    radius = np.linspace(0.05, 1.0, 100)
    angle = np.linspace(label * 4.0, (label + 1) * 4.0, 100) + rng.normal(0.0, 0.2, 100)
    points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
    labels.append(np.full(100, label))
inputs = torch.tensor(np.vstack(points), dtype=torch.float32)
targets = torch.tensor(np.concatenate(labels))'''

_OVERFIT = '''rng = np.random.default_rng(11)
x = rng.uniform(-3.0, 3.0, 48)
y = np.sin(x) + rng.normal(0.0, 0.25, 48)
order = np.argsort(x[:12])  # 12 points to train on, left to right; 36 held out
inputs = torch.tensor(x[:12][order], dtype=torch.float32).reshape(-1, 1)
targets = torch.tensor(y[:12][order], dtype=torch.float32).reshape(-1, 1)
val_inputs = torch.tensor(x[12:], dtype=torch.float32).reshape(-1, 1)
val_targets = torch.tensor(y[12:], dtype=torch.float32).reshape(-1, 1)'''

SYNTHETIC = {"curve": _CURVE, "overfit": _OVERFIT, "moons": _MOONS, "spiral": _SPIRAL}


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment: one line (a newline would end the comment)."""
    return "".join(c if c.isprintable() else "?" for c in text)


def data_lines(scenario: Scenario) -> list[str]:
    """The script lines that make ``inputs`` and ``targets`` (``np`` is NumPy, imported)."""
    data = scenario.data
    if scenario.name in SYNTHETIC:
        return SYNTHETIC[scenario.name].splitlines()
    if scenario.name == "digits":
        path = resource_path("datasets", "digits.csv.gz")
        return [
            "# The app's copy of the UCI digits (the same as sklearn.datasets.load_digits()).",
            f"table = np.loadtxt({str(path)!r}, delimiter=',', skiprows=1)",
            "inputs = torch.tensor(table[:, :64] / 16, dtype=torch.float32)  # pixels 0-16 → 0-1",
            "targets = torch.tensor(table[:, 64], dtype=torch.int64)",
        ]
    if data.source not in ("built in", "given"):
        return _file_lines(data)
    return [  # the one-neuron scenario, its numbers written out
        f"distances = torch.tensor({_column(data.inputs.flatten().tolist())})",
        f"times = torch.tensor({_column(data.targets.flatten().tolist())})",
    ]


def _file_lines(data: Dataset) -> list[str]:
    names = list(data.file_columns)
    inputs = [names.index(name) for name in data.feature_names]
    target = names.index(data.target_name)
    lines = [  # read as the app read it: the csv module, blank rows skipped, float() per cell
        "import csv",
        "",
        f"with open({data.source!r}, encoding='utf-8-sig', newline='') as file:",
        "    rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]",
        "table = np.array([[float(cell) for cell in row] for row in rows[1:]])  # after the header",
        "numbers = torch.tensor(table, dtype=torch.float32)",
        f"inputs = numbers[:, {inputs}]",
    ]
    if data.task == "classification":
        return [
            *lines,
            f"classes, labels = np.unique(table[:, {target}], return_inverse=True)"
            f"  # {comment_text(', '.join(data.class_names))} → 0…{data.classes - 1}",
            "targets = torch.tensor(labels, dtype=torch.int64)",
        ]
    return [*lines, f"targets = numbers[:, [{target}]]"]

