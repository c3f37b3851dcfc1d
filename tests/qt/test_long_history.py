"""Long histories: the curves kept up to date row by row are the curves worked out afresh.

Every cache here would go stale if it missed a truncation: undo then train differently, a
restart, an undo back into the run before a restart. Each test compares what a window drew
incrementally with what a new plot draws from the same history in one go (and with the
blocks worked out by hand). The limits are lowered so short runs take the long-run path.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from pytestqt.qtbot import QtBot

from gui_trainer.core.history import History
from gui_trainer.qt import long_history
from gui_trainer.qt.landscape_panel import (
    PATH_POINTS_DRAWN,
    drawable,
    thinned,
    thinned_path,
    view_around,
)
from gui_trainer.qt.layers_panel import GradientPlots
from gui_trainer.qt.long_history import LongCurve
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.plots import GradPlot, LossPlot, positive_or_nan


@pytest.fixture(autouse=True)
def short_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of tens of steps take the path a million steps take."""
    monkeypatch.setattr(long_history, "DIRECT_LIMIT", 8)
    monkeypatch.setattr(long_history, "MIN_BLOCKS", 2)


def drawn(item: pg.PlotDataItem) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = item.getOriginalDataset()
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def same(one: pg.PlotDataItem, other: pg.PlotDataItem) -> None:
    (x1, y1), (x2, y2) = drawn(one), drawn(other)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)  # NaN where NaN


def train(window: MainWindow, epochs: int) -> None:
    for _ in range(epochs):
        window.session.run_epoch()
    window.refresh_now()


def undo(window: MainWindow, actions: int) -> None:
    """Back ``actions`` along the timeline, with no frame drawn (as within one frame)."""
    for _ in range(actions):
        window.session.undo()


def afresh(window: MainWindow) -> tuple[LossPlot, GradPlot]:
    """New plots drawing the window's session now, from nothing."""
    state = window.controller.capture()
    loss, grads = LossPlot(), GradPlot()
    loss.resize(window.loss_plot.size())
    grads.resize(window.grad_plot.size())
    loss.refresh(state)
    grads.refresh(state)
    return loss, grads


def check(window: MainWindow) -> None:
    loss, grads = afresh(window)
    try:
        assert len(window.session.history) > long_history.DIRECT_LIMIT
        same(window.loss_plot.curve, loss.curve)
        for column, feed in window.grad_plot.feeds.items():
            same(feed.item, grads.feeds[column].item)
    finally:
        loss.deleteLater()
        grads.deleteLater()


def test_blocks_are_each_blocks_highest_and_lowest(qtbot: QtBot) -> None:
    history = History()
    # float32, as every loss PyTorch computes (the history keeps them in float32)
    losses = (np.abs(np.sin(np.arange(1, 201))) + 0.1).astype(np.float32)
    losses[37] = np.nan  # a gap: the block around it is a gap too, as pyqtgraph's 'peak'
    for step, loss in enumerate(losses, start=1):
        history.append(epoch=step, step=step, loss=float(loss))
    plot = pg.PlotItem()
    curve = LongCurve(plot.plot([], []))
    column = history.column("loss")
    curve.show(history, history.column("step"), lambda start: positive_or_nan(column[start:]))
    block = curve.block
    assert block > 1
    whole = len(losses) // block * block
    blocks = losses[:whole].reshape(-1, block)
    _, ys = drawn(curve.item)
    np.testing.assert_array_equal(ys[0:2 * len(blocks):2], blocks.max(axis=1))
    np.testing.assert_array_equal(ys[1:2 * len(blocks):2], blocks.min(axis=1))
    plot.hide()  # out of layout passes before it goes (see plots.retire)
    plot.deleteLater()
    np.testing.assert_array_equal(ys[2 * len(blocks):], losses[whole:])  # the newest as they are
    plot.deleteLater()


def test_undo_then_train_differently_draws_the_new_steps(window: MainWindow) -> None:
    train(window, 40)
    check(window)
    undo(window, 5 * 12)  # twelve steps back
    window.session.lr = 0.05
    train(window, 15)  # past where it was: the rows the curves saw are rewritten
    check(window)
    undo(window, 5 * 2 + 1)
    window.refresh_now()  # shorter: drawn afresh
    check(window)


def test_a_restart_and_an_undo_back_into_the_run_before(window: MainWindow) -> None:
    train(window, 30)
    window.controller.reset()
    train(window, 25)
    check(window)
    undo(window, 5 * 25 + 1)  # back through the restart, into the first run
    assert len(window.session.history) == 30
    window.session.lr = 0.02
    train(window, 10)
    check(window)
    window.controller.reset()  # a new run as long as the one before
    train(window, 40)
    check(window)


def test_the_landscape_frames_the_whole_path_after_an_undo(window: MainWindow) -> None:
    panel = window.landscape_panel
    window.docks["landscape"].show()
    window.docks["landscape"].raise_()
    window.controller.set_lr("0.3")
    train(window, 40)
    undo(window, 5 * 30)
    window.session.lr = 0.001
    train(window, 35)
    state = window.controller.capture(landscape=True)
    assert panel.state is not None
    assert panel._view_around(state.landscape) == view_around(state.landscape)  # type: ignore[arg-type]


def test_the_ratio_curves_after_an_undo_are_the_ratios_afresh(window: MainWindow) -> None:
    train(window, 30)
    plots = GradientPlots()
    plots.show_names(tuple(window.controller.capture().param_names))
    plots.show_ratios(window.controller.capture())
    undo(window, 5 * 10)
    window.session.lr = 0.04
    for _ in range(20):
        window.session.run_epoch()
    state = window.controller.capture()
    plots.show_ratios(state)
    fresh = GradientPlots()
    fresh.show_names(tuple(state.param_names))
    fresh.show_ratios(state)
    for kept, new in zip(plots.curves, fresh.curves, strict=True):
        same(kept, new)
    plots.deleteLater()
    fresh.deleteLater()


@pytest.mark.parametrize("steps", [0, 1, 5, PATH_POINTS_DRAWN - 1, PATH_POINTS_DRAWN,
                                   PATH_POINTS_DRAWN + 1, 3 * PATH_POINTS_DRAWN + 7])
def test_a_path_thinned_before_the_rest_is_the_path_thinned_after(steps: int) -> None:
    rng = np.random.default_rng(steps)
    path = rng.normal(size=(steps, 2))
    if steps > 3:
        path[2] = [np.inf, 1.0]
    start = (0.5, -0.5)
    expected = thinned(drawable(np.vstack([np.asarray([start]), path])))
    np.testing.assert_array_equal(drawable(thinned_path(start, path)), expected)
