"""What a newcomer trips over in the first ten minutes, driven as a person would.

Keys go to whichever widget has the keyboard focus (as they do for a person), clicks go to
the real buttons, and typed text goes through the real fields.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QTextDocumentFragment
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QTabBar, QWidget
from pytestqt.qtbot import QtBot

from gui_trainer.core.experiments import BY_KEY
from gui_trainer.core.formatting import short
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.stages import LABELS, STAGES
from gui_trainer.qt.auto_train import SPEEDS
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.window_layout import dock_tab_groups
from tests.scripts import run_scripts


def focused(window: MainWindow) -> QWidget:
    widget = QApplication.focusWidget()
    return widget if widget is not None else window


def press(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> None:
    """A key pressed by a person: it goes to whatever has the keyboard focus."""
    qtbot.keyClick(focused(window), key)


def type_text(qtbot: QtBot, window: MainWindow, text: str) -> None:
    qtbot.keyClicks(focused(window), text)


def activate(window: MainWindow, qtbot: QtBot) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2_000)
    window.central.setFocus()


# -- 1. focus ----------------------------------------------------------------------------
def test_reveal_hands_the_keyboard_back_to_the_stages(window: MainWindow, qtbot: QtBot) -> None:
    activate(window, qtbot)
    window.actions_by_name["predict"].trigger()  # Run ▸ Predict Before Backward and Step
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4):
        press(qtbot, window, key)
    panel = window.predict_panel
    assert panel.isVisible() and window.session.last_stage == "loss"  # asked to guess
    qtbot.mouseClick(panel.negative, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.reveal_button, Qt.MouseButton.LeftButton)
    assert window.session.last_stage == "backward"
    assert focused(window) is not window.settings.lr_edit
    press(qtbot, window, Qt.Key.Key_5)  # Step: predict mode asks for the new weight first
    assert window.settings.lr_edit.text() == "0.01"
    assert focused(window) is panel.weight
    type_text(qtbot, window, "0.78")  # digits typed on purpose go into the guess
    press(qtbot, window, Qt.Key.Key_Return)
    record = window.controller.last_record
    assert record is not None and record.stage == "step" and record.lr == 0.01
    assert window.session.lr == 0.01 and window.settings.lr_edit.text() == "0.01"
    press(qtbot, window, Qt.Key.Key_1)  # and the next key drives the loop again
    assert window.session.last_stage == "zero_grad"


def test_a_field_the_focus_landed_in_by_accident_leaves_stage_keys_alone(
    window: MainWindow, qtbot: QtBot
) -> None:
    activate(window, qtbot)
    window.settings.lr_edit.setFocus(Qt.FocusReason.OtherFocusReason)  # not the learner's doing
    press(qtbot, window, Qt.Key.Key_1)
    press(qtbot, window, Qt.Key.Key_Space)
    assert window.session.stage_count == 2
    assert window.settings.lr_edit.text() == "0.01"


def test_a_typed_rate_applies_only_on_enter_or_a_deliberate_exit(
    window: MainWindow, qtbot: QtBot
) -> None:
    activate(window, qtbot)
    edit = window.settings.lr_edit
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)  # the learner clicks into the field
    edit.selectAll()
    type_text(qtbot, window, "0.5")
    assert window.session.stage_count == 0 and edit.text() == "0.5"  # typed, not run
    assert "Press Enter" in window.settings.lr_error.text()
    window.central.setFocus(Qt.FocusReason.OtherFocusReason)  # focus moved by the app
    assert window.session.lr == 0.01
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    press(qtbot, window, Qt.Key.Key_Return)
    assert window.session.lr == 0.5
    assert focused(window) is not edit  # the keys belong to the stages again
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    type_text(qtbot, window, "0.2")
    press(qtbot, window, Qt.Key.Key_Escape)  # Esc: back to the rate in force
    assert edit.text() == "0.5" and window.session.lr == 0.5
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    type_text(qtbot, window, "0.3")
    press(qtbot, window, Qt.Key.Key_Tab)  # leaving with Tab is deliberate: it applies
    assert window.session.lr == 0.3


# -- 7. silent refusals -------------------------------------------------------------------
def test_an_out_of_order_key_says_why(window: MainWindow, qtbot: QtBot) -> None:
    activate(window, qtbot)
    press(qtbot, window, Qt.Key.Key_1)
    press(qtbot, window, Qt.Key.Key_4)  # Backward while Forward is next: refused
    assert window.session.stage_count == 1
    message = window.statusBar().currentMessage()
    assert message == "Guided mode: the loop goes on with Forward, not Backward (switch to free " \
                      "mode to break the order)."
    tip = QTextDocumentFragment.fromHtml(window.step_buttons.buttons["backward"].toolTip())
    assert "Not now: Guided mode: the loop goes on with Forward" in tip.toPlainText()
    assert "Not now" not in window.step_buttons.buttons["forward"].toolTip()


def test_stage_keys_during_auto_train_say_why(window: MainWindow, qtbot: QtBot) -> None:
    activate(window, qtbot)
    window.auto_panel.speed.setValue(0)  # one stage a second: the run is surely on
    window.actions_by_name["train_start"].trigger()
    press(qtbot, window, Qt.Key.Key_Space)
    assert "Auto-train is running" in window.statusBar().currentMessage()
    window.actions_by_name["train_stop"].trigger()


def test_no_tooltip_or_status_tip_shows_backticks(window: MainWindow) -> None:
    for action in window.actions_by_name.values():
        assert "`" not in QTextDocumentFragment.fromHtml(action.toolTip()).toPlainText()
        assert "`" not in action.statusTip()


# -- no duplicates -------------------------------------------------------------------------
def test_status_bar_does_not_repeat_the_banner(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.mouseClick(window.step_buttons.buttons["zero_grad"], Qt.MouseButton.LeftButton)
    record = window.controller.last_record
    assert record is not None
    assert record.explanation in window.report.text()
    message = window.statusBar().currentMessage()
    assert record.explanation not in message
    assert message == "Zero Grad ran · epoch 0 · next: Forward (key 2)"


def test_stages_faster_than_frames_show_one_stage_everywhere(window: MainWindow) -> None:
    """At 50 stages a second the banner, worked math and status line said Backward while
    the buttons, values and plots (drawn once a frame) still showed Forward. Records now
    reach every panel with the same frame."""
    window.frame.flush()
    shown = window.report.text()
    window.frame._interval = 10.0  # the next frame is a long way off, as in a fast run
    window.controller.run_stage("zero_grad")
    window.controller.run_stage("forward")
    assert window.report.text() == shown  # nothing runs ahead of the frame
    assert "Forward" not in window.statusBar().currentMessage()
    assert window.step_buttons.state("forward") != "done"
    window.frame.flush()  # the frame: everything at once
    forward = window.controller.last_record
    assert forward is not None and forward.stage == "forward"
    assert forward.explanation in window.report.text()
    assert window.math_panel.record is forward
    assert window.statusBar().currentMessage() == "Forward ran · epoch 0 · next: Loss (key 3)"
    assert window.step_buttons.state("forward") == "done"


def test_menus_and_title_name_each_thing_once(window: MainWindow) -> None:
    texts = [action.text() for menu in window.menuBar().actions()
             for action in menu.menu().actions()]  # type: ignore[attr-defined]
    assert texts.count("Reset Layout") == 1
    assert "gui_trainer" not in window.windowTitle()  # Qt adds the app's name itself


# -- input messages -----------------------------------------------------------------------
def test_a_rate_above_the_limit_says_the_limit(window: MainWindow, qtbot: QtBot) -> None:
    window.settings.lr_edit.setText("1e9")
    qtbot.keyClick(window.settings.lr_edit, Qt.Key.Key_Return)
    assert window.session.lr == 0.01
    assert ("1e9 is above the largest allowed learning rate, 1e6. The learning rate stays 0.01."
            in window.settings.lr_error.text())


def test_zero_epochs_is_refused_with_a_message(window: MainWindow, qtbot: QtBot) -> None:
    activate(window, qtbot)
    spin = window.auto_panel.epochs
    qtbot.mouseClick(spin, Qt.MouseButton.LeftButton)  # the learner chooses the field
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "0")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.trainer.target == 100 and spin.value() == 100
    error = window.auto_panel.epochs_error
    assert error.isVisible() and "at least 1 epoch" in error.text()
    qtbot.mouseClick(spin, Qt.MouseButton.LeftButton)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "250")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.trainer.target == 250 and not error.isVisible()


def test_a_number_box_hands_the_keys_back_after_enter_or_esc(
    window: MainWindow, qtbot: QtBot
) -> None:
    """Typing epochs and pressing Enter, then 1: the stage runs, it is not typed as "1"."""
    activate(window, qtbot)
    spin = window.auto_panel.epochs
    qtbot.mouseClick(spin, Qt.MouseButton.LeftButton)
    spin.lineEdit().selectAll()
    type_text(qtbot, window, "40")
    press(qtbot, window, Qt.Key.Key_Return)
    assert window.trainer.target == 40
    assert focused(window) is not spin
    press(qtbot, window, Qt.Key.Key_1)
    assert window.session.last_stage == "zero_grad"
    assert spin.value() == 40 and window.trainer.target == 40
    # Esc: the number in force stays, and the keys go back too.
    qtbot.mouseClick(spin, Qt.MouseButton.LeftButton)
    spin.lineEdit().selectAll()
    type_text(qtbot, window, "7")
    press(qtbot, window, Qt.Key.Key_Escape)
    assert focused(window) is not spin
    assert spin.value() == 40 and window.trainer.target == 40
    press(qtbot, window, Qt.Key.Key_2)
    assert window.session.last_stage == "forward"
    # Every number box of the window, as the learner can reach it now.
    boxes = [box for box in window.findChildren(QAbstractSpinBox)
             if box.isVisibleTo(window) and box.isEnabled()]
    assert len(boxes) >= 2
    for box in boxes:
        box.window().activateWindow()
        before = box.value()
        box.setFocus(Qt.FocusReason.TabFocusReason)  # the learner tabbed in
        box.lineEdit().selectAll()
        type_text(qtbot, window, "3")
        press(qtbot, window, Qt.Key.Key_Escape)
        assert focused(window) is not box, box.objectName()
        assert box.value() == before, box.objectName()


def test_micro_batch_choices_read_as_english(window: MainWindow) -> None:
    items = [window.settings.micro.itemText(i) for i in range(window.settings.micro.count())]
    assert items == ["1 (full batch)", "2 (2 samples each)", "4 (1 sample each)"]


# -- 3. panels after auto-train -------------------------------------------------------------
def test_panels_show_where_a_fast_run_ended(window: MainWindow, qtbot: QtBot) -> None:
    for stage in STAGES[:3]:  # a manual loss first: the number that used to stay on screen
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    manual_loss = window.session.loss.item()  # type: ignore[union-attr]
    window.auto_panel.speed.setValue(len(SPEEDS) - 1)
    window.auto_panel.epochs.setValue(400)
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.session.epoch > 0, timeout=5_000)
    if window.trainer.state == "running":
        window.frame.flush()
        assert "paused" in window.math_panel.text.toPlainText()
        assert "paused" in window.code_panel.text.toPlainText()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    window.frame.flush()
    last = window.controller.last_record
    assert last is not None and last.stage == "step" and last.epoch == 400
    assert window.math_panel.record is last
    assert "paused" not in window.math_panel.text.toPlainText()
    code = window.code_panel.text.toPlainText()
    loss_record = window.controller.latest["loss"]
    assert f"loss = {short(loss_record.loss)}" in code
    assert f"loss = {short(manual_loss)}" not in code
    assert "epoch = 400" in code
    assert "done" in window.report.text()
    window.actions_by_name["train_start"].trigger()  # a new run: the banner says so
    assert "running" in window.report.text() and "done" not in window.report.text()
    window.actions_by_name["train_stop"].trigger()


# -- 6. the timeline bar follows every change --------------------------------------------
def test_settings_changes_appear_on_the_timeline_bar(window: MainWindow, qtbot: QtBot) -> None:
    label = window.timeline_bar.label
    qtbot.mouseClick(window.findChild(QWidget, "lr_preset_0.1"), Qt.MouseButton.LeftButton)
    window.frame.flush()
    assert label.text().startswith("1 / 1 · lr = 0.1")
    window.settings.optimizer.setCurrentIndex(window.settings.optimizer.findData("adam"))
    window.frame.flush()
    assert label.text().startswith("2 / 2 · optimizer_name = adam")
    qtbot.mouseClick(window.settings.to_none, Qt.MouseButton.LeftButton,
                     pos=QPoint(8, window.settings.to_none.height() // 2))
    window.frame.flush()
    assert label.text().startswith("3 / 3 · set_to_none = False")
    assert window.timeline_bar.slider.maximum() == 3


def test_the_slider_cannot_ask_for_a_position_that_is_gone(
    window: MainWindow, qtbot: QtBot
) -> None:
    for stage in STAGES:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    for _ in range(3):
        window.actions_by_name["undo"].trigger()
    window.settings.choose_lr(0.1)  # cuts the redo tail: 2 stages + this change
    window.frame.flush()
    slider = window.timeline_bar.slider
    assert slider.maximum() == 3
    slider.setValue(slider.maximum())
    qtbot.wait(100)
    assert window.session.position == 3


# -- 4. experiments say what happened -------------------------------------------------------
def test_an_experiment_with_adam_reports_what_adam_did(window: MainWindow, qtbot: QtBot) -> None:
    window.settings.optimizer.setCurrentIndex(window.settings.optimizer.findData("adam"))
    window.experiments.interval_ms = 1
    window.experiment_actions["skip_zero_grad"].trigger()
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=10_000)
    text = window.experiment_panel.text.text()
    assert "What it showed" in text and "Adam" in text
    assert "the steps grew" not in text


def test_switching_to_guided_stops_an_experiment_and_says_so(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.experiments.interval_ms = 20
    window.start_experiment(BY_KEY["skip_backward"])
    qtbot.waitUntil(lambda: window.experiments.done >= 2, timeout=5_000)
    window.settings.mode_buttons["guided"].setChecked(True)
    qtbot.waitUntil(lambda: not window.experiments.running, timeout=5_000)
    text = window.experiment_panel.text.text()
    assert "Stopped early" in text and "What it showed" not in text
    assert f"of {len(BY_KEY['skip_backward'].stages)} stages ran" in text


# -- 8. the code a learner copies runs --------------------------------------------------------
def test_the_copied_script_runs_and_ends_at_the_apps_weights(
    window: MainWindow, qtbot: QtBot
) -> None:
    for _ in range(2):
        for stage in STAGES:
            qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    window.frame.flush()
    qtbot.mouseClick(window.findChild(QWidget, "code_copy"), Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    shown = window.code_panel.text.toPlainText()
    for output in run_scripts([copied, shown]):
        assert output.split() == [
            "weight:", repr(window.session.weight.item()),
            "bias:", repr(window.session.bias.item())]


# -- 5. the window fits the screen ------------------------------------------------------------
def only_current_tab_bars(window: MainWindow) -> bool:
    """Every dock tab bar on show belongs to a group of docks as they are tabbed now."""
    bars = [bar for bar in window.findChildren(QTabBar)
            if bar.parent() is window and bar.isVisible()]
    groups = dock_tab_groups(window)
    return bool(bars) and all(frozenset(b.tabText(i) for i in range(b.count())) in groups
                              for b in bars)


def test_the_window_fits_a_small_screen_with_docks_as_tabs(window: MainWindow) -> None:
    available = window.screen().availableGeometry()  # the offscreen screen: 800 × 800
    assert window.compact
    assert window.width() <= available.width() and window.height() <= available.height()
    assert window.minimumSizeHint().width() <= available.width()
    assert window.minimumSizeHint().height() <= available.height()
    tabbed = window.tabifiedDockWidgets(window.docks["controls"])
    assert window.docks["math"] in tabbed and window.docks["code"] in tabbed
    assert window.docks["skipping"] in window.tabifiedDockWidgets(window.docks["loop"])
    # No tab bar of an earlier grouping peeks out over the plots (Qt leaves them visible).
    assert only_current_tab_bars(window)
    window.reset_layout()
    assert only_current_tab_bars(window)
    for plot in (window.fit_plot, window.loss_plot, window.grad_plot):
        if window.plot_tabs is not None:  # 800 wide: one plot at a time
            window.plot_tabs.setCurrentWidget(plot)
            QApplication.processEvents()
        assert plot.canvas.width() >= 300 and plot.canvas.height() >= 150, plot.objectName()


def window_on_screen(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                     width: int, height: int) -> MainWindow:
    """A window that believes its screen has ``width`` × ``height`` available."""
    from PySide6.QtCore import QRect

    from gui_trainer.app import create_window

    class Screen:
        def availableGeometry(self) -> QRect:
            return QRect(0, 0, width, height)

    monkeypatch.setattr(MainWindow, "screen", lambda self: Screen())
    window = create_window()
    qtbot.addWidget(window)
    return window


def test_a_large_screen_gets_the_side_by_side_layout(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = window_on_screen(qtbot, monkeypatch, 1920, 1080)
    assert not window.compact
    assert (window.width(), window.height()) == (1600, 1000)
    assert window.dockWidgetArea(window.docks["controls"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.tabifiedDockWidgets(window.docks["math"]) == []
    # The seed's gradient panel as it always was here: the bars and the history side by side.
    grads = window.grad_plot
    window.show()
    QApplication.processEvents()
    assert grads.width() > 300  # laid out in the window
    assert grads.arrangement() == "side"
    assert grads.now in grads.canvas.ci.items and grads.history in grads.canvas.ci.items
    assert not grads.view_tabs.isVisible()


def test_a_200_percent_screen_shows_one_plot_at_a_time(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1600 × 1000 at 200 % leaves 800 × 500: every part must still fit and be usable."""
    window = window_on_screen(qtbot, monkeypatch, 800, 500)
    window.show()
    qtbot.waitExposed(window)
    assert window.width() <= 800 and window.height() <= 500
    tabs = window.plot_tabs
    assert tabs is not None
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "Data fit", "Loss history", "Gradients"]
    assert window.fit_plot.canvas.height() >= 150


def test_the_first_stage_labels_match(window: MainWindow) -> None:
    assert [window.step_buttons.buttons[s].text() for s in STAGES] == [LABELS[s] for s in STAGES]


# -- what a walk through the app on a virtual screen found -----------------------------------
def test_predict_questions_do_not_widen_the_window(window: MainWindow, qtbot: QtBot) -> None:
    available = window.screen().availableGeometry()
    window.actions_by_name["predict"].trigger()
    for stage in STAGES[:4]:
        window.request_stage(stage)
    QApplication.processEvents()
    assert window.predict_panel.isVisible()
    assert window.width() <= available.width()
    assert window.predict_panel.question.wordWrap() and window.predict_panel.result.wordWrap()


def test_the_progress_bar_counts_to_the_epochs_chosen(window: MainWindow) -> None:
    window.auto_panel.epochs.setValue(2000)
    window.frame.request()
    window.frame.flush()
    assert window.auto_panel.bar.maximum() == 2000
    assert window.auto_panel.bar.text() == "epoch 0 of 2000"


def test_a_new_scenario_or_run_does_not_show_the_last_runs_words(
        window: MainWindow, qtbot: QtBot) -> None:
    window.auto_panel.epochs.setValue(5)
    window.trainer.start()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    window.frame.flush()
    assert window.auto_panel.bar.text() == "epoch 5 of 5"
    assert "Auto-train done" in window.statusBar().currentMessage()
    window.trainer.start()  # a second run: the first one's "done" is not its news
    assert window.trainer.state == "running"
    assert window.statusBar().currentMessage() == ""
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    window.controller.open_scenario(SCENARIOS["curve"])
    window.frame.request()
    window.frame.flush()
    assert window.auto_panel.bar.text() == "epoch 0 of 5"  # not the delivery run's 5 of 5
    window.controller.switch_back()
    window.frame.request()
    window.frame.flush()
    assert window.auto_panel.bar.text() == "epoch 0 of 5"


def test_a_refused_rate_does_not_stay_in_the_field_after_leaving_it(
    window: MainWindow, qtbot: QtBot
) -> None:
    activate(window, qtbot)
    edit = window.settings.lr_edit
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    type_text(qtbot, window, "1e9")
    press(qtbot, window, Qt.Key.Key_Tab)  # leaves the field on purpose: applied, refused
    assert window.session.lr == 0.01
    assert edit.text() == "0.01"  # the field shows the rate in force again
    assert "1e9 is above the largest allowed learning rate" in window.settings.lr_error.text()


def test_a_gradient_that_is_none_draws_no_bar(window: MainWindow, qtbot: QtBot) -> None:
    window.frame.flush()
    brushes = window.grad_plot.bars.opts["brushes"]
    assert all(pg_colour(b).alpha() == 0 for b in brushes)  # .grad is None: no bar
    for stage in STAGES[:4]:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    window.frame.flush()
    brushes = window.grad_plot.bars.opts["brushes"]
    assert all(pg_colour(b).alpha() == 255 for b in brushes)


def pg_colour(brush: object) -> QColor:
    import pyqtgraph as pg

    colour: QColor = pg.mkBrush(brush).color()
    return colour


def test_the_skipping_table_has_no_second_title(window: MainWindow) -> None:
    text = window.skipping.toPlainText()
    assert not text.startswith("What breaks when a stage is skipped")
    assert "Gradients pile up" in text


def test_a_refused_stage_key_is_not_typed_into_a_field_by_accident(
    window: MainWindow, qtbot: QtBot
) -> None:
    activate(window, qtbot)
    window.settings.lr_edit.setFocus(Qt.FocusReason.OtherFocusReason)  # not the learner's doing
    press(qtbot, window, Qt.Key.Key_3)  # Loss while Zero Grad is next: refused
    assert window.settings.lr_edit.text() == "0.01"
    assert window.statusBar().currentMessage().startswith(
        "Guided mode: the loop goes on with Zero Grad, not Loss")
    qtbot.mouseClick(window.step_buttons.buttons["zero_grad"], Qt.MouseButton.LeftButton)
    assert window.session.lr == 0.01


def test_a_window_closed_twice_and_shown_again_follows_the_desktop(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.close()
    window.close()  # no "failed to disconnect" warning (warnings fail tests)
    window.show()
    qtbot.waitExposed(window)
    assert window._follows_desktop
