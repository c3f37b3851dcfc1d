"""The three plots: data fit, loss history, gradient values.

Each plot creates its items once and updates them with ``setData``; long histories are
downsampled and clipped to the view so a million-step run still redraws quickly.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPaintEvent
from PySide6.QtWidgets import QWidget

from gui_trainer.core.session import TrainingSession
from gui_trainer.qt.theme import PlotColours

DATA_COLOUR = "#e8871e"
MODEL_COLOUR = "#2d7ff9"
WEIGHT_COLOUR = "#2d7ff9"
BIAS_COLOUR = "#c2418f"
LOSS_COLOUR = "#2e9e48"

FloatArray = npt.NDArray[np.float64]


def pen(colour: object, width: float, **style: object) -> object:
    """A plot pen whose width is in logical pixels, so lines keep their weight at 200 %.

    pyqtgraph's pens are cosmetic: their width counts device pixels, which halves a line's
    apparent thickness on a screen scaled to 200 %.
    """
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    return pg.mkPen(colour, width=width * ratio, **style)


def finite_or_nan(values: FloatArray) -> FloatArray:
    """pyqtgraph breaks a curve at NaN (connect="finite"); inf would wreck the autorange."""
    return np.where(np.isfinite(values), values, np.nan)


def positive_or_nan(values: FloatArray) -> FloatArray:
    """For a log axis: a loss of exactly 0 (or inf) cannot be drawn; leave a gap."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def finite_points(xs: FloatArray, ys: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Scatter items must not get NaN points: pyqtgraph's bounds warn on an all-NaN set."""
    keep = np.isfinite(xs) & np.isfinite(ys)
    return xs[keep], ys[keep]


def colour_plot(plot: pg.PlotItem, colours: PlotColours) -> None:
    """Axis, label, title and legend colours for a theme."""
    axis_pen = pg.mkPen(colours.foreground)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(axis_pen)
        axis.setTextPen(axis_pen)
        if axis.labelText:
            axis.setLabel(axis.labelText, color=colours.foreground)
    if plot.titleLabel.text:
        plot.setTitle(plot.titleLabel.text, color=colours.foreground)
    if plot.legend is not None:
        plot.legend.setLabelTextColor(colours.foreground)


class PaintCost:
    """Seconds spent painting plots since it was last taken (for the frame throttle)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def take(self) -> float:
        spent, self.seconds = self.seconds, 0.0
        return spent


PAINT_COST = PaintCost()


class Themed:
    """Mixin for the plot widgets: theme colours, and paint time counted in PAINT_COST."""

    def paintEvent(self, event: QPaintEvent) -> None:
        start = time.perf_counter()
        super().paintEvent(event)  # type: ignore[misc]
        PAINT_COST.seconds += time.perf_counter() - start

    def plot_items(self) -> list[pg.PlotItem]:
        raise NotImplementedError

    def apply_colours(self, colours: PlotColours) -> None:
        self.setBackground(colours.background)  # type: ignore[attr-defined]
        for item in self.plot_items():
            colour_plot(item, colours)


def style_plot(plot: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    plot.setTitle(title)
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    for side in ("left", "bottom"):
        # "×1e+09" prefixes on a log or fast-changing axis confuse more than they help.
        plot.getAxis(side).enableAutoSIPrefix(False)
    plot.addLegend(offset=(10, 10))


class FitPlot(Themed, pg.PlotWidget):  # type: ignore[misc]
    """The data points, the model's line, and its predictions after a forward."""

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.getPlotItem()]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fit_plot")
        plot = self.getPlotItem()
        style_plot(plot, "Data fit", "distance (input)", "time (target / prediction)")
        self.data = plot.plot([], [], pen=None, symbol="o", symbolSize=11,
                              symbolBrush=DATA_COLOUR, name="data (targets)")
        self.line = plot.plot([], [], pen=pen(MODEL_COLOUR, 2.5),
                              name="model: weight × x + bias")
        dashed = pen("#888888", 1.5, style=Qt.PenStyle.DashLine)
        self.residuals = plot.plot([], [], pen=dashed, connect="pairs")
        self.predictions = plot.plot([], [], pen=None, symbol="x", symbolSize=12,
                                     symbolPen=pen(MODEL_COLOUR, 2.5),
                                     symbolBrush=None, name="outputs (last forward)")

    def refresh(self, session: TrainingSession) -> None:
        xs = session.inputs.flatten().tolist()
        ys = session.targets.flatten().tolist()
        self.data.setData(xs, ys)
        span = max(xs) - min(xs) or 1.0
        ends = [min(xs) - 0.25 * span, max(xs) + 0.25 * span]
        line = finite_or_nan(np.asarray(session.predict(ends), dtype=np.float64))
        self.line.setData(ends, line, connect="finite")
        if session.outputs is None:
            self.predictions.setData([], [])
            self.residuals.setData([], [])
            return
        # With micro-batches the last forward saw only some samples: draw those.
        rows = list(session.outputs_rows)
        row_x = np.asarray(xs, dtype=np.float64)[rows]
        row_y = np.asarray(ys, dtype=np.float64)[rows]
        outputs = finite_or_nan(session.outputs.detach().flatten().double().numpy())
        self.predictions.setData(*finite_points(row_x, outputs))
        pairs_x = np.repeat(row_x, 2)
        pairs_y = np.column_stack([outputs, row_y]).reshape(-1)
        self.residuals.setData(pairs_x, pairs_y, connect="pairs")


class LossPlot(Themed, pg.PlotWidget):  # type: ignore[misc]
    """One point per completed step, on a log axis so late progress stays visible."""

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.getPlotItem()]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loss_plot")
        plot = self.getPlotItem()
        style_plot(plot, "Loss history", "epoch (completed steps)", "MSE loss (log scale)")
        plot.setLogMode(x=False, y=True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        self.curve = plot.plot([], [], pen=pen(LOSS_COLOUR, 2), name="loss (this run)")
        self.last = plot.plot([], [], pen=None, symbol="o", symbolSize=8,
                              symbolBrush=LOSS_COLOUR)
        #: Earlier runs' curves by run number, faded; kept until cleared.
        self.earlier: dict[int, pg.PlotDataItem] = {}
        self.cleared_before = 0

    def clear_earlier_runs(self, session: TrainingSession) -> None:
        self.cleared_before = session.history.run
        self.refresh(session)

    def _refresh_earlier(self, session: TrainingSession) -> None:
        runs = [r for r in session.history.earlier_runs() if r.run >= self.cleared_before]
        wanted = {r.run for r in runs}
        for run in list(self.earlier):
            if run not in wanted:
                item = self.earlier.pop(run)
                self.getPlotItem().removeItem(item)
        for index, summary in enumerate(runs):
            item = self.earlier.get(summary.run)
            if item is None or item.name() != summary.label:
                if item is not None:
                    self.getPlotItem().removeItem(item)
                colour = pg.intColor(index, hues=6, alpha=110)
                item = self.getPlotItem().plot([], [], pen=pen(colour, 1.5),
                                               name=summary.label)
                item.setZValue(-1)
                self.earlier[summary.run] = item
            item.setData(session.history.column("epoch", run=summary.run),
                         positive_or_nan(session.history.column("loss", run=summary.run)),
                         connect="finite")

    def refresh(self, session: TrainingSession) -> None:
        self._refresh_earlier(session)
        epochs = session.history.column("epoch")
        losses = positive_or_nan(session.history.column("loss"))
        self.curve.setData(epochs, losses, connect="finite")
        self.last.setData(*finite_points(np.asarray(epochs[-1:], dtype=np.float64), losses[-1:]))


class GradPlot(Themed, pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """weight.grad and bias.grad now (bars; None draws no bar) and at every step (lines)."""

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.now, self.history]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("grad_plot")
        self.now = self.addPlot(row=0, col=0)
        self.now.setTitle(".grad now")
        self.now.getAxis("bottom").setTicks([[(0, "weight"), (1, "bias")]])
        self.now.setXRange(-0.6, 1.6, padding=0)
        self.now.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=[0, 1], height=[0, 0], width=0.6,
                                    brushes=[WEIGHT_COLOUR, BIAS_COLOUR])
        self.now.addItem(self.bars)
        self.history = self.addPlot(row=0, col=1)
        style_plot(self.history, "Gradient history (at each step)", "epoch", "gradient")
        self.history.setDownsampling(auto=True, mode="peak")
        self.history.setClipToView(True)
        self.ci.layout.setColumnStretchFactor(0, 1)
        self.ci.layout.setColumnStretchFactor(1, 3)
        self.weight_curve = self.history.plot([], [], pen=pen(WEIGHT_COLOUR, 2),
                                              name="weight.grad")
        self.bias_curve = self.history.plot([], [], pen=pen(BIAS_COLOUR, 2),
                                            name="bias.grad")
        dashed = Qt.PenStyle.DashLine
        self.weight_fresh = self.history.plot(
            [], [], pen=pen(WEIGHT_COLOUR, 1.5, style=dashed),
            name="fresh ∂loss/∂weight (this step alone)")
        self.bias_fresh = self.history.plot(
            [], [], pen=pen(BIAS_COLOUR, 1.5, style=dashed),
            name="fresh ∂loss/∂bias")
        # The latest step as dots, so a history of one step is visible too.
        self.last_weight = self.history.plot([], [], pen=None, symbol="o", symbolSize=7,
                                             symbolBrush=WEIGHT_COLOUR)
        self.last_bias = self.history.plot([], [], pen=None, symbol="o", symbolSize=7,
                                           symbolBrush=BIAS_COLOUR)

    def refresh(self, session: TrainingSession) -> None:
        params = session.params()
        heights = [0.0 if g is None else g for g in params.grads()]
        self.bars.setOpts(height=finite_or_nan(np.asarray(heights, dtype=np.float64)))
        epochs = session.history.column("epoch")
        weights = finite_or_nan(session.history.column("weight_grad"))
        self.weight_curve.setData(epochs, weights, connect="finite")
        biases = finite_or_nan(session.history.column("bias_grad"))
        self.bias_curve.setData(epochs, biases, connect="finite")
        for curve, column in ((self.weight_fresh, "weight_grad_fresh"),
                              (self.bias_fresh, "bias_grad_fresh")):
            curve.setData(epochs, finite_or_nan(session.history.column(column)), connect="finite")
        last_epoch = np.asarray(epochs[-1:], dtype=np.float64)
        self.last_weight.setData(*finite_points(last_epoch, weights[-1:]))
        self.last_bias.setData(*finite_points(last_epoch, biases[-1:]))
