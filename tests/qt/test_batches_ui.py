"""Choosing the DataLoader's batches in the window; epoch and iteration; the loss per step."""

from __future__ import annotations

from html import unescape

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.stages import STAGES
from gui_trainer.qt.main_window import MainWindow


def run_loop(window: MainWindow, times: int = 1) -> None:
    for _ in range(times):
        for stage in STAGES:
            window.actions_by_name[stage].trigger()
    window.frame.flush()


def choose_batch(window: MainWindow, size: int | None) -> None:
    """A preset picked from the list, or any other size typed and entered."""
    combo = window.settings.batch
    index = combo.findData(size)
    if index >= 0:
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
    else:
        line = combo.lineEdit()
        assert line is not None
        line.setText(str(size))
        line.returnPressed.emit()
    window.frame.flush()
    assert window.session.batch_size == size


def test_presets_run_from_the_full_batch_to_one_sample(window: MainWindow) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    combo = window.settings.batch
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[0] == "full batch (200)" and texts[-1] == "1 (one sample at a time)"
    assert "32" in texts
    choose_batch(window, 32)
    session = window.session
    assert session.batch_size == 32 and len(session.loader) == 7
    readout = window.readout.values["iteration"]
    assert readout.isVisible() or window.readout.isHidden()
    assert readout.text() == "1 of 7 (0 steps done)"
    run_loop(window, 2)
    assert readout.text() == "3 of 7 (2 steps done)"
    assert window.readout.values["epoch"].text() == "0"


def test_a_typed_size_is_applied_and_a_bad_one_refused(window: MainWindow, qtbot: QtBot) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    messages: list[str] = []
    window.controller.message.connect(messages.append)
    combo = window.settings.batch
    line = combo.lineEdit()
    assert line is not None
    line.setText("abc")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert window.session.batch_size is None
    assert "batch_size must be a whole number" in messages[-1]
    line.setText("7")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    window.frame.flush()
    assert window.session.batch_size == 7
    assert combo.currentText() == "7"
    line.setText("500")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert window.session.batch_size == 7 and "from 1 to 200" in messages[-1]


def test_shuffle_and_micro_batches_follow_the_loader(window: MainWindow) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    window.settings.shuffle.setChecked(True)
    assert window.session.shuffle
    choose_batch(window, 50)
    micro = window.settings.micro
    assert [micro.itemText(i) for i in range(micro.count())] == [
        "1 (a step per batch)", "2 (a step every 2 batches)", "4 (a step every 4 batches)"]
    assert window.settings.drop_last.isEnabled()  # a batch size: drop_last applies
    window.actions_by_name["undo"].trigger()
    window.frame.flush()
    assert window.session.batch_size is None
    assert micro.itemText(1).endswith("(100 samples each)")


def test_the_loss_plot_shows_each_steps_batch_loss_and_the_epoch_means(
        window: MainWindow) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    plot = window.loss_plot
    run_loop(window, 2)
    assert not plot.mini_batches
    assert plot.batch_curve.xData is None or len(plot.batch_curve.xData) == 0
    choose_batch(window, 50)
    run_loop(window, 6)  # 4 steps an epoch: one full epoch and half of the next
    assert plot.mini_batches
    xs, ys = plot.batch_curve.xData, plot.batch_curve.yData  # as given (the axis is log)
    assert list(xs) == [1, 2, 3, 4, 5, 6, 7, 8]
    history = window.session.history
    assert list(ys) == list(history.column("batch_loss"))
    mean_x, mean_y = plot.epoch_mean.xData, plot.epoch_mean.yData
    batch = history.column("batch_loss")
    # epochs: the two full-batch steps, the first epoch of 4 batches, then 2 steps of the next
    assert list(mean_x) == [1, 2, 6, 8]
    assert mean_y[2] == batch[2:6].sum() / 4
    assert "epoch mean of batch losses" in plot.legend.text()
    assert plot.plot.getAxis("bottom").labelText == "step (iteration)"


def test_the_fit_panel_rings_the_current_batch(window: MainWindow) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    fit = window.fit_plot
    run_loop(window)
    assert not fit.batched and "this step's batch" not in unescape(fit.legend.text())
    choose_batch(window, 16)
    window.settings.shuffle.setChecked(True)
    run_loop(window)
    window.frame.flush()
    session = window.session
    xs, ys = fit.batch_ring.xData, fit.batch_ring.yData
    rows = list(session.group_rows())
    assert len(rows) == 16 and fit.batched
    assert list(xs) == list(session.inputs[rows, 0].double().numpy())
    assert list(ys) == list(session.inputs[rows, 1].double().numpy())
    assert "this step's batch" in unescape(fit.legend.text())


def test_the_loop_diagram_and_status_say_which_step_of_the_epoch(window: MainWindow) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    run_loop(window)
    assert window.loop_diagram.centre == "epoch 1"
    choose_batch(window, 64)  # 4 batches: 64, 64, 64 and the last 8
    run_loop(window)
    assert window.loop_diagram.centre == "epoch 1\nstep 2 of 4"
    window.settings.drop_last.setChecked(True)  # the short batch dropped: 3 an epoch
    window.frame.flush()
    assert window.session.drop_last and len(window.session.loader) == 3
    assert window.loop_diagram.centre == "epoch 1\nstep 1 of 3"  # a new loader, a new epoch
