"""A network's landscape: slices through its weights, computed off the GUI thread.

A network has hundreds of parameters, so its loss cannot be mapped whole. Two honest
pictures: a slice through the weights as they are now along two random directions scaled
layer by layer (Li et al., 2018), and the plane in which this run's path moved most (the two
main PCA directions of its stored weights), with the path projected on it. A job copies what
it needs, so a worker thread computes the grid while the session trains on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call, vmap

from gui_trainer.core.along_step import Along, capture_along
from gui_trainer.core.landscape import Path
from gui_trainer.core.param_trail import flat
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.train_modes import measuring

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
    with measuring(job.model):  # eval mode: BatchNorm's averages, no dropout draws
        for i, alpha in enumerate(job.alphas):
            alphas = torch.full_like(betas, float(alpha))
            losses[i] = vmap(loss_at)(alphas, betas).numpy()
            if progress is not None and not progress(i + 1, len(job.alphas)):
                return None
    return losses


@dataclass(frozen=True)
class NetworkLandscapeState:
    """What the landscape panel draws for a network, captured at one moment: the loss along
    −grad (the slices are computed when asked for)."""

    along: Along | None
    #: Left out (during a full-speed run, or while its plot is hidden): it costs a forward
    #: of all the data per point.
    along_left_out: bool
    #: Steps of this run (the path plane needs two).
    steps: int


def capture_network_landscape(session: TrainingSession,
                              along: bool = True) -> NetworkLandscapeState:
    return NetworkLandscapeState(along=capture_along(session) if along else None,
                                 along_left_out=not along, steps=len(session.history))


# -- the plane of the path -------------------------------------------------------------------
#: Room around the projected path, as a share of its extent.
PLANE_MARGIN = 0.25
#: Earlier runs projected on the plane at most (the latest).
PLANE_EARLIER = 6


@dataclass(frozen=True, eq=False)
class PathPlane:
    """This run's path on the plane of its two main directions, and the job for the loss."""

    job: SliceJob
    #: (alpha, beta): where the start, each kept step and now (0, 0) are, in order.
    path: np.ndarray
    #: The steps taken at each point of ``path``.
    steps: np.ndarray
    earlier: tuple[Path, ...]
    #: The share of the path's squared distance from now along each direction, and off both.
    explained: tuple[float, float]
    parameters: int

    @property
    def off_plane(self) -> float:
        return max(0.0, 1.0 - sum(self.explained))


def _as_tensors(vector: np.ndarray, session: TrainingSession) -> dict[str, torch.Tensor]:
    """A flat vector split back into the model's tensors."""
    tensors, at = {}, 0
    for name, param in session.model.named_parameters():
        size = param.numel()
        tensors[name] = torch.tensor(vector[at:at + size], dtype=param.dtype).reshape(param.shape)
        at += size
    return tensors


def path_plane(session: TrainingSession, points: int = SLICE_POINTS) -> PathPlane:
    """The plane through the weights now spanned by the two main directions of this run's
    path (as Li et al. 2018, the matrix of the kept weights minus the weights now; its SVD is
    not centred on the path's mean, so the directions hold the path's distance from here and
    the plane passes through the weights now), the path projected on
    it, and a job for the loss over the part of the plane the path crosses."""
    if session.trail is None:
        raise ValueError("the path plane is for networks: the one neuron's map is exact")
    steps, kept = session.trail.points(session.history)
    now = flat(session.model.parameters()).astype(np.float64)
    start = session.start_vector().astype(np.float64)
    vectors = np.vstack([start[None, :], kept.astype(np.float64)]) - now
    if not (np.isfinite(vectors).all() and np.abs(vectors).max(initial=0.0) < 1e15):
        raise ValueError("the weights went to infinity or NaN on the way (the run diverged), "
                         "so no plane fits the path: restart with a smaller learning rate")
    all_steps = np.concatenate([[0], steps])
    moved = np.linalg.norm(vectors, axis=1) > 0
    if moved.sum() < 2:
        raise ValueError("the path needs at least two steps before it has a plane: "
                         "train a little first")
    _, singular, directions = np.linalg.svd(vectors, full_matrices=False)
    if singular[1] <= 1e-9 * singular[0]:
        raise ValueError("the path so far is a straight line: it spans no plane yet")
    pair = directions[:2].copy()
    for row in range(2):  # the start on the negative side: the path walks up and right
        if vectors[0] @ pair[row] > 0:
            pair[row] = -pair[row]
    total = float((singular**2).sum())
    explained = (float(singular[0] ** 2 / total), float(singular[1] ** 2 / total))
    path = np.vstack([vectors @ pair.T, [[0.0, 0.0]]])
    path_steps = np.concatenate([all_steps, [len(session.history)]])
    earlier = []
    for run in session.history.earlier_runs()[-PLANE_EARLIER:]:
        _, theirs = session.trail.points(session.history, run.run)
        if len(theirs):
            shifted = np.vstack([start[None, :], theirs.astype(np.float64)]) - now
            earlier.append(Path(run.label, shifted @ pair.T))
    low, high = path.min(axis=0), path.max(axis=0)
    span = high - low
    span = np.maximum(span, 0.1 * span.max())
    # Earlier runs side by side on one map, as far as they stay near this one (a diverged
    # run's weights reach 1e10: its path would shrink this one to a single cell).
    near = np.vstack([low - 2 * span, high + 2 * span])
    for other in earlier:
        seen = other.points[np.isfinite(other.points).all(axis=1)]
        seen = seen[((seen >= near[0]) & (seen <= near[1])).all(axis=1)]
        if len(seen):
            low, high = np.minimum(low, seen.min(axis=0)), np.maximum(high, seen.max(axis=0))
    span = high - low
    low, high = low - PLANE_MARGIN * span, high + PLANE_MARGIN * span
    job = SliceJob(
        model=copy.deepcopy(session.model), loss_fn=copy.deepcopy(session.loss_fn),
        inputs=session.inputs.clone(), targets=session.targets.clone(),
        centre={n: p.detach().clone() for n, p in session.model.named_parameters()},
        directions=(_as_tensors(pair[0], session), _as_tensors(pair[1], session)),
        alphas=np.linspace(low[0], high[0], points), betas=np.linspace(low[1], high[1], points),
        epoch=session.epoch,
    )
    return PathPlane(job=job, path=path, steps=path_steps, earlier=tuple(earlier),
                     explained=explained, parameters=len(now))


def plane_caption(plane: PathPlane) -> str:
    """What the projection can and cannot show, with this plane's own numbers."""
    first, second = plane.explained
    return (
        f"The plane the path moved in most: through the weights now (the dot), along the two "
        f"directions in which its {len(plane.path) - 1} kept points lie furthest from here "
        f"(PCA, after Li et al. 2018): {first:.0%} and {second:.0%} of the path's squared "
        f"distance from here; "
        f"{plane.off_plane:.0%} lies in the other {plane.parameters - 2} directions. The path "
        f"is its shadow on this plane: the colour under a point is the loss on the plane, not "
        f"the loss the run had there."
        + (" Earlier runs from the same start are drawn on the same plane (they may lie "
           "further off it)." if plane.earlier else ""))
