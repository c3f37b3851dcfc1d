"""The loss landscape of a two-parameter model: the exact surface, the path, the next step.

Every number is the session's own loss function on its own data, with the model's own forward
(``torch.func.functional_call``) evaluated at other parameter values, vectorised over the grid
with ``torch.func.vmap``. Nothing here touches the session's parameters, ``.grad``, graph or
optimizer: the next update is worked out on a copy of the model and optimizer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch.func import functional_call, vmap

from gui_trainer.core.along_step import Along, capture_along, next_update_tensors
from gui_trainer.core.history import History
from gui_trainer.core.session import TrainingSession

#: Grid points evaluated per vectorised call: bounds the memory of a large grid.
CHUNK = 16_384


class Path:
    """A run's path: its label and (weight, bias) after each step, in order (an earlier
    run's: from its start).

    An earlier run's points are put together only when asked for (``from_rows``): every
    frame captures every earlier run, and a copy of a million-step run costs ~13 ms, yet
    the panel draws an earlier run only when runs are made or undone (``len`` tells it).
    """

    __slots__ = ("_length", "_make", "_points", "label")

    def __init__(self, label: str, points: np.ndarray) -> None:
        self.label = label
        self._points: np.ndarray | None = points
        self._make: Callable[[], np.ndarray] | None = None
        self._length = len(points)

    @classmethod
    def from_rows(cls, label: str, length: int, make: Callable[[], np.ndarray]) -> Path:
        """A path of ``length`` points that ``make`` puts together when first asked."""
        path = cls(label, np.zeros((0, 2)))
        path._points, path._make, path._length = None, make, length
        return path

    @property
    def points(self) -> np.ndarray:
        if self._points is None:
            assert self._make is not None
            self._points, self._make = self._make(), None
        return self._points

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"Path({self.label!r}, {self._length} points)"


def _require_two(session: TrainingSession) -> list[tuple[str, torch.Size]]:
    named = [(name, p.shape) for name, p in session.model.named_parameters()]
    if not session.one_neuron:
        raise ValueError("the exact landscape is drawn over two parameters (the one neuron's "
                         f"weight and bias); this model has {len(named)} tensors")
    return named


def _losses(session: TrainingSession, weights: torch.Tensor,
            biases: torch.Tensor) -> np.ndarray:
    """The full-batch loss at each (weights[k], biases[k])."""
    (w_name, w_shape), (b_name, b_shape) = _require_two(session)

    def loss_at(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        params = {w_name: weight.reshape(w_shape), b_name: bias.reshape(b_shape)}
        outputs = functional_call(session.model, params, (session.inputs,))
        return session.loss_fn(outputs, session.targets)  # type: ignore[no-any-return]

    parts = []
    with torch.no_grad():
        for start in range(0, len(weights), CHUNK):
            stop = start + CHUNK
            parts.append(vmap(loss_at)(weights[start:stop], biases[start:stop]))
    return torch.cat(parts).numpy() if parts else np.zeros(0, dtype=np.float32)


def loss_grid(session: TrainingSession, xs: Sequence[float] | np.ndarray,
              ys: Sequence[float] | np.ndarray) -> np.ndarray:
    """``losses[i, j]``: the full-batch loss with weight = xs[i] and bias = ys[j]."""
    grid_w, grid_b = np.meshgrid(np.asarray(xs, dtype=np.float64),
                                 np.asarray(ys, dtype=np.float64), indexing="ij")
    weights = torch.tensor(grid_w.reshape(-1), dtype=torch.float32)
    biases = torch.tensor(grid_b.reshape(-1), dtype=torch.float32)
    return _losses(session, weights, biases).reshape(grid_w.shape)


def _weight_bias(history: History, run: int | None = None) -> np.ndarray:
    """(weight, bias) of each row of a run as an (n, 2) array, without copying when the
    history keeps the two columns side by side in each row (it does): a view of its rows,
    read-only, holding the values ``np.column_stack`` of the two columns would copy."""
    weight, bias = history.column("weight", run=run), history.column("bias", run=run)
    size = weight.itemsize
    if (weight.dtype != bias.dtype or weight.strides != bias.strides
            or bias.ctypes.data - weight.ctypes.data != size):
        return np.column_stack([weight, bias])
    return np.lib.stride_tricks.as_strided(weight, shape=(len(weight), 2),
                                           strides=(weight.strides[0], size), writeable=False)


def _from_start(start: tuple[float, ...], steps: np.ndarray) -> np.ndarray:
    return np.vstack([np.asarray([start], dtype=np.float64), steps])


def trajectory(session: TrainingSession) -> np.ndarray:
    """(weight, bias) after every step of the current run, one row per step (a read-only
    view of the history: a million-step run's copy cost ~13 ms a frame)."""
    _require_two(session)
    return _weight_bias(session.history)


def earlier_paths(session: TrainingSession) -> list[Path]:
    """The earlier runs' paths from their starts, labelled as the loss plot labels them."""
    history = session.history
    paths = []
    for run in history.earlier_runs():
        steps = _weight_bias(history, run.run)
        start = history.start_of(run.run)  # the first step is often the longest: drawn too
        if start is None:
            paths.append(Path(run.label, steps))
        else:
            paths.append(Path.from_rows(run.label, len(steps) + 1, partial(_from_start, start,
                                                                           steps)))
    return paths


def run_start(session: TrainingSession) -> tuple[float, float]:
    """Where the current run started: the chosen start, or the seeded first weights."""
    names = [name for name, _ in _require_two(session)]
    first = [session.first_value(name) for name in names]
    return float(first[0] or 0.0), float(first[1] or 0.0)


def current_point(session: TrainingSession) -> tuple[float, float]:
    params = session.params()
    return params.weight, params.bias


def gradient(session: TrainingSession) -> tuple[float, float] | None:
    """(∂loss/∂weight, ∂loss/∂bias) as ``.grad`` holds them now, or None."""
    _require_two(session)
    grads = session.params().grads()
    return None if grads[0] is None or grads[1] is None else (grads[0], grads[1])


def next_update(session: TrainingSession) -> tuple[float, float] | None:
    """The change the next Step would make to (weight, bias), or None without gradients."""
    if gradient(session) is None:
        return None
    update = next_update_tensors(session)
    assert update is not None  # there are gradients
    weight, bias = update.values()
    return float(weight.reshape(-1)[0]), float(bias.reshape(-1)[0])


def minimum(session: TrainingSession) -> tuple[float, float]:
    """Where the mean squared error is lowest: the least-squares line (torch.linalg.lstsq)."""
    _require_two(session)
    x = session.inputs.double().reshape(-1, 1)
    design = torch.cat([x, torch.ones_like(x)], dim=1)
    solution = torch.linalg.lstsq(design, session.targets.double().reshape(-1, 1)).solution
    return float(solution[0, 0]), float(solution[1, 0])


@dataclass(frozen=True, eq=False)
class LandscapeState:
    """What the landscape panel draws, captured at one moment (see ``view_state``)."""

    start: tuple[float, float]
    path: np.ndarray
    earlier: tuple[Path, ...]
    current: tuple[float, float]
    gradient: tuple[float, float] | None
    next_update: tuple[float, float] | None
    minimum: tuple[float, float]
    #: The loss along −grad (None before Backward).
    along: Along | None
    _session: TrainingSession

    def grid(self, xs: Sequence[float] | np.ndarray,
             ys: Sequence[float] | np.ndarray) -> np.ndarray:
        """The surface over any range: it depends on the data and the loss, not on where the
        parameters are now, so it is computed when the view's range asks for it."""
        return loss_grid(self._session, xs, ys)


def capture_landscape(session: TrainingSession, along: bool = True) -> LandscapeState:
    return LandscapeState(
        start=run_start(session), path=trajectory(session),
        earlier=tuple(earlier_paths(session)), current=current_point(session),
        gradient=gradient(session), next_update=next_update(session), minimum=minimum(session),
        along=capture_along(session) if along else None, _session=session,
    )
