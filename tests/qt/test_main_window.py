"""The main window, driven as a person would: clicking the real buttons and pressing keys."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot

from gui_trainer.core.stages import LABELS, STAGES
from gui_trainer.qt.fit_views import CurveFit
from gui_trainer.qt.main_window import MainWindow


def button(window: MainWindow, label: str) -> QToolButton:
    """Find a stage button by the text a person reads on it."""
    matches = [b for b in window.findChildren(QToolButton) if b.text() == label]
    assert len(matches) == 1, f"expected one button labelled {label!r}"
    return matches[0]


def test_buttons_are_labelled_as_the_loop(window: MainWindow) -> None:
    for stage in STAGES:
        assert button(window, LABELS[stage]) is window.step_buttons.buttons[stage]
    assert [LABELS[s] for s in STAGES] == ["Zero Grad", "Forward", "Loss", "Backward", "Step"]


def test_clicking_the_buttons_drives_the_session(window: MainWindow, qtbot: QtBot) -> None:
    start = window.session.params()
    for stage in STAGES:
        qtbot.mouseClick(button(window, LABELS[stage]), Qt.MouseButton.LeftButton)
        assert window.controller.last_record is not None
        assert window.controller.last_record.stage == stage
    assert window.session.epoch == 1
    assert window.session.params().weight != start.weight
    window.frame.flush()  # views redraw within a frame of the click
    assert window.readout.values["epoch"].text() == "1"
    assert window.readout.values["weight"].text() == f"{window.session.weight.item():.6g}"


def test_guided_mode_enables_only_the_next_stage(window: MainWindow, qtbot: QtBot) -> None:
    def enabled() -> list[str]:
        return [s for s in STAGES if window.step_buttons.buttons[s].isEnabled()]

    assert enabled() == ["zero_grad"]
    qtbot.mouseClick(button(window, "Zero Grad"), Qt.MouseButton.LeftButton)
    assert enabled() == ["forward"]
    window.frame.flush()  # the highlight is drawn within a frame
    assert window.step_buttons.state("zero_grad") == "done"
    assert window.step_buttons.state("forward") == "next"


def test_free_mode_enables_every_stage_and_shows_pytorch_errors(
    window: MainWindow, qtbot: QtBot
) -> None:
    radio = window.settings.mode_buttons["free"]
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert window.session.mode == "free"
    assert all(window.step_buttons.buttons[s].isEnabled() for s in STAGES)
    for label in ["Forward", "Loss", "Backward", "Backward"]:
        qtbot.mouseClick(button(window, label), Qt.MouseButton.LeftButton)
    assert "second time" in window.report.text()
    window.frame.flush()
    assert window.step_buttons.state("backward") == "error"


def test_keys_1_to_5_and_space_run_stages(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_1)
    qtbot.keyClick(window, Qt.Key.Key_2)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.session.stage_count == 3
    assert window.session.last_stage == "loss"


def test_out_of_order_key_is_refused_with_a_reason(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_4)  # backward first: refused in guided mode
    assert window.session.stage_count == 0
    assert window.statusBar().currentMessage().startswith(
        "Guided mode: the loop goes on with Zero Grad, not Backward")
    qtbot.keyClick(window, Qt.Key.Key_1)
    qtbot.keyClick(window, Qt.Key.Key_5)  # step while Forward is next
    assert window.session.stage_count == 1
    assert window.statusBar().currentMessage().startswith(
        "Guided mode: the loop goes on with Forward, not Step")


def test_readout_shows_none_for_missing_gradients(window: MainWindow) -> None:
    assert window.readout.values["weight_grad"].text() == "None"
    assert window.readout.values["loss"].text() == "None"


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "nan", "inf", "1e400"])
def test_bad_learning_rate_is_refused_with_a_message(
    window: MainWindow, qtbot: QtBot, bad: str
) -> None:
    window.settings.lr_edit.setText(bad)
    window.settings.apply_lr()
    assert window.session.lr == 0.01
    assert window.settings.lr_error.isVisible()
    assert "stays 0.01" in window.settings.lr_error.text()


def test_learning_rate_preset_and_entry_apply(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.mouseClick(window.findChild(object, "lr_preset_0.1"), Qt.MouseButton.LeftButton)
    assert window.session.lr == 0.1
    window.settings.lr_edit.setText("0.05")
    qtbot.keyClick(window.settings.lr_edit, Qt.Key.Key_Return)
    assert window.session.lr == 0.05


def test_plots_draw_the_session(window: MainWindow, qtbot: QtBot) -> None:
    for _ in range(3):
        window.controller.session.run_epoch()
    window.controller.publish(None)
    window.frame.flush()
    xs, ys = window.loss_plot.curve.getData()
    assert list(xs) == [1, 2, 3]
    # The loss axis is logarithmic: pyqtgraph hands back log10 of the data.
    assert 10 ** ys[-1] == pytest.approx(window.session.history.column("loss")[-1], rel=1e-6)
    curve = window.fit_plot.painter
    assert isinstance(curve, CurveFit)
    line_x, line_y = curve.line.getData()
    w, b = window.session.weight.item(), window.session.bias.item()
    assert line_y[0] == pytest.approx(w * line_x[0] + b, rel=1e-5)
    _, py = curve.predictions.getData()
    assert list(py) == pytest.approx(window.session.outputs.flatten().tolist())  # type: ignore[union-attr]
    _, wy = window.grad_plot.weight_curve.getData()
    assert wy[-1] == pytest.approx(window.session.history.column("weight_grad")[-1])


def test_reset_returns_the_window_to_the_start(window: MainWindow, qtbot: QtBot) -> None:
    start = window.session.params()
    for label in ["Zero Grad", "Forward", "Loss", "Backward", "Step"]:
        qtbot.mouseClick(button(window, label), Qt.MouseButton.LeftButton)
    window.actions_by_name["reset"].trigger()
    window.frame.flush()
    assert window.session.params() == start
    assert window.readout.values["epoch"].text() == "0"
    assert window.step_buttons.state("zero_grad") == "next"


def test_display_detection() -> None:
    from gui_trainer.app import display_missing

    assert display_missing({}) is sys.platform.startswith("linux")
    assert display_missing({"DISPLAY": ":0"}) is False
    assert display_missing({"QT_QPA_PLATFORM": "offscreen"}) is False
