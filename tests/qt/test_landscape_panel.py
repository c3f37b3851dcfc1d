"""The landscape panel: the surface for the range in view, the path, and click-to-start."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from gui_trainer.core.landscape import loss_grid, trajectory
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.slices import path_plane, plane_caption, slice_grid
from gui_trainer.qt.folding_caption import MORE, FoldingCaption, first_sentence
from gui_trainer.qt.landscape_panel import (
    ASK_FOR_SLICE,
    GRID,
    SLICE_CAPTION,
    LandscapePanel,
    along_title,
)
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
    from gui_trainer.core.slices import slice_job

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
    assert panel.slice_text.text().startswith("Cancelled")
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


def drag(view: QWidget, start: QPoint, end: QPoint) -> None:
    """A real left-button drag on a widget: press, moves with the button held, release."""
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 11):
        at = QPointF(start + (end - start) * (k / 10))
        QApplication.sendEvent(view, QMouseEvent(
            QEvent.Type.MouseMove, at, view.mapToGlobal(at), Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_dragging_the_point_now_starts_a_run_where_it_is_let_go(
    window: MainWindow, qtbot: QtBot
) -> None:
    for _ in range(3):
        window.session.run_epoch()
    window.controller.publish(None)
    show_landscape(window)
    panel = window.landscape_panel
    steps = len(window.session.history)
    weight, bias = window.session.params().weight, window.session.params().bias
    panel.map.setRange(xRange=(weight - 4, weight + 4), yRange=(bias - 4, bias + 4),
                       padding=0)
    QApplication.processEvents()
    viewport = panel.canvas.viewport()

    def on_screen(x: float, y: float) -> QPoint:
        scene = panel.map.vb.mapViewToScene(QPointF(x, y))
        point: QPoint = panel.canvas.mapFromScene(scene)
        return point

    drag(viewport, on_screen(weight, bias), on_screen(weight + 2, bias - 1))
    start = window.session.start
    assert start is not None, window.statusBar().currentMessage()
    assert abs(start[0] - (weight + 2)) < 0.1 and abs(start[1] - (bias - 1)) < 0.1
    assert len(window.session.history.earlier_runs()) == 1
    # The point stays where it was let go: the new run's start, not the old run's end.
    qtbot.waitUntil(lambda: abs(panel.target.pos().x() - np.float32(start[0])) < 1e-6,
                    timeout=2_000)
    QApplication.processEvents()
    assert panel.target.pos().x() == pytest.approx(np.float32(start[0]))
    window.controller.undo()
    assert window.session.start is None and len(window.session.history) == steps
    # A drag elsewhere on the map pans it, and starts nothing.
    window.refresh_now()
    panel.map.setRange(xRange=(weight - 4, weight + 4), yRange=(bias - 4, bias + 4),
                       padding=0)
    QApplication.processEvents()
    before = panel.map.viewRange()
    drag(viewport, on_screen(weight - 3, bias + 3), on_screen(weight - 1, bias + 2))
    assert window.session.start is None and panel.map.viewRange() != before


def test_the_drag_is_refused_while_a_run_goes_and_the_point_goes_back(
    window: MainWindow, qtbot: QtBot
) -> None:
    show_landscape(window)
    panel = window.landscape_panel
    window.trainer.set_target(10_000)
    window.trainer.start()
    try:
        x, y = panel.state.current  # type: ignore[union-attr]
        panel.target.setPos(x + 1, y + 1)
        panel.target.sigPositionChangeFinished.emit(panel.target)
        assert window.session.start is None
        assert (panel.target.pos().x(), panel.target.pos().y()) == (x, y)
    finally:
        window.trainer.stop()


def test_a_networks_path_plane_draws_the_path_on_the_loss_of_its_plane(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    show_landscape(window)
    panel = window.landscape_panel
    panel.plane_button.click()  # before any step: no plane, said plainly
    assert not panel.slicing and "No path plane yet" in panel.slice_text.text()
    for _ in range(10):
        window.session.run_epoch()
    window.controller.publish(None)
    window.refresh_now()
    panel.plane_button.click()
    assert panel.slicing and not panel.plane_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.slicing, timeout=20_000)
    plane = path_plane(window.session)
    expected = slice_grid(plane.job)
    assert expected is not None
    np.testing.assert_allclose(panel.surface.image, np.log10(expected.astype(np.float64)).T,
                               rtol=1e-6)
    xs, ys = panel.path.getData()
    np.testing.assert_array_equal(xs, plane.path[:, 0])
    np.testing.assert_array_equal(ys, plane.path[:, 1])
    assert panel.slice_text.text() == plane_caption(plane)
    assert "projected" in panel.legend.text()
    panel.slice_button.click()  # the random slice has no path on it
    qtbot.waitUntil(lambda: not panel.slicing, timeout=20_000)
    assert panel.path.getData()[0] is None or len(panel.path.getData()[0]) == 0
    assert "projected" not in panel.legend.text()


def test_a_networks_loss_along_minus_grad_is_drawn_and_paused_at_full_speed(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.controller.open_scenario(SCENARIOS["curve"])
    show_landscape(window)
    panel = window.landscape_panel
    window.session.run_epoch()
    window.controller.publish(None)
    panel.resize(panel.width(), 300)  # a short dock: the map and the curve take turns
    QApplication.processEvents()
    window.refresh_now()
    assert not panel.along_shown and panel.along_state is None  # not computed unseen
    draws = window.frame.draws
    panel.view_tabs.setCurrentIndex(1)  # the learner turns to it: a frame draws it
    qtbot.waitUntil(lambda: window.frame.draws > draws, timeout=2_000)
    along = panel.along_state
    assert panel.along_shown and along is not None
    xs, ys = panel.along_curve.getData()
    np.testing.assert_array_equal(xs, along.t)
    np.testing.assert_array_equal(ys, along.loss)
    assert list(panel.along_step.getData()[0]) == [along.step_t]
    assert panel.along.titleLabel.text == along_title(along)
    assert "off line" in along_title(along)  # the curve's Adam does not follow −grad
    window.trainer.set_target(100_000)
    window.trainer.start()
    try:
        qtbot.waitUntil(lambda: window.trainer.batch_mode, timeout=5_000)
        window.refresh_now()
        assert panel.along_state is None and "paused" in panel.along.titleLabel.text
    finally:
        window.trainer.stop()


def test_a_long_caption_folds_to_its_first_sentence_in_a_short_dock(qtbot: QtBot) -> None:
    caption = FoldingCaption()
    qtbot.addWidget(caption)
    caption.set_caption(SLICE_CAPTION)
    assert caption.text() == SLICE_CAPTION and not caption.folded
    caption.set_short(True)
    shown = QLabel.text(caption)
    assert caption.folded and first_sentence(SLICE_CAPTION) in shown
    assert SLICE_CAPTION not in shown and "What this can and cannot show" in shown
    caption.linkActivated.emit(MORE)  # the learner opens it
    assert not caption.folded and SLICE_CAPTION in QLabel.text(caption)
    caption.set_caption("One sentence only.")
    assert not caption.folded  # nothing to fold
    caption.set_caption(SLICE_CAPTION)
    assert caption.folded  # a new caption folds again
    message = "No path plane yet: the path needs at least two steps. Train a little first."
    caption.setText(message)  # a message is never folded: its reason would hide
    assert not caption.folded and QLabel.text(caption) == message
    caption.set_caption(SLICE_CAPTION)
    caption.set_short(False)
    assert QLabel.text(caption) == SLICE_CAPTION


def test_the_panel_folds_its_caption_when_it_is_short(qtbot: QtBot) -> None:
    panel = LandscapePanel(lambda _w, _b: None, lambda: None,  # type: ignore[arg-type, return-value]
                           lambda: None)  # type: ignore[arg-type, return-value]
    qtbot.addWidget(panel)
    panel.show()
    panel.resize(500, 300)
    QApplication.processEvents()
    assert panel.slice_text.short and panel.view_tabs.isVisible()
    panel.resize(500, 700)
    QApplication.processEvents()
    assert not panel.slice_text.short and not panel.view_tabs.isVisible()


def test_a_slice_for_the_scenario_before_is_not_drawn_after_a_switch(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    show_landscape(window)
    panel = window.landscape_panel
    panel.slice_button.click()
    window.controller.open_scenario(SCENARIOS["spiral"])  # before its result is read
    window.refresh_now()
    qtbot.waitUntil(lambda: not panel.slicing, timeout=20_000)
    assert panel.network_view == "" and panel.surface.image is None
    assert panel.slice_text.text() == ASK_FOR_SLICE


def test_the_contour_lines_follow_the_colours(window: MainWindow, qtbot: QtBot) -> None:
    for _ in range(5):
        window.session.run_epoch()
    window.controller.publish(None)
    show_landscape(window)
    panel = window.landscape_panel
    panel._compute_surface()
    checked = 0
    for contour in panel.contours:
        if contour.data is None:
            continue
        contour.generatePath()
        polygon = [point for poly in contour.path.toSubpathPolygons() for point in poly]
        # Where the lines are drawn on the map (they are children of the surface's image).
        shown = [panel.surface.mapToView(point) for point in polygon[::7]]
        xs, ys = np.asarray([p.x() for p in shown]), np.asarray([p.y() for p in shown])
        logs = np.log10([loss_grid(window.session, [x], [y])[0, 0] for x, y in zip(xs, ys,
                                                                                   strict=True)])
        levels = panel.surface.levels
        span = float(levels[1] - levels[0])
        assert np.median(np.abs(logs - contour.level)) < 0.005 * span
        checked += 1
    assert checked >= 4


def test_a_new_run_after_a_blow_up_is_framed_afresh(window: MainWindow, qtbot: QtBot) -> None:
    show_landscape(window)
    panel = window.landscape_panel
    window.controller.set_lr(1.0)
    for _ in range(6):
        window.session.run_epoch()
    window.controller.publish(None)
    window.refresh_now()
    (left, right), _ = panel.map.viewRange()
    assert right - left > 1_000  # the diverging run, framed
    window.controller.reset()
    window.refresh_now()
    (left, right), _ = panel.map.viewRange()
    assert right - left < 100  # the new run from the start, not a dot on the old map
    assert all(path.points[0, 0] == pytest.approx(path.points[0, 0])
               for path in panel.state.earlier)  # type: ignore[union-attr]
    start = window.session.history.start_of(0)
    assert start is not None
    assert tuple(panel.state.earlier[0].points[0]) == start  # type: ignore[union-attr]


def test_a_networks_map_says_what_it_shows_and_when(window: MainWindow, qtbot: QtBot) -> None:
    window.controller.open_scenario(SCENARIOS["moons"])
    show_landscape(window)
    panel = window.landscape_panel
    assert "appears when a slice is computed" in panel.legend.text()
    assert "press Random slice" in panel.note.toPlainText()
    panel.plane_button.click()
    assert panel.slice_text.text().startswith("No path plane yet")
    for _ in range(3):
        window.session.run_epoch()
    window.controller.publish(None)
    window.refresh_now()
    assert panel.slice_text.text() == ASK_FOR_SLICE  # the refusal's reason is gone
    panel.slice_button.click()
    qtbot.waitUntil(lambda: not panel.slicing, timeout=20_000)
    assert panel.map.titleLabel.text == "Loss around the weights at epoch 3"
    assert "the weights at epoch 3" in panel.legend.text() and panel.note.toPlainText() == ""
    window.session.run_epoch()
    window.controller.publish(None)
    window.refresh_now()
    assert panel.map.titleLabel.text == "Loss around the weights at epoch 3 (now 4)"


def test_the_drag_label_shows_only_while_dragging(window: MainWindow, qtbot: QtBot) -> None:
    show_landscape(window)
    panel = window.landscape_panel
    label = panel.target.label()
    assert label is not None and not label.isVisible()  # no empty plate beside the point
    panel.target.moving = True
    panel.target.setPos(2.0, 3.0)
    assert label.isVisible() and "release to start here" in label.toPlainText()
    panel.target.moving = False
    panel.target.setPos(1.0, 1.0)
    assert not label.isVisible()


def test_a_long_runs_path_is_a_line_through_a_bounded_number_of_its_points(
    window: MainWindow, qtbot: QtBot
) -> None:
    """A dot per step while few; past PATH_MARKERS a line alone, and past PATH_POINTS_DRAWN
    every k-th point with the first and the last (a dot per step of a million-step run cost
    seconds a frame)."""
    from gui_trainer.qt.landscape_panel import PATH_MARKERS, PATH_POINTS_DRAWN, thinned

    show_landscape(window)
    panel = window.landscape_panel
    for _ in range(3):
        window.session.run_epoch()
    window.controller.publish(None)
    window.refresh_now()
    assert panel.path.opts["symbol"] == "o"
    for _ in range(PATH_MARKERS):
        window.session.run_epoch()
    window.controller.publish(None)
    window.refresh_now()
    assert panel.path.opts["symbol"] is None
    xs, _ = panel.path.getData()
    assert xs is not None and len(xs) == PATH_MARKERS + 4  # every step still drawn
    long = np.column_stack([np.arange(50_001.0), np.zeros(50_001)])
    kept = thinned(long)
    assert len(kept) <= PATH_POINTS_DRAWN + 1
    assert kept[0, 0] == 0 and kept[-1, 0] == 50_000
    assert np.all(np.diff(kept[:, 0]) > 0)  # in order, nothing repeated
