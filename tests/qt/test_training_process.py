"""Auto-train at full speed in the training process: the window takes over what it grew by,
and the session it ends with is the one the same run on the window's thread leaves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from gui_trainer.core import TrainingSession
from gui_trainer.core.runs import Pace, auto_train
from gui_trainer.qt import run_driver
from gui_trainer.qt.auto_train import SPEEDS
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.training_process import TrainingProcess
from tests.core.test_quiet_runs import state_of


@pytest.fixture
def trained(window: MainWindow, qtbot: QtBot,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    """The window, its training process started and ready, auto-train at full speed (and
    no growth too costly to take: a busy test machine must not send the run back)."""
    monkeypatch.setattr(run_driver, "TAKE_BUDGET_S", 10.0)
    process = window.trainer.driver.process
    assert isinstance(process, TrainingProcess)
    process.launch()
    qtbot.waitUntil(lambda: process.ready, timeout=60_000)
    window.auto_panel.speed.setValue(len(SPEEDS) - 1)
    yield window


def process_of(window: MainWindow) -> TrainingProcess:
    process = window.trainer.driver.process
    assert process is not None
    return process


def start_in_process(window: MainWindow, qtbot: QtBot, epochs: int, past: int = 0) -> None:
    """Start auto-train for ``epochs`` and wait until the process trains it past ``past``."""
    window.auto_panel.epochs.setValue(epochs)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.driver.remote and window.trainer.done >= past,
                    timeout=20_000)


def reference_after(epochs: int, done: int = 0, clicked: int = 0) -> TrainingSession:
    reference = TrainingSession()
    for _ in range(clicked):
        reference.run(reference.next_stage)
    # quietly: the same session as with records (tests/core/test_quiet_runs.py), faster
    for progress in auto_train(reference, epochs, done, Pace(quiet=True)):
        if progress.end is not None:
            break
    return reference


def test_a_run_in_the_process_ends_as_the_run_itself(trained: MainWindow,
                                                     qtbot: QtBot) -> None:
    window = trained
    window.session.run("zero_grad")  # part way through an iteration, as a learner is
    growths: list[int] = []
    process_of(window).grown.connect(lambda _g, done: growths.append(done))
    window.auto_panel.epochs.setValue(3000)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.driver.remote, timeout=10_000)
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=60_000)
    assert len(growths) > 3, "the window took growths while the process trained"
    assert growths == sorted(growths)
    assert window.session.epoch == 3000
    assert window.auto_panel.bar.value() == 3000
    assert "done" in window.statusBar().currentMessage()
    assert state_of(window.session) == state_of(reference_after(3000, clicked=1))
    # the panels show the records of the run's own last iteration, made on this side
    latest = window.controller.latest
    assert set(latest) == {"zero_grad", "forward", "loss", "backward", "step"}
    assert latest["step"].after.weight == window.session.weight.item()


def test_pause_keeps_the_last_growth_and_resume_goes_on(trained: MainWindow,
                                                        qtbot: QtBot) -> None:
    window = trained
    start_in_process(window, qtbot, 1_000_000, past=2001)
    window.actions_by_name["train_pause"].trigger()
    assert window.trainer.state == "paused" and not window.trainer.driver.remote
    paused = state_of(window.session)
    done = window.trainer.done
    qtbot.wait(300)  # what the process still sends is dropped: the pause held at once
    assert state_of(window.session) == paused
    assert window.session.epoch == done
    assert paused == state_of(reference_after(done))
    window.actions_by_name["undo"].trigger()  # paused: the learner may look back
    window.actions_by_name["redo"].trigger()
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.driver.remote and window.trainer.done > done,
                    timeout=20_000)
    window.actions_by_name["train_stop"].trigger()
    assert window.trainer.state == "idle"
    stopped = window.session.epoch
    assert state_of(window.session) == state_of(reference_after(stopped))


def test_a_process_that_dies_leaves_the_run_going_here(trained: MainWindow,
                                                       qtbot: QtBot) -> None:
    window = trained
    process = process_of(window)
    start_in_process(window, qtbot, 2500, past=501)
    process._process.kill()  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=60_000)
    assert process.failed and not window.trainer.driver.remote
    assert window.session.epoch == 2500
    assert state_of(window.session) == state_of(reference_after(2500))


def test_a_slower_pace_brings_the_run_back_stage_by_stage(trained: MainWindow,
                                                         qtbot: QtBot) -> None:
    window = trained
    start_in_process(window, qtbot, 1_000_000, past=101)
    window.auto_panel.speed.setValue(0)
    assert not window.trainer.driver.remote
    stages: list[str] = []
    window.controller.stage_run.connect(lambda record: stages.append(record.stage))
    qtbot.waitUntil(lambda: len(stages) >= 2, timeout=10_000)
    window.actions_by_name["train_stop"].trigger()
    reference = TrainingSession()
    for _ in range(window.session.position):
        reference.run(reference.next_stage)
    assert state_of(window.session) == state_of(reference)


def test_growths_too_costly_to_take_send_the_run_back_for_good(
        trained: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model whose replays cost the frames more than the process saves trains here."""
    window = trained
    monkeypatch.setattr(run_driver, "TAKE_BUDGET_S", 0.0)
    growths: list[int] = []
    process_of(window).grown.connect(lambda _g, done: growths.append(done))
    window.auto_panel.epochs.setValue(2500)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: len(growths) == 1, timeout=20_000)
    qtbot.waitUntil(lambda: not window.trainer.driver.remote, timeout=5_000)
    window.actions_by_name["train_pause"].trigger()
    window.actions_by_name["train_start"].trigger()  # a new stretch is not handed over
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=60_000)
    assert len(growths) == 1
    assert state_of(window.session) == state_of(reference_after(2500))


@pytest.mark.parametrize(("takes", "costly"), [
    ([], False), ([0.004], False), ([0.02], False), ([0.05], True),
    ([0.004, 0.02], False), ([0.004, 0.02, 0.03], True), ([0.02, 0.004, 0.005], False),
    ([0.004, 0.004, 0.004], False)])
def test_which_growths_cost_too_much_to_take(takes: list[float], costly: bool) -> None:
    assert run_driver.too_costly(takes, 0.015) is costly


def test_closing_the_window_mid_run_ends_the_process(trained: MainWindow,
                                                     qtbot: QtBot) -> None:
    window = trained
    process = process_of(window)
    start_in_process(window, qtbot, 1_000_000)
    child = process._process
    assert child is not None and child.is_alive()
    window.close()
    assert not window.isVisible()
    assert window.trainer.state == "idle"
    child.join(5)
    assert not child.is_alive(), "the training process outlived its window"
