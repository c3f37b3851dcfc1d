"""Auto-train: start, pause, stop, a target number of epochs and a speed, never freezing the UI.

Slow speeds run one stage per timer tick through the controller, so each button lights up
in turn. The fastest speed runs whole epochs in time-boxed batches (``core.autotrain``) and
only tells the views once per batch; the views themselves redraw at a throttled frame rate.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QObject, QSignalBlocker, Qt, QTimer, Signal
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

from gui_trainer.core.autotrain import check_record, train_for
from gui_trainer.core.formatting import short
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.rich_label import RichLabel

#: (name shown, milliseconds between stages; 0 = batches as fast as the machine goes)
SPEEDS: tuple[tuple[str, int], ...] = (
    ("Slow: 1 stage a second", 1000),
    ("Steady: 2–3 stages a second", 400),
    ("Brisk: 7 stages a second", 150),
    ("Fast: 25 stages a second", 40),
    ("Faster: 50 stages a second", 20),
    ("As fast as the machine goes", 0),
)
#: Work per event-loop turn at full speed: short enough that a click is answered at once.
BATCH_BUDGET_S = 0.012
#: The longest run one Start may ask for.
MAX_EPOCHS = 10_000_000

State = Literal["idle", "running", "paused"]


class AutoTrainer(QObject):
    """Drives the controller's session for ``target`` epochs; pausable and stoppable."""

    state_changed = Signal(str)
    progress = Signal(int, int)  # epochs done in this run, target
    finished = Signal(str)  # why the run ended, in plain words

    def __init__(self, controller: SessionController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.state: State = "idle"
        self.target = 100
        self.done = 0
        self.speed = len(SPEEDS) - 1
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    @property
    def delay_ms(self) -> int:
        return SPEEDS[self.speed][1]

    def set_speed(self, index: int) -> None:
        self.speed = max(0, min(index, len(SPEEDS) - 1))
        if self._timer.isActive():
            self._timer.setInterval(self.delay_ms)

    @property
    def batch_mode(self) -> bool:
        """Running as fast as the machine goes: records are not shown one by one."""
        return self.state == "running" and self.delay_ms == 0

    def start(self) -> None:
        """Start a new run of ``target`` epochs, or resume a paused one."""
        if self.state == "running":
            return
        if self.state == "idle":
            self.done = 0
        elif self.done >= self.target:  # resumed after lowering the target below the done
            self.stop(self._done_message())
            return
        self._set_state("running")
        self.progress.emit(self.done, self.target)
        self._timer.start(self.delay_ms)

    def pause(self) -> None:
        if self.state == "running":
            self._timer.stop()
            self._set_state("paused")
            self.controller.say(f"Auto-train paused at epoch {self.done} of {self.target}.")

    def stop(self, reason: str = "") -> None:
        if self.state == "idle":
            return
        self._timer.stop()
        self._set_state("idle")
        self.finished.emit(
            reason or f"Auto-train stopped after {self.done} of {self.target} epochs."
        )

    def _set_state(self, state: State) -> None:
        self.state = state
        self.state_changed.emit(state)

    def _done_message(self) -> str:
        # The run's own rows; fewer if the learner undid some while it was paused.
        history = self.controller.session.history.column("loss")
        losses = history[len(history) - min(self.done, len(history)):]
        if len(losses) == 0:
            return f"Auto-train done: {self.done} epochs."
        text = f"Auto-train done: {self.done} epochs, loss {short(float(losses[-1]))}."
        if len(losses) > 1 and losses[-1] > losses[0]:
            text += (" The loss grew: this learning rate overshoots the minimum at every step "
                     "and will diverge. Try a smaller one.")
        return text

    def _tick(self) -> None:
        if self.done >= self.target:
            self.stop(self._done_message())
        elif self.delay_ms > 0:
            self._tick_one_stage()
        else:
            self._tick_batch()

    def _tick_one_stage(self) -> None:
        record = self.controller.run_next()
        if record is None:  # refused; cannot happen when running next_stage, but be safe
            self.stop("Auto-train stopped: the session refused the next stage.")
            return
        if record.stage == "step" and record.ok:
            self.done += 1
            self.progress.emit(self.done, self.target)
        stop = check_record(record)
        if stop is not None:
            self.stop(stop[1])
        elif self.done >= self.target:
            self.stop(self._done_message())

    def _tick_batch(self) -> None:
        left = self.target - self.done
        result = train_for(self.controller.session, left, BATCH_BUDGET_S)
        self.done += result.epochs
        self.controller.publish(result.last, per_stage=False, latest=result.latest)
        self.progress.emit(self.done, self.target)
        if result.stop == "target":
            self.stop(self._done_message())
        elif result.stop is not None:
            self.stop(result.message)


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

    def _set_target(self, value: int) -> None:
        if value < 1:
            self.epochs_error.show_coloured(
                f"A run needs at least 1 epoch; {value} would do nothing. "
                f"Epochs stay {self.trainer.target:,}.", "bad")
            self.epochs_error.show()
            with QSignalBlocker(self.epochs):
                self.epochs.setValue(self.trainer.target)
            return
        self.epochs_error.hide()
        self.trainer.target = value
        if self.trainer.state == "idle":
            self._progress = (0, value)  # what the next frame draws
            self.bar.setRange(0, value)
            self.bar.setValue(0)

    def _set_speed(self, index: int) -> None:
        self.trainer.set_speed(index)
        self.speed_name.setText(SPEEDS[index][0])

    def _remember_progress(self, done: int, target: int) -> None:
        self._progress = (done, target)

    def sync_progress(self) -> None:
        done, target = self._progress
        if self.bar.maximum() != target:
            self.bar.setRange(0, target)
        if self.bar.value() != min(done, target):
            self.bar.setValue(min(done, target))
