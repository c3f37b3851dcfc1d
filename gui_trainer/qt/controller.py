"""The one QObject that owns the session: views call it, and it tells them what changed."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from gui_trainer.core.formatting import short
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import Mode, TrainingSession
from gui_trainer.core.stages import Stage


class SessionController(QObject):
    """Runs stages on the session and announces the results.

    ``stage_run`` carries each :class:`StageRecord` a person asked for (one click, one
    record). ``changed`` says the session's state moved on for any reason (a click, an
    auto-train batch, a reset, a rewind); views redraw from the session on it, throttled.
    """

    stage_run = Signal(object)
    #: After undo, redo or a jump: the record of the stage now last (or None).
    rewound = Signal(object)
    changed = Signal()
    was_reset = Signal()
    settings_changed = Signal()
    message = Signal(str)

    def __init__(self, session: TrainingSession | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session or TrainingSession()
        self.last_record: StageRecord | None = None

    def run_stage(self, stage: Stage) -> StageRecord | None:
        """Run ``stage`` for a person; a refusal is reported, not raised."""
        reason = self.session.refusal(stage)
        if reason is not None:
            self.message.emit(reason)
            return None
        record = self.session.run(stage)
        self.publish(record)
        return record

    def run_next(self) -> StageRecord | None:
        return self.run_stage(self.session.next_stage)

    def publish(self, record: StageRecord | None, *, per_stage: bool = True) -> None:
        """Tell views about a new state; auto-train batches pass ``per_stage=False``."""
        if record is not None:
            self.last_record = record
            if per_stage:
                self.stage_run.emit(record)
                self.message.emit(f"{record.label}: {record.explanation}")
        self.changed.emit()

    def set_lr(self, value: object) -> bool:
        """Apply a typed learning rate; on bad input say why and keep the old one."""
        old = self.session.lr
        try:
            self.session.lr = value  # type: ignore[assignment]
        except ValueError as exc:
            self.message.emit(f"{exc} The learning rate stays {short(old)}.")
            return False
        if self.session.lr != old:
            self.message.emit(f"Learning rate set to {short(self.session.lr)}.")
            self.settings_changed.emit()
        return True

    def set_mode(self, mode: Mode) -> None:
        if mode == self.session.mode:
            return
        self.session.mode = mode
        if mode == "guided":
            self.message.emit(
                "Guided mode: stages run in loop order; the loop restarts at Zero Grad."
            )
        else:
            self.message.emit("Free mode: run any stage in any order and see what PyTorch does.")
        self.settings_changed.emit()
        self.changed.emit()

    def set_zero_grad_to_none(self, to_none: bool) -> None:
        if to_none == self.session.set_to_none:
            return
        self.session.set_to_none = to_none
        self.settings_changed.emit()

    def reset(self) -> None:
        had_steps = len(self.session.history) > 0
        self.session.reset()
        self.last_record = None
        kept = " The previous run stays on the loss plot, faded." if had_steps else ""
        self.message.emit(f"Restarted from the starting weights, epoch 0.{kept} Ctrl+Z undoes.")
        self.was_reset.emit()
        self.changed.emit()

    def set_micro_batches(self, count: int) -> bool:
        if count == self.session.micro_batches:
            return True
        try:
            self.session.micro_batches = count
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(
            "Full batch: one forward, loss and backward per step." if count == 1 else
            f"{count} micro-batches: forward, loss and backward run {count} times, adding up the "
            "gradients, before one step."
        )
        self.settings_changed.emit()
        self.changed.emit()
        return True

    # -- the timeline --------------------------------------------------------------------
    def undo(self) -> None:
        if self.session.can_undo:
            self._jump(self.session.position - 1, "Undone")

    def redo(self) -> None:
        if self.session.can_redo:
            self._jump(self.session.position + 1, "Redone")

    def jump_to(self, position: int) -> None:
        if position != self.session.position:
            self._jump(position, "Jumped")

    def rewind_before_divergence(self) -> None:
        position = self.session.position_before_divergence()
        if position is None:
            self.message.emit("Nothing to rewind: the loss has stayed finite in this run.")
            return
        self._jump(position, "Rewound to the lowest loss before the divergence")

    def _jump(self, position: int, verb: str) -> None:
        record = self.session.jump_to(position)
        self.last_record = record
        self.rewound.emit(record)
        self.settings_changed.emit()
        self.changed.emit()
        self.message.emit(
            f"{verb}: action {position} of {len(self.session.timeline)}, "
            f"epoch {self.session.epoch}."
        )
