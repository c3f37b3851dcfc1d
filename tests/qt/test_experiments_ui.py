"""Experiments menu, timeline, comparison curves, micro-batches, predict mode, divergence."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot

from gui_trainer.core.experiments import BY_KEY, EXPERIMENTS
from gui_trainer.core.stages import STAGES
from gui_trainer.qt.main_window import MainWindow


def cell_text(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, f"no cell at {row}, {column}"
    return item.text()


def run_loops(window: MainWindow, qtbot: QtBot, loops: int) -> None:
    for _ in range(loops):
        for stage in STAGES:
            qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.key)
def test_each_experiment_runs_from_its_menu(window: MainWindow, qtbot: QtBot, experiment) -> None:  # type: ignore[no-untyped-def]
    window.experiments.interval_ms = 1
    window.experiment_actions[experiment.key].trigger()
    assert window.session.mode == "free"
    assert window.busy and not window.step_buttons.buttons["zero_grad"].isEnabled()
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=10_000)
    assert window.session.stage_count == len(experiment.stages)
    assert "What it showed" in window.experiment_panel.text.text()
    assert window.step_buttons.buttons["zero_grad"].isEnabled()


def test_skip_zero_grad_table_shows_sum_against_fresh(window: MainWindow, qtbot: QtBot) -> None:
    window.experiments.interval_ms = 1
    window.start_experiment(BY_KEY["skip_zero_grad"])
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=10_000)
    table = window.experiment_panel.table
    assert table.isVisibleTo(window.experiment_panel) and table.rowCount() == 6
    fresh = [float(cell_text(table, r, 1)) for r in range(6)]
    used = [float(cell_text(table, r, 2)) for r in range(6)]
    running = 0.0
    for f, u in zip(fresh, used, strict=True):
        running += f
        assert u == pytest.approx(running, rel=1e-4)
    window.frame.flush()
    _, fresh_curve = window.grad_plot.weight_fresh.getData()
    assert list(fresh_curve) == pytest.approx(fresh, rel=1e-4)


def test_on_a_network_the_table_compares_the_gradients_sizes(
        window: MainWindow, qtbot: QtBot) -> None:
    from gui_trainer.core.experiments import fresh_and_used
    from gui_trainer.core.formatting import short
    from gui_trainer.qt.experiment_panel import NETWORK_COLUMNS

    window.scenario_menu.actions_by_name["spiral"].trigger()
    window.experiments.interval_ms = 1
    window.start_experiment(BY_KEY["skip_zero_grad"])
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=10_000)
    table = window.experiment_panel.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(3)]  # type: ignore[union-attr]
    assert headers == NETWORK_COLUMNS and table.rowCount() == 6
    rows = fresh_and_used(window.experiments.records)
    assert [cell_text(table, r, 2) for r in range(6)] == [short(row[2], 4) for row in rows]
    assert "What it showed" in window.experiment_panel.text.text()
    assert "weight.grad" not in window.experiment_panel.text.text()
    panel = window.experiment_panel
    panel.resize(900, 200)  # a wide, short dock: the findings beside the table
    assert panel.split.orientation() == Qt.Orientation.Horizontal
    panel.resize(300, 400)
    assert panel.split.orientation() == Qt.Orientation.Vertical


def test_undo_redo_keys_and_timeline_slider(window: MainWindow, qtbot: QtBot) -> None:
    run_loops(window, qtbot, 2)
    after = window.session.params()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.position == 9
    assert window.session.last_stage == "backward"
    qtbot.keyClick(window, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.session.position == 10 and window.session.params() == after
    window.frame.flush()
    window.timeline_bar.slider.setValue(3)
    qtbot.waitUntil(lambda: window.session.position == 3, timeout=2_000)
    assert window.session.last_stage == "loss"
    assert window.math_panel.record is not None and window.math_panel.record.stage == "loss"
    window.frame.flush()
    assert "3 / 10" in window.timeline_bar.label.text()


def test_restart_keeps_earlier_runs_as_labelled_faded_curves(
    window: MainWindow, qtbot: QtBot
) -> None:
    run_loops(window, qtbot, 3)
    window.settings.choose_lr(0.1)
    window.actions_by_name["reset"].trigger()
    run_loops(window, qtbot, 2)
    window.frame.flush()
    assert len(window.loss_plot.earlier) == 1
    item = next(iter(window.loss_plot.earlier.values()))
    legend = [entry.text for entry in window.loss_plot.legend.entries()]
    assert "run 1: lr 0.01, SGD, guided" in legend
    assert "run 1: lr 0.01, SGD, guided" in window.loss_plot.legend.text()
    xs, _ = item.getData()
    assert list(xs) == [1, 2, 3]
    assert item.opts["pen"].color().alpha() < 255
    window.actions_by_name["clear_runs"].trigger()
    assert window.loss_plot.earlier == {}
    assert not any("run 1" in entry.text for entry in window.loss_plot.legend.entries())


def test_micro_batch_setting_changes_the_loop(window: MainWindow, qtbot: QtBot) -> None:
    window.settings.micro.setCurrentIndex(window.settings.micro.findData(2))
    assert window.session.micro_batches == 2
    seen = []
    while window.session.next_stage != "step":
        seen.append(window.session.next_stage)
        window.actions_by_name["next_stage"].trigger()
    assert seen == ["zero_grad", "forward", "loss", "backward", "forward", "loss", "backward"]
    assert "full batch" in window.math_panel.text.toPlainText()


def test_predict_then_reveal(window: MainWindow, qtbot: QtBot) -> None:
    window.actions_by_name["predict"].setChecked(True)
    for stage in STAGES[:3]:
        window.request_stage(stage)
    window.request_stage("backward")
    assert window.session.last_stage == "loss"  # waiting for the guess
    panel = window.predict_panel
    assert panel.isVisible()
    panel.reveal()  # no guess yet: refused, nothing runs
    assert window.session.last_stage == "loss"
    panel.negative.setChecked(True)
    window.frame._interval = 10.0  # a frame drawn just now: the next one far off
    qtbot.mouseClick(panel.reveal_button, Qt.MouseButton.LeftButton)
    assert window.session.last_stage == "backward"
    assert "Right" in panel.result.text()
    # Drawn at once, like a click: the banner and the buttons already show backward.
    backward = window.controller.last_record
    assert backward is not None and backward.explanation in window.report.text()
    assert window.step_buttons.state("backward") == "done"
    window.request_stage("step")
    panel.weight.setText("abc")
    panel.reveal()
    assert window.session.last_stage == "backward" and "not a number" in panel.result.text()
    panel.weight.setText("1.46")
    qtbot.keyClick(panel.weight, Qt.Key.Key_Return)
    assert window.session.last_stage == "step"
    assert "Close enough" in panel.result.text()


def test_divergence_can_be_rewound(window: MainWindow, qtbot: QtBot) -> None:
    window.settings.choose_lr(1.0)
    window.auto_panel.speed.setValue(window.auto_panel.speed.maximum())
    window.auto_panel.epochs.setValue(5000)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    assert "Ctrl+B" in window.report.text()
    rewind = window.actions_by_name["rewind_divergence"]
    assert rewind.isEnabled()
    diverged_at = window.session.epoch
    rewind.trigger()
    # With lr = 1 every step made things worse: the best moment is the start of the run.
    assert window.session.epoch == 0 < diverged_at
    assert math.isfinite(window.session.full_batch_loss())
    assert "lowest loss" in window.statusBar().currentMessage()
    assert window.session.lr == 1.0


def test_a_new_scenario_clears_the_last_experiments_findings(
        window: MainWindow, qtbot: QtBot) -> None:
    from gui_trainer.qt.experiment_panel import PICK

    window.experiments.interval_ms = 1
    window.start_experiment(BY_KEY["skip_zero_grad"])
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=10_000)
    assert "weight.grad" in window.experiment_panel.text.text()
    window.scenario_menu.actions_by_name["moons"].trigger()
    assert window.experiment_panel.text.text() == PICK
    assert not window.experiment_panel.table.isVisibleTo(window.experiment_panel)


def test_an_experiments_own_settings_show_in_the_settings_panel(window: MainWindow,
                                                                qtbot: QtBot) -> None:
    window.experiments.interval_ms = 1
    window.experiment_actions["momentum_after_zero_grad"].trigger()
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=10_000)
    assert not window.settings.to_none.isChecked()
    summary = QTextDocumentFragment.fromHtml(window.settings.hyper_summary.text()).toPlainText()
    assert summary == "momentum 0.9"
    assert "momentum buffer carried the earlier updates on" in window.experiment_panel.text.text()


def test_an_experiment_needing_dropout_opens_a_scenario_with_it_and_back_returns(
        window: MainWindow, qtbot: QtBot) -> None:
    """Evaluate without model.eval() needs dropout and a validation split: from the one
    neuron it opens the overfitting scenario with dropout; the settings show the call it
    leaves out, ticking it back measures correctly, and Scenario ▸ Back returns."""
    delivery = window.session
    window.experiments.interval_ms = 1
    window.experiment_actions["eval_without_model_eval"].trigger()
    session = window.session
    assert session is not delivery and session.scenario.name == "overfit"
    assert session.scenario.model_spec.dropout == 0.5
    assert "dropout 0.5" in window.experiment_panel.text.text()
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=10_000)
    assert "4 different numbers" in window.experiment_panel.text.text()
    panel = window.settings
    assert panel.evaluate_eval.isVisibleTo(window) and not panel.evaluate_eval.isChecked()
    assert not panel.softmax.isVisibleTo(window)  # a regression: no softmax to misplace
    panel.evaluate_eval.setChecked(True)
    assert session.evaluate_model_eval
    session.mode = "free"
    first, second = session.run("evaluate"), session.run("evaluate")
    assert first.val_loss == second.val_loss
    window.edit_back.trigger()
    assert window.session is delivery
