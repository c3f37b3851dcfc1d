"""The one QObject that owns the session: views call it, and it tells them what changed.

Every change of session state — a stage, a setting, a restart, undo/redo/jump — goes through
a method here and is announced the same way: ``changed`` always (views redraw from it,
throttled), ``settings_changed`` when a setting may differ, and one ``message`` for the status
bar. Views never emit this object's signals; they call its methods.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal

from gui_trainer.core.formatting import short
from gui_trainer.core.optimizers import TORCH_CLASS
from gui_trainer.core.records import StageRecord
from gui_trainer.core.scenarios import Scenario
from gui_trainer.core.schedulers import every_step
from gui_trainer.core.session import Mode, OptimizerName, TrainingSession
from gui_trainer.core.stages import LABELS, STAGE_KEYS, Stage
from gui_trainer.core.view_state import SessionView, capture
from gui_trainer.qt.enablement import Enablement, enablement

#: The names people know them by: PyTorch's class names.
OPTIMIZER_NAMES: dict[str, str] = dict(TORCH_CLASS)


def schedule_summary(session: TrainingSession) -> str:
    """``StepLR(step_size=10, gamma=0.1)``, or "none"."""
    choice = session.scheduler_choice
    if choice is None:
        return "none"
    name, values = choice
    return f"{name}(" + ", ".join(f"{k}={v:g}" for k, v in values.items()) + ")"


def options_summary(session: TrainingSession) -> str:
    """``momentum 0.9, nesterov on`` — what differs from PyTorch's defaults, in words."""
    given = session.settings.optimizer_options
    if not given:
        return "PyTorch's defaults"
    return ", ".join(f"{key} {'on' if value is True else 'off' if value is False else short(value)}"
                     for key, value in given)


#: Sessions kept for Scenario ▸ Back, the current one included (each holds its whole run).
MAX_KEPT = 4


def key_hint(stage: Stage) -> str:
    return f"{LABELS[stage]} (key {STAGE_KEYS[stage]})"


#: What turning each flag on or off means, said once it is done.
FLAG_NEWS = {
    "evaluate_model_eval": {True: "Evaluate calls model.eval() first again.",
                            False: "Evaluate now measures in train mode (no model.eval()): "
                                   "dropout and BatchNorm stay in training behaviour."},
    "evaluate_no_grad": {True: "Evaluate measures under torch.no_grad() again.",
                         False: "Evaluate now records a graph (no torch.no_grad())."},
    "softmax_before_loss": {True: "Loss now puts softmax before CrossEntropyLoss (a mistake, "
                                  "to see what it does).",
                            False: "Loss takes the raw outputs again, as CrossEntropyLoss "
                                   "expects."},
}


class SessionController(QObject):
    """Runs stages on the session and announces the results.

    ``stage_run`` carries each :class:`StageRecord` a person asked for (one click, one
    record). ``changed`` says the session's state moved on for any reason (a click, an
    auto-train batch, a setting, a reset, a rewind); views redraw from the session on it.
    """

    stage_run = Signal(object)
    #: After undo, redo or a jump: the record of the stage now last (or None).
    rewound = Signal(object)
    changed = Signal()
    was_reset = Signal()
    settings_changed = Signal()
    #: The session was swapped for another (a scenario opened, or switched back).
    scenario_changed = Signal()
    message = Signal(str)

    def __init__(self, session: TrainingSession | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session or TrainingSession()
        self.last_record: StageRecord | None = None
        #: The latest record of each stage since the start, a reset or a rewind (code panel).
        self.latest: dict[Stage, StageRecord] = {}
        #: Sessions switched away from, the latest last (Scenario ▸ Back).
        self._previous: list[TrainingSession] = []
        #: The state of each run that drives the session ("auto_train", "experiment").
        self.runs: dict[str, str] = {}

    # -- what may be clicked -------------------------------------------------------------
    def run_state_changed(self, kind: str, state: str) -> None:
        """A run (auto-train, an experiment) started, paused or ended: clicks change."""
        self.runs[kind] = state
        self.changed.emit()

    def enablement(self) -> Enablement:
        """What may be clicked now, and why not."""
        return enablement(self.session, self.runs.get("auto_train", "idle"),
                          self.runs.get("experiment", "idle"))

    def refusal(self, stage: Stage) -> str | None:
        """Why ``stage`` cannot be run by hand now, or None if it can."""
        return self.enablement().refusals[stage]

    def say(self, text: str) -> None:
        """A line for the status bar (for helpers such as auto-train that own no status bar)."""
        self.message.emit(text)

    def capture(self, landscape: bool = False, along: bool = True) -> SessionView:
        """The session now, frozen, for the views to draw (once a frame; ``along``: with the
        landscape's loss along −grad)."""
        last = self.last_record
        return capture(self.session, self.latest, None if last is None else last.stage,
                       landscape, along)

    def start_from(self, weight: float, bias: float) -> None:
        """Start a new run at (weight, bias), chosen on the landscape (undoable)."""
        reason = self.enablement().refusals["zero_grad"] if self.enablement().busy else None
        if reason is not None:
            self.message.emit(reason)
            return
        self.session.start_from(weight, bias)
        self.last_record = None
        self.latest = {}
        self.message.emit(f"A new run starts at weight {weight:.4g}, bias {bias:.4g} "
                          "(Ctrl+Z goes back).")
        self.was_reset.emit()
        self.settings_changed.emit()
        self.changed.emit()

    # -- stages --------------------------------------------------------------------------
    def run_stage(self, stage: Stage) -> StageRecord | None:
        """Run ``stage`` for a person; a refusal is reported, not raised."""
        reason = self.refusal(stage)
        if reason is not None:
            self.message.emit(reason)
            return None
        record = self.session.run(stage)
        self.publish(record)
        return record

    def run_next(self) -> StageRecord | None:
        return self.run_stage(self.session.next_stage)

    def publish(self, record: StageRecord | None, *, per_stage: bool = True,
                latest: dict[Stage, StageRecord] | None = None,
                replace: bool = False) -> None:
        """Tell views about a new state; auto-train batches pass ``per_stage=False``, and
        ``replace`` when stages ran without records (the older records are out of date)."""
        if replace:
            self.latest = dict(latest or {})
        elif latest:
            self.latest.update(latest)
        if record is not None:
            self.last_record = record
            self.latest[record.stage] = record
            if per_stage:
                self.stage_run.emit(record)
        self.changed.emit()

    def stage_message(self, record: StageRecord) -> str:
        """The status line for ``record``, the stage now last: where the loop is now (the
        banner explains the stage)."""
        return (f"{record.label} {'ran' if record.ok else 'did not run'} · epoch "
                f"{self.session.epoch} · next: {key_hint(self.session.next_stage)}")

    # -- settings ------------------------------------------------------------------------
    def _setting_changed(self, text: str) -> None:
        self.message.emit(text)
        self.settings_changed.emit()
        self.changed.emit()

    def set_lr(self, value: object) -> str | None:
        """Apply a typed learning rate; on bad input return why (and say it), keeping the old."""
        old = self.session.lr
        try:
            self.session.lr = value  # type: ignore[assignment]
        except ValueError as exc:
            reason = f"{exc} The learning rate stays {short(old)}."
            self.message.emit(reason)
            return reason
        if self.session.lr != old:
            self._setting_changed(f"Learning rate set to {short(self.session.lr)}.")
        return None

    def set_mode(self, mode: Mode) -> None:
        if mode == self.session.mode:
            return
        self.session.mode = mode
        self._setting_changed(
            "Guided mode: stages run in loop order; the loop restarts at Zero Grad."
            if mode == "guided" else
            "Free mode: run any stage in any order and see what PyTorch does.")

    def set_optimizer(self, name: OptimizerName) -> None:
        if name == self.session.optimizer_name:
            return
        self.session.optimizer_name = name
        self._setting_changed(f"Optimizer: {OPTIMIZER_NAMES[name]}, started fresh.")

    def set_optimizer_options(self, options: dict[str, object]) -> str | None:
        """Give the current optimizer these hyperparameters (a fresh one); on a bad value
        return why (and say it), keeping the optimizer as it was."""
        session = self.session
        before = session.settings.optimizer
        name = session.optimizer_name
        try:
            session.set_optimizer(name, **options)
        except ValueError as exc:
            reason = f"{str(exc).rstrip('.')}. The optimizer stays as it was."
            self.message.emit(reason)
            return reason
        if session.settings.optimizer != before:
            self._setting_changed(f"Optimizer: {OPTIMIZER_NAMES[name]} "
                                  f"({options_summary(session)}), started fresh.")
        else:
            self.message.emit(f"{OPTIMIZER_NAMES[name]} already has these hyperparameters: "
                              "the optimizer and its state are kept.")
        return None

    def change_settings(self, pairs: Iterable[tuple[str, object]], why: str) -> None:
        """Apply settings an experiment needs (each an undoable action), then say so."""
        for name, value in pairs:
            self.session.change_setting(name, value)
        self._setting_changed(why)

    def set_flag(self, name: str, on: bool) -> None:
        """Turn one of a correct loop's calls off (or back on): Evaluate's ``model.eval()``
        or ``torch.no_grad()``, or softmax before the loss. Undoable like any setting."""
        if getattr(self.session, name) == on:
            return
        try:
            self.session.change_setting(name, on)
        except ValueError as exc:
            self.message.emit(f"{str(exc).rstrip('.')}. Nothing changed.")
            self.settings_changed.emit()
            return
        self._setting_changed(FLAG_NEWS[name][on])

    def set_zero_grad_to_none(self, to_none: bool) -> None:
        if to_none == self.session.set_to_none:
            return
        self.session.set_to_none = to_none
        self._setting_changed(
            "Zero Grad now sets .grad to None." if to_none else
            "Zero Grad now fills .grad with 0.0.")

    def set_micro_batches(self, count: int) -> bool:
        if count == self.session.micro_batches:
            return True
        try:
            self.session.micro_batches = count
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self._setting_changed(
            "Full batch: one forward, loss and backward per step." if count == 1 else
            f"{count} micro-batches: forward, loss and backward run {count} times, adding up "
            "the gradients, before one step.")
        return True

    def set_clip(self, value: object) -> str | None:
        """Clip the gradients at ``value`` (None: off); on a bad value return why (and say
        it), changing nothing."""
        session = self.session
        if value == session.clip_max_norm:
            return None
        try:
            session.clip_max_norm = value  # type: ignore[assignment]
        except ValueError as exc:
            reason = f"{str(exc).rstrip('.')}. Clipping stays as it was."
            self.message.emit(reason)
            return reason
        self._setting_changed(
            "Clipping off: Backward is followed by Step." if value is None else
            f"Clip on: after Backward, clip_grad_norm_ caps the gradients' total norm at "
            f"{session.clip_max_norm:g} before Step.")
        return None

    def set_scheduler(self, name: str | None, keywords: dict[str, object]) -> str | None:
        """Use scheduler ``name`` with ``keywords`` (None: none); on a refusal return why."""
        session = self.session
        before = session.settings.scheduler
        try:
            session.set_scheduler(name, **keywords)  # type: ignore[arg-type]
        except ValueError as exc:
            reason = f"{str(exc).rstrip('.')}. The schedule stays as it was."
            self.message.emit(reason)
            return reason
        if session.settings.scheduler != before:
            self._setting_changed(
                "No scheduler: the learning rate stays as set." if name is None else
                f"{schedule_summary(session)}: Schedule runs scheduler.step() after "
                + ("every step." if every_step(session.settings.scheduler_name)
                   else "every epoch."))
        return None

    def change_batches(self, name: str, value: object) -> bool:
        """Set ``batch_size``, ``shuffle`` or ``drop_last`` of the DataLoader; on a bad value
        say why and change nothing."""
        session = self.session
        if getattr(session, name) == value:
            return True
        try:
            session.change_setting(name, value)
        except (TypeError, ValueError) as exc:
            self.message.emit(f"{str(exc).rstrip('.')}. The batches stay as they were.")
            self.settings_changed.emit()
            return False
        size = session.batch_size
        rows = "the full batch" if size is None else (
            "one sample at a time" if size == 1 else f"batches of {size}")
        self._setting_changed(
            f"DataLoader: {rows}{', shuffled each epoch' if session.shuffle else ''}"
            f"{', drop_last' if session.drop_last and size is not None else ''} — "
            f"{session.iterations_per_epoch} step{'s' if session.iterations_per_epoch != 1 else ''}"
            " per epoch. A new epoch starts with the next step.")
        return True

    # -- scenarios -----------------------------------------------------------------------
    def open_scenario(self, scenario: Scenario) -> None:
        """Train ``scenario`` from the start; the session before it is kept, exactly as it
        was, for :meth:`switch_back` (nothing the learner did is lost)."""
        session = TrainingSession(scenario=scenario)
        self._previous = [s for s in self._previous if s is not self.session][-MAX_KEPT + 1:]
        self._previous.append(self.session)
        self._swap(session, f"{scenario.title}: {scenario.model_spec.describe()}, "
                            f"{len(session.inputs)} samples. Scenario ▸ Back returns to "
                            f"{self._previous[-1].scenario.title}, exactly as it was.")

    def open_session(self, session: TrainingSession, text: str) -> None:
        """Show ``session`` (opened from a file); the one before it is kept for Back."""
        self._previous = [s for s in self._previous if s is not self.session][-MAX_KEPT + 1:]
        self._previous.append(self.session)
        self._swap(session, text)

    def sessions(self) -> tuple[TrainingSession, ...]:
        """The session shown, then those kept for Scenario ▸ Back (latest first)."""
        return (self.session, *reversed(self._previous))

    @property
    def previous(self) -> TrainingSession | None:
        """The session :meth:`switch_back` returns to (None before any switch)."""
        return self._previous[-1] if self._previous else None

    def session_of(self, scenario: str) -> TrainingSession | None:
        """The session of ``scenario`` the window shows or keeps for Back (the latest)."""
        for session in (self.session, *reversed(self._previous)):
            if session.scenario.name == scenario:
                return session
        return None

    def switch_back(self) -> None:
        """Back to the session before the last switch; the current one takes its place."""
        if not self._previous:
            return
        session = self._previous.pop()
        self._previous.append(self.session)
        self._swap(session, f"Back to {session.scenario.title}, epoch {session.epoch}.")

    def _swap(self, session: TrainingSession, text: str) -> None:
        self.session = session
        self.last_record = None
        self.latest = {}
        self.scenario_changed.emit()
        self.settings_changed.emit()
        self.changed.emit()
        self.message.emit(text)

    def reset(self, note: str = "") -> None:
        had_steps = len(self.session.history) > 0
        self.session.reset(note)
        self.last_record = None
        self.latest = {}
        kept = " The previous run stays on the loss plot, faded." if had_steps else ""
        self.message.emit(f"Restarted from the starting weights, epoch 0.{kept} Ctrl+Z undoes.")
        self.was_reset.emit()
        self.settings_changed.emit()
        self.changed.emit()

    # -- the timeline --------------------------------------------------------------------
    def undo(self) -> None:
        if self.session.can_undo:
            self._jump(self.session.position - 1, "Undone")

    def redo(self) -> None:
        if self.session.can_redo:
            self._jump(self.session.position + 1, "Redone")

    def jump_to(self, position: int) -> None:
        """Jump along the timeline; a position past either end goes to that end."""
        position = max(0, min(int(position), len(self.session.timeline)))
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
        self.latest = {} if record is None else {record.stage: record}
        self.rewound.emit(record)
        self.settings_changed.emit()
        self.changed.emit()
        self.message.emit(
            f"{verb}: action {position} of {len(self.session.timeline)}, "
            f"epoch {self.session.epoch}."
        )
