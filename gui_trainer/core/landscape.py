"""The loss landscape of a two-parameter model: the exact surface, the path, the next step.

Every number is the session's own loss function on its own data, with the model's own forward
(``torch.func.functional_call``) evaluated at other parameter values, vectorised over the grid
with ``torch.func.vmap``. Nothing here touches the session's parameters, ``.grad``, graph or
optimizer: the next update is worked out on a copy of the model and optimizer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call, vmap

from gui_trainer.core.session import TrainingSession

#: Grid points evaluated per vectorised call: bounds the memory of a large grid.
CHUNK = 16_384


@dataclass(frozen=True)
class Path:
    label: str
    #: (weight, bias) after each step, in order.
    points: np.ndarray


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


def trajectory(session: TrainingSession) -> np.ndarray:
    """(weight, bias) after every step of the current run, one row per step."""
    _require_two(session)
    history = session.history
    return np.column_stack([history.column("weight"), history.column("bias")])


def earlier_paths(session: TrainingSession) -> list[Path]:
    """The earlier runs' paths, labelled as the loss plot labels them."""
    history = session.history
    return [Path(run.label, np.column_stack([history.column("weight", run=run.run),
                                             history.column("bias", run=run.run)]))
            for run in history.earlier_runs()]


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
    """The change the next Step would make, from a copy of the model and optimizer stepped
    by PyTorch (momentum and Adam do not follow −grad), or None without gradients."""
    if gradient(session) is None:
        return None
    # One deepcopy, so the optimizer's copy refers to the model's copy (and its state, such
    # as Adam's averages, is keyed by the copied parameters). Parameters copy without .grad.
    model, optimizer = copy.deepcopy((session.model, session.optimizer))
    for mine, theirs in zip(model.parameters(), session.model.parameters(), strict=True):
        mine.grad = None if theirs.grad is None else theirs.grad.detach().clone()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.step()
    after = [p.detach() for p in model.parameters()]
    return (float((after[0] - before[0]).reshape(-1)[0]),
            float((after[1] - before[1]).reshape(-1)[0]))


def along_gradient(session: TrainingSession,
                   steps: Sequence[float] | np.ndarray) -> np.ndarray:
    """The loss at (weight, bias) − t·grad for each t: the slope the step starts down.

    A plain SGD step lands at t = lr.
    """
    grad = gradient(session)
    if grad is None:
        raise ValueError("no gradient yet: run Backward first")
    weight, bias = current_point(session)
    ts = torch.tensor(np.asarray(steps, dtype=np.float64), dtype=torch.float32)
    weights = torch.tensor(weight, dtype=torch.float32) - ts * torch.tensor(grad[0])
    biases = torch.tensor(bias, dtype=torch.float32) - ts * torch.tensor(grad[1])
    return _losses(session, weights, biases)


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
    lr: float
    optimizer: str
    #: The loss along −grad: step sizes t and the loss at current − t·grad (empty: no grad).
    along_t: np.ndarray
    along_loss: np.ndarray
    _session: TrainingSession

    def grid(self, xs: Sequence[float] | np.ndarray,
             ys: Sequence[float] | np.ndarray) -> np.ndarray:
        """The surface over any range: it depends on the data and the loss, not on where the
        parameters are now, so it is computed when the view's range asks for it."""
        return loss_grid(self._session, xs, ys)


#: The 1-D plot along −grad reaches this many plain SGD steps.
ALONG_REACH = 3.0
ALONG_POINTS = 121


def capture_landscape(session: TrainingSession) -> LandscapeState:
    grad = gradient(session)
    ts = np.linspace(0.0, ALONG_REACH * session.lr, ALONG_POINTS) if grad else np.zeros(0)
    return LandscapeState(
        start=run_start(session), path=trajectory(session),
        earlier=tuple(earlier_paths(session)), current=current_point(session),
        gradient=grad, next_update=next_update(session), minimum=minimum(session),
        lr=session.lr, optimizer=session.optimizer_name,
        along_t=ts, along_loss=along_gradient(session, ts) if grad else np.zeros(0),
        _session=session,
    )


# -- a network: a slice through the current weights ---------------------------------------
#: Grid points a side of a network's slice, and its reach along each direction.
SLICE_POINTS = 31
SLICE_REACH = 1.0


def filter_normalized_directions(
    session: TrainingSession, seed: int = 0
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Two random directions in parameter space, each weight's rows ("filters") scaled to
    the size of the same rows of the weight (Li et al., 2018), biases left out (zero).

    Unscaled, a direction would move a small layer as much as a large one and the picture
    would depend on how each layer happens to be scaled.
    """
    generator = torch.Generator().manual_seed(seed)
    pair: list[dict[str, torch.Tensor]] = []
    for _ in range(2):
        direction = {}
        for name, param in session.model.named_parameters():
            value = param.detach()
            if value.ndim < 2:
                direction[name] = torch.zeros_like(value)
                continue
            noise = torch.randn(value.shape, generator=generator, dtype=value.dtype)
            rows = value.reshape(value.shape[0], -1).norm(dim=1)
            noise_rows = noise.reshape(noise.shape[0], -1).norm(dim=1).clamp_min(1e-12)
            scale = (rows / noise_rows).reshape(-1, *([1] * (value.ndim - 1)))
            direction[name] = noise * scale
        pair.append(direction)
    return pair[0], pair[1]


@dataclass(frozen=True, eq=False)
class SliceJob:
    """Everything a slice needs, copied: a worker thread computes it while the session
    trains on (the model's copy is the worker's alone: functional_call swaps its tensors)."""

    model: torch.nn.Module
    loss_fn: torch.nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    centre: dict[str, torch.Tensor]
    directions: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]
    alphas: np.ndarray
    betas: np.ndarray
    epoch: int


def slice_job(session: TrainingSession, points: int = SLICE_POINTS,
              reach: float = SLICE_REACH, seed: int = 0) -> SliceJob:
    half = points // 2
    axis = reach * np.arange(-half, half + 1) / half  # the middle is exactly 0: the weights now
    return SliceJob(
        model=copy.deepcopy(session.model), loss_fn=copy.deepcopy(session.loss_fn),
        inputs=session.inputs.clone(), targets=session.targets.clone(),
        centre={n: p.detach().clone() for n, p in session.model.named_parameters()},
        directions=filter_normalized_directions(session, seed),
        alphas=axis, betas=axis.copy(), epoch=session.epoch,
    )


def slice_grid(job: SliceJob, progress: Callable[[int, int], bool] | None = None,
               ) -> np.ndarray | None:
    """``losses[i, j]``: the loss at centre + alphas[i]·d₁ + betas[j]·d₂.

    Within float32 rounding of the session's own loss (about 1e-7 relative): vmap batches
    the layers' matrix products, which sum in another order than one forward does.

    ``progress(done, total)`` is called after each row; returning False cancels (None is
    returned then).
    """
    first, second = job.directions
    losses = np.zeros((len(job.alphas), len(job.betas)), dtype=np.float32)

    def loss_at(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        params = {name: centre + alpha * first[name] + beta * second[name]
                  for name, centre in job.centre.items()}
        outputs = functional_call(job.model, params, (job.inputs,))
        return job.loss_fn(outputs, job.targets)  # type: ignore[no-any-return]

    betas = torch.tensor(job.betas, dtype=torch.float32)
    with torch.no_grad():
        for i, alpha in enumerate(job.alphas):
            alphas = torch.full_like(betas, float(alpha))
            losses[i] = vmap(loss_at)(alphas, betas).numpy()
            if progress is not None and not progress(i + 1, len(job.alphas)):
                return None
    return losses
