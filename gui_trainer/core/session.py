"""The training session: real PyTorch objects, driven one stage at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import torch
from torch import nn

from gui_trainer.core import outcomes
from gui_trainer.core.autograd_graph import GraphSnapshot, read_graph, saved_values_freed
from gui_trainer.core.history import History, HistoryMark
from gui_trainer.core.packing import Packed, Packer, freeze, thaw, unpack
from gui_trainer.core.records import ParamValues, StageRecord, Values
from gui_trainer.core.stages import LABELS, STAGES, Stage, as_stage, following
from gui_trainer.core.timeline import Action, Timeline
from gui_trainer.core.validation import flag, parse_learning_rate, whole_number

Mode = Literal["guided", "free"]
OptimizerName = Literal["sgd", "adam"]
MODES: tuple[Mode, ...] = ("guided", "free")
OPTIMIZERS: tuple[OptimizerName, ...] = ("sgd", "adam")

#: The reference scenario: delivery distances (miles) and the minutes each delivery took.
DEFAULT_INPUTS = ((1.0,), (2.0,), (3.0,), (4.0,))
DEFAULT_TARGETS = ((6.96,), (12.11,), (16.77,), (22.21,))
DEFAULT_SEED = 42


def _column(values: Sequence[Sequence[float]], name: str) -> torch.Tensor:
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
    return column


def micro_batch_counts(samples: int) -> list[int]:
    """The micro-batch counts that split ``samples`` evenly (equal sizes keep the scaling exact)."""
    return [k for k in range(1, samples + 1) if samples % k == 0]


class StageOrderError(RuntimeError):
    """Raised in guided mode when a stage is asked for out of loop order."""


def _values(tensor: torch.Tensor | None) -> Values | None:
    if tensor is None:
        return None
    return tuple(float(v) for v in tensor.detach().reshape(-1).tolist())


def _scalar(tensor: torch.Tensor | None) -> float | None:
    return None if tensor is None else float(tensor.detach().reshape(-1)[0].item())


@dataclass(frozen=True)
class _Snapshot:
    """Everything needed to put the session back to one moment (see ``timeline.py``).

    Compact: the numbers of the parameters, their ``.grad`` and the optimizer's state in one
    packed blob; structure shared between snapshots; no graph (the graphs are made again on
    restore, see ``_graph_recipe``). The run state may hold the parameters a graph was made
    with, two tiny tensors, when a step changed them since.
    """

    tensors: Packed
    #: Which parameters had a ``.grad`` (their values follow the parameters in the blob).
    has_grad: tuple[bool, ...]
    optimizer_name: OptimizerName
    #: The optimizer's per-parameter state: (param index, name, value or _TENSOR).
    optimizer_entries: tuple[tuple[int, str, Any], ...]
    optimizer_groups: Any
    settings: tuple[tuple[str, Any], ...]
    #: The values of ``_RUN_STATE`` (``outputs`` and ``loss`` are not among them).
    run_state: tuple[Any, ...]
    graph_recipe: tuple[tuple[str, bool], ...]
    history: HistoryMark


class TrainingSession:
    """One model, its data, loss function and optimizer, run stage by stage.

    ``run(stage)`` makes exactly the PyTorch call a training script makes for that stage
    and returns a :class:`StageRecord`. ``outputs`` and ``loss`` behave like the script's
    variables: each is replaced only by its own stage. Every action is kept on a timeline,
    so ``undo``, ``redo`` and ``jump_to`` restore any earlier moment exactly.
    """

    outputs: torch.Tensor | None
    loss: torch.Tensor | None
    _loss_outputs: torch.Tensor | None
    #: The parameters a live graph was made with, kept once a step changed them (else None).
    _outputs_params: tuple[torch.Tensor, ...] | None
    _loss_outputs_params: tuple[torch.Tensor, ...] | None
    #: What the loss was divided by when it was computed (its micro-batch count).
    _loss_scale: int
    _outputs_rows: tuple[int, ...]
    _loss_rows: tuple[int, ...]
    _last_fresh: tuple[float, float] | None
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
        micro_batches: int = 1,
        seed: int = DEFAULT_SEED,
    ) -> None:
        #: The seed the starting weights came from (the Code panel's script uses it too).
        self.seed = whole_number(seed, "seed")
        self.inputs = _column(inputs, "inputs")
        self.targets = _column(targets, "targets")
        if len(self.inputs) != len(self.targets):
            raise ValueError(f"inputs and targets must have as many rows: {len(self.inputs)} "
                             f"inputs, {len(self.targets)} targets")
        # A private RNG state: the same seed gives the same first weights every time,
        # without disturbing torch's global generator for the rest of the program.
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            # Kept as an attribute: Sequential indexing is slow on a hot path.
            self._linear = nn.Linear(1, 1)
            self.model = nn.Sequential(self._linear)
        #: Plain-number copies of the data per set of rows, for the records.
        self._data_values: dict[tuple[int, ...], tuple[Values, Values]] = {}
        self.loss_fn = nn.MSELoss()
        self._initial_state = copy.deepcopy(self.model.state_dict())
        self._lr = parse_learning_rate(lr)
        self._optimizer_name = self._check_optimizer(optimizer)
        self.optimizer = self._make_optimizer()
        self._set_to_none = flag(set_to_none, "set_to_none")
        self._mode: Mode = self._check_mode(mode)
        self._micro_batches = self._check_micro_batches(micro_batches)
        self.history = History()
        self.timeline = Timeline()
        self._packer = Packer()
        #: How many actions the last jump replayed after its checkpoint (0 before any jump).
        self.last_jump_replayed = 0
        self._replaying = False
        self._clear_run_state()
        self.timeline.add_checkpoint(self._capture())

    # -- the real objects ---------------------------------------------------------------
    @property
    def linear(self) -> nn.Linear:
        return self._linear

    @property
    def weight(self) -> torch.Tensor:
        return self._linear.weight

    @property
    def bias(self) -> torch.Tensor:
        return self._linear.bias

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

    @property
    def outputs_rows(self) -> tuple[int, ...]:
        """Which samples ``outputs`` holds predictions for (all of them unless micro-batching)."""
        return self._outputs_rows

    # -- settings (each change is an action on the timeline) -------------------------------
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float | str) -> None:
        self._change("lr", parse_learning_rate(value))  # raises before anything changes

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, value: Mode) -> None:
        self._change("mode", self._check_mode(value))

    @property
    def optimizer_name(self) -> OptimizerName:
        return self._optimizer_name

    @optimizer_name.setter
    def optimizer_name(self, value: OptimizerName) -> None:
        """Switching optimizer starts it fresh (Adam's running averages are per optimizer)."""
        self._change("optimizer_name", self._check_optimizer(value))

    @property
    def set_to_none(self) -> bool:
        return self._set_to_none

    @set_to_none.setter
    def set_to_none(self, value: bool) -> None:
        self._change("set_to_none", flag(value, "set_to_none"))

    @property
    def micro_batches(self) -> int:
        """How many micro-batches one step accumulates gradients over (1 = the full batch)."""
        return self._micro_batches

    @micro_batches.setter
    def micro_batches(self, value: int) -> None:
        self._change("micro_batches", self._check_micro_batches(value))

    def valid_micro_batches(self) -> list[int]:
        return micro_batch_counts(len(self.inputs))

    def _change(self, name: str, value: Any) -> None:
        if getattr(self, name) == value:
            return
        self._before_action()
        self._apply_setting(name, value)
        self.timeline.record(Action("setting", name=name, value=value))

    def _apply_setting(self, name: str, value: Any) -> None:
        if name == "lr":
            self._lr = value
            for group in self.optimizer.param_groups:
                group["lr"] = value
        elif name == "mode":
            if value == "guided" and self._mode != "guided":
                # Whatever free mode left behind, a loop from zero_grad is always valid.
                self._next_stage = "zero_grad"
            self._mode = value
        elif name == "optimizer_name":
            self._optimizer_name = value
            self.optimizer = self._make_optimizer()
        elif name == "set_to_none":
            self._set_to_none = value
        elif name == "micro_batches":
            self._micro_batches = value
            self._chunk = 0
            if self._mode == "guided":
                self._next_stage = "zero_grad"
        else:  # pragma: no cover - the names above are the only ones logged
            raise ValueError(f"unknown setting {name!r}")

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
    def chunk(self) -> int:
        """The micro-batch the next forward uses (0 when not accumulating)."""
        return self._chunk

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

    def reset(self, note: str = "") -> None:
        """Back to the starting weights; settings are kept and the old run stays on record.

        ``note`` names the new run (an experiment's title) on the loss plot later on.
        """
        if not isinstance(note, str):
            raise TypeError(f"note must be a string, not {type(note).__name__}")
        self._before_action()
        self._apply_reset(note)
        self.timeline.record(Action("reset", value=note))

    def _apply_reset(self, note: str = "") -> None:
        self.model.load_state_dict(self._initial_state)
        self.optimizer = self._make_optimizer()
        self.history.start_run(note)
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
        self._before_action()
        record = self._run_stage(stage)
        self.timeline.record(Action("stage", stage=stage), record.loss)
        return record

    def run_epoch(self) -> list[StageRecord]:
        """Run stages in loop order from ``next_stage`` through the next step."""
        records = [self.run(self._next_stage)]
        while records[-1].stage != "step":
            records.append(self.run(self._next_stage))
        return records

    def _run_stage(self, stage: Stage) -> StageRecord:
        before = self.params()
        rows_before = self._outputs_rows
        runner: Callable[[ParamValues], _Outcome] = getattr(self, f"_run_{stage}")
        try:
            outcome = runner(before)
        except Exception as exc:  # PyTorch's own error is the lesson; keep the session alive
            text = f"{type(exc).__name__}: {exc}"
            outcome = _Outcome(ran=True, error=text, explanation=outcomes.error(stage, text))
        after = self.params()
        self._stage_count += 1
        self._last_stage = stage
        self._next_stage = self._following(stage, outcome)
        rows = outcome.rows if outcome.rows is not None else rows_before
        if stage in ("zero_grad", "step"):
            rows = tuple(range(len(self.inputs)))
        return StageRecord(
            stage=stage,
            index=self._stage_count,
            mode=self._mode,
            ran=outcome.ran,
            error=outcome.error,
            explanation=outcome.explanation,
            before=before,
            after=after,
            rows=rows,
            inputs=self._data_for(rows)[0],
            targets=self._data_for(rows)[1],
            outputs=_values(self.outputs),
            loss=_scalar(self.loss),
            loss_outputs=_values(self._loss_outputs),
            sample_losses=outcome.sample_losses,
            formula_grads=outcome.formula_grads,
            formula_terms=outcome.formula_terms,
            fresh_grads=outcome.fresh_grads,
            full_batch_grads=outcome.full_batch_grads,
            full_batch_loss=outcome.full_batch_loss,
            micro_batches=self._micro_batches,
            lr=self._lr,
            optimizer=self._optimizer_name,
            set_to_none=self._set_to_none,
            epoch=self._epoch,
        )

    def _data_for(self, rows: tuple[int, ...]) -> tuple[Values, Values]:
        cached = self._data_values.get(rows)
        if cached is None:
            index = list(rows)
            cached = (_values(self.inputs[index]) or (), _values(self.targets[index]) or ())
            self._data_values[rows] = cached
        return cached

    def _following(self, stage: Stage, outcome: _Outcome) -> Stage:
        if stage == "backward" and outcome.error is None and outcome.ran and self._chunk != 0:
            return "forward"  # more micro-batches to accumulate before the step
        return following(stage)

    def _chunk_rows(self, chunk: int) -> tuple[int, ...]:
        size = len(self.inputs) // self._micro_batches
        return tuple(range(chunk * size, (chunk + 1) * size))

    def _run_zero_grad(self, before: ParamValues) -> _Outcome:
        self.optimizer.zero_grad(set_to_none=self._set_to_none)
        self._chunk = 0
        return _Outcome(explanation=outcomes.zero_grad(before, self._set_to_none))

    def _run_forward(self, before: ParamValues) -> _Outcome:
        rows = self._chunk_rows(self._chunk)
        had_loss = self.loss is not None
        self.outputs = self.model(self.inputs[list(rows)])
        self._outputs_rows = rows
        self._outputs_params = None  # made with the parameters as they are now
        text = outcomes.forward(had_loss, self._mode == "free")
        if self._micro_batches > 1:
            text = outcomes.micro_batch(self._chunk, self._micro_batches) + " " + text
        return _Outcome(explanation=text, rows=rows)

    def _run_loss(self, before: ParamValues) -> _Outcome:
        if self.outputs is None:
            return _Outcome(ran=False, explanation=outcomes.NO_OUTPUTS)
        rows = self._outputs_rows
        targets = self.targets[list(rows)]
        loss = self.loss_fn(self.outputs, targets)
        if self._micro_batches > 1:
            # Each micro-batch's mean is scaled so the summed gradients equal the full batch's.
            loss = loss / self._micro_batches
        self.loss = loss
        self._loss_outputs = self.outputs
        self._loss_outputs_params = self._outputs_params
        self._loss_rows = rows
        self._loss_scale = self._micro_batches
        with torch.no_grad():
            per_sample = nn.functional.mse_loss(self.outputs, targets, reduction="none")
        value = float(loss.item())
        return _Outcome(explanation=outcomes.loss(value), sample_losses=_values(per_sample),
                        rows=rows)

    def _run_backward(self, before: ParamValues) -> _Outcome:
        if self.loss is None or self._loss_outputs is None:
            return _Outcome(ran=False, explanation=outcomes.NO_LOSS)
        stale = self._loss_outputs is not self.outputs
        rows = self._loss_rows
        grads, terms = self._chain_rule(self._loss_outputs, rows)
        # The gradient of this loss alone, by autograd, before backward adds it to .grad.
        fresh = torch.autograd.grad(self.loss, [self.weight, self.bias], retain_graph=True)
        self.loss.backward()  # type: ignore[no-untyped-call]
        fresh_values = (_scalar(fresh[0]) or 0.0, _scalar(fresh[1]) or 0.0)
        self._last_fresh = fresh_values
        full_batch = None
        chunk = rows[0] // len(rows) if rows else 0
        # A loss from before a change of micro-batches does not count toward the new split:
        # the accumulation starts again at its first micro-batch.
        same_split = self._loss_scale == self._micro_batches
        self._chunk = (chunk + 1) % self._micro_batches if same_split else 0
        if self._micro_batches > 1 and self._chunk == 0 and same_split:
            full_batch = self._full_batch_grads()
        return _Outcome(
            explanation=outcomes.backward(before, stale, chunk, self._micro_batches),
            formula_grads=grads,
            formula_terms=terms,
            fresh_grads=fresh_values,
            full_batch_grads=full_batch,
            rows=rows,
        )

    def _run_step(self, before: ParamValues) -> _Outcome:
        full_loss = self.full_batch_loss()
        self._keep_forward_params()
        self.optimizer.step()
        self._chunk = 0
        self._epoch += 1
        after = self.params()
        fresh = self._last_fresh
        self.history.append(
            epoch=self._epoch,
            loss=full_loss,
            weight=after.weight,
            bias=after.bias,
            weight_grad=after.weight_grad,
            bias_grad=after.bias_grad,
            weight_grad_fresh=None if fresh is None else fresh[0],
            bias_grad_fresh=None if fresh is None else fresh[1],
            lr=self._lr,
            free_mode=int(self._mode == "free"),
            adam=int(self._optimizer_name == "adam"),
            micro_batches=self._micro_batches,
        )
        return _Outcome(
            explanation=outcomes.step(before, after, self._optimizer_name),
            full_batch_loss=full_loss,
        )

    def full_batch_loss(self) -> float:
        """The loss over all the data with the weights as they are now (no graph recorded).

        The loss history plots this before each step, so it means the same thing whatever
        order the stages ran in or however the batch was split.
        """
        with torch.no_grad():
            return float(self.loss_fn(self.model(self.inputs), self.targets).item())

    def _full_batch_grads(self) -> tuple[float, float]:
        """Autograd's gradient of the full-batch loss, computed aside (``.grad`` untouched)."""
        loss = self.loss_fn(self.model(self.inputs), self.targets)
        grads = torch.autograd.grad(loss, [self.weight, self.bias])
        return _scalar(grads[0]) or 0.0, _scalar(grads[1]) or 0.0

    def _chain_rule(
        self, outputs: torch.Tensor, rows: tuple[int, ...]
    ) -> tuple[tuple[float, float], tuple[Values, Values]]:
        """The chain rule by hand: ∂loss/∂w = (2/n)·Σ(out − t)·x, ∂loss/∂b = (2/n)·Σ(out − t).

        Written out with torch ops so the learner can compare it with autograd's answer.
        With micro-batches, n counts every sample of the full batch (the loss was scaled).
        """
        with torch.no_grad():
            error = outputs - self.targets[list(rows)]
            weighted = error * self.inputs[list(rows)]
            n = error.numel() * self._loss_scale  # the loss was divided by this
            d_weight = (2.0 / n) * weighted.sum()
            d_bias = (2.0 / n) * error.sum()
        grads = (float(d_weight.item()), float(d_bias.item()))
        return grads, (_values(error) or (), _values(weighted) or ())

    def autograd_graph(self) -> GraphSnapshot:
        """The graph PyTorch holds now, read by walking ``grad_fn`` from the loss and outputs."""
        return read_graph(self)

    # -- the timeline: undo, redo, jump ------------------------------------------------
    @property
    def position(self) -> int:
        """How many actions (stages, setting changes, resets) the session is at."""
        return self.timeline.position

    @property
    def can_undo(self) -> bool:
        return self.timeline.position > 0

    @property
    def can_redo(self) -> bool:
        return self.timeline.position < len(self.timeline)

    def undo(self) -> StageRecord | None:
        return self.jump_to(self.timeline.position - 1)

    def redo(self) -> StageRecord | None:
        return self.jump_to(self.timeline.position + 1)

    def jump_to(self, position: int) -> StageRecord | None:
        """Restore the session exactly as it was after ``position`` actions.

        Returns the record of the last stage up to ``position`` (replayed), for display.
        The actions after ``position`` stay available to :meth:`redo` until a new action.
        """
        position = whole_number(position, "position")
        if not 0 <= position <= len(self.timeline):
            raise ValueError(
                f"position {position} is outside the timeline (0–{len(self.timeline)})"
            )
        last_stage_at = self._last_stage_index(position)
        base, snapshot = self.timeline.checkpoint_before(
            position if last_stage_at is None else last_stage_at
        )
        self._restore(snapshot)
        self.last_jump_replayed = position - base
        record = None
        self._replaying = True
        try:
            for index in range(base, position):
                action = self.timeline.action(index)
                if action.kind == "stage" and action.stage is not None:
                    record = self._run_stage(action.stage)
                elif action.kind == "reset":
                    self._apply_reset(str(action.value or ""))
                    record = None
                else:
                    self._apply_setting(str(action.name), action.value)
        finally:
            self._replaying = False
        self.timeline.position = position
        return record

    def position_before_divergence(self) -> int | None:
        """Where to rewind once the loss has become inf or NaN in this run, else None.

        Not the moment just before the overflow (the weights are already huge there) but the
        best moment before it: just after the step that left the lowest full-batch loss.
        """
        start = self.timeline.run_start()
        bad = self.timeline.first_non_finite(start)
        if bad is None:
            return None
        steps = self.timeline.step_positions(start, bad)
        losses = np.asarray(self.history.column("loss")[: len(steps)], dtype=np.float64)
        finite = np.where(np.isfinite(losses), losses, np.inf)
        best = int(np.argmin(finite)) if len(finite) else 0
        if best == 0:  # no step helped: back to the run's first stage, keeping its settings
            return self.timeline.first_stage_from(start)
        return steps[best - 1] + 1  # row r measured the loss just after step r

    def _last_stage_index(self, position: int) -> int | None:
        for index in range(position - 1, -1, -1):
            kind = self.timeline.action(index).kind
            if kind == "stage":
                return index
            if kind == "reset":
                return None
        return None

    def _before_action(self) -> None:
        self.timeline.truncate_after_position()
        if self.timeline.wants_checkpoint():
            self.timeline.add_checkpoint(self._capture())

    # -- live graphs in checkpoints --------------------------------------------------------
    # PyTorch cannot copy an autograd graph, but the session's graphs are cheap to make
    # again: outputs = model(inputs[rows]) with the parameters of that moment, and the loss
    # from them. A checkpoint stores that recipe for every graph backward has not freed yet,
    # so checkpoints never wait for a backward (in free mode one may never come, and every
    # undo then replayed the whole session).
    def _keep_forward_params(self) -> None:
        """Before a step changes the parameters, keep those the graphs were made with."""
        params = None
        if self.outputs is not None and self._outputs_params is None:
            params = self._outputs_params = self._param_values()
        if self._loss_outputs is not None and self._loss_outputs_params is None:
            self._loss_outputs_params = params if self._loss_outputs is self.outputs \
                and params is not None else self._param_values()

    def _param_values(self) -> tuple[torch.Tensor, ...]:
        return tuple(p.detach().clone() for p in self.model.parameters())

    @staticmethod
    def _freed(tensor: torch.Tensor | None) -> bool:
        return (tensor is not None and tensor.grad_fn is not None
                and bool(saved_values_freed(tensor.grad_fn)))

    def _graph_recipe(self) -> tuple[tuple[str, bool], ...]:
        """How to make the graphs of now again: which exist, and which backward freed."""
        recipe = []
        if self.outputs is not None:
            recipe.append(("outputs_freed", self._freed(self.outputs)))
        if self.loss is not None:
            recipe += [("loss_freed", self._freed(self.loss)),
                       ("loss_outputs_freed", self._freed(self._loss_outputs)),
                       ("loss_outputs_is_outputs", self._loss_outputs is self.outputs)]
        return tuple(recipe)

    def _rebuild_graphs(self, recipe: tuple[tuple[str, bool], ...]) -> None:
        """Make ``outputs`` and ``loss`` again, live or freed as they were, with the same
        parameters, rows and scaling: the same numbers, and the same next backward."""
        plan = dict(recipe)
        self.outputs = self.loss = self._loss_outputs = None
        same = plan.get("loss_outputs_is_outputs", False)
        separate_outputs = "outputs_freed" in plan and not same
        # A graph made with older parameters goes first: putting the current ones back counts
        # as a write, which must not reach a graph made with the current ones.
        loss_first = self._loss_outputs_params is not None or self._outputs_params is None

        def rebuild_outputs() -> None:
            self.outputs = self._make_graph(self._outputs_rows, self._outputs_params,
                                            free_outputs=plan["outputs_freed"])

        if separate_outputs and not loss_first:
            rebuild_outputs()
        if "loss_freed" in plan:
            self._loss_outputs, self.loss = self._make_graph_with_loss(plan)
            if same:
                self.outputs = self._loss_outputs
        if separate_outputs and loss_first:
            rebuild_outputs()

    def _with_params(self, params: tuple[torch.Tensor, ...] | None,
                     make: Callable[[], Any]) -> Any:
        """Run ``make`` with the parameters ``params`` in place (None: those of now)."""
        if params is None:
            return make()
        current = self._param_values()
        with torch.no_grad():
            for param, value in zip(self.model.parameters(), params, strict=True):
                param.copy_(value)
        try:
            return make()
        finally:
            with torch.no_grad():
                for param, value in zip(self.model.parameters(), current, strict=True):
                    param.copy_(value)

    def _free(self, tensor: torch.Tensor) -> None:
        """Run a backward that frees ``tensor``'s graph without touching any ``.grad``."""
        torch.autograd.grad(tensor.sum(), list(self.model.parameters()), allow_unused=True)

    def _make_graph(self, rows: tuple[int, ...], params: tuple[torch.Tensor, ...] | None,
                    *, free_outputs: bool) -> torch.Tensor:
        def make() -> torch.Tensor:
            outputs = cast(torch.Tensor, self.model(self.inputs[list(rows)]))
            if free_outputs:
                self._free(outputs)
            return outputs
        return cast(torch.Tensor, self._with_params(params, make))

    def _loss_of(self, outputs: torch.Tensor) -> torch.Tensor:
        loss = cast(torch.Tensor, self.loss_fn(outputs, self.targets[list(self._loss_rows)]))
        return loss / self._loss_scale if self._loss_scale > 1 else loss

    def _make_graph_with_loss(self, plan: dict[str, bool]
                              ) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss's outputs and the loss, freed as they were (a loss made over outputs
        that a backward had freed is live on top of a freed graph)."""
        def make() -> tuple[torch.Tensor, torch.Tensor]:
            outputs = cast(torch.Tensor, self.model(self.inputs[list(self._loss_rows)]))
            if plan["loss_outputs_freed"] and not plan["loss_freed"]:
                self._free(outputs)
            loss = self._loss_of(outputs)
            if plan["loss_freed"]:
                self._free(loss)
            return outputs, loss
        return cast(tuple[torch.Tensor, torch.Tensor],
                    self._with_params(self._loss_outputs_params, make))

    # -- checkpoints -------------------------------------------------------------------
    def _capture(self) -> _Snapshot:
        params = list(self.model.parameters())
        tensors = [p.detach() for p in params]
        tensors += [p.grad.detach() for p in params if p.grad is not None]
        state = self.optimizer.state_dict()
        entries = []
        for index, values in state["state"].items():
            for name, value in values.items():
                if torch.is_tensor(value):
                    tensors.append(value)
                    entries.append((index, name, _TENSOR))
                else:
                    entries.append((index, name, freeze(value)))
        packer = self._packer
        return _Snapshot(
            tensors=packer.pack(tensors),
            has_grad=packer.intern(tuple(p.grad is not None for p in params)),
            optimizer_name=self._optimizer_name,
            optimizer_entries=packer.intern(tuple(entries)),
            optimizer_groups=packer.intern(freeze(state["param_groups"])),
            settings=packer.intern((("lr", self._lr), ("mode", self._mode),
                                    ("set_to_none", self._set_to_none),
                                    ("micro_batches", self._micro_batches))),
            run_state=self._run_state_without_graphs(),
            graph_recipe=packer.intern(self._graph_recipe()),
            history=self.history.mark(),
        )

    def _run_state_without_graphs(self) -> tuple[Any, ...]:
        """The run state in ``_RUN_STATE`` order (a tuple costs a fraction of a dict)."""
        return tuple(getattr(self, name) for name in _RUN_STATE)

    def _restore(self, snapshot: _Snapshot) -> None:
        tensors = iter(unpack(snapshot.tensors))
        params = list(self.model.parameters())
        with torch.no_grad():
            for param in params:
                param.copy_(next(tensors))
        for param, has_grad in zip(params, snapshot.has_grad, strict=True):
            param.grad = next(tensors) if has_grad else None
        settings = dict(snapshot.settings)
        self._lr = settings["lr"]
        self._mode = settings["mode"]
        self._set_to_none = settings["set_to_none"]
        self._micro_batches = settings["micro_batches"]
        self._optimizer_name = snapshot.optimizer_name
        self.optimizer = self._make_optimizer()
        state: dict[int, dict[str, Any]] = {}
        for index, name, value in snapshot.optimizer_entries:
            state.setdefault(index, {})[name] = next(tensors) if value is _TENSOR \
                else thaw(value)
        self.optimizer.load_state_dict(
            {"state": state, "param_groups": thaw(snapshot.optimizer_groups)})
        for name, value in zip(_RUN_STATE, snapshot.run_state, strict=True):
            setattr(self, name, value)
        self._rebuild_graphs(snapshot.graph_recipe)
        self.history.restore(snapshot.history)

    # -- helpers -----------------------------------------------------------------------
    def _clear_run_state(self) -> None:
        self.outputs = None
        self.loss = None
        self._loss_outputs = None
        self._outputs_params = None
        self._loss_outputs_params = None
        self._loss_scale = 1
        self._outputs_rows = tuple(range(len(self.inputs)))
        self._loss_rows = self._outputs_rows
        self._last_fresh = None
        for param in self.model.parameters():
            param.grad = None
        self._epoch = 0
        self._stage_count = 0
        self._chunk = 0
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

    def _check_micro_batches(self, value: object) -> int:
        count = whole_number(value, "micro_batches")
        allowed = self.valid_micro_batches()
        if count not in allowed:
            raise ValueError(f"micro-batches must split {len(self.inputs)} samples evenly: "
                             f"one of {', '.join(map(str, allowed))}")
        return count


#: Stands in a checkpoint's optimizer entries for a tensor packed in its blob.
_TENSOR = object()

#: The attributes that describe where the session is in its loop (snapshotted for rewind).
_RUN_STATE = (
    "_outputs_rows", "_loss_rows", "_last_fresh",
    "_outputs_params", "_loss_outputs_params", "_loss_scale",
    "_epoch", "_stage_count", "_chunk", "_last_stage", "_next_stage",
)


class _Outcome:
    """What a stage runner reports back to :meth:`TrainingSession.run`."""

    def __init__(
        self,
        *,
        explanation: str,
        ran: bool = True,
        error: str | None = None,
        rows: tuple[int, ...] | None = None,
        sample_losses: Values | None = None,
        formula_grads: tuple[float, float] | None = None,
        formula_terms: tuple[Values, Values] | None = None,
        fresh_grads: tuple[float, float] | None = None,
        full_batch_grads: tuple[float, float] | None = None,
        full_batch_loss: float | None = None,
    ) -> None:
        self.ran = ran
        self.error = error
        self.explanation = explanation
        self.rows = rows
        self.sample_losses = sample_losses
        self.formula_grads = formula_grads
        self.formula_terms = formula_terms
        self.fresh_grads = fresh_grads
        self.full_batch_grads = full_batch_grads
        self.full_batch_loss = full_batch_loss
