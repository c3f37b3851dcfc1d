"""Train mode and eval mode, and the two things only train mode does: dropout's random masks
and BatchNorm's running averages.

The stages run the model as a training script does, in train mode: each Forward draws new
dropout masks from torch's global generator and moves BatchNorm's buffers. Everything the
app only *measures* (the loss history, the curves, the landscape, predictions) runs in eval
mode under ``torch.no_grad()``, so looking never changes the model nor uses up random draws.
For a model without dropout or BatchNorm the two modes compute the same numbers.

The dropout draws come from the session's own copy of the global generator's state (kept
with the loop's state), so undo, a jump or a session file replays the very same masks, and
the rest of the program's random numbers are left alone.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

T = TypeVar("T")


def has_dropout(model: nn.Module) -> bool:
    return any(isinstance(module, nn.Dropout) for module in model.modules())


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(module, nn.BatchNorm1d) for module in model.modules())


#: Per model, whether it is stochastic: asked before every measurement, and a model's layers
#: never change once it is built.
_STOCHASTIC: weakref.WeakKeyDictionary[nn.Module, bool] = weakref.WeakKeyDictionary()


def stochastic(model: nn.Module) -> bool:
    """Whether train mode and eval mode compute different things for this model."""
    known = _STOCHASTIC.get(model)
    if known is None:
        known = _STOCHASTIC[model] = has_dropout(model) or has_batch_norm(model)
    return known


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """``model.eval()`` inside; each module's own mode is put back after (the stages keep
    the modes they were in). Costs nothing for a model whose modes compute the same."""
    if not stochastic(model):
        yield
        return
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


@contextmanager
def measuring(model: nn.Module) -> Iterator[None]:
    """``model.eval()`` and ``torch.no_grad()``: a look that changes nothing."""
    with eval_mode(model), torch.no_grad():
        yield


def drawing_from(state: torch.Tensor | None,
                 make: Callable[[], T]) -> tuple[T, torch.Tensor | None]:
    """Run ``make`` with torch's global generator at ``state``; its result and the state
    after (the dropout masks ``make`` drew used it up). None: run as it is, no generator.

    The program's own generator is put back after, whatever happened.
    """
    if state is None:
        return make(), None
    with torch.random.fork_rng(devices=[]):
        torch.set_rng_state(state)
        result = make()
        return result, torch.get_rng_state()


def buffers_of(model: nn.Module) -> tuple[torch.Tensor, ...]:
    """Copies of the model's buffers (BatchNorm's running averages and batch count)."""
    return tuple(buffer.detach().clone() for buffer in model.buffers())


def put_buffers(model: nn.Module, values: tuple[torch.Tensor, ...]) -> None:
    """Put the buffers back as BatchNorm's own update writes them: through ``.data``, so
    their version counters stay as they were and a graph that saved them (a live graph made
    again on a jump) can still be backpropagated."""
    for buffer, value in zip(model.buffers(), values, strict=True):
        buffer.data.copy_(value)


@dataclass(frozen=True, eq=False)
class DropoutMask:
    """What one ``nn.Dropout`` layer did in one forward: which outputs it kept."""

    #: The layer's name in the model ("3").
    name: str
    p: float
    #: rows × units, True where the unit's output was kept (and scaled by 1 / (1 − p)).
    kept: npt.NDArray[np.bool_]
    #: The layer's output equals its input times the mask / (1 − p), element for element.
    agrees: bool

    @property
    def kept_share(self) -> float:
        return float(self.kept.mean()) if self.kept.size else 0.0


@contextmanager
def dropout_masks(model: nn.Module) -> Iterator[list[DropoutMask]]:
    """Read each dropout layer's mask in the forwards run inside.

    Before a dropout layer runs, the same draw it is about to make is made on a tensor of
    ones (``F.dropout`` with the layer's ``p``) and the generator put back, so the layer then
    draws exactly that mask; after it, its output is checked against input × mask.
    """
    masks: list[DropoutMask] = []
    drawn: dict[str, torch.Tensor] = {}
    handles = []

    def before(name: str, module: nn.Dropout, args: tuple[torch.Tensor, ...]) -> None:
        if not module.training:
            return
        state = torch.get_rng_state()
        with torch.no_grad():
            drawn[name] = nn.functional.dropout(torch.ones_like(args[0]), module.p, True)
        torch.set_rng_state(state)

    def after(name: str, module: nn.Dropout, args: tuple[torch.Tensor, ...],
              output: torch.Tensor) -> None:
        scaled = drawn.pop(name, None)
        if scaled is None:
            return
        with torch.no_grad():
            expected = args[0] * scaled
            # element for element, NaN where both are NaN (a diverged run's numbers)
            agrees = bool(((output == expected) | (output.isnan() & expected.isnan())).all())
        kept = (scaled != 0).numpy().copy()
        kept.flags.writeable = False
        masks.append(DropoutMask(name, float(module.p), kept, agrees))

    for name, module in model.named_modules():
        if isinstance(module, nn.Dropout):
            handles.append(module.register_forward_pre_hook(
                lambda m, a, name=name: before(name, m, a)))
            handles.append(module.register_forward_hook(
                lambda m, a, o, name=name: after(name, m, a, o)))
    try:
        yield masks
    finally:
        for handle in handles:
            handle.remove()


@dataclass(frozen=True, eq=False)
class BatchStats:
    """What one ``nn.BatchNorm1d`` layer measured of its batch in a train-mode forward: the
    mean and the unbiased variance per unit, which its running averages move toward."""

    name: str
    momentum: float
    rows: int
    mean: npt.NDArray[np.float32]
    var: npt.NDArray[np.float32]


@contextmanager
def batch_norm_stats(model: nn.Module) -> Iterator[list[BatchStats]]:
    """Each train-mode BatchNorm layer's batch statistics in the forwards run inside (read
    from the layer's input by a hook, after the layer ran without an error)."""
    stats: list[BatchStats] = []
    handles = []

    def after(name: str, module: nn.BatchNorm1d, args: tuple[torch.Tensor, ...],
              _output: torch.Tensor) -> None:
        if not (module.training and module.track_running_stats) or module.momentum is None:
            return
        with torch.no_grad():
            batch = args[0].detach()
            mean = batch.mean(0).numpy().copy()
            var = batch.var(0, unbiased=True).numpy().copy()
        for array in (mean, var):
            array.flags.writeable = False
        stats.append(BatchStats(name, float(module.momentum), int(batch.shape[0]), mean, var))

    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm1d):
            handles.append(module.register_forward_hook(
                lambda m, a, o, name=name: after(name, m, a, o)))
    try:
        yield stats
    finally:
        for handle in handles:
            handle.remove()
