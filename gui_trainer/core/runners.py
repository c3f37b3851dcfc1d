"""The five stages: each the real PyTorch call a training script makes, and its record.

A mixin of :class:`~gui_trainer.core.session.TrainingSession`, kept apart from the façade
and from rewind so each can be read at once. Any model, any data: the one-neuron extras
(the chain rule by hand, the gradient of one loss alone) are added where they apply.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from gui_trainer.core import optimizers, outcomes
from gui_trainer.core.batches import draw_epoch, generator_state
from gui_trainer.core.optimizer_state import StepState, carried_buffers, state_after
from gui_trainer.core.optimizers import OPTIMIZERS
from gui_trainer.core.records import (
    ParamValues,
    StageRecord,
    TensorValues,
    Values,
    grad_norm_of,
    update_ratio,
)
from gui_trainer.core.schedulers import every_step
from gui_trainer.core.session_state import SessionState
from gui_trainer.core.stages import Stage, following
from gui_trainer.core.train_modes import (
    BatchStats,
    DropoutMask,
    batch_norm_stats,
    drawing_from,
    dropout_masks,
    measuring,
)

if TYPE_CHECKING:
    pass


def values_of(tensor: torch.Tensor | None) -> Values | None:
    """A tensor's numbers, row by row, as plain floats (``tolist`` gives Python floats)."""
    if tensor is None:
        return None
    return tuple(tensor.detach().reshape(-1).tolist())


def softmax_of(outputs: torch.Tensor) -> torch.Tensor:
    """The outputs turned into probabilities: the mistake of putting softmax before
    CrossEntropyLoss, which applies log-softmax itself."""
    return torch.softmax(outputs, dim=1)


def scalar_of(tensor: torch.Tensor | None) -> float | None:
    """The first number of ``tensor`` (its only one, for a loss or the one neuron's grad)."""
    if tensor is None:
        return None
    return float(tensor.item() if tensor.numel() == 1 else tensor.detach().reshape(-1)[0])


def _array(tensor: torch.Tensor) -> np.ndarray:
    array = tensor.detach().numpy().copy()
    array.flags.writeable = False
    return array


def _only(grad: torch.Tensor | None) -> float:
    """A one-number ``.grad`` as a float (0.0 for None, and for -0.0 as ``scalar_of`` gives)."""
    return 0.0 if grad is None else grad.item() or 0.0


def _same_key(a: tuple[tuple[int, torch.Tensor | None, int], ...],
              b: tuple[tuple[int, torch.Tensor | None, int], ...]) -> bool:
    return all(x[0] == y[0] and x[1] is y[1] and x[2] == y[2] for x, y in zip(a, b, strict=True))


class Outcome:
    """What a stage runner reports back to the record."""

    def __init__(
        self, *, explanation: str, ran: bool = True, error: str | None = None,
        rows: tuple[int, ...] | None = None, sample_losses: Values | None = None,
        formula_grads: tuple[float, float] | None = None,
        formula_terms: tuple[Values, Values] | None = None,
        fresh_grads: tuple[float, float] | None = None,
        full_batch_grads: tuple[float, float] | None = None,
        full_batch_loss: float | None = None, full_batch_accuracy: float | None = None,
        after: ParamValues | None = None, optimizer_state: StepState | None = None,
        clip_total_norm: float | None = None, lr_before: float | None = None,
        val_loss: float | None = None, val_accuracy: float | None = None,
        val_grad_fn: str | None = None, schedule_metric: float | None = None,
        dropout_masks: tuple[DropoutMask, ...] = (),
        batch_stats: tuple[BatchStats, ...] = (),
        val_loss_reference: float | None = None, val_graph_nodes: int = 0,
        softmax_loss_reference: float | None = None,
    ) -> None:
        self.val_loss_reference, self.val_graph_nodes = val_loss_reference, val_graph_nodes
        self.softmax_loss_reference = softmax_loss_reference
        self.dropout_masks, self.batch_stats = dropout_masks, batch_stats
        self.schedule_metric = schedule_metric
        self.clip_total_norm, self.lr_before = clip_total_norm, lr_before
        self.val_loss, self.val_accuracy, self.val_grad_fn = val_loss, val_accuracy, val_grad_fn
        self.after = after
        self.optimizer_state = optimizer_state
        self.ran, self.error, self.explanation, self.rows = ran, error, explanation, rows
        self.sample_losses = sample_losses
        self.formula_grads, self.formula_terms = formula_grads, formula_terms
        self.fresh_grads, self.full_batch_grads = fresh_grads, full_batch_grads
        self.full_batch_loss, self.full_batch_accuracy = full_batch_loss, full_batch_accuracy


#: What a stage run quietly reports (auto-train's fast path): it ran, and nothing to say.
QUIET = Outcome(explanation="")


class StageRunners(SessionState):
    """The stage runners, a part of the session."""

    _data_values: dict[tuple[int, ...], tuple[Values, Values]]
    #: The last ``params()`` copy and the tensors' versions it was taken at.
    _params_cache: tuple[tuple[tuple[int, torch.Tensor | None, int], ...], ParamValues] | None
    #: From rewind: a jump is replaying actions that were done before.
    _replaying: bool
    #: From rewind: before a step, keep the parameters the live graphs were made with.
    _keep_forward_params: Callable[[], tuple[list[int], tuple[torch.Tensor, ...] | None]]
    _forget_unchanged: Callable[[tuple[list[int], tuple[torch.Tensor, ...] | None]], None]

    def _named_buffers_or_draws(self) -> bool:
        """The model has state a train-mode forward changes (BatchNorm) or uses (dropout)."""
        return bool(self._named_buffers) or self._loop.dropout_rng is not None

    def buffers(self) -> tuple[TensorValues, ...]:
        """The model's buffers now (BatchNorm's running averages), copied out."""
        return tuple(TensorValues(name, _array(b), None) for name, b in self._named_buffers)

    def params(self) -> ParamValues:
        """Every parameter and its gradient, copied out of the tensors now.

        The copy is immutable, so while no tensor changed (a stage's "after" is the next
        one's "before") the last one is handed out again. A change is seen in PyTorch's
        version counters (every in-place write bumps them) and in which ``.grad`` tensor a
        parameter holds (the key keeps it alive, so its identity cannot be reused).
        """
        key = tuple((p._version, p.grad, -1 if p.grad is None else p.grad._version)
                    for _, p in self._named_params)
        cached = self._params_cache
        if cached is not None and _same_key(cached[0], key):
            return cached[1]
        values = ParamValues(tuple([
            TensorValues(name, _array(p), None if p.grad is None else _array(p.grad))
            for name, p in self._named_params]))
        self._params_cache = (key, values)
        return values

    def _run_stage_quietly(self, stage: Stage, check_loss: bool = True) -> bool:
        """Run ``stage`` as :meth:`_run_stage` does, without a record or explanation.

        The same runners make the same PyTorch calls and keep the same history, loop state
        and parameter trail; only what a record would show is skipped (copies of every
        tensor, the chain rule by hand, the optimizer's ledger). Returns False — the stage
        having possibly run part way — when it did not run or its loss is not finite: the
        caller puts the session back and runs it with a record (see ``run_iteration_quietly``).
        Raises what the stage raised (warnings too, when they are errors). ``check_loss``
        False: a loss that is not finite is fine (a replay of what happened before).
        """
        loop = self._loop
        expected = loop.next_stage
        outcome: Outcome = getattr(self, f"_run_{stage}")(None)
        if not outcome.ran or outcome.error is not None:
            return False
        if (check_loss and stage == "loss" and self.loss is not None
                and not math.isfinite(self.loss.item())):
            return False
        self._note_stage(stage, expected, outcome)
        return True

    def _note_stage(self, stage: Stage, expected: Stage, outcome: Outcome) -> None:
        """Where the loop is after ``stage`` ran (guided mode's next stage, the counts)."""
        loop = self._loop
        if stage in ("clip", "evaluate", "schedule") and (
                stage != expected or outcome.error is not None):
            loop.off_script = True
        if stage == "forward" and stage != expected and self._named_buffers_or_draws():
            # an extra train-mode forward moved BatchNorm's averages or used up masks
            loop.off_script = True
        loop.stage_count += 1
        loop.last_stage = stage
        loop.next_stage = self._following(stage, outcome)

    def _run_stage(self, stage: Stage) -> StageRecord:
        before = self.params()
        buffers_before = self.buffers()
        loop = self._loop
        rows_before = loop.outputs_rows
        expected = loop.next_stage
        lr_in_force = float(self.optimizer.param_groups[0]["lr"])
        runner: Callable[[ParamValues], Outcome] = getattr(self, f"_run_{stage}")
        # PyTorch's warnings are part of the lesson too (scheduler.step() before
        # optimizer.step()): caught and kept in the record instead of printed to a console.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                outcome = runner(before)
            except Exception as exc:  # PyTorch's own error is the lesson; keep it alive
                text = f"{type(exc).__name__}: {exc}"
                outcome = Outcome(ran=True, error=text, explanation=outcomes.error(stage, text))
        warned = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        if warned:
            outcome.explanation += " PyTorch warned: " + warned[0].split(". ")[0] + "."
        after = outcome.after if outcome.after is not None else self.params()
        self._note_stage(stage, expected, outcome)
        rows = outcome.rows if outcome.rows is not None else rows_before
        if stage == "zero_grad":
            rows = self.group_rows()
        elif stage == "forward" and outcome.error is not None:
            rows = self._chunk_rows(loop.chunk)  # the batch PyTorch refused
        settings = self._settings
        inputs, targets = self._data_for(rows)
        return StageRecord(
            stage=stage, index=loop.stage_count, mode=settings.mode, ran=outcome.ran,
            error=outcome.error, explanation=outcome.explanation, before=before, after=after,
            rows=rows, inputs=inputs, targets=targets, outputs=values_of(self.outputs),
            loss=scalar_of(self.loss), loss_outputs=values_of(self._loss_outputs),
            sample_losses=outcome.sample_losses, formula_grads=outcome.formula_grads,
            formula_terms=outcome.formula_terms, fresh_grads=outcome.fresh_grads,
            full_batch_grads=outcome.full_batch_grads, full_batch_loss=outcome.full_batch_loss,
            micro_batches=settings.micro_batches, lr=lr_in_force,
            optimizer=settings.optimizer_name, set_to_none=settings.set_to_none,
            epoch=loop.epoch, task=self.scenario.task, accuracy=self._accuracy_of_loss(),
            full_batch_accuracy=outcome.full_batch_accuracy,
            optimizer_state=outcome.optimizer_state,
            # as the step used them: a scheduler may move momentum or betas too
            optimizer_options=(settings.optimizer_options if outcome.optimizer_state is None
                               else outcome.optimizer_state.options),
            steps=loop.steps,
            chunk=loop.loss_chunk if stage in ("loss", "backward") else loop.outputs_chunk,
            optimizer_lr=float(self.optimizer.param_groups[0]["lr"]),
            clip_total_norm=outcome.clip_total_norm, clip_max_norm=settings.clip_max_norm,
            lr_before=outcome.lr_before, val_loss=outcome.val_loss,
            val_accuracy=outcome.val_accuracy, val_grad_fn=outcome.val_grad_fn,
            schedule_metric=outcome.schedule_metric, warnings=warned,
            dropout_masks=outcome.dropout_masks, batch_stats=outcome.batch_stats,
            val_loss_reference=outcome.val_loss_reference,
            val_graph_nodes=outcome.val_graph_nodes,
            softmax_loss_reference=outcome.softmax_loss_reference,
            buffers_before=buffers_before,
            buffers_after=self.buffers(),
        )

    def _is_every_row(self, rows: tuple[int, ...]) -> bool:
        """Whether ``rows`` is every row in order. Asked several times a step with the same
        tuple (the epoch's one batch): the last one found so is known by identity (kept
        alive here, so its identity cannot be reused) instead of compared element by
        element, which cost more than a tiny model's forward."""
        if rows is self._every_row_seen:
            return True
        if len(rows) == len(self._all_rows) and rows == self._all_rows:
            self._every_row_seen = rows
            return True
        return False

    def _rows_of(self, data: torch.Tensor, rows: tuple[int, ...]) -> torch.Tensor:
        """``rows`` of ``data``: every row in order is the tensor itself (no copy, not even a
        view); any other rows are gathered."""
        return data if self._is_every_row(rows) else data[list(rows)]

    def _data_for(self, rows: tuple[int, ...]) -> tuple[Values, Values]:
        cached = self._data_values.get(rows)
        if cached is None:
            index = list(rows)
            cached = (values_of(self.inputs[index]) or (), values_of(self.targets[index]) or ())
            self._data_values[rows] = cached
        return cached

    def _accuracy_of_loss(self) -> float | None:
        """The share of the loss's samples the model classed right (classification only)."""
        outputs = self._loss_outputs
        if self.scenario.task != "classification" or outputs is None:
            return None
        rows = self._loop.loss_rows
        cached = self._accuracy_cache  # each record asks; the loss changes once an iteration
        if cached is not None and cached[0] is outputs and cached[1] is rows:
            return cached[2]
        with torch.no_grad():
            accuracy = float((outputs.argmax(1) == self._rows_of(self.targets, rows))
                             .float().mean().item())
        self._accuracy_cache = (outputs, rows, accuracy)
        return accuracy

    def _following(self, stage: Stage, outcome: Outcome) -> Stage:
        """The stage guided mode expects next: the five in order, with the optional ones
        that are on where a script has them."""
        loop = self._loop
        if stage == "forward" and outcome.error is not None:
            return "forward"  # nothing changed: fix what PyTorch refused and run it again
        if stage == "backward":
            if outcome.error is None and outcome.ran and loop.chunk != 0:
                return "forward"  # more micro-batches to accumulate before the step
            return "clip" if self._settings.clip_max_norm is not None else "step"
        if stage == "step":
            due = []
            if loop.epoch_ended and self.val_inputs is not None:
                due.append("evaluate")
            if self.scheduler is not None and (
                    loop.epoch_ended or every_step(self._settings.scheduler_name)):
                due.append("schedule")
            loop.pending = tuple(due)  # type: ignore[arg-type]
        elif stage in loop.pending:
            loop.pending = loop.pending[loop.pending.index(stage) + 1:]
        elif stage in ("evaluate", "schedule"):
            return loop.pending[0] if loop.pending else "zero_grad"
        else:
            loop.pending = ()
        if stage in ("step", "evaluate", "schedule"):
            return loop.pending[0] if loop.pending else "zero_grad"
        return following(stage)

    def _chunk_rows(self, chunk: int) -> tuple[int, ...]:
        """The rows of micro-batch ``chunk`` of the current step: a part of the epoch's one
        batch split into equal parts, or one of the loader's batches in the step's group."""
        loop = self._loop
        if len(loop.batches) == 1:
            batch = loop.batches[0]
            size = len(batch) // self._settings.micro_batches
            return batch[chunk * size:(chunk + 1) * size]
        return loop.batches[loop.position + chunk]

    def group_rows(self) -> tuple[int, ...]:
        """Every row the current step's gradient is gathered from (its micro-batches)."""
        loop = self._loop
        if len(loop.batches) == 1:
            return loop.batches[0]
        group = loop.batches[loop.position:loop.position + self._settings.micro_batches]
        return tuple(row for batch in group for row in batch)

    def _group_size(self) -> int:
        return 1 if len(self._loop.batches) == 1 else self._settings.micro_batches

    def _advance_batches(self) -> None:
        """After a step: the next group of batches, or the next epoch drawn from the loader."""
        loop = self._loop
        loop.position += self._group_size()
        if loop.position >= len(loop.batches):
            loop.epoch += 1
            if self._settings.shuffle:
                loop.batches = draw_epoch(self.loader)
                loop.sampler_state = generator_state(self.loader)
            # Without shuffle every epoch the loader draws is the one it drew first (its
            # sampler is sequential): the batches stand as they are, and iterating the
            # loader again each step cost more than the step's own PyTorch calls.
            loop.position = 0

    # Each runner takes the parameters before the stage, or None when run quietly (no record
    # is made: whatever only a record shows is skipped; the PyTorch calls are the same).
    def _run_zero_grad(self, before: ParamValues | None) -> Outcome:
        self.optimizer.zero_grad(set_to_none=self._settings.set_to_none)
        self._loop.chunk = 0
        if before is None:
            return QUIET
        return Outcome(explanation=outcomes.zero_grad(before, self._settings.set_to_none))

    def _run_forward(self, before: ParamValues | None) -> Outcome:
        loop = self._loop
        rows = self._chunk_rows(loop.chunk)
        had_loss = self.loss is not None
        batch = self._rows_of(self.inputs, rows)

        def forward() -> tuple[torch.Tensor, list[DropoutMask], list[BatchStats]]:
            if before is None or (not self._named_buffers and started is None):
                return self.model(batch), [], []  # quiet, or neither layer: nothing to read
            with dropout_masks(self.model) as masks, batch_norm_stats(self.model) as stats:
                return self.model(batch), masks, stats

        started = loop.dropout_rng
        (self.outputs, masks, stats), loop.dropout_rng = drawing_from(started, forward)
        loop.outputs_rng = started
        loop.outputs_rows = rows
        loop.outputs_chunk = loop.chunk
        loop.outputs_params = None  # made with the parameters as they are now
        if before is None:
            return QUIET
        text = outcomes.forward(had_loss, self._settings.mode == "free", self._one_neuron)
        if self._settings.micro_batches > 1:
            text = outcomes.micro_batch(loop.chunk, self._settings.micro_batches) + " " + text
        return Outcome(explanation=text, rows=rows, dropout_masks=tuple(masks),
                       batch_stats=tuple(stats))

    def _run_loss(self, before: ParamValues | None) -> Outcome:
        if self.outputs is None:
            return Outcome(ran=False, explanation=outcomes.NO_OUTPUTS)
        loop = self._loop
        rows = loop.outputs_rows
        targets = self._rows_of(self.targets, rows)
        softmax = self._settings.softmax_before_loss
        scored = softmax_of(self.outputs) if softmax else self.outputs
        loss = self.loss_fn(scored, targets)
        quiet = before is None
        unscaled = 0.0 if quiet else float(loss.item())
        reference = None
        if softmax and not quiet:  # the outputs' loss without the extra softmax, to compare
            with torch.no_grad():
                reference = float(self.loss_fn(self.outputs, targets).item())
        micro_batches = self._settings.micro_batches
        if micro_batches > 1:
            # Each micro-batch's mean is scaled so the summed gradients equal the full batch's.
            loss = loss / micro_batches
        self.loss = loss
        self._loss_outputs = self.outputs
        loop.loss_outputs_params = loop.outputs_params
        loop.loss_rng = loop.outputs_rng
        loop.loss_rows = rows
        loop.loss_chunk = loop.outputs_chunk
        loop.loss_scale = micro_batches
        loop.loss_softmax = softmax
        if quiet:
            return QUIET
        with torch.no_grad():
            per_sample = self.scenario.per_sample_loss(scored, targets)
        text = outcomes.loss(float(loss.item()), self.scenario.task)
        if softmax:  # both before any micro-batch scaling, to compare like with like
            text = outcomes.softmax_loss(unscaled, reference or 0.0)
        return Outcome(explanation=text, sample_losses=values_of(per_sample), rows=rows,
                       softmax_loss_reference=reference)

    def _run_backward(self, before: ParamValues | None) -> Outcome:
        if self.loss is None or self._loss_outputs is None:
            return Outcome(ran=False, explanation=outcomes.NO_LOSS)
        loop = self._loop
        stale = self._loss_outputs is not self.outputs
        rows = loop.loss_rows
        grads = terms = fresh_values = None
        quiet = before is None
        if self._one_neuron:
            if not quiet:
                grads, terms = self._chain_rule(self._loss_outputs, rows)
            # The gradient of this loss alone, by autograd, before backward adds it to .grad
            # (with every .grad None, backward stores exactly that: read it from there).
            params = self._parameters()
            if any(p.grad is not None for p in params):
                fresh = torch.autograd.grad(self.loss, params, retain_graph=True)
                fresh_values = (scalar_of(fresh[0]) or 0.0, scalar_of(fresh[1]) or 0.0)
        self.loss.backward()  # type: ignore[no-untyped-call]
        if self._one_neuron and fresh_values is None:
            fresh_values = (_only(params[0].grad), _only(params[1].grad))
        loop.last_fresh = fresh_values
        full_batch = None
        chunk = loop.loss_chunk
        micro_batches = self._settings.micro_batches
        # A loss from before a change of micro-batches does not count toward the new split:
        # the accumulation starts again at its first micro-batch.
        same_split = loop.loss_scale == micro_batches
        loop.chunk = (chunk + 1) % micro_batches if same_split else 0
        if before is None:
            return QUIET
        if (micro_batches > 1 and loop.chunk == 0 and same_split and self._one_neuron
                and len(loop.batches) == 1):
            full_batch = self._full_batch_grads()
        return Outcome(
            explanation=outcomes.backward(before, stale, chunk, micro_batches,
                                          self._one_neuron),
            formula_grads=grads, formula_terms=terms, fresh_grads=fresh_values,
            full_batch_grads=full_batch, rows=rows,
        )

    def _run_step(self, before: ParamValues | None) -> Outcome:
        quiet = before is None
        params = [p for _, p in self._named_params]
        # A network's history row has each tensor's update ratio: its values before the step
        # (a record has them copied already; quietly, only they are copied).
        kept_values = None if self._one_neuron else (
            [p.detach().numpy().copy() for p in params] if before is None
            else [tensor.value for tensor in before.tensors])
        full_loss, full_accuracy = self._measured_by_the_loss() or self.full_batch_measures()
        rows = self.group_rows()
        batch_loss = full_loss if len(rows) == len(self.inputs) else self._loss_on(rows)
        kept = self._keep_forward_params()
        carried = None if quiet else carried_buffers(self.optimizer, params)
        group = self.optimizer.param_groups[0]
        lr = float(group["lr"])  # a scheduler may have moved it from the setting
        self.optimizer.step()
        self._forget_unchanged(kept)
        loop = self._loop
        loop.chunk = 0
        loop.steps += 1
        epoch = loop.epoch + 1  # the epoch this step belongs to
        self._advance_batches()
        loop.epoch_ended = loop.epoch == epoch
        self._append_history(kept_values, full_loss, full_accuracy, epoch, batch_loss, lr)
        if quiet:
            return QUIET
        after = self.params()
        assert before is not None and carried is not None
        settings = self._settings
        # The rule's numbers as this step used them: a scheduler moves lr (OneCycleLR the
        # momentum or betas too), so they are read from the optimizer, not the settings.
        options = optimizers.options_of_group(settings.optimizer_name,
                                              settings.optimizer_options, group)
        state = StepState(settings.optimizer_name, options, lr,
                          before, after, carried, state_after(self.optimizer, params))
        return Outcome(
            explanation=outcomes.step(before, after, settings.optimizer_name,
                                      settings.optimizer_options, lr),
            full_batch_loss=full_loss, full_batch_accuracy=full_accuracy, after=after,
            optimizer_state=state, rows=rows,
        )

    def _loss_on(self, rows: tuple[int, ...]) -> float:
        """The loss over ``rows`` with the weights as they are now (no graph recorded)."""
        index = list(rows)
        with measuring(self.model):
            return float(self.loss_fn(self.model(self.inputs[index]), self.targets[index]).item())

    def _append_history(self, before: list[np.ndarray] | None, loss: float,
                        accuracy: float | None, epoch: int, batch_loss: float,
                        lr: float) -> None:
        """The step's row: for the one neuron its numbers, read from the tensors (the same
        floats a copy would hold); for a network each tensor's grad norm and update ratio,
        from the tensors' own memory and their values ``before`` the step."""
        settings = self._settings
        row: dict[str, float | int | None] = {
            "epoch": epoch, "step": self._loop.steps, "loss": loss,
            "batch_loss": batch_loss, "lr": lr,
            "free_mode": int(settings.mode == "free"),
            "optimizer": OPTIMIZERS.index(settings.optimizer_name),
            "micro_batches": settings.micro_batches,
        }
        if self._one_neuron:
            fresh = self._loop.last_fresh or (None, None)
            weight, bias = self._parameters()
            row.update(weight=weight.item(), bias=bias.item(),
                       weight_grad=None if weight.grad is None else weight.grad.item(),
                       bias_grad=None if bias.grad is None else bias.grad.item(),
                       weight_grad_fresh=fresh[0], bias_grad_fresh=fresh[1])
        else:
            assert before is not None
            for (name, param), old in zip(self._named_params, before, strict=True):
                grad = param.grad
                row[f"grad_norm:{name}"] = grad_norm_of(
                    None if grad is None else grad.detach().numpy())
                row[f"update_ratio:{name}"] = update_ratio(old, param.detach().numpy())
        if accuracy is not None:
            row["accuracy"] = accuracy
        self.history.append(**row)
        if self.trail is not None:
            self.trail.record(self.history, self._parameters(), self._replaying)

    def full_batch_loss(self) -> float:
        """The loss over all the data with the weights as they are now (no graph recorded).

        The loss history plots this before each step, so it means the same thing whatever
        order the stages ran in or however the batch was split.
        """
        return self.full_batch_measures()[0]

    def _measured_by_the_loss(self) -> tuple[float, float | None] | None:
        """The full-batch loss (and accuracy) when the current loss is that very number:
        computed on every row in order, with the parameters as they are now, unscaled, by a
        model whose train and eval modes agree. Saves the measuring forward; else None."""
        loop = self._loop
        outputs = self._loss_outputs
        rows = loop.loss_rows
        if (self.loss is None or outputs is None or loop.loss_outputs_params is not None
                or loop.loss_scale != 1 or loop.loss_softmax or self._named_buffers
                or loop.dropout_rng is not None or not self._is_every_row(rows)):
            return None
        loss = float(self.loss.item())
        if self.scenario.task != "classification":
            return loss, None
        with torch.no_grad():
            return loss, float((outputs.argmax(1) == self.targets).float().mean().item())

    def full_batch_measures(self) -> tuple[float, float | None]:
        """The full-batch loss, and the accuracy for classification, from one forward (in
        eval mode: dropout off, BatchNorm on its running averages, nothing changed)."""
        with measuring(self.model):
            outputs = self.model(self.inputs)
            loss = float(self.loss_fn(outputs, self.targets).item())
            if self.scenario.task != "classification":
                return loss, None
            return loss, float((outputs.argmax(1) == self.targets).float().mean().item())

    def _full_batch_grads(self) -> tuple[float, float]:
        """Autograd's gradient of the full-batch loss, computed aside (``.grad`` untouched)."""
        loss = self.loss_fn(self.model(self.inputs), self.targets)
        grads = torch.autograd.grad(loss, self._parameters())
        return scalar_of(grads[0]) or 0.0, scalar_of(grads[1]) or 0.0

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
            n = error.numel() * self._loop.loss_scale  # the loss was divided by this
            d_weight = (2.0 / n) * weighted.sum()
            d_bias = (2.0 / n) * error.sum()
        grads = (float(d_weight.item()), float(d_bias.item()))
        return grads, (values_of(error) or (), values_of(weighted) or ())
