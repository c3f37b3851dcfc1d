"""The loss landscape of the one neuron: where the optimizer walks, and where it will step.

The map is the exact full-batch loss over (weight, bias) for the range in view, recomputed
when the learner pans or zooms; the path of this run and the faded paths of earlier runs; at
the current point the −gradient's direction and the update the next Step will really make
(worked out by PyTorch on a copy: momentum and Adam do not follow −grad); the minimum.
Clicking the map starts a new run there (an undoable action). Below, the loss along −grad
from where the weights are, with the point a plain SGD step lands on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import QTabBar, QVBoxLayout, QWidget

from gui_trainer.core.landscape import LandscapeState
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
#: Below this the map and the plot along −grad take turns.
TWO_PLOTS_HEIGHT = 420

#: Shown instead of the map for a model with more than two parameters.
ONLY_TWO = ("The exact landscape is the loss over two parameters: open Scenario ▸ Delivery "
            "times (one neuron) to see its surface, the path the optimizer takes and where the "
            "next step lands.")


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
                 parent: QWidget | None = None) -> None:
        super().__init__("landscape_panel", parent)
        self.start_from = start_from
        self.map = self.canvas.addPlot(row=0, col=0)
        self.along = self.canvas.addPlot(row=1, col=0)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 1)
        # In a short dock the two plots take turns (stacked, the map was a strip).
        self.view_tabs = QTabBar(self)
        self.view_tabs.setObjectName("landscape_tabs")
        self.view_tabs.setDocumentMode(True)
        self.view_tabs.addTab("map")
        self.view_tabs.addTab("along −grad")
        self.view_tabs.currentChanged.connect(lambda _index: self._arrange())
        self.view_tabs.hide()
        cast(QVBoxLayout, self.layout()).insertWidget(0, self.view_tabs)
        self.shown: tuple[pg.PlotItem, ...] = (self.map, self.along)
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
        self.legend.set_entries(lambda c: [
            LegendEntry("■", c.data, "start"), LegendEntry("━", c.model, "this run's path"),
            LegendEntry("●", c.model, "now"), LegendEntry("━", c.bad, "−grad (direction)"),
            LegendEntry("━", c.good, "the next Step's real update, × where it lands"),
            LegendEntry("★", c.loss, "lowest loss"),
            LegendEntry("", c.muted, "click the map: a new run starts there")])
        self.restyle()

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
        if state is None:
            self.note.setText(ONLY_TWO if not view.one_neuron else "")
            return
        self.note.setText("")
        if self._fitted_for is not view.history:  # a new session: frame its landscape
            self._fitted_for = view.history
            self.auto_frame = True
            self._frame(force=True)
        elif self.auto_frame:
            self._frame()
        self._draw_paths(state)
        self._draw_step(state)

    def _draw_paths(self, state: LandscapeState) -> None:
        path = drawable(np.vstack([np.asarray([state.start]), state.path.reshape(-1, 2)]))
        self.path.setData(path[:, 0], path[:, 1], connect="finite")
        self.start_mark.setData(*points(state.start[0], state.start[1]))
        self.here.setData(*points(state.current[0], state.current[1]))
        self.minimum.setData(*points(state.minimum[0], state.minimum[1]))
        while len(self.earlier) < len(state.earlier):
            self.earlier.append(self.map.plot([], []))
        for curve, earlier in zip(self.earlier, state.earlier, strict=False):
            shown = drawable(earlier.points)
            curve.setData(shown[:, 0], shown[:, 1], connect="finite")
            curve.setZValue(-1)
        for curve in self.earlier[len(state.earlier):]:
            curve.setData([], [])
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
        both = self.height() >= TWO_PLOTS_HEIGHT
        shown = (self.map, self.along) if both else (
            (self.map,) if self.view_tabs.currentIndex() == 0 else (self.along,))
        if shown == self.shown:
            return
        ci = self.canvas.ci
        for plot in (self.map, self.along):
            if plot in ci.items:
                ci.removeItem(plot)
        for row, plot in enumerate(shown):
            ci.addItem(plot, row=row, col=0)
        self.shown = shown
        self.view_tabs.setVisible(not both)

    def _compute_surface(self) -> None:
        state = self.state
        if state is None:
            return
        (x0, x1), (y0, y1) = self.map.viewRange()
        xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
        losses = state.grid(xs, ys).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(losses)
        finite = logs[np.isfinite(logs)]
        if finite.size == 0:  # a range where every loss overflowed: nothing to colour
            self.surface.clear()
            for contour in self.contours:
                contour.setData(None)
            self.grid_range = QRectF(x0, y0, x1 - x0, y1 - y0)
            return
        low, high = float(finite.min()), float(finite.max())
        # Overflowed points take the top colour; a zero loss the bottom one.
        shown = np.nan_to_num(logs, nan=high, posinf=high, neginf=low)
        # Rows of the image are bias (y), columns weight (x).
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
        self.grid_range = QRectF(x0, y0, x1 - x0, y1 - y0)


    def _clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():  # type: ignore[attr-defined]
            return  # the right button opens the plot's menu
        position = event.scenePos()  # type: ignore[attr-defined]
        if self.state is None or not self.map.vb.sceneBoundingRect().contains(position):
            return
        point: QPointF = self.map.vb.mapSceneToView(position)
        self.start_from(point.x(), point.y())
