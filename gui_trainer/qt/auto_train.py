"""Auto-train: start, pause, stop, a target number of epochs and a speed, never freezing the UI.

The stages come from ``core.runs.auto_train``; the shared ``RunDriver`` paces them: one stage
per timer tick at the slow speeds, so each button lights up in turn, and time-boxed batches of
whole epochs at the fastest, told to the views once per batch; the views themselves redraw at
a throttled frame rate.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from gui_trainer.core.runs import Pace, Progress, Run, RunEnd, auto_train, done_message
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.rich_label import RichLabel
from gui_trainer.qt.run_driver import RunDriver, State
from gui_trainer.qt.training_process import TrainingProcess

#: (name shown, milliseconds between stages; 0 = batches as fast as the machine goes)
SPEEDS: tuple[tuple[str, int], ...] = (
    ("Slow: 1 stage a second", 1000),
    ("Steady: 2–3 stages a second", 400),
    ("Brisk: 7 stages a second", 150),
    ("Fast: 25 stages a second", 40),
    ("Faster: 50 stages a second", 20),
    ("As fast as the machine goes", 0),
)
#: The longest run one Start may ask for.
MAX_EPOCHS = 10_000_000


def show_value(bar: QProgressBar, value: int) -> None:
    """``bar.setValue(value)``, painted with the rest of the frame.

    QProgressBar.setValue repaints the bar there and then (``repaint()``, not ``update()``):
    during a run, a paint and a flush of the window in the middle of each frame's work.
    With updates off it only schedules one (turning them on again calls ``update()``).
    """
    bar.setUpdatesEnabled(False)
    try:
        bar.setValue(value)
    finally:
        bar.setUpdatesEnabled(True)


class AutoTrainer(QObject):
    """Auto-train for ``target`` epochs through the shared run driver; pausable, stoppable."""

    state_changed = Signal(str)
    progress = Signal(int, int)  # epochs done in this run, target
    finished = Signal(str)  # why the run ended, in plain words

    def __init__(self, controller: SessionController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.target = 100
        self.done = 0
        self.speed = len(SPEEDS) - 1
        self._stop_reason = ""
        #: The session's epoch when the run paused: an undo while paused takes epochs back.
        self._paused_epoch = 0
        self.driver = RunDriver(controller, "auto_train", self)
        self.driver.set_interval(self.delay_ms)
        self.driver.state_changed.connect(self.state_changed)
        self.driver.progressed.connect(self._progressed)
        self.driver.ended.connect(self._ended)

    @property
    def state(self) -> State:
        return self.driver.state

    def use_process(self, process: TrainingProcess) -> None:
        """Train at full speed in ``process`` (the app's window does; bare test windows
        train on their own thread)."""
        self.driver.use_process(process)

    @property
    def delay_ms(self) -> int:
        return SPEEDS[self.speed][1]

    def set_speed(self, index: int) -> None:
        self.speed = max(0, min(index, len(SPEEDS) - 1))
        self.driver.set_interval(self.delay_ms)

    @property
    def batch_mode(self) -> bool:
        """Running as fast as the machine goes: records are not shown one by one."""
        return self.driver.batch_mode

    def start(self) -> None:
        """Start a new run of ``target`` epochs, or resume a paused one."""
        if self.state == "running":
            return
        if self.state == "idle":
            self.done = 0
        else:  # epochs undone while paused no longer count as done
            undone = max(0, self._paused_epoch - self.controller.session.epoch)
            self.done = max(0, self.done - undone)
        if self.state == "paused" and self.done >= self.target:  # target lowered below it
            self.stop(done_message(self.controller.session, self.done))
            return
        # Made anew on resume too: the target may have changed while paused.
        self._start_driver()
        self.progress.emit(self.done, self.target)

    def set_target(self, epochs: int) -> None:
        """A new number of epochs; a running run goes on towards it (or ends if reached)."""
        self.target = epochs
        if self.state == "running":
            self._start_driver()
        if self.state != "idle":
            self.progress.emit(self.done, self.target)

    def _start_driver(self) -> None:
        pace = Pace()
        session, target = self.controller.session, self.target

        def resume(done: int) -> Run:
            return auto_train(session, target, done, pace)

        self.driver.start(resume(self.done), pace, resume)

    def pause(self) -> None:
        if self.state == "running":
            self.driver.pause()  # which may run one more iteration, to show where it is
            self._paused_epoch = self.controller.session.epoch
            if self.driver.state == "paused":  # not ended by that iteration
                self.controller.say(
                    f"Auto-train paused at epoch {self.done} of {self.target}.")

    def stop(self, reason: str = "") -> None:
        if self.state != "idle":
            self._stop_reason = reason
            self.driver.stop()

    def _progressed(self, progress: Progress) -> None:
        self.done = progress.done
        self.progress.emit(self.done, self.target)

    def _ended(self, end: RunEnd | None) -> None:
        if end is not None:
            self.finished.emit(end.message)
            return
        reason, self._stop_reason = self._stop_reason, ""
        self.finished.emit(
            reason or f"Auto-train stopped after {self.done} of {self.target} epochs.")


class AutoTrainPanel(QGroupBox):
    """The controls: Start / Pause / Stop, epochs, speed, progress."""

    def __init__(self, trainer: AutoTrainer, actions: dict[str, QAction],
                 parent: QWidget | None = None) -> None:
        super().__init__("Auto-train", parent)
        self.trainer = trainer
        form = QFormLayout(self)
        buttons = QHBoxLayout()
        for name in ("train_start", "train_pause", "train_stop"):
            button = QToolButton(self)
            button.setDefaultAction(actions[name])
            button.setObjectName(f"button_{name}")
            buttons.addWidget(button)
        form.addRow(buttons)
        self.epochs = QSpinBox(self)
        self.epochs.setObjectName("auto_epochs")
        # 0 can be typed so that it can be refused with a reason, not silently reverted.
        self.epochs.setRange(0, MAX_EPOCHS)
        self.epochs.setKeyboardTracking(False)  # a typed number counts on Enter or leaving
        self.epochs.setValue(trainer.target)
        self.epochs.setToolTip(
            f"How many epochs (full loops) one run trains for: 1 to {MAX_EPOCHS:,}.")
        self.epochs.valueChanged.connect(self._set_target)
        form.addRow("Epochs:", self.epochs)
        self.epochs_error = RichLabel(self)
        self.epochs_error.setObjectName("epochs_error")
        self.epochs_error.hide()
        form.addRow(self.epochs_error)
        self.speed = QSlider(Qt.Orientation.Horizontal, self)
        self.speed.setObjectName("auto_speed")
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(trainer.speed)
        self.speed.setPageStep(1)
        self.speed_name = QLabel(SPEEDS[trainer.speed][0], self)
        self.speed.valueChanged.connect(self._set_speed)
        form.addRow("Speed:", self.speed)
        form.addRow("", self.speed_name)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("auto_progress")
        self.bar.setFormat("epoch %v of %m")
        self.bar.setRange(0, trainer.target)
        self.bar.setValue(0)
        form.addRow(self.bar)
        # A progress bar repaints on every setValue; the window syncs it once a frame.
        self._progress = (0, trainer.target)
        trainer.progress.connect(self._remember_progress)
        # The last run's "epoch 7 of 3000" belongs to the session it ran on.
        trainer.controller.scenario_changed.connect(self._forget_progress)
        trainer.controller.was_reset.connect(self._forget_progress)

    def _set_target(self, value: int) -> None:
        # A typed number is taken when the field loses the keyboard, which also happens while
        # the window is being deleted: by then the trainer may be gone.
        if not shiboken6.isValid(self.trainer):
            return
        if value < 1:
            self.epochs_error.show_coloured(
                f"A run needs at least 1 epoch; {value} would do nothing. "
                f"Epochs stay {self.trainer.target:,}.", "bad")
            self.epochs_error.show()
            with QSignalBlocker(self.epochs):
                self.epochs.setValue(self.trainer.target)
            return
        self.epochs_error.hide()
        self.trainer.set_target(value)
        done = 0 if self.trainer.state == "idle" else self.trainer.done
        self._progress = (done, value)  # what the next frame draws
        self.bar.setRange(0, value)
        show_value(self.bar, min(done, value))

    def _set_speed(self, index: int) -> None:
        self.trainer.set_speed(index)
        self.speed_name.setText(SPEEDS[index][0])

    def _remember_progress(self, done: int, target: int) -> None:
        self._progress = (done, target)

    def _forget_progress(self) -> None:
        if self.trainer.state == "idle":
            self._progress = (0, self.trainer.target)

    def sync_progress(self) -> None:
        done, target = self._progress
        if self.bar.maximum() != target:
            self.bar.setRange(0, target)
        if self.bar.value() != min(done, target):
            show_value(self.bar, min(done, target))
