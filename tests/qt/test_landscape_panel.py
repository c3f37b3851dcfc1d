"""The landscape panel: the surface for the range in view, the path, and click-to-start."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui_trainer.core.landscape import loss_grid, trajectory
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.qt.landscape_panel import ASK_FOR_SLICE, GRID, SLICE_CAPTION
from gui_trainer.qt.main_window import MainWindow


def show_landscape(window: MainWindow) -> None:
    window.docks["landscape"].show()
    window.docks["landscape"].raise_()
    window.refresh_now()


def test_the_map_draws_the_surface_in_view_and_the_runs_path(
    window: MainWindow, qtbot: QtBot
) -> None:
    for _ in range(8):
        window.session.run_epoch()
    window.controller.publish(None)
    show_landscape(window)
    panel = window.landscape_panel
    assert panel.state is not None
    panel._compute_surface()
    (x0, x1), (y0, y1) = panel.map.viewRange()
    expected = loss_grid(window.session, np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
    shown = panel.surface.image
    assert shown is not None and shown.shape == (GRID, GRID)
    np.testing.assert_allclose(shown, np.log10(expected.T), rtol=1e-6)
    xs, ys = panel.path.getData()
    path = trajectory(window.session)
    np.testing.assert_array_equal(xs[1:], path[:, 0])  # the start, then every step
    np.testing.assert_array_equal(ys[1:], path[:, 1])
    panel.map.setRange(xRange=(-50, 50), yRange=(-50, 50), padding=0)  # a pan and zoom
    qtbot.waitUntil(lambda: panel.grid_range is not None
                    and abs(panel.grid_range.left() + 50) < 1e-6, timeout=2_000)


def test_clicking_the_map_starts_a_run_there_and_undo_takes_it_back(
    window: MainWindow, qtbot: QtBot
) -> None:
    show_landscape(window)
    panel = window.landscape_panel

    class Click:
        def __init__(self, point: QPointF) -> None:
            self.point = point

        def button(self) -> Qt.MouseButton:
            return Qt.MouseButton.LeftButton

        def double(self) -> bool:
            return False

        def scenePos(self) -> QPointF:
            return self.point

    target = QPointF(3.0, 4.0)
    panel.map.setRange(xRange=(0, 6), yRange=(0, 8), padding=0)
    QApplication.processEvents()
    panel._clicked(Click(panel.map.vb.mapViewToScene(target)))
    start = window.session.start
    assert start is not None and abs(start[0] - 3.0) < 0.05 and abs(start[1] - 4.0) < 0.05
    assert window.session.params().weight == np.float32(start[0])
    assert "Ctrl+Z" in window.statusBar().currentMessage()
    window.controller.undo()
    assert window.session.start is None


def test_a_network_gets_a_slice_computed_off_the_gui_thread(
    window: MainWindow, qtbot: QtBot
) -> None:
    from gui_trainer.core.landscape import slice_grid, slice_job

    window.controller.open_scenario(SCENARIOS["moons"])
    window.session.run_epoch()
    window.controller.publish(None)
    show_landscape(window)
    panel = window.landscape_panel
    assert panel.state is None and panel.slice_bar.isVisibleTo(panel)
    assert panel.slice_text.text() == ASK_FOR_SLICE
    panel.slice_button.click()
    assert panel.slicing and not panel.slice_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.slicing, timeout=20_000)
    shown = panel.surface.image
    expected = slice_grid(slice_job(window.session))  # the same seed: the same directions
    assert shown is not None and expected is not None
    np.testing.assert_allclose(shown, np.log10(expected.astype(np.float64)).T, rtol=1e-6)
    centre = expected[len(expected) // 2, len(expected) // 2]
    # The dot is the weights now: the loss there is the session's own, to float32 rounding
    # (vmap batches the layers' matrix products, which sums in another order).
    assert centre == pytest.approx(window.session.full_batch_loss(), rel=1e-6)
    assert panel.slice_text.text().startswith(SLICE_CAPTION)


def test_a_slice_can_be_cancelled(window: MainWindow, qtbot: QtBot) -> None:
    window.controller.open_scenario(SCENARIOS["digits"])
    show_landscape(window)
    panel = window.landscape_panel
    panel.slice_button.click()
    panel.cancel_slice()
    qtbot.waitUntil(lambda: not panel.slicing, timeout=20_000)
    assert panel.slice_text.text().startswith("Slice cancelled")
    assert panel.surface.image is None and panel.slice_button.isEnabled()


def test_a_run_that_diverged_still_gets_a_map(window: MainWindow, qtbot: QtBot) -> None:
    window.controller.set_lr(1.0)
    for _ in range(80):
        window.session.run_epoch()
    assert not np.isfinite(window.session.history.column("loss")[-1])
    window.controller.publish(None)
    with qtbot.capture_exceptions() as raised:
        show_landscape(window)
        window.landscape_panel._compute_surface()
    assert raised == []
    image = window.landscape_panel.surface.image
    assert image is None or np.isfinite(image).all()


def test_runs_from_the_same_start_are_drawn_side_by_side_and_named(
    window: MainWindow, qtbot: QtBot
) -> None:
    show_landscape(window)
    for optimizer in ("sgd", "adam"):
        window.controller.set_optimizer(optimizer)
        for _ in range(5):
            window.session.run_epoch()
        window.controller.reset()
    window.refresh_now()
    panel = window.landscape_panel
    assert len(panel.earlier_labels) == 2
    assert "SGD" in panel.earlier_labels[0] and "Adam" in panel.earlier_labels[1]
    for curve, path in zip(panel.earlier, panel.state.earlier, strict=True):  # type: ignore[union-attr]
        xs, ys = curve.getData()
        np.testing.assert_array_equal(xs, path.points[:, 0])
        np.testing.assert_array_equal(ys, path.points[:, 1])
    legend = panel.legend.text()
    assert all(label in legend for label in panel.earlier_labels)
