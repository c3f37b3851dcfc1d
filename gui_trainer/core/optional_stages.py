"""The loop's optional stages: gradient clipping, the scheduler's step, and evaluation.

A mixin of the session beside the five stage runners. Each is the call a training script
makes — ``clip_grad_norm_``, ``scheduler.step()``, and the evaluation block
(``model.eval()``, ``with torch.no_grad():``, ``model.train()``) — and reports what it did.
"""

from __future__ import annotations

import contextlib

import torch

from gui_trainer.core import outcomes
from gui_trainer.core.records import ParamValues
from gui_trainer.core.runners import Outcome
from gui_trainer.core.session_state import SessionState
from gui_trainer.core.train_modes import drawing_from, has_batch_norm, has_dropout, measuring


def graph_size(grad_fn: object) -> int:
    """How many autograd nodes a result's graph holds (0: no graph was recorded)."""
    seen: set[int] = set()
    pending = [grad_fn]
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        pending.extend(next_node for next_node, _ in getattr(node, "next_functions", ()))
    return len(seen)


class OptionalStages(SessionState):
    """Clip, Schedule and Evaluate, a part of the session."""

    def _run_clip(self, before: ParamValues) -> Outcome:
        max_norm = self._settings.clip_max_norm
        if max_norm is None:
            return Outcome(ran=False, explanation=outcomes.NO_CLIP)
        params = [p for _, p in self._named_params]
        total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        total_norm = float(total.item())
        return Outcome(explanation=outcomes.clip(total_norm, max_norm),
                       clip_total_norm=total_norm)

    def _run_schedule(self, before: ParamValues) -> Outcome:
        if self.scheduler is None:
            return Outcome(ran=False, explanation=outcomes.NO_SCHEDULER)
        lr_before = float(self.optimizer.param_groups[0]["lr"])
        metric = None
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            metric = self._loop.last_val_loss
            if metric is None:
                metric = self.history_loss()
            if metric is None:
                return Outcome(ran=False, explanation=outcomes.NO_PLATEAU_METRIC)
            self.scheduler.step(metric)
        else:
            self.scheduler.step()
        lr_after = float(self.optimizer.param_groups[0]["lr"])
        return Outcome(explanation=outcomes.schedule(
            type(self.scheduler).__name__, lr_before, lr_after, metric),
            lr_before=lr_before, schedule_metric=metric)

    def history_loss(self) -> float | None:
        """The full-data loss before the last step (ReduceLROnPlateau without a split)."""
        losses = self.history.column("loss")
        return float(losses[-1]) if len(losses) else None

    def _run_evaluate(self, before: ParamValues) -> Outcome:
        if self.val_inputs is None or self.val_targets is None:
            return Outcome(ran=False, explanation=outcomes.NO_VALIDATION)
        settings = self._settings
        reference = None
        if not settings.evaluate_model_eval:
            # What a correct Evaluate would have measured, before this one moves anything.
            with measuring(self.model):
                reference = float(self.loss_fn(self.model(self.val_inputs),
                                               self.val_targets).item())
        if settings.evaluate_model_eval:
            self.model.eval()
        try:
            with torch.no_grad() if settings.evaluate_no_grad else contextlib.nullcontext():
                def measure() -> tuple[torch.Tensor, torch.Tensor]:
                    outputs = self.model(self.val_inputs)
                    return outputs, self.loss_fn(outputs, self.val_targets)
                # Without model.eval() dropout draws masks: from the session's generator.
                (outputs, loss), drawn = drawing_from(
                    None if settings.evaluate_model_eval else self._loop.dropout_rng, measure)
                if drawn is not None:
                    self._loop.dropout_rng = drawn
        finally:
            self.model.train()
        val_loss = float(loss.item())
        accuracy = None
        if self.scenario.task == "classification":
            accuracy = float((outputs.argmax(1) == self.val_targets).float().mean().item())
        self._loop.last_val_loss = val_loss
        self.history.note_validation(val_loss, accuracy)
        nodes = graph_size(loss.grad_fn)
        return Outcome(
            explanation=outcomes.evaluate(val_loss, accuracy, len(self.val_inputs),
                                          settings.evaluate_model_eval,
                                          settings.evaluate_no_grad, nodes,
                                          has_dropout(self.model), has_batch_norm(self.model)),
            val_loss=val_loss, val_accuracy=accuracy, val_loss_reference=reference,
            val_graph_nodes=nodes,
            val_grad_fn=None if loss.grad_fn is None else type(loss.grad_fn).__name__)
