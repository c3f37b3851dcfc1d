"""Plots keep still while training moves the data a little, and paint once a frame."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.steady_view import HEADROOM, MIN_FILL, steady_span

# -- the rule ------------------------------------------------------------------------------


def test_a_view_that_holds_its_data_well_stays() -> None:
    assert steady_span((0.0, 10.0), (1.0, 9.0)) is None
    assert steady_span((0.0, 10.0), (0.0, 10.0 * MIN_FILL)) is None
    assert steady_span((0.0, 10.0), (3.0, 3.0)) is None  # a single value, inside


def test_a_single_value_at_the_edge_is_centred() -> None:
    """A first point at the view's edge was drawn cut in half."""
    assert steady_span((0.0, 1.0), (1.0, 1.0)) == (1.0, 1.0)  # pyqtgraph centres it
    assert steady_span((0.0, 1.0), (0.0, 0.0)) == (0.0, 0.0)


def test_data_lost_in_a_far_larger_view_is_fitted() -> None:
    assert steady_span((0.0, 100.0), (40.0, 45.0)) == (40.0, 45.0)


def test_data_that_leaves_the_view_grows_it_on_that_side_only() -> None:
    low, high = steady_span((0.0, 10.0), (2.0, 12.0)) or (None, None)
    assert low == 0.0  # the other side is kept: no swinging to and fro
    assert high == pytest.approx(12.0 + 10.0 * HEADROOM)
    low, high = steady_span((0.0, 10.0), (-1.0, 9.0)) or (None, None)
    assert (low, high) == (pytest.approx(-1.0 - 10.0 * HEADROOM), 10.0)


def test_a_steadily_growing_run_moves_the_view_rarely() -> None:
    view, moves = (0.0, 1.0), 0
    for end in range(2, 10_001):
        new = steady_span(view, (0.0, float(end)))
        if new is not None:
            view, moves = new, moves + 1
        assert view[0] <= 0.0 and view[1] >= end
    assert moves < 100  # every step moved pyqtgraph's own auto-range: 9,999 moves


# -- in the window -------------------------------------------------------------------------


class PaintCounter(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.paints = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def visible_plots(window: MainWindow) -> list[pg.GraphicsLayoutWidget]:
    return [p.canvas for p in (window.fit_plot, window.loss_plot, window.grad_plot)
            if p.canvas.isVisible()]


def frame(window: MainWindow) -> None:
    window.session.run_epoch()
    window.controller.publish(None)
    window.frame.flush()
    QApplication.processEvents()


@pytest.mark.parametrize("plot_name", ["fit_plot", "loss_plot", "grad_plot"])
def test_training_paints_each_plot_once_a_frame_and_keeps_its_data_in_view(
    window: MainWindow, plot_name: str
) -> None:
    plot = getattr(window, plot_name)
    if window.plot_tabs is not None:  # a small test screen: plots are tabs
        window.plot_tabs.setCurrentWidget(plot)
    for _ in range(200):  # a run under way (its first epochs grow the views quickly)
        window.session.run_epoch()
    for _ in range(3):
        frame(window)
    counter = PaintCounter(plot.canvas.viewport())
    moves = []
    boxes = [item.getViewBox() for item in plot.plot_items()]
    for box in boxes:
        box.sigRangeChanged.connect(lambda *_args: moves.append(1))
    frames = 30
    for _ in range(frames):
        frame(window)
        for box in boxes:
            for (low, high), data in zip(box.viewRange(), box.childrenBounds(), strict=True):
                if data is not None:  # every point of the data is in view
                    assert low <= data[0] and data[1] <= high, plot_name
    assert counter.paints <= frames  # pyqtgraph alone painted each plot twice a frame
    assert len(moves) <= frames // 10  # it also moved every view at every frame



def test_an_aspect_locked_view_fits_as_pyqtgraph_fits_it(qtbot: QtBot) -> None:
    """The digits' confusion matrix (its aspect locked, in a wide plot) swung between two
    ranges at every auto-range while auto-train ran: 14 paints a frame."""
    import numpy as np

    from gui_trainer.qt.steady_view import steady_plot

    canvas = pg.GraphicsLayoutWidget()
    qtbot.addWidget(canvas)
    canvas.resize(500, 180)
    canvas.show()
    plot = steady_plot(canvas)
    plot.setAspectLocked(True)
    plot.addItem(pg.ImageItem(np.zeros((10, 10))))
    QApplication.processEvents()
    box = plot.getViewBox()
    for _ in range(2):  # the first fit
        box.updateAutoRange()
        QApplication.processEvents()
    moves = []
    box.sigRangeChanged.connect(lambda *_args: moves.append(1))
    for _ in range(10):
        box.updateAutoRange()
        QApplication.processEvents()
    assert moves == []
    (_x0, _x1), (y0, y1) = box.viewRange()
    assert y0 <= 0 and y1 >= 10  # the whole matrix in view
