"""Auto-train reaches its target, keeps the UI answering, and stops on a NaN loss."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QEvent, QObject, QTimer
from pytestqt.qtbot import QtBot

from gui_trainer.qt.auto_train import SPEEDS
from gui_trainer.qt.main_window import MainWindow


def fastest(window: MainWindow) -> None:
    window.auto_panel.speed.setValue(len(SPEEDS) - 1)


def test_auto_train_reaches_its_target(window: MainWindow, qtbot: QtBot) -> None:
    fastest(window)
    window.auto_panel.epochs.setValue(300)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    assert window.session.epoch == 300
    assert window.auto_panel.bar.value() == 300
    assert "done" in window.statusBar().currentMessage()
    losses = window.session.history.column("loss")
    assert losses[-1] < losses[0]


def test_full_speed_leaves_the_session_a_click_by_click_run_leaves(
        window: MainWindow, qtbot: QtBot) -> None:
    """Batches run quietly, but the session is the one the same epochs clicked through make,
    and the panels show the records of the run's own last iteration."""
    from gui_trainer.core import TrainingSession
    from tests.core.test_quiet_runs import state_of

    window.session.run("zero_grad")  # a record from before the run
    fastest(window)
    window.auto_panel.epochs.setValue(400)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    reference = TrainingSession()
    reference.run("zero_grad")
    for _ in range(400):
        reference.run_iteration()
    assert state_of(window.session) == state_of(reference)
    latest = window.controller.latest
    assert set(latest) == {"zero_grad", "forward", "loss", "backward", "step"}
    assert all(record.epoch >= 399 for record in latest.values())
    step = latest["step"]
    assert step.after.weight == window.session.weight.item()
    assert window.controller.last_record is step


def test_ui_answers_during_auto_train(window: MainWindow, qtbot: QtBot) -> None:
    """Timer events keep firing while training runs: the event loop is never starved."""
    fastest(window)
    window.auto_panel.epochs.setValue(1_000_000)
    ticks: list[int] = []
    probe = QTimer()
    probe.timeout.connect(lambda: ticks.append(window.session.epoch))
    probe.start(20)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=10_000)
    assert window.trainer.state == "running"
    assert ticks[-1] > ticks[0]  # training progressed between the probe's ticks
    assert not window.step_buttons.buttons["zero_grad"].isEnabled()
    window.actions_by_name["train_pause"].trigger()
    paused_at = window.session.epoch
    qtbot.wait(100)
    assert window.trainer.state == "paused" and window.session.epoch == paused_at
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.session.epoch > paused_at, timeout=5_000)
    window.actions_by_name["train_stop"].trigger()
    assert window.trainer.state == "idle"
    probe.stop()
    # Plots are throttled: far fewer redraws than epochs.
    assert window.frame.draws < window.session.epoch / 5


def test_nan_loss_stops_auto_train_and_says_why(window: MainWindow, qtbot: QtBot) -> None:
    fastest(window)
    window.settings.choose_lr(1.0)
    window.auto_panel.epochs.setValue(5000)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    assert window.session.epoch < 5000
    loss = window.session.loss
    assert loss is not None and not math.isfinite(loss.item())
    assert "overshoots" in window.statusBar().currentMessage()
    assert "lr = 1" in window.report.text()


def test_slow_speed_lights_each_stage_in_turn(window: MainWindow, qtbot: QtBot) -> None:
    window.auto_panel.speed.setValue(4)  # 20 ms a stage
    window.auto_panel.epochs.setValue(2)
    seen: list[str] = []
    window.controller.stage_run.connect(lambda record: seen.append(record.stage))
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=5_000)
    assert seen == ["zero_grad", "forward", "loss", "backward", "step"] * 2


def test_resuming_after_a_rewind_counts_only_the_epochs_still_done(
    window: MainWindow, qtbot: QtBot
) -> None:
    """Start, Pause, rewind to the start, lower Epochs below the epochs done, Start: this
    once raised IndexError on every tick, forever; then it ended at once, counting epochs
    the rewind had taken back. The rewound epochs no longer count: it trains the 2."""
    window.auto_panel.speed.setValue(len(SPEEDS) - 2)  # 20 ms a stage
    window.auto_panel.epochs.setValue(50)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.done >= 3, timeout=10_000)
    window.actions_by_name["train_pause"].trigger()
    window.timeline_bar.slider.setValue(0)  # drag the timeline back to the start
    qtbot.waitUntil(lambda: window.session.position == 0, timeout=2_000)
    window.auto_panel.epochs.setValue(2)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=5_000)
    assert "Auto-train done: 2 epochs" in window.statusBar().currentMessage()
    qtbot.wait(50)  # no tick keeps firing
    assert window.trainer.state == "idle" and window.session.epoch == 2


@pytest.mark.parametrize(("first", "then"), [(100, 3), (2, 4)])
def test_changing_epochs_while_running_moves_the_finish(
    window: MainWindow, qtbot: QtBot, first: int, then: int
) -> None:
    window.auto_panel.speed.setValue(len(SPEEDS) - 2)  # 20 ms a stage
    window.auto_panel.epochs.setValue(first)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.done >= 1, timeout=10_000)
    window.auto_panel.epochs.setValue(then)
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=10_000)
    assert window.session.epoch == then and window.trainer.done == then
    assert f"Auto-train done: {then} epochs" in window.statusBar().currentMessage()
    window.auto_panel.sync_progress()
    assert window.auto_panel.bar.value() == then == window.auto_panel.bar.maximum()


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def test_the_progress_bar_is_painted_with_the_frame_not_when_it_moves(
        window: MainWindow, qtbot: QtBot) -> None:
    """QProgressBar.setValue paints at once; a frame's progress waits for the frame's paint
    (a paint and a window flush in the middle of every frame cost up to 5 ms)."""
    panel = window.auto_panel
    qtbot.waitExposed(window)
    counter = PaintCounter()
    panel.bar.installEventFilter(counter)
    for done in (3, 40, 77):
        panel._remember_progress(done, 100)
        panel.sync_progress()
        assert counter.paints == 0 and panel.bar.value() == done
    qtbot.waitUntil(lambda: counter.paints >= 1, timeout=2_000)


def test_reveal_cannot_run_a_stage_during_auto_train(window: MainWindow, qtbot: QtBot) -> None:
    window.actions_by_name["predict"].trigger()
    for stage in ("zero_grad", "forward", "loss", "backward"):
        window.request_stage(stage)
    panel = window.predict_panel
    assert panel.isVisible()
    window.auto_panel.speed.setValue(0)
    window.actions_by_name["train_start"].trigger()
    assert not panel.isVisible()  # the question is withdrawn
    assert not window.actions_by_name["predict"].isEnabled()
    stages = window.session.stage_count
    panel.negative.setChecked(True)
    panel.reveal()  # even called directly, nothing is waiting to be revealed
    assert window.session.stage_count == stages
    window.actions_by_name["train_stop"].trigger()


def test_a_pause_after_quiet_batches_shows_where_it_is_and_counts_it(
    window: MainWindow, qtbot: QtBot
) -> None:
    """With no frame due, batches end without records; a pause replays the last iteration
    with them, and every panel shows it (the worked math too). Epochs undone while paused
    stop counting one for one."""
    window.trainer.driver.process = None  # on this thread
    window.trainer.driver.frame_due = lambda: False
    fastest(window)
    window.auto_panel.epochs.setValue(100_000)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.done >= 20, timeout=10_000)
    window.actions_by_name["train_pause"].trigger()
    session = window.session
    assert window.trainer.state == "paused"
    assert window.trainer.done == session.epoch
    assert window.controller.latest["step"].epoch == session.epoch
    assert f"paused at epoch {session.epoch} of" in window.statusBar().currentMessage()
    window.frame.flush()
    assert window.math_panel.record is window.controller.last_record
    assert f"paused at epoch {session.epoch:,} of" in window.report.text()
    paused_at = session.epoch
    for _ in range(5):  # one iteration back
        window.actions_by_name["undo"].trigger()
    assert session.epoch == paused_at - 1
    window.auto_panel.epochs.setValue(paused_at + 2)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=5_000)
    assert session.epoch == paused_at + 2  # the undone epoch was trained again, not counted
