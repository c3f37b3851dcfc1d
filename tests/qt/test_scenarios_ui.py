"""Every scenario in the real window: chosen from the Scenario menu, clicked through the five
stages, auto-trained; the views draw its task; Back returns to the session as it was; a
learner's CSV opens through File ▸ Open Data…, and a bad one is refused, changing nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from gui_trainer.core.formatting import short
from gui_trainer.core.models import ModelSpec
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.stages import STAGES
from gui_trainer.qt.fit_views import ConfusionFit, CurveFit, PictureFit, RegionFit
from gui_trainer.qt.main_window import MainWindow

PAINTERS = {"delivery": CurveFit, "curve": CurveFit, "overfit": CurveFit, "moons": RegionFit,
            "spiral": RegionFit,
            "digits": PictureFit}


def click_loop(window: MainWindow, qtbot: QtBot) -> None:
    for stage in STAGES:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_runs_from_its_menu_and_draws_its_task(
        window: MainWindow, qtbot: QtBot, name: str) -> None:
    window.scenario_menu.actions_by_name[name].trigger()
    assert window.session.scenario.name == name
    assert window.scenario_menu.actions_by_name[name].isChecked()
    click_loop(window, qtbot)
    window.refresh_now()
    assert window.session.epoch == 1
    painter = window.fit_plot.painter
    assert type(painter) is PAINTERS[name]
    one = window.session.one_neuron
    if not one:
        names = [n for n, _ in window.session.model.named_parameters()]
        assert window.grad_plot.tensor_names == tuple(names)
        text = window.readout.values["tensors"].text()
        rows = [row.split() for row in text.splitlines()]
        assert rows[0] == ["tensor", "‖p‖", "‖grad‖"]
        assert rows[1:] == [[t.name, short(t.norm, 3), short(t.grad_norm, 3)]
                            for t in window.session.params().tensors]
        assert [row[0] for row in rows[1:]] == names
        heights = window.grad_plot.layered.bars.opts["height"]  # type: ignore[union-attr]
        grads = [p.grad for p in window.session.model.parameters()]
        expected = [float(g.norm()) for g in grads if g is not None]
        assert len(expected) == len(names)
        assert list(heights) == pytest.approx(expected, rel=1e-6)
    window.trainer.target = 5
    window.auto_panel.speed.setValue(window.auto_panel.speed.maximum())
    window.actions_by_name["train_start"].trigger()
    qtbot.waitUntil(lambda: window.trainer.state == "idle", timeout=20_000)
    assert window.session.epoch == 6


def test_decision_regions_are_the_models_own_choice(window: MainWindow, qtbot: QtBot) -> None:
    window.scenario_menu.actions_by_name["moons"].trigger()
    window.refresh_now()
    painter = window.fit_plot.painter
    assert isinstance(painter, RegionFit)
    picked = window.session.predict_array(painter.grid).argmax(axis=1)
    image = painter.image.image
    assert image is not None
    colours_drawn = image.reshape(-1, 4)
    np.testing.assert_array_equal(colours_drawn, painter.table[picked])


def test_the_confusion_matrix_counts_the_models_answers(window: MainWindow) -> None:
    window.scenario_menu.actions_by_name["digits"].trigger()
    window.refresh_now()
    painter = window.fit_plot.painter
    assert isinstance(painter, ConfusionFit)
    matrix = painter.matrix(window.controller.capture())
    guesses = window.session.predict_array(window.session.inputs.numpy()).argmax(axis=1)
    assert matrix.sum() == 1797
    assert np.trace(matrix) == int((guesses == window.session.targets.numpy()).sum())


def test_every_mistake_is_shaded_and_counts_show_when_cells_are_big_enough(
        window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    window.scenario_menu.actions_by_name["digits"].trigger()
    click_loop(window, qtbot)
    window.refresh_now()
    painter = window.fit_plot.painter
    assert isinstance(painter, PictureFit)
    view = painter.plot.getViewBox()
    for pixels, shown in ((40.0, True), (10.0, False)):
        monkeypatch.setattr(view, "viewPixelSize", lambda p=pixels: (1 / p, 1 / p))
        state = window.controller.capture()
        painter.refresh(state)
        matrix = painter.matrix(state)
        alpha = painter.image.image[..., 3]
        wrong = ~np.eye(10, dtype=bool) & (matrix > 0)
        assert wrong.any() and (alpha[wrong] >= 70).all()  # even a single mistake shows
        assert (alpha[matrix == 0] == 0).all()
        ticks = painter.plot.getAxis("left")._tickLevels[0]
        assert [name for _, name in ticks] == (
            [str(k) for k in range(10)] if shown else ["0", "2", "4", "6", "8"])
        texts = np.array([[item.textItem.toPlainText() for item in row] for row in painter.counts])
        expected = np.where(matrix > 0, matrix.astype(str), "") if shown else np.full((10, 10), "")
        assert (texts == expected).all()


def test_counts_show_only_where_they_fit_their_cells(
        window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen at 1920 × 1080: counts of three digits ("181") ran into the next cell's count.
    A count shows only when the widest of them fits its cell with room to spare."""
    from PySide6.QtGui import QFontMetricsF

    window.scenario_menu.actions_by_name["digits"].trigger()
    click_loop(window, qtbot)
    painter = window.fit_plot.painter
    assert isinstance(painter, PictureFit)
    state = window.controller.capture()
    matrix = painter.matrix(state)
    widest = QFontMetricsF(painter.counts[0][0].textItem.font()).horizontalAdvance(
        str(int(matrix.max())))
    # Three digits: a cell 3 px wider than them passed the old 24 px rule, yet crowded.
    assert int(matrix.max()) >= 100 and widest + 3 > 24
    view = painter.plot.getViewBox()
    for pixels, shown in ((widest + 3, False), (widest + 8, True)):
        monkeypatch.setattr(view, "viewPixelSize", lambda p=pixels: (1 / p, 1 / p))
        painter.refresh(state)
        texts = [item.textItem.toPlainText() for row in painter.counts for item in row]
        assert any(texts) == shown, pixels


def test_the_digit_pictures_are_drawn_in_the_themes_colours(window: MainWindow) -> None:
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from gui_trainer.qt.theme import colours

    window.scenario_menu.actions_by_name["digits"].trigger()
    window.refresh_now()
    for theme in ("dark", "light"):
        window.set_theme(theme)
        QApplication.processEvents()  # the palette change reaches the views as an event
        # No new frame: the switch alone redraws the cells and labels in the new colours.
        painter = window.fit_plot.painter
        assert isinstance(painter, PictureFit)
        good = QColor(colours().good)
        assert tuple(painter.image.image[0, 0, :3]) == (good.red(), good.green(), good.blue())
        assert painter.labels[0].color.name() in (good.name(), QColor(colours().bad).name())
        lut = painter.mosaic.lut
        assert lut is not None
        paper, ink = QColor(colours().plot_background), QColor(colours().plot_foreground)
        assert tuple(lut[0][:3]) == (paper.red(), paper.green(), paper.blue())
        assert tuple(lut[-1][:3]) == (ink.red(), ink.green(), ink.blue())


def test_back_returns_to_the_previous_session_exactly(window: MainWindow, qtbot: QtBot) -> None:
    click_loop(window, qtbot)
    delivery = window.session
    weight = delivery.weight.item()
    window.scenario_menu.actions_by_name["spiral"].trigger()
    assert window.session is not delivery
    assert window.scenario_menu.back.text() == f"Back to {delivery.scenario.title}"
    assert "Press Zero Grad (key 1) to begin." in window.report.text()
    window.scenario_menu.back.trigger()
    assert window.session is delivery and delivery.weight.item() == weight
    assert "Back where you left it: epoch 1, next Zero Grad." in window.report.text()
    assert window.session.epoch == 1
    window.refresh_now()
    assert isinstance(window.fit_plot.painter, CurveFit)
    assert window.settings.micro.count() == len(delivery.valid_micro_batches())


def test_a_learners_file_opens_and_a_bad_one_changes_nothing(
        window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "plants.csv"
    good.write_text("a,b,c,kind\n" + "\n".join(
        f"{i % 7},{i % 5},{i % 3},{i % 4}" for i in range(40)) + "\n", encoding="utf-8")
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b\n1,2\n3,oops\n", encoding="utf-8")
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)  # type: ignore[func-returns-value]
    monkeypatch.setattr("gui_trainer.qt.scenario_menu.OpenDataDialog.exec",
                        lambda dialog: 1)  # the learner presses Open with the defaults
    before = window.session
    window.open_data(str(bad))
    assert window.session is before
    assert shown and "line 3, column 'b': 'oops' is not a number" in shown[0]
    window.open_data(str(good))
    assert window.session.scenario.name == "file:plants.csv"
    assert window.session.scenario.task == "classification"
    window.refresh_now()
    assert isinstance(window.fit_plot.painter, ConfusionFit)
    assert not any(a.isChecked() for a in window.scenario_menu.actions_by_name.values())


def test_the_model_editor_restarts_with_the_model_and_back_undoes_it(
        window: MainWindow, qtbot: QtBot) -> None:
    editor = window.model_editor
    delivery = window.session
    assert not editor.restart.isEnabled() and not editor.width_box.isEnabled()
    editor.layers_box.setValue(2)
    editor.width_box.setValue(8)
    editor.activation_box.setCurrentIndex(editor.activation_box.findData("tanh"))
    assert editor.restart.isEnabled() and editor.width_box.isEnabled()
    qtbot.mouseClick(editor.restart, Qt.MouseButton.LeftButton)
    session = window.session
    assert session is not delivery and not session.one_neuron
    assert [type(m).__name__ for m in session.model.children()] == [
        "Linear", "Tanh", "Linear", "Tanh", "Linear"]
    expected = ModelSpec(2, 8, "tanh").build(1, 1, seed=delivery.seed)  # same seed, same start
    for ours, theirs in zip(session.model.parameters(), expected.parameters(), strict=True):
        assert torch.equal(ours.detach(), theirs.detach())
    assert not editor.restart.isEnabled()  # the model shown is the model trained
    click_loop(window, qtbot)
    assert session.epoch == 1
    edit_back = window.edit_back
    assert edit_back in window.menuBar().actions()[1].menu().actions()  # type: ignore[attr-defined]
    assert edit_back.isEnabled() and edit_back.text() == window.scenario_menu.back.text()
    edit_back.trigger()
    assert window.session is delivery and editor.layers_box.value() == 0


def test_the_layers_panel_shows_each_tensor_its_gradients_and_the_activations(
        window: MainWindow, qtbot: QtBot) -> None:
    window.scenario_menu.actions_by_name["moons"].trigger()
    click_loop(window, qtbot)
    window.docks["layers"].show()
    window.docks["layers"].raise_()
    window.refresh_now()
    panel = window.layers_panel
    session = window.session
    names = [n for n, _ in session.model.named_parameters()]
    assert [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())] == names  # type: ignore[union-attr]
    panel.table.selectRow(2)
    weight = dict(session.model.named_parameters())[names[2]].detach().numpy()
    shown = panel.heat_maps.values.image
    assert shown is not None
    np.testing.assert_array_equal(shown, weight.astype(np.float64))
    _, counts = panel.gradients.histogram.getData()
    assert counts is not None
    assert int(np.sum(counts)) == sum(p.numel() for p in session.model.parameters())
    _, logs = panel.gradients.curves[0].getData()
    ratio = session.tensor_history("update_ratio", names[0])[-1]
    assert logs is not None and logs[-1] == pytest.approx(np.log10(ratio))
    stats = session.activation_stats()
    text = panel.activity.text()
    assert all(f"{s.dead_units} of {s.units} units dead" in text for s in stats)
    grad_norm = float(dict(session.model.named_parameters())[names[2]].grad.norm())  # type: ignore[union-attr]
    header = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]  # type: ignore[union-attr]
    assert panel.table.item(2, header.index("‖grad‖")).text() == short(grad_norm, 4)  # type: ignore[union-attr]
    window.controller.run_stage("zero_grad")  # .grad is None: the histogram says so
    window.refresh_now()
    assert "none" in panel.gradients.histogram_plot.titleLabel.text
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())
            if panel.tabs.isTabVisible(i)] == ["Tensors", "Gradients", "Activations"]


def test_an_empty_gradient_chart_says_why(window: MainWindow, qtbot: QtBot) -> None:
    from gui_trainer.qt.plots import GRADS_NONE, GRADS_NOW

    window.scenario_menu.actions_by_name["moons"].trigger()
    window.refresh_now()
    now = window.grad_plot.now.titleLabel.text
    assert now == GRADS_NONE  # no Backward yet: every .grad is None
    click_loop(window, qtbot)
    window.refresh_now()
    assert window.grad_plot.now.titleLabel.text == GRADS_NOW


def test_predict_on_a_network_asks_about_its_layers_and_its_loss(
        window: MainWindow, qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt

    window.scenario_menu.actions_by_name["moons"].trigger()
    window.actions_by_name["predict"].setChecked(True)
    for stage in ("zero_grad", "forward", "loss", "backward"):
        window.actions_by_name[stage].trigger()
    panel = window.predict_panel
    names = [n for n, _ in window.session.model.named_parameters() if n.endswith("weight")]
    assert panel.isVisible() and [b.text() for b in panel.choices] == names
    assert not panel.positive.isVisible() and not panel.weight.isVisible()
    qtbot.mouseClick(panel.reveal_button, Qt.MouseButton.LeftButton)
    assert "Pick an answer" in panel.result.text() and window.session.last_stage == "loss"
    qtbot.mouseClick(panel.choices[0], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.reveal_button, Qt.MouseButton.LeftButton)
    assert window.session.last_stage == "backward"
    assert "largest gradient" in panel.result.text() and names[0] in panel.result.text()
    before = window.session.full_batch_loss()
    window.actions_by_name["step"].trigger()
    assert [b.text() for b in panel.choices] == ["lower", "not lower"]
    qtbot.mouseClick(panel.choices[0], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.reveal_button, Qt.MouseButton.LeftButton)
    after = window.session.full_batch_loss()
    assert window.session.last_stage == "step"
    assert f"from {short(before)} to {short(after)}" in panel.result.text()
    assert panel.result.text().startswith("<span") and (
        ("Right" in panel.result.text()) == (after < before))


def test_the_editor_adds_batchnorm_and_dropout_and_the_panels_show_them(
        window: MainWindow, qtbot: QtBot) -> None:
    """BatchNorm and dropout from the editor: the model is rebuilt with them, the Layers
    panel lists the running averages as buffers and draws the last forward's masks, and the
    curves say they are measured in eval mode."""
    window.scenario_menu.actions_by_name["curve"].trigger()
    editor = window.model_editor
    assert editor.batch_norm_box.isEnabled() and editor.dropout_box.text() == "off"
    editor.batch_norm_box.setChecked(True)
    editor.dropout_box.setValue(0.3)
    assert editor.restart.isEnabled()
    qtbot.mouseClick(editor.restart, Qt.MouseButton.LeftButton)
    session = window.session
    assert session.scenario.model_spec == ModelSpec(2, 16, "tanh", dropout=0.3, batch_norm=True)
    assert [type(m).__name__ for m in session.model.children()][:4] == [
        "Linear", "BatchNorm1d", "Tanh", "Dropout"]
    window.docks["layers"].show()
    window.docks["layers"].raise_()
    click_loop(window, qtbot)
    window.refresh_now()
    panel = window.layers_panel
    rows = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]  # type: ignore[union-attr]
    buffers = [f"{n} (buffer)" for n, _ in session.model.named_buffers()]
    assert rows == [n for n, _ in session.model.named_parameters()] + buffers
    buffer_row = rows.index("1.running_mean (buffer)")
    panel.table.selectRow(buffer_row)
    shown = panel.heat_maps.values.image
    assert shown is not None
    buffers_now = dict(session.model.named_buffers())
    np.testing.assert_array_equal(shown[0], buffers_now["1.running_mean"].numpy())
    assert panel.heat_maps.grads_plot.titleLabel.text == "a buffer: no .grad"
    panel.table.selectRow(rows.index("1.num_batches_tracked (buffer)"))  # a 0-d tensor
    assert panel.tabs.isTabVisible(panel.dropout_tab)
    forward = window.controller.latest["forward"]
    masks = panel.dropout.masks
    assert masks == forward.dropout_masks and len(masks) == 2
    image = panel.dropout.images[0].image
    assert image is not None
    np.testing.assert_array_equal(image, masks[0].kept.astype(np.float64))
    assert "eval mode" in " ".join(e.text for e in window.loss_plot.legend.entries())
    assert "eval mode" in " ".join(e.text for e in window.fit_plot.legend.entries())
    # the editor shows the model trained; with no hidden layer the options switch off
    editor.layers_box.setValue(0)
    assert not editor.batch_norm_box.isEnabled() and not editor.dropout_box.isEnabled()
    assert editor.spec() == ModelSpec(0, 16, "tanh")


OPEN_DIGITS_AFTER_THE_SEED = """
import gc, sys
from PySide6.QtWidgets import QApplication
from gui_trainer.app import create_window
from gui_trainer.core.scenarios import SCENARIOS
app = QApplication(sys.argv[:1])
window = create_window(remember=False)
window.resize(1600, 1000)
window.show()
window.controller.open_scenario(SCENARIOS["digits"])
gc.collect()
for _ in range(20):
    app.processEvents()
print("drawn", window.grad_plot.tensor_names is not None, flush=True)
"""


def test_plots_rebuilt_for_another_model_are_deleted_safely() -> None:
    """Opening digits after the seed rebuilds the gradient and fit plots; deleting the old
    ones while a layout pass was still due crashed Qt (a segfault: hence a process)."""
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", OPEN_DIGITS_AFTER_THE_SEED],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "drawn True" in result.stdout
