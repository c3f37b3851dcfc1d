"""The loss landscape of the one neuron: where the optimizer walks, and where it will step.

The map is the exact full-batch loss over (weight, bias) for the range in view, recomputed
when the learner pans or zooms; the path of this run and the faded paths of earlier runs; at
the current point the −gradient's direction and the update the next Step will really make
(worked out by PyTorch on a copy: momentum and Adam do not follow −grad); the minimum.
Clicking the map starts a new run there (an undoable action). Below, the loss along −grad
from where the weights are, with the point a plain SGD step lands on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.landscape import (
    SLICE_POINTS,
    LandscapeState,
    SliceJob,
    slice_grid,
)
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.plots import LegendEntry, PlotPanel, pen, style_plot
from gui_trainer.qt.theme import Colours

#: Grid points a side: the surface costs GRID² forwards of the data, vectorised (~10 ms).
GRID = 120
#: How long the view must rest after a pan or zoom before the surface is computed again.
SETTLE_MS = 80
#: The −gradient arrow's length as a share of the view's width (it shows a direction).
ARROW_SHARE = 0.12
CONTOURS = 8
#: Earlier runs' paths drawn at once (the latest): enough to compare a few settings.
EARLIER_DRAWN = 6
#: Below this the map and the plot along −grad take turns.
TWO_PLOTS_HEIGHT = 420

#: What a network's slice can and cannot show.
SLICE_CAPTION = (
    "A network has too many parameters for one map. This is a slice through the weights as "
    "they are now (the dot) along two random directions, each layer's rows scaled to the size "
    "of that layer's rows (filter-normalised, Li et al. 2018; biases held still). It shows how "
    "the loss rises or falls near this point in those two directions only: the optimizer's "
    "path does not lie in this plane, and other directions may look different.")
ASK_FOR_SLICE = "Press Slice to compute the loss around the weights as they are now."


#: Points further out are left undrawn: a diverged run reaches 1e38 and then inf, and Qt's
#: painter crashed on a path through such coordinates.
DRAWABLE = 1e6


#: Losses along −grad up to this are drawn (a diverging step's are in the billions).
LOSS_DRAWABLE = 1e30


def drawable(values: np.ndarray, limit: float = DRAWABLE) -> np.ndarray:
    """Values a plot can draw; the rest NaN (a curve breaks there with connect="finite")."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (np.abs(values) < limit), values, np.nan)


def points(xs: float, ys: float) -> tuple[np.ndarray, np.ndarray]:
    """Only drawable points, for scatter items (they must not get NaN)."""
    x, y = drawable(np.asarray([xs])), drawable(np.asarray([ys]))
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def view_around(state: LandscapeState) -> QRectF:
    """A range holding the start, the path, the current point and the minimum, with room."""
    points = np.vstack([np.asarray([state.start, state.current, state.minimum]),
                        state.path.reshape(-1, 2)])
    points = points[np.isfinite(points).all(axis=1) & (np.abs(points) < 1e6).all(axis=1)]
    if len(points) == 0:  # everything diverged: frame where the run started
        points = np.asarray([state.start])
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1.0) * 1.6
    centre = (low + high) / 2
    return QRectF(centre[0] - span[0] / 2, centre[1] - span[1] / 2, span[0], span[1])


class LandscapePanel(PlotPanel):
    def __init__(self, start_from: Callable[[float, float], None],
                 make_slice: Callable[[], SliceJob], parent: QWidget | None = None) -> None:
        super().__init__("landscape_panel", parent)
        self.start_from = start_from
        self.make_slice = make_slice
        self.map = self.canvas.addPlot(row=0, col=0)
        self.along = self.canvas.addPlot(row=1, col=0)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 1)
        # In a short dock the two plots take turns (stacked, the map was a strip).
        self.view_tabs = self.add_view_tabs("landscape_tabs", ("map", "along −grad"),
                                            self._arrange)
        self.shown: tuple[pg.PlotItem, ...] = (self.map, self.along)
        #: A network's slice (the map only) rather than the one neuron's exact surface.
        self.network = False
        #: The earlier runs drawn (the latest few), as the legend names them.
        self.earlier_labels: tuple[str, ...] = ()
        self._earlier_key: tuple[tuple[str, int], ...] = ()
        self._build_slice_bar()
        # Short titles: a plot's title is as wide as its text, and a long one pushed the
        # plots out of a narrow dock. The details are in the legend and the tooltip.
        style_plot(self.map, "Loss over weight and bias", "weight", "bias")
        self.setToolTip("The exact loss (log10 colour) over weight and bias for the range in "
                        "view; pan and zoom to look elsewhere. Click the map to start a new "
                        "run there (Ctrl+Z undoes it).")
        style_plot(self.along, "Loss along −grad", "t (now − t × grad)", "loss")
        self.map.setMinimumWidth(0)
        self.along.setMinimumWidth(0)
        self.surface = pg.ImageItem(axisOrder="row-major")
        self.surface.setZValue(-10)
        self.map.addItem(self.surface)
        self.contours = [pg.IsocurveItem(level=0.0) for _ in range(CONTOURS)]
        for contour in self.contours:
            contour.setParentItem(self.surface)
        self.earlier: list[pg.PlotDataItem] = []
        self.path = self.map.plot([], [], symbol="o", symbolSize=4)
        self.start_mark = self.map.plot([], [], pen=None, symbol="s", symbolSize=9)
        self.here = self.map.plot([], [], pen=None, symbol="o", symbolSize=11)
        self.minimum = self.map.plot([], [], pen=None, symbol="star", symbolSize=16)
        self.down = self.map.plot([], [])
        self.update_line = self.map.plot([], [])
        self.landing = self.map.plot([], [], pen=None, symbol="x", symbolSize=12)
        self.along_curve = self.along.plot([], [])
        self.along_here = self.along.plot([], [], pen=None, symbol="o", symbolSize=9)
        self.along_step = self.along.plot([], [], pen=None, symbol="x", symbolSize=12)
        self.note = pg.TextItem(anchor=(0, 0))
        self.map.addItem(self.note)
        self.state: LandscapeState | None = None
        self.grid_range: QRectF | None = None
        self._fitted_for: object = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._compute_surface)
        self.map.sigRangeChanged.connect(lambda *_args: self._settle.start())
        #: Frame the run until the learner pans or zooms (then the view is theirs).
        self.auto_frame = True
        self.map.vb.sigRangeChangedManually.connect(self._moved_by_hand)
        self.map.scene().sigMouseClicked.connect(self._clicked)
        self.legend.set_entries(self._legend)
        self.restyle()

    def _legend(self, c: Colours) -> list[LegendEntry]:
        if self.network:
            return [LegendEntry("●", c.model, "the weights now"),
                    LegendEntry("", c.muted, "colour: log10 of the loss; lines: equal loss")]
        return [
            LegendEntry("■", c.data, "start"), LegendEntry("━", c.model, "this run's path"),
            LegendEntry("●", c.model, "now"), LegendEntry("━", c.bad, "−grad (direction)"),
            LegendEntry("━", c.good, "the next Step's real update, × where it lands"),
            LegendEntry("★", c.loss, "lowest loss"),
            LegendEntry("", c.muted, "click the map: a new run starts there"),
            # Earlier runs side by side: another optimizer or rate from the same start.
            *(LegendEntry("━", c.earlier_runs[i % len(c.earlier_runs)], label)
              for i, label in enumerate(self.earlier_labels))]

    def _build_slice_bar(self) -> None:
        """A network's slice: asked for, computed off the GUI thread, cancellable."""
        self.slice_bar = QWidget(self)
        bar = QHBoxLayout(self.slice_bar)
        bar.setContentsMargins(2, 2, 2, 2)
        self.slice_button = QPushButton("Slice", self.slice_bar)
        self.slice_button.setObjectName("landscape_slice")
        self.slice_button.setToolTip("Compute the loss around the weights as they are now "
                                     f"({SLICE_POINTS}×{SLICE_POINTS} points)")
        self.slice_button.clicked.connect(self.start_slice)
        self.slice_progress = QProgressBar(self.slice_bar)
        self.slice_progress.setFormat("row %v of %m")
        self.cancel_button = QPushButton("Cancel", self.slice_bar)
        self.cancel_button.clicked.connect(self.cancel_slice)
        self.slice_text = QLabel(ASK_FOR_SLICE, self.slice_bar)
        self.slice_text.setWordWrap(True)
        for widget in (self.slice_button, self.slice_progress, self.cancel_button):
            bar.addWidget(widget)
        bar.addWidget(self.slice_text, 1)
        self.slice_progress.hide()
        self.cancel_button.hide()
        self.slice_bar.hide()
        cast(QVBoxLayout, self.layout()).insertWidget(0, self.slice_bar)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slice")
        self._future: Future[np.ndarray | None] | None = None
        self._cancel = threading.Event()
        self._rows = (0, SLICE_POINTS)
        self._job: SliceJob | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._check_slice)

    @property
    def slicing(self) -> bool:
        return self._future is not None

    def start_slice(self) -> None:
        if self.slicing:
            return
        job = self._job = self.make_slice()
        self._cancel.clear()
        self._rows = (0, len(job.alphas))

        def progress(done: int, total: int) -> bool:  # in the worker: plain values only
            self._rows = (done, total)
            return not self._cancel.is_set()

        self._future = self._executor.submit(slice_grid, job, progress)
        self.slice_button.setEnabled(False)
        self.slice_progress.setRange(0, len(job.alphas))
        self.slice_progress.setValue(0)
        self.slice_progress.show()
        self.cancel_button.show()
        self.slice_text.setText(f"Slicing at epoch {job.epoch}…")
        self._poll.start()

    def cancel_slice(self) -> None:
        """Stop a slice being computed (the worker stops after its current row)."""
        self._cancel.set()

    def _check_slice(self) -> None:
        future = self._future
        if future is None:
            self._poll.stop()
            return
        self.slice_progress.setValue(self._rows[0])
        if not future.done():
            return
        self._poll.stop()
        self._future = None
        self.slice_button.setEnabled(True)
        self.slice_progress.hide()
        self.cancel_button.hide()
        losses = future.result()
        job = self._job
        if losses is None or job is None:
            self.slice_text.setText("Slice cancelled. " + ASK_FOR_SLICE)
            return
        self._show_slice(job, losses)

    def _show_slice(self, job: SliceJob, losses: np.ndarray) -> None:
        a0, a1 = float(job.alphas[0]), float(job.alphas[-1])
        b0, b1 = float(job.betas[0]), float(job.betas[-1])
        self.map.setLabel("bottom", "along direction 1")
        self.map.setLabel("left", "along direction 2")
        self.map.setTitle(f"Loss around the weights at epoch {job.epoch}")
        self._paint_surface(losses.astype(np.float64), a0, a1, b0, b1)
        self.map.setRange(xRange=(a0, a1), yRange=(b0, b1), padding=0)
        centre = losses[len(job.alphas) // 2, len(job.betas) // 2]
        self.here.setData(*points(0.0, 0.0))
        self.slice_text.setText(f"{SLICE_CAPTION} Loss here {float(centre):.4g}.")

    def shutdown(self) -> None:
        """The window closes: stop the worker and the polling."""
        self.cancel_slice()
        self._poll.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.map, self.along]

    def apply_pens(self, theme: Colours) -> None:
        self.colours = theme
        self.surface.setColorMap(pg.colormap.get("viridis"))
        for contour in self.contours:
            contour.setPen(pen(theme.plot_foreground, 0.8))
        self.path.setPen(pen(theme.model, 2))
        self.path.setSymbolBrush(theme.model)
        self.path.setSymbolPen(theme.model)
        for item, colour in ((self.start_mark, theme.data), (self.here, theme.model),
                             (self.minimum, theme.loss), (self.landing, theme.good),
                             (self.along_here, theme.model), (self.along_step, theme.good)):
            item.setSymbolBrush(colour)
            item.setSymbolPen(theme.plot_foreground)
        self.down.setPen(pen(theme.bad, 2.5))
        self.update_line.setPen(pen(theme.good, 2.5))
        self.along_curve.setPen(pen(theme.loss, 2))
        self.note.setColor(theme.plot_foreground)
        for index, curve in enumerate(self.earlier):
            curve.setPen(pen(QColor(theme.earlier_runs[index % len(theme.earlier_runs)]), 1.2))

    # -- drawing ---------------------------------------------------------------------------
    def refresh(self, view: SessionView) -> None:
        state = view.landscape
        self.state = state
        network = not view.one_neuron
        if network != self.network:
            self.network = network
            self.slice_bar.setVisible(network)
            self.legend.refresh()
            self._arrange()
        if self._fitted_for is not view.history:  # another session: its own map
            self._fitted_for = view.history
            self.auto_frame = True
            if network:
                self._begin_slices()
                return
            self.map.setLabel("bottom", "weight")
            self.map.setLabel("left", "bias")
            self.map.setTitle("Loss over weight and bias")
            self._frame(force=True)
        if state is None:
            return
        if self.auto_frame:
            self._fitted_for = view.history
            self.auto_frame = True
            self._frame(force=True)
            self._frame()
        self._draw_paths(state)
        self._draw_step(state)

    def _draw_paths(self, state: LandscapeState) -> None:
        path = drawable(np.vstack([np.asarray([state.start]), state.path.reshape(-1, 2)]))
        self.path.setData(path[:, 0], path[:, 1], connect="finite")
        self.start_mark.setData(*points(state.start[0], state.start[1]))
        self.here.setData(*points(state.current[0], state.current[1]))
        self.minimum.setData(*points(state.minimum[0], state.minimum[1]))
        drawn = state.earlier[-EARLIER_DRAWN:]
        # Earlier runs change only when runs are made or undone: drawn again only then, and
        # pens set only on new curves (a colour map set every frame re-rendered the surface).
        key = tuple((path.label, len(path.points)) for path in drawn)
        if key == self._earlier_key:
            return
        self._earlier_key = key
        added = len(drawn) > len(self.earlier)
        while len(self.earlier) < len(drawn):
            self.earlier.append(self.map.plot([], []))
        labels = tuple(path.label for path in drawn)
        if labels != self.earlier_labels:
            self.earlier_labels = labels
            self.legend.refresh()
        for curve, earlier in zip(self.earlier, drawn, strict=False):
            shown = drawable(earlier.points)
            curve.setData(shown[:, 0], shown[:, 1], connect="finite")
            curve.setZValue(-1)
        for curve in self.earlier[len(drawn):]:
            curve.setData([], [])
        if added:
            self.apply_pens(self.colours)

    def _draw_step(self, state: LandscapeState) -> None:
        x, y = state.current
        arrows = (self.down, self.update_line, self.landing, self.along_curve,
                  self.along_here, self.along_step)
        if state.gradient is None or not np.isfinite(drawable(np.asarray(
                [x, y, *state.gradient]))).all():
            for item in arrows:
                item.setData([], [])
            self.along.setTitle("Loss along −grad: none now (after Backward)"
                                if state.gradient is None else "Loss along −grad: off the map")
            return
        gx, gy = state.gradient
        size = float(np.hypot(gx, gy)) or 1.0
        (left, right), _ = self.map.viewRange()
        reach = ARROW_SHARE * (right - left)
        self.down.setData([x, x - gx / size * reach], [y, y - gy / size * reach])
        if state.next_update is not None:
            dx, dy = state.next_update
            end = drawable(np.asarray([x + dx, y + dy]))
            self.update_line.setData([x, end[0]], [y, end[1]], connect="finite")
            self.landing.setData(*points(end[0], end[1]))
        # A loss (not a coordinate on the map) may be huge and still drawable: its own axis.
        losses = drawable(state.along_loss, LOSS_DRAWABLE)
        self.along_curve.setData(drawable(state.along_t), losses, connect="finite")
        at = int(np.argmin(np.abs(state.along_t - state.lr)))
        for item, t, loss in ((self.along_here, 0.0, losses[0]),
                              (self.along_step, state.lr, losses[at])):
            item.setData(*([[t], [loss]] if np.isfinite(loss) else [[], []]))
        self.along.setTitle("Along −grad: × at t = lr" if state.optimizer == "sgd" else
                            "Along −grad: × an SGD step")

    def _begin_slices(self) -> None:
        """A network: no exact map; the slice is computed when asked for."""
        self.cancel_slice()
        for item in (self.path, self.start_mark, self.minimum, self.down, self.update_line,
                     self.landing, self.here, self.along_curve, self.along_here,
                     self.along_step, *self.earlier):
            item.setData([], [])
        self._earlier_key = ()  # drawn again when a one-neuron map comes back
        self.surface.clear()
        for contour in self.contours:
            contour.setData(None)
        self.map.setTitle("Loss around the weights now")
        self.map.setLabel("bottom", "along direction 1")
        self.map.setLabel("left", "along direction 2")
        self.along.setTitle("Loss along −grad: drawn for the one neuron")
        self.slice_text.setText(ASK_FOR_SLICE)

    def _moved_by_hand(self, *_args: object) -> None:
        self.auto_frame = False

    def _frame(self, force: bool = False) -> None:
        """Frame the run; while it stays in view the view keeps still (a moving map at every
        frame of auto-train would be hard to read, and each move recomputes the surface)."""
        if self.state is None:
            return
        target = view_around(self.state)
        (x0, x1), (y0, y1) = self.map.viewRange()
        shown = QRectF(x0, y0, x1 - x0, y1 - y0)
        if force or not shown.contains(target.adjusted(
                target.width() * 0.15, target.height() * 0.15,
                -target.width() * 0.15, -target.height() * 0.15)):
            self.map.setRange(target, padding=0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()
        if self.auto_frame:
            self._frame(force=True)

    def _arrange(self) -> None:
        """Both plots in a tall dock; in a short one, one at a time with tabs."""
        both = self.height() >= TWO_PLOTS_HEIGHT and not self.network
        shown = (self.map, self.along) if both else (
            (self.map,) if self.view_tabs.currentIndex() == 0 or self.network
            else (self.along,))
        self.view_tabs.setVisible(not both and not self.network)
        if shown == self.shown:
            return
        ci = self.canvas.ci
        for plot in (self.map, self.along):
            if plot in ci.items:
                ci.removeItem(plot)
        for row, plot in enumerate(shown):
            ci.addItem(plot, row=row, col=0)
        self.shown = shown

    def _compute_surface(self) -> None:
        state = self.state
        if state is None:
            return
        (x0, x1), (y0, y1) = self.map.viewRange()
        xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
        self._paint_surface(state.grid(xs, ys).astype(np.float64), x0, x1, y0, y1)
        self.grid_range = QRectF(x0, y0, x1 - x0, y1 - y0)

    def _paint_surface(self, losses: np.ndarray, x0: float, x1: float, y0: float,
                       y1: float) -> None:
        """``losses[i, j]`` at x = x0…x1 (i) and y = y0…y1 (j), in log10 colour, contoured."""
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(losses)
        finite = logs[np.isfinite(logs)]
        if finite.size == 0:  # a range where every loss overflowed: nothing to colour
            self.surface.clear()
            for contour in self.contours:
                contour.setData(None)
            return
        low, high = float(finite.min()), float(finite.max())
        # Overflowed points take the top colour; a zero loss the bottom one.
        shown = np.nan_to_num(logs, nan=high, posinf=high, neginf=low)
        # Rows of the image are y, columns x.
        self.surface.setImage(shown.T, autoLevels=False, levels=(low, high or low + 1))
        self.surface.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        levels: list[float] = (list(np.linspace(low, high, CONTOURS + 2)[1:-1])
                               if high > low else [])
        for index, contour in enumerate(self.contours):
            if index < len(levels):
                contour.setData(shown.T)  # in the image's own coordinates, as its child
                contour.setLevel(float(levels[index]))
            else:
                contour.setData(None)

    def _clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():  # type: ignore[attr-defined]
            return  # the right button opens the plot's menu
        position = event.scenePos()  # type: ignore[attr-defined]
        if self.state is None or not self.map.vb.sceneBoundingRect().contains(position):
            return  # (a network's slice is no place to start a run from)
        point: QPointF = self.map.vb.mapSceneToView(position)
        self.start_from(point.x(), point.y())
