"""The plots read well: labelled axes at any range, legends off the data, sane views."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from gui_trainer.core.stages import STAGES
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.plots import MAX_EARLIER_DRAWN, LossAxis, nice_ticks


def labels_drawn(axis: LossAxis) -> list[str]:
    """The tick labels pyqtgraph paints on ``axis`` once it has settled its width.

    The first pass measures the labels and widens the axis (a layout change); the second
    places them, as the second paint on screen would.
    """
    specs = None
    for _ in range(2):
        image = QImage(400, 400, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            specs = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        QApplication.processEvents()
    return [text for _rect, _flags, text in specs[2]] if specs else []


def bring_up(window: MainWindow, plot: QWidget) -> None:
    """On the small test screen the plots are tabs: show the one a test looks at."""
    if window.plot_tabs is not None:
        window.plot_tabs.setCurrentWidget(plot)
        QApplication.processEvents()


def train(window: MainWindow, epochs: int) -> None:
    for _ in range(epochs):
        window.session.run_epoch()
    window.controller.publish(None)
    window.frame.flush()


def test_loss_axis_is_labelled_within_one_decade(window: MainWindow) -> None:
    window.resize(1600, 1200)  # a plot of a usual size (the test screen is small)
    bring_up(window, window.loss_plot)
    train(window, 3)
    plot = window.loss_plot.plot
    plot.setYRange(np.log10(0.0245), np.log10(0.0305), padding=0)  # less than a decade
    labels = labels_drawn(plot.getAxis("left"))
    assert len(labels) >= 2
    values = [float(label) for label in labels]
    assert all(0.0245 <= v <= 0.0305 for v in values)
    plot.setYRange(-3, 2, padding=0)  # five decades: decades (and 2×, 5× if there is room)
    labels = labels_drawn(plot.getAxis("left"))
    assert len(labels) >= 2
    mantissas = {round(float(label) / 10 ** np.floor(np.log10(float(label))), 6)
                 for label in labels}
    assert mantissas <= {1.0, 2.0, 5.0} and 1.0 in mantissas


def test_nice_ticks_are_round_numbers() -> None:
    assert nice_ticks(0.025, 0.03, 5) == [0.025, 0.026, 0.027, 0.028, 0.029, 0.03]
    assert nice_ticks(140, 170, 3) == [140, 150, 160, 170]
    assert nice_ticks(1.0, 1.0) == []


def test_legends_sit_below_their_data(window: MainWindow) -> None:
    for plot in (window.fit_plot, window.loss_plot, window.grad_plot):
        bring_up(window, plot)
        assert plot.legend.isVisible()
        assert plot.legend.geometry().top() >= plot.canvas.geometry().bottom(), plot.objectName()
        assert plot.legend.entries()


def test_a_legend_gets_the_height_of_all_its_lines(window: MainWindow) -> None:
    """Its minimum is one line (so it cannot make the window too tall for a small screen),
    yet laid out it is as tall as its text wrapped at its width: no line is cut off."""
    window.docks["landscape"].show()
    window.docks["landscape"].raise_()
    QApplication.processEvents()
    panel = window.landscape_panel
    for plot in (window.fit_plot, window.loss_plot, window.grad_plot, panel):
        bring_up(window, plot)
        legend = plot.legend
        assert legend.minimumSizeHint().height() <= 2 * legend.fontMetrics().lineSpacing()
        assert legend.height() >= legend.heightForWidth(legend.width()), plot.objectName()
    # Narrow enough that the landscape's legend wraps onto several lines.
    panel_legend = panel.legend
    assert panel_legend.heightForWidth(panel_legend.width()) > 2 * (
        panel_legend.fontMetrics().lineSpacing())


def test_current_loss_is_marked_as_soon_as_loss_runs(window: MainWindow, qtbot: QtBot) -> None:
    for stage in STAGES[:3]:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    window.frame.flush()
    xs, ys = window.loss_plot.now.getData()
    assert list(xs) == [1.0]
    assert 10 ** ys[0] == pytest.approx(window.session.full_batch_loss(), rel=1e-6)
    for stage in STAGES[3:]:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    window.frame.flush()
    xs, _ = window.loss_plot.curve.getData()
    assert list(xs) == [1.0]  # the step put the point where the ring was
    assert len(window.loss_plot.now.getData()[0] or []) == 0


def test_clearing_earlier_runs_fits_the_view_to_this_run(window: MainWindow) -> None:
    train(window, 60)
    window.actions_by_name["reset"].trigger()
    train(window, 3)
    window.actions_by_name["clear_runs"].trigger()
    window.frame.flush()
    (_low, high), _ = window.loss_plot.plot.viewRange()
    assert high < 10


def test_zooming_far_out_keeps_every_redraw_working(window: MainWindow, qtbot: QtBot) -> None:
    train(window, 20)
    plots = [window.loss_plot.plot, window.grad_plot.history, window.fit_plot.plot]
    for plot in plots:
        assert plot is not None
        for _ in range(200):  # about 170 wheel notches broke the loss plot
            plot.getViewBox().scaleBy((1.25, 1.25))
        (x_low, x_high), _ = plot.viewRange()
        assert x_high - x_low < 1e40
    train(window, 1)  # a frame after the zoom: no exception from pyqtgraph
    for stage in STAGES:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    window.frame.flush()
    (x_low, x_high), _ = window.loss_plot.plot.viewRange()
    assert x_high <= 1.1 * 32 + 1e-9  # limits grow with the run, by doublings


def test_earlier_runs_are_drawn_once_and_capped(window: MainWindow) -> None:
    for _ in range(MAX_EARLIER_DRAWN + 3):
        train(window, 1)
        window.controller.reset()
    window.frame.flush()
    loss_plot = window.loss_plot
    items = dict(loss_plot.earlier)
    assert len(items) == MAX_EARLIER_DRAWN
    train(window, 2)  # an ordinary frame keeps the same items
    assert loss_plot.earlier == items
    texts = [entry.text for entry in loss_plot.legend.entries()]
    assert f"run {MAX_EARLIER_DRAWN + 3}: lr 0.01, SGD, guided" in texts
    assert any("older runs (3 not drawn)" in text for text in texts)


def test_earlier_runs_stay_reachable_after_a_restart(window: MainWindow) -> None:
    train(window, 300)
    window.actions_by_name["reset"].trigger()
    train(window, 2)
    bring_up(window, window.loss_plot)
    window.loss_plot.plot.setXRange(0, 300, padding=0)
    (_low, high), _ = window.loss_plot.plot.viewRange()
    assert high >= 299  # the earlier run's 300 epochs can be seen, not clamped at ~17


def test_a_networks_gradient_plots_fit_the_panel_they_are_given(qtbot: QtBot) -> None:
    from gui_trainer.core import TrainingSession
    from gui_trainer.core.view_state import capture
    from gui_trainer.qt.plots import GradPlot

    session = TrainingSession(scenario="moons")
    session.run_epoch()
    plot = GradPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.refresh(capture(session, {}, None))
    ci = plot.canvas.ci
    for size, mode in (((900, 300), "side"), ((320, 420), "stacked"), ((320, 200), "one")):
        plot.resize(*size)
        QApplication.processEvents()
        assert plot.arrangement() == mode
        shown = [p for p in (plot.now, plot.history) if p in ci.items]
        assert shown == ([plot.now] if mode == "one" else [plot.now, plot.history])
        assert plot.view_tabs.isVisible() == (mode == "one")
    plot.view_tabs.setCurrentIndex(1)  # "over time"
    assert [p for p in (plot.now, plot.history) if p in ci.items] == [plot.history]
    plot.resize(900, 300)
    QApplication.processEvents()
    assert plot.now in ci.items and plot.history in ci.items and not plot.view_tabs.isVisible()


@pytest.mark.parametrize("scenario", ["delivery", "digits"])
def test_the_gradient_plots_never_run_past_the_panels_edge(
        qtbot: QtBot, scenario: str) -> None:
    """Seen at 1024 × 700 (the one neuron) and 1920 × 1080 (digits): the history plot, its
    title and axis cut off at the right, because two plots side by side needed more width
    than the panel had. Whatever the size, the plots shown fit the panel's width."""
    from gui_trainer.core import TrainingSession
    from gui_trainer.core.view_state import capture
    from gui_trainer.qt.plots import GradPlot

    session = TrainingSession(scenario=scenario)
    session.run_epoch()
    plot = GradPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.resize(450, 300)  # the model arrives in a panel of this size: placed for its titles
    QApplication.processEvents()
    plot.refresh(capture(session, {}, None))
    QApplication.processEvents()
    ci = plot.canvas.ci
    shown = [p for p in (plot.now, plot.history) if p in ci.items]
    if len(shown) == 2:
        assert ci.layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() <= plot.canvas.width()
    seen = set()
    for width in (260, 305, 360, 420, 480, 520, 600, 900):
        for height in (200, 260, 420):
            plot.resize(width, height)
            QApplication.processEvents()
            needed = ci.layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
            shown = [p for p in (plot.now, plot.history) if p in ci.items]
            seen.add(plot.arrangement())
            if len(shown) == 2:  # one plot alone is as narrow as pyqtgraph can make it
                assert needed <= plot.canvas.width(), (width, height, plot.arrangement())
    assert seen == {"side", "stacked", "one"}
