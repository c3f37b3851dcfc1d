"""The three plots: data fit, loss history, gradient values.

Each plot creates its items once and updates them with ``setData``; long histories are
downsampled and clipped to the view so a million-step run still redraws quickly. Each has its
legend as a line of text below it (outside the data, wrapping on a narrow screen), and takes
its colours from the theme whenever the palette changes.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QGuiApplication, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy, QTabBar, QVBoxLayout, QWidget

from gui_trainer.core.formatting import short
from gui_trainer.core.history import RunSummary
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.long_history import LongCurve, RowsSeen, tensor_rows
from gui_trainer.qt.plot_data import set_data, set_opts
from gui_trainer.qt.rich_label import RichLabel, coloured
from gui_trainer.qt.steady_view import steady_plot
from gui_trainer.qt.theme import Colours, colours

FloatArray = npt.NDArray[np.float64]
#: Earlier runs drawn at most (the newest); older ones stay in the history, undrawn.
MAX_EARLIER_DRAWN = 12
#: Earlier runs named in the legend at most (the newest); the rest are counted.
MAX_EARLIER_NAMED = 4
#: Faded earlier runs: alpha of their pens.
EARLIER_ALPHA = 150
#: The widest view the history plots allow, in log10 units of the loss (float32 spans ±38).
LOG_LIMIT = 50.0
#: A layered model's gradient plots stack once the panel is less than this times as wide as
#: it is tall (two plots side by side in 300 × 250 left the history 80 pixels wide).
STACK_BELOW_ASPECT = 1.6
#: Below these a plot's axes and title crowd its data out.
MIN_PLOT_WIDTH, MIN_PLOT_HEIGHT = 220, 150
Arrangement = Literal["side", "stacked", "one"]
GRADS_NOW = "‖.grad‖ per tensor now"
#: After Zero Grad with set_to_none (or before any Backward): no bars, and why.
GRADS_NONE = "‖.grad‖ now: every .grad is None"
#: The widest linear view a value axis allows (beyond float32's largest, 3.4e38).
VALUE_LIMIT = 1e39


def pen(colour: object, width: float, **style: object) -> object:
    """A plot pen whose width is in logical pixels, so lines keep their weight at 200 %.

    pyqtgraph's pens are cosmetic: their width counts device pixels, which halves a line's
    apparent thickness on a screen scaled to 200 %.
    """
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    return pg.mkPen(colour, width=width * ratio, **style)


def faded(colour: str, alpha: int = EARLIER_ALPHA) -> tuple[int, int, int, int]:
    value = colour.lstrip("#")
    red, green, blue = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return red, green, blue, alpha


def finite_or_nan(values: FloatArray) -> FloatArray:
    """pyqtgraph breaks a curve at NaN (connect="finite"); inf would wreck the autorange."""
    return np.where(np.isfinite(values), values, np.nan)


def positive_or_nan(values: FloatArray) -> FloatArray:
    """For a log axis: a loss of exactly 0 (or inf) cannot be drawn; leave a gap."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def finite_from(values: FloatArray, start: int) -> FloatArray:
    return finite_or_nan(values[start:])


def finite_points(xs: FloatArray, ys: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Scatter items must not get NaN points: pyqtgraph's bounds warn on an all-NaN set."""
    keep = np.isfinite(xs) & np.isfinite(ys)
    return xs[keep], ys[keep]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2 or 5 × 10ⁿ apart) between ``low`` and ``high``."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    # A hair of slack so that ends which are multiples of the step (0.025, 0.03) count.
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    values = [round(i * step, 12) for i in range(first, last + 1)]
    return [v for v in values if v > 0]


class LossAxis(pg.AxisItem):  # type: ignore[misc]
    """A log axis that still labels its ticks when the view spans less than a decade.

    pyqtgraph labels only powers of ten on a log axis; a loss between 0.03 and 0.025 then has
    no label at all. Within a decade this axis puts round linear values instead.
    """

    def logTickValues(
        self, minVal: float, maxVal: float, size: float,
        stdTicks: list[tuple[float, list[float]]],
    ) -> list[tuple[object, list[float]]]:
        span = maxVal - minVal
        if not (math.isfinite(span) and span > 0):
            return []
        if span < 1.0:
            values = nice_ticks(10.0 ** minVal, 10.0 ** maxVal, count=max(3, int(size // 45)))
            return [(None, [math.log10(v) for v in values])]
        # Whole decades, thinned to one label per ~40 px; 2× and 5× when there is room.
        decades = list(range(math.ceil(minVal), math.floor(maxVal) + 1))
        every = max(1, math.ceil(len(decades) * 40 / max(size, 1.0)))
        ticks = [float(d) for d in decades[::every]]
        if size / span > 120:
            ticks += [d + math.log10(m) for d in range(math.floor(minVal), math.ceil(maxVal))
                      for m in (2, 5) if minVal <= d + math.log10(m) <= maxVal]
        return [(None, sorted(ticks))]

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [short(10.0 ** v * scale, 3) for v in values]


@dataclass(frozen=True)
class LegendEntry:
    glyph: str  # "━" a line, "╌" a dashed line, "●" a dot, "○" a ring, "✕" a cross
    colour: str
    text: str


class Legend(RichLabel):
    """A plot's legend as wrapped text under the plot: never on top of the data."""

    def __init__(self, entries: Callable[[Colours], list[LegendEntry]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plot_legend")
        # Preferred, not Minimum: a layout takes a Minimum widget's size hint as its least.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_entries(entries)

    def set_entries(self, entries: Callable[[Colours], list[LegendEntry]]) -> None:
        self._entries = entries
        self.show_content(lambda c: " &nbsp;&nbsp; ".join(
            f"{coloured(e.glyph, e.colour, bold=True)}&nbsp;{html.escape(e.text)}"
            for e in entries(c)))

    def entries(self) -> list[LegendEntry]:
        return self._entries(colours())

    def minimumSizeHint(self) -> QSize:
        """One line, not the text wrapped at the narrowest width.

        A wrapped label's own minimum is its height at its smallest width (six lines for the
        landscape's legend): that made the docks, and so the window, too tall for an
        800 × 500 screen. Laid out, the label still gets its height for the width it has.
        """
        hint = super().minimumSizeHint()
        margins = self.contentsMargins()
        line = self.fontMetrics().lineSpacing() + margins.top() + margins.bottom()
        return QSize(hint.width(), min(hint.height(), line + 2 * self.margin()))


class PaintCost:
    """Seconds spent painting plots since it was last taken (for the frame throttle)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def take(self) -> float:
        spent, self.seconds = self.seconds, 0.0
        return spent


PAINT_COST = PaintCost()


class TimedPaint:
    """Mixin for pyqtgraph's widgets: their paint time counts toward the frame's cost."""

    def paintEvent(self, event: QPaintEvent) -> None:
        start = time.perf_counter()
        super().paintEvent(event)  # type: ignore[misc]
        PAINT_COST.seconds += time.perf_counter() - start


class _Canvas(TimedPaint, pg.GraphicsLayoutWidget):  # type: ignore[misc]
    pass


def retire(plots: list[pg.PlotItem]) -> None:
    """Delete removed plots in the event loop, not whenever Python's garbage collector runs.

    pyqtgraph gives each plot two QMenus without a Qt parent; freed by a GC pass in the middle
    of building a window, their QActions deadlocked in ~QObject (seen in the test suite).
    ``deleteLater`` deletes them where Qt expects deletions.
    """
    for plot in plots:
        # Hidden first: a hidden item takes no more layout passes. A removed plot's geometry
        # update still pending when its deletion came crashed Qt (opening digits after the
        # seed, when the timing fell that way).
        plot.hide()
        for menu in (plot.ctrlMenu, plot.vb.menu):
            if menu is not None:
                menu.deleteLater()
        plot.deleteLater()


def cache_axes(plot: pg.PlotItem) -> None:
    """Keep each axis (with its grid lines) drawn in a pixmap until it changes.

    pyqtgraph records an axis as a QPicture and plays it back at every paint of the plot:
    its tick labels are laid out and its grid rasterized again, ~2.5 ms an axis, whenever
    any curve of the plot changed. Qt's item cache draws the axis once per change (a new
    range, pen or size) and copies the pixels otherwise.
    """
    for side in ("left", "bottom", "right", "top"):
        plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def style_plot(plot: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    cache_axes(plot)
    plot.setTitle(title)
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    for side in ("left", "bottom"):
        # "×1e+09" prefixes on a log or fast-changing axis confuse more than they help.
        plot.getAxis(side).enableAutoSIPrefix(False)


def colour_plot(plot: pg.PlotItem, foreground: str) -> None:
    """Axis, label and title colours for a theme."""
    axis_pen = pg.mkPen(foreground)
    cache_axes(plot)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(axis_pen)
        axis.setTextPen(axis_pen)
        if axis.labelText:
            axis.setLabel(axis.labelText, color=foreground)
    if plot.titleLabel.text:
        plot.setTitle(plot.titleLabel.text, color=foreground)


class PlotPanel(QWidget):
    """A pyqtgraph canvas with its legend below; restyles itself when the theme changes."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.canvas = _Canvas(self)
        self.legend = Legend(lambda _c: [], self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.legend)

    def add_view_tabs(self, name: str, labels: tuple[str, ...],
                      changed: Callable[[], None]) -> QTabBar:
        """Hidden tabs above the canvas, for a panel too small to show its plots at once."""
        tabs = QTabBar(self)
        tabs.setObjectName(name)
        tabs.setDocumentMode(True)
        for label in labels:
            tabs.addTab(label)
        tabs.currentChanged.connect(lambda _index: changed())
        tabs.hide()
        cast(QVBoxLayout, self.layout()).insertWidget(0, tabs)
        return tabs

    def plot_items(self) -> list[pg.PlotItem]:
        raise NotImplementedError

    def backgroundBrush(self) -> object:
        return self.canvas.backgroundBrush()

    def restyle(self) -> None:
        """Colours from the theme in force (called again on every palette change)."""
        theme = colours()
        self.canvas.setBackground(theme.plot_background)
        for item in self.plot_items():
            colour_plot(item, theme.plot_foreground)
        self.apply_pens(theme)
        self.legend.refresh()

    def apply_pens(self, theme: Colours) -> None:
        raise NotImplementedError

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()


class HistoryLimits:
    """View limits for a plot over epochs: a little past the data, never absurdly far.

    Zooming out without limit drove pyqtgraph's downsampling to fail on every redraw; the
    limits grow with the run in doublings, so they are set rarely.
    """

    def __init__(self, plot: pg.PlotItem, log_y: bool) -> None:
        self.plot = plot
        self.log_y = log_y
        self.span = 0

    def update(self, epochs: int) -> None:
        span = 16
        while span < epochs:
            span *= 2
        if span == self.span:
            return
        self.span = span
        y_limit = LOG_LIMIT if self.log_y else VALUE_LIMIT
        self.plot.setLimits(xMin=-0.1 * span, xMax=1.1 * span, yMin=-y_limit, yMax=y_limit)


class LossPlot(PlotPanel):
    """One point per completed step, on a log axis so late progress stays visible.

    Point k is the full-batch loss just before step k. As soon as Loss has run, a ring marks
    where the next point will land.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("loss_plot", parent)
        self.plot = steady_plot(self.canvas, axisItems={"left": LossAxis("left")})
        style_plot(self.plot, "Loss history", "epoch (completed steps)", "MSE loss (log scale)")
        self.plot.setLogMode(x=False, y=True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        self.limits = HistoryLimits(self.plot, log_y=True)
        self.curve = self.plot.plot([], [])
        self.last = self.plot.plot([], [], pen=None, symbol="o", symbolSize=8)
        self.now = self.plot.plot([], [], pen=None, symbol="o", symbolSize=11, symbolBrush=None)
        #: With mini-batches: each step's own batch loss (noisy), and its mean per epoch.
        self.batch_curve = self.plot.plot([], [])
        self.batch_curve.setZValue(-0.5)
        self.epoch_mean = self.plot.plot([], [], symbol="s", symbolSize=7)
        self.mini_batches = False
        #: Whether a step's batch loss differed from the full-batch loss, in the rows seen.
        self._batch_differs = False
        self._batch_rows = RowsSeen()
        self.curve_feed = LongCurve(self.curve)
        self.batch_feed = LongCurve(self.batch_curve)
        #: Evaluate's validation loss, one point per evaluation, after that many steps.
        self.validation = self.plot.plot([], [], symbol="t", symbolSize=8)
        self.has_validation = False
        #: Dropout or BatchNorm: the losses drawn were measured in eval mode.
        self.eval_measured = False
        #: The learning rate each step used and, ahead of it, the scheduler's preview: on a
        #: tab of its own beside the loss while a scheduler is on.
        self.view_tabs = self.add_view_tabs("loss_view_tabs", ("loss", "learning rate"),
                                            self._show_view)
        self.lr_plot = pg.PlotItem()
        style_plot(self.lr_plot, "Learning rate", "step", "lr")
        self.lr_curve = self.lr_plot.plot([], [])
        self.lr_ahead = self.lr_plot.plot([], [])
        self.lr_feed = LongCurve(self.lr_curve)
        self.lr_shown = False
        #: Earlier runs' curves by run number, faded; drawn once, kept until cleared.
        self.earlier: dict[int, pg.PlotDataItem] = {}
        self._earlier_shown: list[RunSummary] = []
        self._earlier_hidden = 0
        self.cleared_before = 0
        self._history: object = None
        self.legend.set_entries(self._legend_entries)
        self.restyle()

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.plot, self.lr_plot]

    def _show_view(self) -> None:
        """The loss or the learning rate, as the tab says (the tabs show with a scheduler)."""
        want_lr = not self.view_tabs.isHidden() and self.view_tabs.currentIndex() == 1
        if want_lr == self.lr_shown:
            return
        self.canvas.removeItem(self.plot if want_lr else self.lr_plot)
        self.canvas.addItem(self.lr_plot if want_lr else self.plot, row=0, col=0)
        self.lr_shown = want_lr
        self.legend.refresh()

    def apply_pens(self, theme: Colours) -> None:
        self.curve.setPen(pen(theme.loss, 2))
        self.validation.setPen(pen(theme.bias, 2))
        self.validation.setSymbolBrush(theme.bias)
        self.validation.setSymbolPen(theme.bias)
        self.lr_curve.setPen(pen(theme.loss, 2))
        self.lr_ahead.setPen(pen(theme.residual, 1.5, style=Qt.PenStyle.DashLine))
        self.batch_curve.setPen(pen(faded(theme.loss), 1))
        self.epoch_mean.setPen(pen(theme.earlier_runs[0], 2))
        self.epoch_mean.setSymbolBrush(theme.earlier_runs[0])
        self.epoch_mean.setSymbolPen(theme.earlier_runs[0])
        self.last.setSymbolBrush(theme.loss)
        self.last.setSymbolPen(theme.loss)
        self.now.setSymbolPen(pen(theme.loss, 2))
        for summary in self._earlier_shown:
            self.earlier[summary.run].setPen(pen(self._earlier_colour(theme, summary.run), 1.5))

    @staticmethod
    def _earlier_colour(theme: Colours, run: int) -> tuple[int, int, int, int]:
        """By run number, so a run keeps its colour as newer runs arrive."""
        return faded(theme.earlier_runs[run % len(theme.earlier_runs)])

    def _legend_entries(self, theme: Colours) -> list[LegendEntry]:
        if self.lr_shown:
            return [LegendEntry("━", theme.loss, "the lr each step used"),
                    LegendEntry("╌", theme.residual, "the schedule ahead (the real scheduler, "
                                                     "run on a copy)")]
        entries = [LegendEntry("━", theme.loss, "loss (this run)" if not self.mini_batches
                               else "loss over all rows"),
                   LegendEntry("○", theme.loss, "loss now (before Step)")]
        if self.has_validation:
            entries.append(LegendEntry("▲", theme.bias, "validation loss (Evaluate)"))
        if self.mini_batches:
            entries += [LegendEntry("━", theme.loss, "each step's batch loss (faint)"),
                        LegendEntry("■", theme.earlier_runs[0], "epoch mean of batch losses")]
        if self.eval_measured:
            entries.append(LegendEntry("", theme.muted, "measured in eval mode: no dropout, "
                                       "BatchNorm's running averages"))
        shown = self._earlier_shown
        named = shown[-MAX_EARLIER_NAMED:]
        for summary in named:
            colour = theme.earlier_runs[summary.run % len(theme.earlier_runs)]
            entries.append(LegendEntry("━", colour, summary.label))
        older = len(shown) - len(named) + self._earlier_hidden
        if older:
            entries.append(LegendEntry("━", theme.residual, f"{older} older runs "
                                       f"({self._earlier_hidden} not drawn)"
                                       if self._earlier_hidden else f"{older} older runs"))
        return entries

    def clear_earlier_runs(self, state: SessionView) -> None:
        self.cleared_before = state.history.run
        self.refresh(state)
        self.plot.enableAutoRange()

    def _refresh_earlier(self, state: SessionView) -> None:
        if state.history is not self._history:  # another session (a new scenario)
            self._history = state.history
            # "cross-entropy loss (log scale)" was cut off on a short plot: a classifier's
            # kind of loss goes in the title, where there is room.
            if state.scenario.task == "regression":
                self.plot.setTitle("Loss history")
                self.plot.setLabel("left", "MSE loss (log scale)")
            else:
                self.plot.setTitle("Loss history (cross-entropy)")
                self.plot.setLabel("left", "loss (log scale)")
            self.cleared_before = 0
            self._earlier_shown = []
            self._earlier_hidden = -1  # draw again
        runs = [r for r in state.history.earlier_runs() if r.run >= self.cleared_before]
        shown = runs[-MAX_EARLIER_DRAWN:]
        if shown == self._earlier_shown and len(runs) - len(shown) == self._earlier_hidden:
            return  # earlier runs never change: nothing to redo on an ordinary frame
        for run in list(self.earlier):
            self.plot.removeItem(self.earlier.pop(run))
        theme = colours()
        for summary in shown:
            item = self.plot.plot(
                state.history.column("step", run=summary.run),
                positive_or_nan(state.history.column("loss", run=summary.run)),
                pen=pen(self._earlier_colour(theme, summary.run), 1.5), connect="finite")
            item.setZValue(-1)
            self.earlier[summary.run] = item
        self._earlier_shown = shown
        self._earlier_hidden = len(runs) - len(shown)
        self.legend.refresh()

    def _refresh_validation(self, state: SessionView) -> None:
        table = state.history.validation()
        shown = state.has_validation
        if (shown, state.eval_measured) != (self.has_validation, self.eval_measured):
            self.has_validation, self.eval_measured = shown, state.eval_measured
            self.legend.refresh()
        # A marker per evaluation while they are few; a line alone once they crowd.
        self.validation.setSymbol("t" if len(table) <= 40 else None)
        set_data(self.validation, np.asarray(table["step"], dtype=np.float64),
                                positive_or_nan(np.asarray(table["loss"])), connect="finite")

    def _refresh_lr(self, state: SessionView) -> None:
        """The rate each step used, and the schedule ahead from where training is."""
        scheduled = state.schedule_ahead is not None
        if scheduled == self.view_tabs.isHidden():
            self.view_tabs.setVisible(scheduled)
            if not scheduled:
                self.view_tabs.setCurrentIndex(0)
            self._show_view()
        if not scheduled:
            return
        steps = state.history.column("step")
        rates = state.history.column("lr")
        self.lr_feed.show(state.history, steps, lambda start: np.asarray(rates[start:]))
        ahead = state.schedule_ahead
        assert ahead is not None
        xs, rates = ahead
        set_data(self.lr_ahead, xs, rates, stepMode="left")

    def _refresh_batches(self, state: SessionView, steps: np.ndarray) -> None:
        """Mini-batches: each step's batch loss and the epoch means; hidden otherwise."""
        history = state.history
        batch = history.column("batch_loss")
        mini = state.iterations_per_epoch > 1 or self._batch_loss_differs(state)
        if mini != self.mini_batches:
            self.mini_batches = mini
            self.plot.setLabel("bottom", "step (iteration)" if mini
                               else "epoch (completed steps)")
            self.legend.refresh()
        if not mini or not len(batch):
            self.batch_feed.clear()
            set_data(self.epoch_mean, [], [])
            return
        self.batch_feed.show(history, steps, lambda start: positive_or_nan(batch[start:]))
        epochs = history.column("epoch")
        starts = np.flatnonzero(np.r_[True, epochs[1:] != epochs[:-1]])
        counts = np.diff(np.r_[starts, len(epochs)])
        means = np.add.reduceat(batch, starts) / counts
        ends = steps[starts + counts - 1]
        set_data(self.epoch_mean, np.asarray(ends, dtype=np.float64), positive_or_nan(means),
                                connect="finite")

    def _batch_loss_differs(self, state: SessionView) -> bool:
        """Whether any step's batch loss differs from its full-batch loss (only the rows
        not seen before are compared)."""
        history = state.history
        kept = self._batch_rows.valid(history)
        if kept == 0:
            self._batch_differs = False
        if not self._batch_differs:
            self._batch_differs = bool(np.any(history.column("batch_loss")[kept:]
                                              != history.column("loss")[kept:]))
        self._batch_rows.seen(history, len(history))
        return self._batch_differs

    def refresh(self, state: SessionView) -> None:
        self._refresh_earlier(state)
        epochs = state.history.column("step")
        loss = state.history.column("loss")
        # Room for the longest run drawn, not only this one: earlier runs stay reachable.
        self.limits.update(max([len(epochs), *(r.stop - r.start for r in self._earlier_shown)]))
        self.curve_feed.show(state.history, epochs, lambda start: positive_or_nan(loss[start:]))
        set_data(self.last, *finite_points(np.asarray(epochs[-1:], dtype=np.float64),
                                         positive_or_nan(loss[-1:])))
        self._refresh_batches(state, epochs)
        self._refresh_validation(state)
        self._refresh_lr(state)
        if state.loss is not None and state.last_stage in ("loss", "backward"):
            x = np.asarray([state.steps + 1], dtype=np.float64)
            y = positive_or_nan(np.asarray([state.full_batch_loss], dtype=np.float64))
            set_data(self.now, *finite_points(x, y))
        else:
            set_data(self.now, [], [])


class GradPlot(PlotPanel):
    """weight.grad and bias.grad now (bars; None draws no bar) and at every step (lines)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("grad_plot", parent)
        #: The tensors drawn (None: the one neuron's weight and bias, element by element).
        self.tensor_names: tuple[str, ...] | None = None
        self.layered: LayeredGrads | None = None
        #: How a layered model's two plots are placed now (None: the one neuron's layout).
        self.stacked: tuple[Arrangement, tuple[pg.PlotItem, ...]] | None = None
        #: In a small panel: which of the two plots to show.
        self.view_tabs = self.add_view_tabs("grad_view_tabs", ("now", "over time"),
                                            self._arrange)
        self._build_one_neuron()

    def _build_one_neuron(self) -> None:
        self.now = steady_plot(self.canvas, row=0, col=0)
        self.now.setTitle(".grad now")
        self.now.getAxis("bottom").setTicks([[(0, "weight"), (1, "bias")]])
        self.now.setXRange(-0.6, 1.6, padding=0)
        self.now.setMouseEnabled(x=False, y=True)
        self.now.setLimits(yMin=-VALUE_LIMIT, yMax=VALUE_LIMIT)
        self.now.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=[0, 1], height=[0, 0], width=0.6)
        self.now.addItem(self.bars)
        self.history = steady_plot(self.canvas, row=0, col=1)
        style_plot(self.history, "Gradient history", "epoch", "gradient")
        self.history.setDownsampling(auto=True, mode="peak")
        self.history.setClipToView(True)
        self.limits = HistoryLimits(self.history, log_y=False)
        self.weight_curve = self.history.plot([], [])
        self.bias_curve = self.history.plot([], [])
        self.weight_fresh = self.history.plot([], [])
        self.bias_fresh = self.history.plot([], [])
        # The latest step as dots, so a history of one step is visible too.
        self.last_weight = self.history.plot([], [], pen=None, symbol="o", symbolSize=7)
        self.last_bias = self.history.plot([], [], pen=None, symbol="o", symbolSize=7)
        self.feeds = {column: LongCurve(curve) for column, curve in (
            ("weight_grad", self.weight_curve), ("bias_grad", self.bias_curve),
            ("weight_grad_fresh", self.weight_fresh), ("bias_grad_fresh", self.bias_fresh))}
        self.legend.set_entries(lambda c: [
            LegendEntry("━", c.weight, "weight.grad"),
            LegendEntry("━", c.bias, "bias.grad"),
            LegendEntry("╌", c.weight, "∂loss/∂weight of that step alone"),
            LegendEntry("╌", c.bias, "∂loss/∂bias of that step alone"),
        ])
        self.stacked = None  # placed side by side; _arrange decides
        self._arrange()
        self.restyle()

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.now, self.history]

    def _show_tensors(self, names: tuple[str, ...] | None) -> None:
        """Rebuild for another model: per element for one neuron, per tensor otherwise."""
        self.tensor_names = names
        old = [self.now, self.history]
        self.canvas.clear()
        retire(old)
        self.layered = None
        if names is None:
            self._build_one_neuron()
            return
        self.now = steady_plot(self.canvas, row=0, col=0)
        self.history = steady_plot(self.canvas, row=0, col=1,
                                   axisItems={"left": LossAxis("left")})
        self.limits = HistoryLimits(self.history, log_y=True)
        self.layered = LayeredGrads(self.now, self.history, names)
        self.legend.set_entries(self.layered.legend)
        # Placed once the titles and axis labels are on: they set the widths it needs.
        self.stacked = None
        self._arrange()
        self.restyle()

    def arrangement(self) -> Arrangement:
        """Side by side with room for both, one above the other in a tall panel, else one
        at a time with tabs (two plots squeezed into a small panel were two slivers, and
        two plots narrower than their titles and axes ran past the panel's edge)."""
        # The panel's own size: the canvas's is not updated yet during the panel's resize.
        width, height = self.width(), self.height() - self.legend.height()
        now, history = (plot.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
                        for plot in (self.now, self.history))
        layout = self.canvas.ci.layout
        left, _top, right, _bottom = layout.getContentsMargins()
        both = now + history + layout.horizontalSpacing() + left + right
        if self.tensor_names is None:  # the one neuron's two bars take a quarter: as before
            if width >= both:
                return "side"
        elif width >= max(2 * MIN_PLOT_WIDTH, both) and width >= STACK_BELOW_ASPECT * height:
            return "side"  # a network's two plots are alike, each needs room
        if height >= 2 * MIN_PLOT_HEIGHT and width >= max(now, history) + left + right:
            return "stacked"
        return "one"

    def _arrange(self) -> None:
        mode = self.arrangement()
        shown = ((self.now, self.history) if mode != "one" else
                 (self.now,) if self.view_tabs.currentIndex() == 0 else (self.history,))
        if (mode, shown) == self.stacked:
            return
        self.stacked = (mode, shown)
        ci = self.canvas.ci
        for plot in (self.now, self.history):
            if plot in ci.items:
                ci.removeItem(plot)
        places = {"side": ((0, 0), (0, 1)), "stacked": ((0, 0), (1, 0)), "one": ((0, 0),)}
        for plot, (row, col) in zip(shown, places[mode], strict=False):
            ci.addItem(plot, row=row, col=col)
        layout = ci.layout
        history_share = 3 if self.tensor_names is None else 1
        layout.setColumnStretchFactor(0, 1)
        layout.setColumnStretchFactor(1, history_share if mode == "side" else 0)
        layout.setRowStretchFactor(0, 1)
        layout.setRowStretchFactor(1, 1 if mode == "stacked" else 0)
        self.view_tabs.setVisible(mode == "one")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def apply_pens(self, theme: Colours) -> None:
        if self.layered is not None:
            self.layered.apply_pens(theme)
            return
        self.bars.setOpts(brushes=[theme.weight, theme.bias], pens=[theme.weight, theme.bias])
        dashed = Qt.PenStyle.DashLine
        for curve, dot, colour, fresh in (
            (self.weight_curve, self.last_weight, theme.weight, self.weight_fresh),
            (self.bias_curve, self.last_bias, theme.bias, self.bias_fresh),
        ):
            curve.setPen(pen(colour, 2))
            fresh.setPen(pen(colour, 1.5, style=dashed))
            dot.setSymbolBrush(colour)
            dot.setSymbolPen(colour)

    def refresh(self, state: SessionView) -> None:
        names = None if state.one_neuron else tuple(
            state.param_names)
        if names != self.tensor_names:
            self._show_tensors(names)
        if self.layered is not None:
            self.limits.update(len(state.history))
            self.layered.refresh(state)
            return
        params = state.params
        grads = params.grads()
        heights = [0.0 if g is None else g for g in grads]
        # None is not 0: a gradient that does not exist draws no bar at all.
        theme = colours()
        shown = [None if g is None else c for g, c in zip(grads, (theme.weight, theme.bias),
                                                            strict=True)]
        set_opts(self.bars, height=finite_or_nan(np.asarray(heights, dtype=np.float64)),
                          brushes=[c or (0, 0, 0, 0) for c in shown],
                          pens=[c or (0, 0, 0, 0) for c in shown])
        epochs = state.history.column("step")
        self.limits.update(len(epochs))
        for name, feed in self.feeds.items():
            values = state.history.column(name)
            feed.show(state.history, epochs, partial(finite_from, values))
        last_epoch = np.asarray(epochs[-1:], dtype=np.float64)
        for dot, name in ((self.last_weight, "weight_grad"), (self.last_bias, "bias_grad")):
            set_data(dot, *finite_points(last_epoch,
                                       finite_or_nan(state.history.column(name)[-1:])))


class LayeredGrads:
    """For a layered model: each tensor's gradient norm now (bars) and at every step (lines,
    log scale: vanishing and exploding gradients are orders of magnitude apart)."""

    def __init__(self, now: pg.PlotItem, history: pg.PlotItem, names: tuple[str, ...]) -> None:
        self.names = names
        now.setTitle(GRADS_NOW)
        self.now = now
        # Short names under the bars ("2.W" for 2.weight); the legend gives them in full.
        short_names = [n.replace(".weight", ".W").replace(".bias", ".b") for n in names]
        now.getAxis("bottom").setTicks([list(enumerate(short_names))])
        now.setXRange(-0.6, len(names) - 0.4, padding=0)
        now.setMouseEnabled(x=False, y=True)
        now.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=list(range(len(names))), height=[0] * len(names),
                                    width=0.6)
        now.addItem(self.bars)
        style_plot(history, "Gradient norm per tensor", "epoch", "‖grad‖ (log)")
        history.setLogMode(y=True)
        history.setDownsampling(auto=True, mode="peak")
        history.setClipToView(True)
        self.curves = [history.plot([], []) for _ in names]
        self.feeds = [LongCurve(curve) for curve in self.curves]
        self.colours: list[str] = []

    def legend(self, c: Colours) -> list[LegendEntry]:
        return [LegendEntry("━", c.earlier_runs[i % len(c.earlier_runs)], f"{name}.grad")
                for i, name in enumerate(self.names)]

    def apply_pens(self, theme: Colours) -> None:
        self.colours = [theme.earlier_runs[i % len(theme.earlier_runs)]
                        for i in range(len(self.names))]
        for curve, colour in zip(self.curves, self.colours, strict=True):
            curve.setPen(pen(colour, 2))
        self.bars.setOpts(brushes=self.colours, pens=self.colours)

    def refresh(self, state: SessionView) -> None:
        norms = [t.grad_norm for t in state.params.tensors]
        heights = finite_or_nan(np.asarray([0.0 if n is None else n for n in norms],
                                           dtype=np.float64))
        # None is not 0: a gradient that does not exist draws no bar.
        shown = [(0, 0, 0, 0) if n is None else c for n, c in zip(norms, self.colours,
                                                                   strict=True)]
        set_opts(self.bars, height=heights, brushes=shown, pens=shown)
        title = GRADS_NONE if all(n is None for n in norms) else GRADS_NOW
        if self.now.titleLabel.text != title:
            self.now.setTitle(title)
        epochs = state.history.column("step")
        for feed, name in zip(self.feeds, self.names, strict=True):
            feed.show(state.history, epochs, partial(self._norms_from, state, name))

    @staticmethod
    def _norms_from(state: SessionView, name: str, start: int) -> FloatArray:
        return positive_or_nan(tensor_rows(state, "grad_norm", name, start))
