"""The loss along −grad from where the weights are, and where the next Step really lands.

For any model: the loss at θ − t·grad over a range of t (vectorised with ``torch.func``),
and the update the next Step makes, worked out by PyTorch on a copy of the model and its
optimizer (momentum and Adam do not follow −grad, and Adam's step is not lr × grad). The
session's parameters, ``.grad``, graph and optimizer state are never touched.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call, vmap

from gui_trainer.core.session import TrainingSession
from gui_trainer.core.train_modes import measuring

#: The plot along −grad reaches this many next Steps, in this many points (a network's
#: curve costs a forward of all the data per point, and is captured every drawn frame).
ALONG_REACH = 3.0
ALONG_POINTS = 121
ALONG_POINTS_NETWORK = 41


def gradients(session: TrainingSession) -> dict[str, torch.Tensor] | None:
    """Every parameter's ``.grad`` as it is now (copied; zero where a parameter has none,
    as for the optimizer, which skips it), or None if no parameter has one."""
    params = list(session.model.named_parameters())
    if all(param.grad is None for _, param in params):
        return None
    return {name: torch.zeros_like(param) if param.grad is None else
            param.grad.detach().clone() for name, param in params}


def next_update_tensors(session: TrainingSession) -> dict[str, torch.Tensor] | None:
    """What the next Step adds to each parameter (None without gradients): a copy of the
    model and optimizer stepped by PyTorch, so it is the real step, bit for bit."""
    if all(param.grad is None for param in session.model.parameters()):
        return None
    # One deepcopy, so the optimizer's copy refers to the model's copy (and its state, such
    # as Adam's averages, is keyed by the copied parameters). Parameters copy without .grad.
    model, optimizer = copy.deepcopy((session.model, session.optimizer))
    for mine, theirs in zip(model.parameters(), session.model.parameters(), strict=True):
        mine.grad = None if theirs.grad is None else theirs.grad.detach().clone()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer.step()
    return {name: p.detach() - before[name] for name, p in model.named_parameters()}


def loss_along(session: TrainingSession, direction: dict[str, torch.Tensor],
               steps: Sequence[float] | np.ndarray) -> np.ndarray:
    """The full-batch loss at θ + t·direction for each t (θ: the parameters now)."""
    here = {name: p.detach() for name, p in session.model.named_parameters()}

    def loss_at(t: torch.Tensor) -> torch.Tensor:
        params = {name: value + t * direction[name] for name, value in here.items()}
        outputs = functional_call(session.model, params, (session.inputs,))
        return session.loss_fn(outputs, session.targets)  # type: ignore[no-any-return]

    ts = torch.tensor(np.asarray(steps, dtype=np.float64), dtype=torch.float32)
    with measuring(session.model):  # eval mode: BatchNorm's averages, no dropout draws
        return vmap(loss_at)(ts).numpy() if len(ts) else np.zeros(0, dtype=np.float32)


def along_gradient(session: TrainingSession,
                   steps: Sequence[float] | np.ndarray) -> np.ndarray:
    """The loss at θ − t·grad for each t: the slope the step starts down.

    A plain SGD step lands at t = lr.
    """
    grads = gradients(session)
    if grads is None:
        raise ValueError("no gradient yet: run Backward first")
    return loss_along(session, {name: -grad for name, grad in grads.items()}, steps)


@dataclass(frozen=True)
class Along:
    """The loss along −grad, and the next Step's own landing."""

    t: np.ndarray
    loss: np.ndarray
    lr: float
    optimizer: str
    #: The next Step's update measured along −grad (t such that θ − t·grad is the point of
    #: the line nearest the landing: lr for plain SGD) and the loss where it really lands.
    step_t: float
    step_loss: float
    #: How far the landing is from the line, as a share of the update's length (0 for SGD).
    off_line: float


def capture_along(session: TrainingSession) -> Along | None:
    grads = gradients(session)
    update = next_update_tensors(session)
    if grads is None or update is None:
        return None
    grad = torch.cat([g.reshape(-1) for g in grads.values()]).double()
    change = torch.cat([u.reshape(-1) for u in update.values()]).double()
    size = float(grad @ grad)
    step_t = float(-(change @ grad) / size) if size > 0 else 0.0
    length = float(change.norm())
    off = float((change + step_t * grad).norm() / length) if length > 0 else 0.0
    # Three of the next Step's own lengths along the line (lr × grad for plain SGD; Adam's
    # has nothing to do with lr × grad), or three SGD steps if it goes up the slope.
    reach = ALONG_REACH * (step_t if step_t > 0 else session.lr)
    low = min(0.0, 1.5 * step_t)
    points = ALONG_POINTS if session.one_neuron else ALONG_POINTS_NETWORK
    ts = np.linspace(low, reach, points)
    if low < 0:  # t = 0 (the weights now) stays a point of the curve
        ts = np.unique(np.concatenate([ts, [0.0]]))
    landing = loss_along(session, update, [1.0])[0]
    down = {name: -grad for name, grad in grads.items()}
    return Along(t=ts, loss=loss_along(session, down, ts), lr=session.lr,
                 optimizer=session.optimizer_name, step_t=step_t, step_loss=float(landing),
                 off_line=off)
