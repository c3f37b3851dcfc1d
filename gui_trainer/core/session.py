"""The training session: real PyTorch objects, driven one stage at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import nn

from gui_trainer.core import outcomes
from gui_trainer.core.autograd_graph import FreedNodes, GraphSnapshot, read_graph
from gui_trainer.core.history import History
from gui_trainer.core.records import ParamValues, StageRecord, Values
from gui_trainer.core.stages import LABELS, STAGES, Stage, as_stage, following
from gui_trainer.core.validation import parse_learning_rate

Mode = Literal["guided", "free"]
OptimizerName = Literal["sgd", "adam"]
MODES: tuple[Mode, ...] = ("guided", "free")
OPTIMIZERS: tuple[OptimizerName, ...] = ("sgd", "adam")

#: The reference scenario: delivery distances (miles) and the minutes each delivery took.
DEFAULT_INPUTS = ((1.0,), (2.0,), (3.0,), (4.0,))
DEFAULT_TARGETS = ((6.96,), (12.11,), (16.77,), (22.21,))
DEFAULT_SEED = 42


class StageOrderError(RuntimeError):
    """Raised in guided mode when a stage is asked for out of loop order."""


def _values(tensor: torch.Tensor | None) -> Values | None:
    if tensor is None:
        return None
    return tuple(float(v) for v in tensor.detach().reshape(-1).tolist())


def _scalar(tensor: torch.Tensor | None) -> float | None:
    return None if tensor is None else float(tensor.detach().item())


class TrainingSession:
    """One model, its data, loss function and optimizer, run stage by stage.

    ``run(stage)`` makes exactly the PyTorch call a training script makes for that stage
    and returns a :class:`StageRecord`. ``outputs`` and ``loss`` behave like the script's
    variables: each is replaced only by its own stage.
    """

    outputs: torch.Tensor | None
    loss: torch.Tensor | None
    _loss_outputs: torch.Tensor | None
    _last_stage: Stage | None
    _next_stage: Stage

    def __init__(
        self,
        *,
        inputs: Sequence[Sequence[float]] = DEFAULT_INPUTS,
        targets: Sequence[Sequence[float]] = DEFAULT_TARGETS,
        lr: float | str = 0.01,
        mode: Mode = "guided",
        optimizer: OptimizerName = "sgd",
        set_to_none: bool = True,
        seed: int = DEFAULT_SEED,
    ) -> None:
        self.inputs = torch.tensor(inputs, dtype=torch.float32)
        self.targets = torch.tensor(targets, dtype=torch.float32)
        if self.inputs.shape != self.targets.shape or self.inputs.ndim != 2:
            raise ValueError("inputs and targets must be columns of the same length")
        # A private RNG state: the same seed gives the same first weights every time,
        # without disturbing torch's global generator for the rest of the program.
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.model = nn.Sequential(nn.Linear(1, 1))
        self.loss_fn = nn.MSELoss()
        self._initial_state = copy.deepcopy(self.model.state_dict())
        self._lr = parse_learning_rate(lr)
        self._optimizer_name = self._check_optimizer(optimizer)
        self.optimizer = self._make_optimizer()
        self.set_to_none = set_to_none
        self._mode: Mode = self._check_mode(mode)
        self.history = History()
        self._clear_run_state()

    # -- the real objects ---------------------------------------------------------------
    @property
    def linear(self) -> nn.Linear:
        layer = self.model[0]
        assert isinstance(layer, nn.Linear)
        return layer

    @property
    def weight(self) -> torch.Tensor:
        return self.linear.weight

    @property
    def bias(self) -> torch.Tensor:
        return self.linear.bias

    def params(self) -> ParamValues:
        """The parameters and their gradients as plain numbers, read from the tensors now."""
        return ParamValues(
            weight=float(self.weight.item()),
            bias=float(self.bias.item()),
            weight_grad=_scalar(self.weight.grad),
            bias_grad=_scalar(self.bias.grad),
        )

    def predict(self, xs: Sequence[float]) -> Values:
        """The model's predictions for ``xs`` without recording a graph (for drawing the line)."""
        with torch.no_grad():
            column = torch.tensor(list(xs), dtype=torch.float32).reshape(-1, 1)
            return _values(self.model(column)) or ()

    # -- settings ----------------------------------------------------------------------
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float | str) -> None:
        rate = parse_learning_rate(value)  # raises before anything changes
        self._lr = rate
        for group in self.optimizer.param_groups:
            group["lr"] = rate

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, value: Mode) -> None:
        value = self._check_mode(value)
        if value == "guided" and self._mode != "guided":
            # Whatever free mode left behind, a loop that starts at zero_grad is always valid.
            self._next_stage = "zero_grad"
        self._mode = value

    @property
    def optimizer_name(self) -> OptimizerName:
        return self._optimizer_name

    @optimizer_name.setter
    def optimizer_name(self, value: OptimizerName) -> None:
        """Switching optimizer starts it fresh (Adam's running averages are per optimizer)."""
        self._optimizer_name = self._check_optimizer(value)
        self.optimizer = self._make_optimizer()

    # -- progress ----------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Completed optimizer steps since the start (or the last reset)."""
        return self._epoch

    @property
    def stage_count(self) -> int:
        """How many stages have been run since the start (or the last reset)."""
        return self._stage_count

    @property
    def loss_measures_current_outputs(self) -> bool:
        """False after a Forward that came after the last Loss (the loss is stale)."""
        return self.loss is not None and self._loss_outputs is self.outputs

    @property
    def last_stage(self) -> Stage | None:
        return self._last_stage

    @property
    def next_stage(self) -> Stage:
        """The next stage in loop order: the only one guided mode allows."""
        return self._next_stage

    def refusal(self, stage: str) -> str | None:
        """Why ``stage`` may not run now (guided mode only), or None if it may."""
        wanted = as_stage(stage)
        if self._mode == "free" or wanted == self._next_stage:
            return None
        return (
            f"Guided mode: the loop goes on with {LABELS[self._next_stage]}, not "
            f"{LABELS[wanted]} (switch to free mode to break the order)."
        )

    def reset(self) -> None:
        """Back to the starting weights; settings (lr, mode, optimizer) are kept."""
        self.model.load_state_dict(self._initial_state)
        self.optimizer = self._make_optimizer()
        self.history.clear()
        self._clear_run_state()

    # -- running stages ----------------------------------------------------------------
    def run(self, stage: str) -> StageRecord:
        """Run one stage with the real PyTorch call and return what it did.

        Guided mode raises :class:`StageOrderError` for an out-of-order stage and changes
        nothing. Free mode never raises: an error PyTorch raises is carried in the record.
        """
        stage = as_stage(stage)
        reason = self.refusal(stage)
        if reason is not None:
            raise StageOrderError(reason)
        before = self.params()
        runner: Callable[[ParamValues], _Outcome] = getattr(self, f"_run_{stage}")
        try:
            outcome = runner(before)
        except Exception as exc:  # PyTorch's own error is the lesson; keep the session alive
            text = f"{type(exc).__name__}: {exc}"
            outcome = _Outcome(ran=True, error=text, explanation=outcomes.error(stage, text))
        after = self.params()
        self._stage_count += 1
        self._last_stage = stage
        self._next_stage = following(stage)
        if stage == "step" and outcome.error is None:
            self._epoch += 1
            self.history.append(self._epoch, _scalar(self.loss), after)
        return StageRecord(
            stage=stage,
            index=self._stage_count,
            mode=self._mode,
            ran=outcome.ran,
            error=outcome.error,
            explanation=outcome.explanation,
            before=before,
            after=after,
            inputs=_values(self.inputs) or (),
            targets=_values(self.targets) or (),
            outputs=_values(self.outputs),
            loss=_scalar(self.loss),
            loss_outputs=_values(self._loss_outputs),
            sample_losses=outcome.sample_losses,
            formula_grads=outcome.formula_grads,
            formula_terms=outcome.formula_terms,
            lr=self._lr,
            optimizer=self._optimizer_name,
            set_to_none=self.set_to_none,
            epoch=self._epoch,
        )

    def run_epoch(self) -> list[StageRecord]:
        """Run stages in loop order from ``next_stage`` through the next step."""
        records = [self.run(self._next_stage)]
        while records[-1].stage != "step":
            records.append(self.run(self._next_stage))
        return records

    def _run_zero_grad(self, before: ParamValues) -> _Outcome:
        self.optimizer.zero_grad(set_to_none=self.set_to_none)
        return _Outcome(explanation=outcomes.zero_grad(before, self.set_to_none))

    def _run_forward(self, before: ParamValues) -> _Outcome:
        self.outputs = self.model(self.inputs)
        return _Outcome(explanation=outcomes.forward(self.loss is not None, self._mode == "free"))

    def _run_loss(self, before: ParamValues) -> _Outcome:
        if self.outputs is None:
            return _Outcome(ran=False, explanation=outcomes.NO_OUTPUTS)
        self.loss = self.loss_fn(self.outputs, self.targets)
        self._loss_outputs = self.outputs
        with torch.no_grad():
            per_sample = nn.functional.mse_loss(self.outputs, self.targets, reduction="none")
        value = float(self.loss.item())
        return _Outcome(explanation=outcomes.loss(value), sample_losses=_values(per_sample))

    def _run_backward(self, before: ParamValues) -> _Outcome:
        if self.loss is None or self._loss_outputs is None:
            return _Outcome(ran=False, explanation=outcomes.NO_LOSS)
        stale = self._loss_outputs is not self.outputs
        grads, terms = self._chain_rule(self._loss_outputs)
        self.loss.backward()  # type: ignore[no-untyped-call]
        self._freed.mark(self.loss)
        return _Outcome(
            explanation=outcomes.backward(before, stale), formula_grads=grads, formula_terms=terms
        )

    def _run_step(self, before: ParamValues) -> _Outcome:
        self.optimizer.step()
        return _Outcome(explanation=outcomes.step(before, self.params(), self._optimizer_name))

    def _chain_rule(
        self, outputs: torch.Tensor
    ) -> tuple[tuple[float, float], tuple[Values, Values]]:
        """The chain rule by hand: ∂loss/∂w = (2/n)·Σ(out − t)·x, ∂loss/∂b = (2/n)·Σ(out − t).

        Written out with torch ops so the learner can compare it with autograd's answer.
        """
        with torch.no_grad():
            error = outputs - self.targets
            weighted = error * self.inputs
            n = error.numel()
            d_weight = (2.0 / n) * weighted.sum()
            d_bias = (2.0 / n) * error.sum()
        grads = (float(d_weight.item()), float(d_bias.item()))
        return grads, (_values(error) or (), _values(weighted) or ())

    def autograd_graph(self) -> GraphSnapshot:
        """The graph PyTorch holds now, read by walking ``grad_fn`` from the loss and outputs."""
        return read_graph(self, self._freed)

    # -- helpers -----------------------------------------------------------------------
    def _clear_run_state(self) -> None:
        self.outputs = None
        self.loss = None
        self._loss_outputs = None
        self._freed = FreedNodes()
        for param in self.model.parameters():
            param.grad = None
        self._epoch = 0
        self._stage_count = 0
        self._last_stage = None
        self._next_stage = STAGES[0]

    def _make_optimizer(self) -> torch.optim.Optimizer:
        if self._optimizer_name == "adam":
            return torch.optim.Adam(self.model.parameters(), lr=self._lr)
        return torch.optim.SGD(self.model.parameters(), lr=self._lr)

    @staticmethod
    def _check_mode(mode: str) -> Mode:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: expected 'guided' or 'free'")
        return mode

    @staticmethod
    def _check_optimizer(name: str) -> OptimizerName:
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}: expected 'sgd' or 'adam'")
        return name


class _Outcome:
    """What a stage runner reports back to :meth:`TrainingSession.run`."""

    __slots__ = (
        "error", "explanation", "formula_grads", "formula_terms", "ran", "sample_losses"
    )

    def __init__(
        self,
        *,
        explanation: str,
        ran: bool = True,
        error: str | None = None,
        sample_losses: Values | None = None,
        formula_grads: tuple[float, float] | None = None,
        formula_terms: tuple[Values, Values] | None = None,
    ) -> None:
        self.ran = ran
        self.error = error
        self.explanation = explanation
        self.sample_losses = sample_losses
        self.formula_grads = formula_grads
        self.formula_terms = formula_terms
