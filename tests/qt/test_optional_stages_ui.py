"""Clip, Evaluate and Schedule in the window: their settings, buttons, keys and plots."""

from __future__ import annotations

from html import unescape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.stages import OPTIONAL_STAGES, STAGES
from gui_trainer.qt.main_window import MainWindow


def press(window: MainWindow, qtbot: QtBot, key: str) -> None:
    qtbot.keyClick(window, key)
    window.frame.flush()


def visible_buttons(window: MainWindow) -> list[str]:
    buttons = window.step_buttons.buttons
    return [stage for stage, button in buttons.items() if button.isVisibleTo(window)]


def test_the_optional_buttons_hide_until_their_setting_is_on(window: MainWindow) -> None:
    window.frame.flush()
    assert visible_buttons(window) == list(STAGES)
    assert window.loop_diagram.stages == STAGES
    for stage in OPTIONAL_STAGES:
        assert not window.actions_by_name[stage].isVisible()


def test_clipping_is_set_run_by_its_key_and_refused_with_a_reason(
        window: MainWindow, qtbot: QtBot) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    settings = window.settings
    settings.clip_norm.setText("abc")
    settings.clip.setChecked(True)
    assert window.session.clip_max_norm is None
    assert "clip_max_norm must be a number" in unescape(settings.clip_error.text())
    settings.clip_norm.setText("0.05")
    settings.clip.setChecked(True)
    window.frame.flush()
    assert window.session.clip_max_norm == 0.05
    assert visible_buttons(window) == ["zero_grad", "forward", "loss", "backward", "clip",
                                       "step"]
    assert window.loop_diagram.stages == ("zero_grad", "forward", "loss", "backward", "clip",
                                          "step")
    for key in "1234":
        press(window, qtbot, key)
    assert window.session.next_stage == "clip"
    press(window, qtbot, "6")
    record = window.controller.latest["clip"]
    assert record.ok and record.clip_total_norm is not None and record.clip_total_norm > 0.05
    assert "clip_grad_norm_ scaled every .grad" in window.report.text()
    assert window.session.next_stage == "step"
    settings.clip.setChecked(False)
    window.frame.flush()
    assert window.session.clip_max_norm is None and "clip" not in visible_buttons(window)


def test_evaluate_follows_each_epoch_and_the_validation_curve_grows(
        window: MainWindow, qtbot: QtBot) -> None:
    window.controller.open_scenario(SCENARIOS["overfit"])
    window.frame.flush()
    assert visible_buttons(window) == [*STAGES, "evaluate"]
    for _ in range(3):
        for key in "12345":
            press(window, qtbot, key)
        assert window.session.next_stage == "evaluate"
        press(window, qtbot, "7")
    record = window.controller.latest["evaluate"]
    assert record.val_loss is not None and record.val_grad_fn is None
    plot = window.loss_plot
    assert list(plot.validation.xData) == [1.0, 2.0, 3.0]
    assert list(plot.validation.yData) == list(window.session.history.validation()["loss"])
    assert "validation loss (Evaluate)" in plot.legend.text()


def test_the_schedule_dialog_previews_refuses_and_applies(window: MainWindow,
                                                          qtbot: QtBot) -> None:
    window.controller.open_scenario(SCENARIOS["curve"])
    dialog = window.settings.edit_schedule()
    dialog.choice.setCurrentIndex(dialog.choice.findData("StepLR"))
    assert set(dialog.fields) == {"step_size", "gamma"}
    xs, ys = dialog.curve.xData, dialog.curve.yData
    assert len(xs) == 101 and ys[0] == window.session.lr and ys[10] == ys[0] * 0.1
    dialog.fields["gamma"].setText("abc")
    assert dialog.curve.xData is None or len(dialog.curve.xData) == 0
    assert "gamma must be a number" in dialog.error.text()
    apply = dialog.buttons.button(QDialogButtonBox.StandardButton.Apply)
    qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and window.session.scheduler is None
    dialog.fields["gamma"].setText("0.5")
    dialog.fields["step_size"].setText("2")
    qtbot.mouseClick(apply, Qt.MouseButton.LeftButton)
    window.frame.flush()
    assert not dialog.isVisible()
    assert type(window.session.scheduler).__name__ == "StepLR"
    assert "StepLR(step_size=2, gamma=0.5)" in window.settings.schedule_summary.text()
    assert visible_buttons(window) == [*STAGES, "schedule"]
    for _ in range(4):
        for key in "123458":
            press(window, qtbot, key)
    assert window.session.history.column("lr").tolist() == [0.01, 0.01, 0.005, 0.005]
    plot = window.loss_plot
    assert not plot.view_tabs.isHidden()
    plot.view_tabs.setCurrentIndex(1)
    assert plot.lr_shown and "the schedule ahead" in plot.legend.text()
    assert list(plot.lr_curve.yData) == [0.01, 0.01, 0.005, 0.005]
    ahead_x, ahead_y = plot.lr_ahead.xData, plot.lr_ahead.yData
    assert ahead_x[0] == 4 and ahead_y[0] == window.session.optimizer.param_groups[0]["lr"]
    assert ahead_y[2] == ahead_y[0] * 0.5  # two epochs on, the next cut
