"""The session's settings: read as properties, and each change an action on the timeline.

A change is checked before anything moves (a bad value raises and changes nothing), then
applied, then recorded, so undo and a replay after a jump apply exactly the same change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch

from gui_trainer.core import optimizers, schedulers
from gui_trainer.core.batches import micro_batch_choices
from gui_trainer.core.schedulers import SchedulerName
from gui_trainer.core.session_state import SessionState
from gui_trainer.core.settings import (
    BATCH_SETTINGS,
    Mode,
    OptimizerName,
    Settings,
    check_batches,
    check_scheduler,
    check_setting,
    check_softmax_task,
)
from gui_trainer.core.timeline import Action, Timeline


class SessionSettings(SessionState):
    timeline: Timeline

    if TYPE_CHECKING:  # provided by Rewind and by the session
        def _before_action(self) -> None: ...
        def _make_optimizer(self) -> torch.optim.Optimizer: ...
        def _apply_reset(self, note: str = "") -> None: ...
        def _start_note(self) -> str: ...
        def _new_loader(self) -> None: ...
        def _new_scheduler(self) -> None: ...

    @property
    def start(self) -> tuple[float, float] | None:
        """Where each run of the one neuron starts: (weight, bias), or None for the first
        weights the scenario's seed drew."""
        return self._settings.start

    def start_from(self, weight: float | None, bias: float | None = None) -> None:
        """Start a new run at (weight, bias): an undoable action, like Restart.

        ``start_from(None)`` goes back to the scenario's first weights.
        """
        if not self._one_neuron:
            raise TypeError("a start point is the one neuron's (weight, bias); a network has "
                            "more parameters than a map can show")
        self._change("start", None if weight is None else (weight, bias))

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def lr(self) -> float:
        return self._settings.lr

    @lr.setter
    def lr(self, value: float | str) -> None:
        self._change("lr", value)

    @property
    def mode(self) -> Mode:
        return self._settings.mode

    @mode.setter
    def mode(self, value: Mode) -> None:
        self._change("mode", value)

    @property
    def optimizer_name(self) -> OptimizerName:
        return self._settings.optimizer_name

    @optimizer_name.setter
    def optimizer_name(self, value: OptimizerName) -> None:
        """Switching optimizer starts it fresh (Adam's running averages are per optimizer)."""
        self._change("optimizer_name", value)

    @property
    def optimizer_options(self) -> dict[str, float | bool]:
        """Every hyperparameter of the optimizer (besides lr) with its value."""
        return optimizers.values(self._settings.optimizer_name, self._settings.optimizer_options)

    def set_optimizer(self, name: OptimizerName, **hyperparameters: object) -> None:
        """Use a fresh ``torch.optim`` optimizer ``name`` ("sgd", "rmsprop", "adagrad",
        "adam", "adamw") with these hyperparameters (PyTorch's keywords; the rest keep
        PyTorch's defaults; lr stays the session's). One undoable action; a bad name or
        value raises ValueError and changes nothing."""
        self._change("optimizer", (name, hyperparameters))

    @property
    def set_to_none(self) -> bool:
        return self._settings.set_to_none

    @set_to_none.setter
    def set_to_none(self, value: bool) -> None:
        self._change("set_to_none", value)

    @property
    def micro_batches(self) -> int:
        """How many micro-batches one step accumulates gradients over (1 = the full batch)."""
        return self._settings.micro_batches

    @micro_batches.setter
    def micro_batches(self, value: int) -> None:
        self._change("micro_batches", value)

    def valid_micro_batches(self) -> list[int]:
        """The micro-batch counts that fit the loader's batches now."""
        settings = self._settings
        return micro_batch_choices(len(self.inputs), settings.batch_size, settings.drop_last)

    @property
    def batch_size(self) -> int | None:
        """The DataLoader's rows per batch; None: the full batch (one batch per epoch)."""
        return self._settings.batch_size

    @batch_size.setter
    def batch_size(self, value: int | None) -> None:
        self._change("batch_size", value)

    @property
    def shuffle(self) -> bool:
        """Whether the DataLoader reshuffles the rows every epoch (its generator is seeded)."""
        return self._settings.shuffle

    @shuffle.setter
    def shuffle(self, value: bool) -> None:
        self._change("shuffle", value)

    @property
    def drop_last(self) -> bool:
        """Whether the DataLoader drops a last batch smaller than ``batch_size``."""
        return self._settings.drop_last

    @drop_last.setter
    def drop_last(self, value: bool) -> None:
        self._change("drop_last", value)

    @property
    def clip_max_norm(self) -> float | None:
        """Gradient clipping's max_norm: a number turns the Clip stage on, None off."""
        return self._settings.clip_max_norm

    @clip_max_norm.setter
    def clip_max_norm(self, value: float | None) -> None:
        self._change("clip_max_norm", value)

    @property
    def evaluate_model_eval(self) -> bool:
        """Whether Evaluate calls ``model.eval()`` first (off only to show why it must)."""
        return self._settings.evaluate_model_eval

    @evaluate_model_eval.setter
    def evaluate_model_eval(self, value: bool) -> None:
        self._change("evaluate_model_eval", value)

    @property
    def evaluate_no_grad(self) -> bool:
        """Whether Evaluate measures under ``torch.no_grad()`` (off only to show why)."""
        return self._settings.evaluate_no_grad

    @evaluate_no_grad.setter
    def evaluate_no_grad(self, value: bool) -> None:
        self._change("evaluate_no_grad", value)

    @property
    def softmax_before_loss(self) -> bool:
        """Classification: Loss puts softmax before CrossEntropyLoss (a mistake on purpose)."""
        return self._settings.softmax_before_loss

    @softmax_before_loss.setter
    def softmax_before_loss(self, value: bool) -> None:
        self._change("softmax_before_loss", value)

    @property
    def scheduler_choice(self) -> tuple[SchedulerName, dict[str, float | int]] | None:
        """The scheduler's class name and every keyword's value, or None."""
        choice = self._settings.scheduler
        return None if choice is None else (choice[0], schedulers.values(*choice))

    def set_scheduler(self, name: SchedulerName | None, **kwargs: object) -> None:
        """Use a fresh ``torch.optim.lr_scheduler`` ``name`` ("StepLR", "ExponentialLR",
        "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau") with these keywords on the
        optimizer (its lr starts again from session.lr); None turns it off. One undoable
        action; a bad name or value raises ValueError and changes nothing, and so does the
        choice already in force."""
        self._change("scheduler", None if name is None else (name, kwargs))

    def change_setting(self, name: str, value: Any) -> None:
        """Set the setting ``name`` (as the properties do): checked, applied, recorded."""
        self._change(name, value)

    def _change(self, name: str, value: Any) -> None:
        value = check_setting(name, value, len(self.inputs))  # raises before any change
        if name == "scheduler" and value is not None:
            value = check_scheduler(value, self._settings)
        if getattr(self._settings, name) == value and (
                name != "optimizer_name" or not self._settings.optimizer_options):
            return
        if name == "softmax_before_loss" and value:
            check_softmax_task(self.scenario.task)
        if name in BATCH_SETTINGS:
            check_batches(replace(self._settings, **{name: value}), len(self.inputs))
        if name in ("optimizer", "optimizer_name") and self._settings.scheduler is not None:
            # the scheduler must work with the new optimizer (OneCycleLR needs momentum)
            new = replace(self._settings, **({"optimizer_name": value[0],
                                              "optimizer_options": value[1]}
                                             if name == "optimizer" else
                                             {"optimizer_name": value, "optimizer_options": ()}))
            check_scheduler(self._settings.scheduler, new)
        self._before_action()
        self._apply_setting(name, value)
        self.timeline.record(Action("setting", name=name, value=value))

    def _apply_setting(self, name: str, value: Any) -> None:
        old = self._settings
        if name == "optimizer":
            self._settings = replace(old, optimizer_name=value[0], optimizer_options=value[1])
        elif name == "optimizer_name":  # another optimizer: with PyTorch's defaults
            self._settings = replace(old, optimizer_name=value, optimizer_options=())
        else:
            self._settings = replace(old, **{name: value})
        if name == "lr":
            for group in self.optimizer.param_groups:
                group["lr"] = value
            self._new_scheduler()  # a schedule starts again from the new rate
        elif name in ("optimizer_name", "optimizer"):
            self.optimizer = self._make_optimizer()
            self._new_scheduler()
        elif name == "scheduler":
            for group in self.optimizer.param_groups:  # from session.lr, as a fresh script
                group["lr"] = self._settings.lr
            self._new_scheduler()
        elif name == "micro_batches":
            loop = self._loop
            loop.chunk = 0
            if len(loop.batches) > 1:  # the new groups start at a multiple of the new count
                loop.position -= loop.position % value
        if name in ("batch_size", "shuffle", "drop_last"):
            self._new_loader()
        elif name == "start":
            # A new run from the chosen point, as Restart starts one from the first weights.
            self._apply_reset(self._start_note())
        loop = self._loop
        if name == "clip_max_norm" and value is None and loop.next_stage == "clip":
            loop.next_stage = "step"  # the stage just turned off: go on without it
        if name == "scheduler" and value is None:
            loop.pending = tuple(s for s in loop.pending if s != "schedule")
            if loop.next_stage == "schedule":
                loop.next_stage = loop.pending[0] if loop.pending else "zero_grad"
        # Whatever free mode left behind, a loop from zero_grad is always valid (after the
        # stages still due after a step); a new split starts its accumulation there too.
        if (name == "mode" and value == "guided" and old.mode != "guided") or (
                name in BATCH_SETTINGS and self._settings.mode == "guided"):
            due = loop.last_stage in ("step", "evaluate", "schedule") and loop.pending
            loop.next_stage = loop.pending[0] if due else "zero_grad"

