"""The session at one moment, as the views draw it: numbers copied out of PyTorch.

Views never read the live session. After each change the controller captures a
:class:`SessionView` (once per drawn frame, however many stages ran in between) and every
view draws from it: a view cannot see half of a change, and nothing a view does can touch a
tensor the loop uses. Predictions for a dense grid, the full-batch loss and activation
statistics run the session's model on a frozen copy of its parameters
(``torch.func.functional_call``), so they show the state that was captured, and they are
computed only if a view asks.

The loss history is the session's own table: it only ever gains rows while a frame draws,
and a view reads it when the view is captured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from gui_trainer.core import schedulers
from gui_trainer.core.autograd_graph import GraphSnapshot
from gui_trainer.core.code_listing import CodeListing, code_listing
from gui_trainer.core.history import History, tensor_history
from gui_trainer.core.landscape import LandscapeState, capture_landscape
from gui_trainer.core.layer_math import LayerActivity, activation_stats
from gui_trainer.core.records import ParamValues, StageRecord, TensorValues, Values
from gui_trainer.core.scenarios import Scenario
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.slices import NetworkLandscapeState, capture_network_landscape
from gui_trainer.core.stages import Stage
from gui_trainer.core.train_modes import DropoutMask, measuring


@dataclass(frozen=True, eq=False)
class SessionView:
    scenario: Scenario
    one_neuron: bool
    epoch: int
    #: Optimizer steps done; the next step's place in its epoch (1-based) and the epoch's
    #: steps (``len(loader)`` over the micro-batches each step gathers).
    steps: int
    iteration: int
    iterations_per_epoch: int
    #: The rows of the current step's batch, when it is not every row (mini-batches).
    batch_rows: tuple[int, ...] | None
    #: The loop's stages in order, the optional ones only when on.
    stages_on: tuple[Stage, ...]
    #: Whether the scenario holds rows out for Evaluate.
    has_validation: bool
    #: With a scheduler: the steps at which its next rates take effect, and those rates
    #: (the live rate first); None without one.
    schedule_ahead: tuple[np.ndarray, np.ndarray] | None
    #: Position on the timeline, and how many actions it holds.
    position: int
    timeline_length: int
    #: What the action just before ``position`` did, in words ("" at the start).
    last_action: str
    next_stage: Stage
    last_stage: Stage | None
    #: The loss tensor's number now (None before Loss, or after a reset).
    loss: float | None
    params: ParamValues
    #: The model's buffers (BatchNorm's running averages; empty without BatchNorm).
    buffers: tuple[TensorValues, ...]
    #: The dropout masks of the latest Forward shown (empty without dropout).
    dropout_masks: tuple[DropoutMask, ...]
    #: The model computes otherwise in train and eval mode (dropout or BatchNorm): the
    #: curves and losses the views draw are measured in eval mode.
    eval_measured: bool
    #: The last forward's outputs (None before Forward), and which samples they are for.
    outputs: np.ndarray | None
    outputs_rows: tuple[int, ...]
    inputs: np.ndarray
    targets: np.ndarray
    history: History
    graph: GraphSnapshot
    listing: CodeListing
    #: The loss landscape, when a view asked for it (None otherwise).
    landscape: LandscapeState | NetworkLandscapeState | None
    _model: nn.Module = field(repr=False)
    _loss_fn: nn.Module = field(repr=False)
    _frozen: dict[str, torch.Tensor] = field(repr=False)
    _first: dict[str, float | None] = field(repr=False)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(tensor.name for tensor in self.params.tensors)

    def _run(self, inputs: torch.Tensor) -> torch.Tensor:
        with measuring(self._model):  # eval mode: nothing moves, no dropout draws
            return cast(torch.Tensor, functional_call(self._model, self._frozen, (inputs,)))

    def predict_array(self, inputs: np.ndarray) -> np.ndarray:
        """The model's outputs (logits for a classifier) for rows of inputs, as captured."""
        rows = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        return self._run(rows).numpy()

    def predict(self, xs: Sequence[float]) -> Values:
        """The outputs for one-input ``xs`` (the curve through the data)."""
        column = torch.tensor(list(xs), dtype=torch.float32).reshape(-1, 1)
        return tuple(self._run(column).reshape(-1).tolist())

    @cached_property
    def full_batch_loss(self) -> float:
        """The loss over all the data with the captured parameters."""
        targets = torch.as_tensor(self.targets)
        with torch.no_grad():
            outputs = self._run(torch.as_tensor(self.inputs))
            return float(self._loss_fn(outputs, targets).item())

    @cached_property
    def activations(self) -> tuple[LayerActivity, ...]:
        """Each activation layer over all the data (dead ReLUs, saturated units)."""
        return activation_stats(cast(nn.Sequential, self._model),
                                torch.as_tensor(self.inputs), self._frozen)

    def tensor_history(self, kind: str, name: str) -> np.ndarray:
        """Per step of this run: "grad_norm" or "update_ratio" of tensor ``name``."""
        return tensor_history(self.history, kind, name, self._first[name])


#: Scheduler steps the lr plot looks ahead.
AHEAD_CALLS = 100
#: The last schedule worked out ahead: its key and (steps, rates).
_AHEAD: list[Any] = [None, None]


def schedule_ahead(session: TrainingSession) -> tuple[np.ndarray, np.ndarray] | None:
    """Where the schedule goes from here (see ``schedulers.ahead``), placed on the step axis:
    per step for OneCycleLR, at each coming epoch's end for the others."""
    choice = session.settings.scheduler
    if choice is None or session.scheduler is None:
        return None
    # Stepping a copy ahead costs ~5 ms: worked out again only when the schedule moved.
    key = (choice, id(session.scheduler), session.scheduler.last_epoch,
           float(session.optimizer.param_groups[0]["lr"]), session.steps, session.epoch,
           session.iterations_per_epoch)
    if _AHEAD[0] == key:
        cached: tuple[np.ndarray, np.ndarray] = _AHEAD[1]
        return cached
    rates = schedulers.ahead(*choice, session.scheduler, session.optimizer, AHEAD_CALLS)
    steps = session.steps
    if schedulers.every_step(choice[0]):
        xs = steps + np.arange(len(rates), dtype=np.float64)
    else:
        per_epoch = session.iterations_per_epoch
        xs = np.concatenate([[steps], (session.epoch + np.arange(1, len(rates))) * per_epoch])
    result = (np.asarray(xs, dtype=np.float64), rates)
    for array in result:  # shared by the frames that draw it: nobody may write to it
        array.flags.writeable = False
    _AHEAD[:] = [key, result]
    return result


def batch_rows(session: TrainingSession) -> tuple[int, ...] | None:
    """The current step's batch rows, or None when the step learns from every row."""
    rows = session.group_rows()
    return None if len(rows) == len(session.inputs) else rows


def capture(session: TrainingSession, latest: Mapping[Stage, StageRecord],
            last: Stage | None, landscape: bool = False, along: bool = True) -> SessionView:
    """The session now; ``latest`` and ``last`` annotate the code listing; ``landscape``
    adds the loss landscape (it costs a few forwards), with the loss along −grad unless
    ``along`` is False (a forward per point: left out when its plot is not seen)."""
    outputs = session.outputs
    position = session.position
    names = [name for name, _ in session.model.named_parameters()]
    return SessionView(
        scenario=session.scenario,
        one_neuron=session.one_neuron,
        epoch=session.epoch,
        steps=session.steps,
        iteration=session.iteration,
        iterations_per_epoch=session.iterations_per_epoch,
        batch_rows=batch_rows(session),
        stages_on=session.stages_on,
        has_validation=session.has_validation,
        schedule_ahead=schedule_ahead(session),
        position=position,
        timeline_length=len(session.timeline),
        last_action=session.timeline.action(position - 1).describe() if position else "",
        next_stage=session.next_stage,
        last_stage=session.last_stage,
        loss=None if session.loss is None else float(session.loss.item()),
        params=session.params(),
        buffers=session.buffers(),
        dropout_masks=() if "forward" not in latest else latest["forward"].dropout_masks,
        eval_measured=session.scenario.model_spec.stochastic,
        outputs=None if outputs is None else outputs.detach().numpy().copy(),
        outputs_rows=tuple(session.outputs_rows),
        inputs=session.inputs.numpy(),
        targets=session.targets.numpy(),
        history=session.history,
        graph=session.autograd_graph(),
        listing=code_listing(session, latest, last),
        landscape=(None if not landscape else capture_landscape(session, along)
                   if session.one_neuron else capture_network_landscape(session, along)),
        _model=session.model,
        _loss_fn=session.loss_fn,
        _frozen={name: p.detach().clone() for name, p in
                 (*session.model.named_parameters(), *session.model.named_buffers())},
        _first={name: session.first_value(name) for name in names},
    )
