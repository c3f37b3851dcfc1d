"""The loss landscape of the one neuron: where the optimizer walks, and where it will step.

The map is the exact full-batch loss over (weight, bias) for the range in view, recomputed
when the learner pans or zooms; the path of this run and the faded paths of earlier runs; at
the current point the −gradient's direction and the update the next Step will really make
(worked out by PyTorch on a copy: momentum and Adam do not follow −grad); the minimum.
Clicking the map, or dragging the current point, starts a new run there (an undoable
action). Below, the loss along −grad from where the weights are, with the next Step's own
landing. A network gets the same plot along −grad, and two slices computed on request off
the GUI thread: random filter-normalised directions, and the plane of its path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.along_step import Along
from gui_trainer.core.history import History
from gui_trainer.core.landscape import LandscapeState, Path
from gui_trainer.core.slices import (
    SLICE_POINTS,
    NetworkLandscapeState,
    PathPlane,
    SliceJob,
    plane_caption,
)
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.folding_caption import FoldingCaption
from gui_trainer.qt.long_history import RowsSeen
from gui_trainer.qt.plots import LegendEntry, PlotPanel, pen, style_plot
from gui_trainer.qt.slice_worker import SliceWorker
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
NO_PLANE = "No path plane yet"
ASK_FOR_SLICE = ("Random slice: the loss around the weights as they are now. Path plane: the "
                 "loss on the plane this run's path moved in, with the path on it.")


#: Points further out are left undrawn: a diverged run reaches 1e38 and then inf, and Qt's
#: painter crashed on a path through such coordinates.
DRAWABLE = 1e6


#: Losses along −grad up to this are drawn (a diverging step's are in the billions).
LOSS_DRAWABLE = 1e30


#: A path's points get a dot each up to this many; beyond it, a line alone.
PATH_MARKERS = 400
#: The most points of a path drawn: a longer one is drawn through every k-th point (its
#: first and last always), which the eye cannot tell from all of them at a plot's size.
PATH_POINTS_DRAWN = 20_000


def thinned(points: np.ndarray, limit: int = PATH_POINTS_DRAWN) -> np.ndarray:
    """``points`` (rows), or every k-th of them and the last when there are over ``limit``."""
    if len(points) <= limit:
        return points
    stride = -(-len(points) // limit)
    return np.vstack([points[::stride], points[-1:]])


def thinned_path(start: tuple[float, float], path: np.ndarray,
                 limit: int = PATH_POINTS_DRAWN) -> np.ndarray:
    """``thinned`` of the start followed by the path, without copying a long path whole."""
    rows = path.reshape(-1, 2)
    head = np.asarray([start], dtype=np.float64)
    if len(rows) + 1 <= limit:
        return np.vstack([head, rows])
    stride = -(-(len(rows) + 1) // limit)
    # Every stride-th of [start, *rows]: the start, then rows stride - 1, 2·stride - 1, …
    return np.vstack([head, rows[stride - 1::stride], rows[-1:]])


class PathBounds:
    """The lowest and highest drawable (weight, bias) on this run's path, worked out from
    the steps not seen before (framing a million-step path went over it all each frame)."""

    def __init__(self) -> None:
        self.rows = RowsSeen()
        self.low: np.ndarray | None = None
        self.high: np.ndarray | None = None

    def of(self, history: History, path: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        rows = path.reshape(-1, 2)
        kept = self.rows.valid(history)
        if kept == 0 or kept > len(rows):
            kept, self.low, self.high = 0, None, None
        new = rows[kept:]
        with np.errstate(invalid="ignore"):
            new = new[np.isfinite(new).all(axis=1) & (np.abs(new) < DRAWABLE).all(axis=1)]
        if len(new):
            low, high = new.min(axis=0), new.max(axis=0)
            self.low = low if self.low is None else np.minimum(self.low, low)
            self.high = high if self.high is None else np.maximum(self.high, high)
        self.rows.seen(history, len(rows))
        return None if self.low is None or self.high is None else (self.low, self.high)


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


def view_around(state: LandscapeState,
                path_bounds: tuple[np.ndarray, np.ndarray] | None = None) -> QRectF:
    """A range holding the start, the path, the current point, the minimum and where the
    next Step lands (an overshoot is seen before it happens), with room.

    ``path_bounds``: the path's lowest and highest drawable point, when known (``PathBounds``),
    instead of the whole path."""
    ahead = ([] if state.next_update is None else
             [np.asarray(state.current) + np.asarray(state.next_update)])
    path = (state.path.reshape(-1, 2) if path_bounds is None
            else np.asarray(path_bounds, dtype=np.float64))
    points = np.vstack([np.asarray([state.start, state.current, state.minimum, *ahead]), path])
    points = points[np.isfinite(points).all(axis=1) & (np.abs(points) < 1e6).all(axis=1)]
    if len(points) == 0:  # everything diverged: frame where the run started
        points = np.asarray([state.start])
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1.0) * 1.6
    centre = (low + high) / 2
    return QRectF(centre[0] - span[0] / 2, centre[1] - span[1] / 2, span[0], span[1])


def earlier_colours(theme: Colours) -> tuple[str, ...]:
    """Earlier runs' colours, leaving out those the map already uses for something else."""
    taken = {theme.data, theme.bad, theme.good, theme.model, theme.loss}
    return tuple(colour for colour in theme.earlier_runs if colour not in taken)


def along_title(along: Along) -> str:
    """Short (a title is as wide as its text); the legend says the rest."""
    if along.off_line < 1e-3:
        return "Along −grad: × the next Step"
    return "Along −grad: × next Step, off line"


class LandscapePanel(PlotPanel):
    #: Something hidden is shown again: draw a frame with what it needs.
    needs_redraw = Signal()

    def __init__(self, start_from: Callable[[float, float], None],
                 make_slice: Callable[[], SliceJob], make_plane: Callable[[], PathPlane],
                 parent: QWidget | None = None) -> None:
        super().__init__("landscape_panel", parent)
        self.start_from = start_from
        self.make_slice = make_slice
        self.make_plane = make_plane
        self.map = self.canvas.addPlot(row=0, col=0)
        self.along = self.canvas.addPlot(row=1, col=0)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 1)
        # In a short dock the two plots take turns (stacked, the map was a strip).
        self.view_tabs = self.add_view_tabs("landscape_tabs", ("map", "along −grad"),
                                            self._arrange)
        self.shown: tuple[pg.PlotItem, ...] = (self.map, self.along)
        #: A network (slices on request) rather than the one neuron's exact surface.
        self.network = False
        #: What a network's map shows: "" (nothing yet), "slice" or "plane".
        self.network_view = ""
        #: The shown slice's title and the epoch it was computed at.
        self._slice_title: tuple[str, int] | None = None
        #: The run the map was framed for (a new run is framed afresh).
        self._framed_run: object = None
        #: The earlier runs drawn (the latest few), as the legend names them.
        self.earlier_labels: tuple[str, ...] = ()
        self._earlier_key: tuple[tuple[str, int], ...] = ()
        self._build_slice_bar()
        # Short titles: a plot's title is as wide as its text, and a long one pushed the
        # plots out of a narrow dock. The details are in the legend and the tooltip.
        style_plot(self.map, "Loss over weight and bias", "weight", "bias")
        style_plot(self.along, "Loss along −grad", "step size t: weights − t × grad", "loss")
        for plot in (self.map, self.along):
            plot.setMinimumWidth(0)
            # Small preferred heights, so the rows share the space 3 : 1 (with pyqtgraph's
            # own, they split a 1080-pixel screen's dock evenly and the map was a strip).
            plot.setPreferredHeight(60)
        self.surface = pg.ImageItem(axisOrder="row-major")
        self.surface.setZValue(-10)
        self.map.addItem(self.surface)
        # In the image's axis order (the default, column-major, drew them transposed).
        self.contours = [pg.IsocurveItem(level=0.0, axisOrder="row-major")
                         for _ in range(CONTOURS)]
        for contour in self.contours:
            contour.setParentItem(self.surface)
        self.earlier: list[pg.PlotDataItem] = []
        self.path = self.map.plot([], [], symbol="o", symbolSize=4)
        self._path_marked = True
        self.start_mark = self.map.plot([], [], pen=None, symbol="s", symbolSize=9)
        self.here = self.map.plot([], [], pen=None, symbol="o", symbolSize=11)
        # The one neuron's point now: drag it to start a run elsewhere.
        self.target = pg.TargetItem(symbol="o", size=13, movable=True)
        self.target.setLabel(self._drag_label, {"anchor": (0, 1), "offset": (10, -6)})
        self.target.sigPositionChanged.connect(self._place_drag_label)
        self.target.setZValue(5)
        self.map.addItem(self.target)
        self.target.sigPositionChangeFinished.connect(self._dropped)
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
        self.along_state: Along | None = None
        self.grid_range: QRectF | None = None
        self._fitted_for: object = None
        self.path_bounds = PathBounds()
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
        self._set_tooltip()
        self.restyle()

    def _set_tooltip(self) -> None:
        self.setToolTip(
            "A slice of the network's loss, computed when you ask (see the caption)."
            if self.network else
            "The exact loss (log10 colour) over weight and bias for the range in view; pan "
            "and zoom to look elsewhere. Click the map or drag the current point to start a "
            "new run there (Ctrl+Z undoes it).")

    def _legend(self, c: Colours) -> list[LegendEntry]:
        if self.shown == (self.along,):
            return [LegendEntry("●", c.model, "the loss now"),
                    LegendEntry("━", c.loss, "the loss at weights − t × grad"),
                    LegendEntry("✕", c.good, "the loss where the next Step lands (Adam and "
                                             "momentum step off this line)")]
        step = [LegendEntry("✕", c.good, "below: the loss where the next Step lands")]
        colour = LegendEntry("", c.muted, "colour: log10 of the loss; lines: equal loss")
        colours = earlier_colours(c)
        runs = [LegendEntry("━", colours[i % len(colours)], label)
                for i, label in enumerate(self.earlier_labels)]
        if self.network and not self.network_view:
            return [LegendEntry("", c.muted, "the map appears when a slice is computed")]
        if self.network and self.network_view == "plane":
            return [LegendEntry("■", c.data, "start"),
                    LegendEntry("━", c.model, "this run's path, projected"),
                    LegendEntry("●", c.model, self._then()), colour, *step, *runs]
        if self.network:
            return [LegendEntry("●", c.model, self._then()), colour, *step]
        return [
            LegendEntry("■", c.data, "start"), LegendEntry("━", c.model, "this run's path"),
            LegendEntry("●", c.model, "now (drag it or click the map to start a run there)"),
            LegendEntry("━", c.bad, "−grad (direction)"),
            LegendEntry("━", c.good, "the next Step's real update, × where it lands"),
            LegendEntry("★", c.loss, "lowest loss"),
            # Earlier runs side by side: another optimizer or rate from the same start.
            *runs]

    def _then(self) -> str:
        """The dot of a slice: the weights when it was computed."""
        return ("the weights" if self._slice_title is None else
                f"the weights at epoch {self._slice_title[1]}")

    def _show_slice_age(self, epoch: int) -> None:
        """A slice is of the weights when it was computed: the title says when, and now."""
        if self._slice_title is None:
            return
        name, then = self._slice_title
        self.map.setTitle(f"{name} at epoch {then}" + ("" if epoch == then else
                                                       f" (now {epoch})"))

    def _build_slice_bar(self) -> None:
        """A network's slices: asked for, computed off the GUI thread, cancellable."""
        self.slice_bar = QWidget(self)
        rows = QVBoxLayout(self.slice_bar)
        rows.setContentsMargins(2, 2, 2, 2)
        bar = QHBoxLayout()
        rows.addLayout(bar)
        self.slice_button = QPushButton("Random slice", self.slice_bar)
        self.slice_button.setObjectName("landscape_slice")
        self.slice_button.setToolTip(
            "The loss around the weights as they are now along two random filter-normalised "
            f"directions ({SLICE_POINTS}×{SLICE_POINTS} points)")
        self.slice_button.clicked.connect(self.start_slice)
        self.plane_button = QPushButton("Path plane", self.slice_bar)
        self.plane_button.setObjectName("landscape_plane")
        self.plane_button.setToolTip(
            "The loss on the plane this run's path moved in most (its two main PCA "
            f"directions), with the path drawn on it ({SLICE_POINTS}×{SLICE_POINTS} points)")
        self.plane_button.clicked.connect(self.start_plane)
        self.slice_progress = QProgressBar(self.slice_bar)
        self.slice_progress.setFormat("row %v of %m")
        self.cancel_button = QPushButton("Cancel", self.slice_bar)
        self.cancel_button.clicked.connect(self.cancel_slice)
        self.slice_text = FoldingCaption(ASK_FOR_SLICE, self.slice_bar)
        for widget in (self.slice_button, self.plane_button, self.slice_progress,
                       self.cancel_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        # The caption under the buttons, the panel's full width: beside them it wrapped
        # into a tall narrow column that squeezed the map.
        rows.addWidget(self.slice_text)
        self.slice_progress.hide()
        self.cancel_button.hide()
        self.slice_bar.hide()
        cast(QVBoxLayout, self.layout()).insertWidget(0, self.slice_bar)
        #: Which session a slice was asked for (a result for an earlier one is dropped).
        self._generation = 0
        self.worker = SliceWorker(self)
        self.worker.progressed.connect(self._progressed)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)

    @property
    def slicing(self) -> bool:
        return self.worker.busy

    def start_slice(self) -> None:
        if not self.slicing:
            self._start(self.make_slice(), None)

    def start_plane(self) -> None:
        if self.slicing:
            return
        try:
            plane = self.make_plane()
        except ValueError as error:  # too few steps yet: say so, change nothing
            self.slice_text.setText(f"{NO_PLANE}: {error}.")
            return
        self._start(plane.job, plane)

    def _start(self, job: SliceJob, plane: PathPlane | None) -> None:
        self.worker.start(job, (job, plane, self._generation))
        for button in (self.slice_button, self.plane_button):
            button.setEnabled(False)
        self.slice_progress.setRange(0, len(job.alphas))
        self.slice_progress.setValue(0)
        self.slice_progress.show()
        self.cancel_button.show()
        self.slice_text.setText(f"Computing the {'path plane' if plane else 'slice'} at "
                                f"epoch {job.epoch}…")

    def cancel_slice(self) -> None:
        """Stop a slice being computed (the worker stops after its current row)."""
        self.worker.cancel()

    def _progressed(self, done: int, _total: int) -> None:
        self.slice_progress.setValue(done)

    def _done(self) -> None:
        for button in (self.slice_button, self.plane_button):
            button.setEnabled(True)
        self.slice_progress.hide()
        self.cancel_button.hide()

    def _failed(self, why: str) -> None:
        self._done()
        self.slice_text.setText(f"The slice failed ({why}). " + ASK_FOR_SLICE)

    def _finished(self, what: tuple[SliceJob, PathPlane | None, int],
                  losses: np.ndarray | None) -> None:
        self._done()
        job, plane, generation = what
        if generation != self._generation:  # another session since: not its landscape
            return
        if losses is None:
            self.slice_text.setText("Cancelled. " + ASK_FOR_SLICE)
            return
        self._show_slice(job, losses, plane)

    def _show_slice(self, job: SliceJob, losses: np.ndarray, plane: PathPlane | None) -> None:
        a0, a1 = float(job.alphas[0]), float(job.alphas[-1])
        b0, b1 = float(job.betas[0]), float(job.betas[-1])
        self.map.setLabel("bottom", "main direction 1" if plane else "along direction 1")
        self.map.setLabel("left", "main direction 2" if plane else "along direction 2")
        self._slice_title = ('Plane of the path' if plane else 'Loss around the weights',
                             job.epoch)
        self.map.setTitle(f"{self._slice_title[0]} at epoch {job.epoch}")
        self.note.setText("")
        self._paint_surface(losses.astype(np.float64), a0, a1, b0, b1)
        self.map.setRange(xRange=(a0, a1), yRange=(b0, b1), padding=0)
        self.here.setData(*points(0.0, 0.0))
        self.network_view = "plane" if plane else "slice"
        if plane is None:
            for item in (self.path, self.start_mark):
                item.setData([], [])
            self._draw_earlier(())
            centre = float(losses[len(job.alphas) // 2, len(job.betas) // 2])
            self.slice_text.set_caption(f"{SLICE_CAPTION} Loss here {centre:.4g}.")
        else:
            path = drawable(plane.path)
            self.path.setData(path[:, 0], path[:, 1], connect="finite")
            self.start_mark.setData(*points(plane.path[0, 0], plane.path[0, 1]))
            self._draw_earlier(plane.earlier)
            self.slice_text.set_caption(plane_caption(plane))
        self.legend.refresh()

    def shutdown(self) -> None:
        """The window closes: stop the worker and the polling."""
        self.worker.shutdown()

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.map, self.along]

    @property
    def along_shown(self) -> bool:
        """The plot along −grad is on screen (not behind the map's tab)."""
        return self.along in self.shown

    def apply_pens(self, theme: Colours) -> None:
        self.colours = theme
        self.surface.setColorMap(pg.colormap.get("viridis"))
        for contour in self.contours:
            contour.setPen(pen(theme.plot_foreground, 0.8))
        self.path.setPen(pen(theme.model, 2))
        self.path.setSymbolBrush(theme.model)
        self.path.setSymbolPen(theme.model)
        for item, colour in ((self.start_mark, theme.data), (self.here, theme.model),
                             (self.landing, theme.good), (self.along_here, theme.model),
                             (self.along_step, theme.good)):
            item.setSymbolBrush(colour)
            item.setSymbolPen(theme.plot_foreground)
        # The lowest point in the text colour, outlined in the background's: not the green
        # of the next Step's ×, and seen on the dark valley and the bright slopes alike.
        self.minimum.setSymbolBrush(theme.plot_foreground)
        self.minimum.setSymbolPen(pen(theme.plot_background, 1.5))
        self.target.setBrush(theme.model)
        self.target.setPen(pen(theme.plot_foreground, 1.5))
        self.target.setHoverBrush(theme.model)
        self.target.setHoverPen(pen(theme.plot_foreground, 3))
        label = self.target.label()
        if label is not None:  # on a plate of the background: readable over any colour
            label.setColor(theme.plot_foreground)
            label.fill = pg.mkBrush(QColor(theme.plot_background))
            label.border = pen(theme.plot_foreground, 1)
        # −grad dashed and on top: with plain SGD it lies along the update, which showed
        # only one of them.
        self.down.setPen(pen(theme.bad, 2.5, style=Qt.PenStyle.DashLine))
        self.down.setZValue(2)
        self.update_line.setPen(pen(theme.good, 3.5))
        self.along_curve.setPen(pen(theme.loss, 2))
        self.note.setColor(theme.plot_foreground)
        runs = earlier_colours(theme)
        for index, curve in enumerate(self.earlier):
            curve.setPen(pen(QColor(runs[index % len(runs)]), 1.6))

    # -- drawing ---------------------------------------------------------------------------
    def refresh(self, view: SessionView) -> None:
        landscape = view.landscape
        network = not view.one_neuron
        if network != self.network:
            self.network = network
            self.slice_bar.setVisible(network)
            self.target.setVisible(not network)
            self._set_tooltip()
            self._arrange()
        fresh = self._fitted_for is not view.history
        if fresh:  # another session: its own map
            self._fitted_for = view.history
            self._generation += 1  # a slice still on its way belongs to the session before
            self.cancel_slice()
            self.auto_frame = True
            self.state = None
            if network:
                self._begin_slices()
            else:
                self.network_view = ""
                self.map.setLabel("bottom", "weight")
                self.map.setLabel("left", "bias")
                self.map.setTitle("Loss over weight and bias")
            self.legend.refresh()
        if isinstance(landscape, NetworkLandscapeState):
            self._draw_along(landscape.along, landscape.along_left_out)
            self._show_slice_age(view.epoch)
            if landscape.steps >= 2 and self.slice_text.text().startswith(NO_PLANE):
                self.slice_text.setText(ASK_FOR_SLICE)  # the reason is gone
            return
        if landscape is None:
            return
        self.state = landscape
        run = (view.history.run, landscape.start)
        if fresh or run != self._framed_run:  # a new run: framed afresh, the view follows it
            self._framed_run = run
            self.auto_frame = True
            self.map.setRange(self._view_around(landscape), padding=0)
        elif self.auto_frame:
            self._frame()
        self._draw_paths(landscape)
        self._draw_step(landscape)
        self._draw_along(landscape.along, left_out=landscape.along is None
                         and landscape.gradient is not None)

    def _draw_paths(self, state: LandscapeState) -> None:
        # A dot per step while they can be told apart; a long run's path is a line, drawn
        # through at most PATH_POINTS_DRAWN of its points (a dot each for a million steps
        # cost seconds a frame), picked before anything else is done to them.
        marked = len(state.path) + 1 <= PATH_MARKERS
        if marked != self._path_marked:
            self._path_marked = marked
            self.path.setSymbol("o" if marked else None)
        drawn = drawable(thinned_path(state.start, state.path))
        self.path.setData(drawn[:, 0], drawn[:, 1], connect="finite")
        self.start_mark.setData(*points(state.start[0], state.start[1]))
        if not self.target.moving:  # a drag in progress is the learner's
            x, y = drawable(np.asarray(state.current))
            shown = bool(np.isfinite([x, y]).all())
            self.target.setVisible(shown)
            if shown:
                self.target.setPos(x, y)
        self.minimum.setData(*points(state.minimum[0], state.minimum[1]))
        self._draw_earlier(state.earlier)

    def _draw_earlier(self, earlier: tuple[Path, ...]) -> None:
        drawn = earlier[-EARLIER_DRAWN:]
        # Earlier runs change only when runs are made or undone: drawn again only then, and
        # pens set only on new curves (a colour map set every frame re-rendered the surface).
        key = tuple((path.label, len(path)) for path in drawn)
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
        for curve, path in zip(self.earlier, drawn, strict=False):
            shown = thinned(drawable(path.points))
            curve.setData(shown[:, 0], shown[:, 1], connect="finite")
            curve.setZValue(-1)
        for curve in self.earlier[len(drawn):]:
            curve.setData([], [])
        if added:
            self.apply_pens(self.colours)

    def _draw_step(self, state: LandscapeState) -> None:
        x, y = state.current
        arrows = (self.down, self.update_line, self.landing)
        if state.gradient is None or not np.isfinite(drawable(np.asarray(
                [x, y, *state.gradient]))).all():
            for item in arrows:
                item.setData([], [])
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

    def _draw_along(self, along: Along | None, left_out: bool = False) -> None:
        """The loss along −grad, the point now, and the loss where the next Step lands."""
        self.along_state = along
        items = (self.along_curve, self.along_here, self.along_step)
        if along is None:
            for item in items:
                item.setData([], [])
            self.along.setTitle("Along −grad: paused (full speed)" if left_out else
                                "Along −grad: after Backward")
            return
        # A loss (not a coordinate on the map) may be huge and still drawable: its own axis.
        losses = drawable(along.loss, LOSS_DRAWABLE)
        ts = drawable(along.t, LOSS_DRAWABLE)  # Adam with a tiny gradient: t may be huge
        if not np.isfinite(losses).any():
            for item in items:
                item.setData([], [])
            self.along.setTitle("Along −grad: off the scale")
            return
        self.along_curve.setData(ts, losses, connect="finite")
        now = losses[int(np.argmin(np.abs(along.t)))]
        self.along_here.setData(*([[0.0], [now]] if np.isfinite(now) else [[], []]))
        landing = drawable(np.asarray([along.step_loss]), LOSS_DRAWABLE)
        step_t = drawable(np.asarray([along.step_t]), LOSS_DRAWABLE)
        keep = np.isfinite(landing) & np.isfinite(step_t)
        self.along_step.setData(step_t[keep], landing[keep])
        self.along.setTitle(along_title(along))

    def _begin_slices(self) -> None:
        """A network: no exact map; the slices are computed when asked for."""
        self.cancel_slice()
        for item in (self.path, self.start_mark, self.minimum, self.down, self.update_line,
                     self.landing, self.here, self.along_curve, self.along_here,
                     self.along_step):
            item.setData([], [])
        self._draw_earlier(())
        self.network_view = ""
        self.surface.clear()
        for contour in self.contours:
            contour.setData(None)
        self.map.setTitle("A slice of the loss")
        self.map.setLabel("bottom", "direction 1")
        self.map.setLabel("left", "direction 2")
        self.slice_text.setText(ASK_FOR_SLICE)
        self._slice_title = None
        self.map.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
        self.note.setText("Nothing to show yet: press Random slice\nor Path plane above.")
        self.note.setPos(-0.95, 0.9)

    def _moved_by_hand(self, *_args: object) -> None:
        self.auto_frame = False

    def _view_around(self, state: LandscapeState) -> QRectF:
        history = self._fitted_for
        if not isinstance(history, History):
            return view_around(state)
        return view_around(state, self.path_bounds.of(history, state.path))

    def _frame(self) -> None:
        """Frame the run; while it stays in view the view keeps still (a moving map at every
        frame of auto-train would be hard to read, and each move recomputes the surface)."""
        if self.state is None:
            return
        target = self._view_around(self.state)
        (x0, x1), (y0, y1) = self.map.viewRange()
        shown = QRectF(x0, y0, x1 - x0, y1 - y0)
        if not shown.contains(target.adjusted(
                target.width() * 0.15, target.height() * 0.15,
                -target.width() * 0.15, -target.height() * 0.15)):
            self.map.setRange(target, padding=0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()
        if self.auto_frame and self.state is not None:
            self.map.setRange(self._view_around(self.state), padding=0)

    def _arrange(self) -> None:
        """Both plots in a tall dock; in a short one, one at a time with tabs."""
        both = self.height() >= TWO_PLOTS_HEIGHT
        self.slice_text.set_short(not both)
        shown = (self.map, self.along) if both else (
            (self.map,) if self.view_tabs.currentIndex() == 0 else (self.along,))
        self.view_tabs.setVisible(not both)
        if shown == self.shown:
            return
        if self.along in shown and self.along not in self.shown:
            self.needs_redraw.emit()  # its curve is left out while it is hidden
        self.shown = shown
        self.legend.refresh()  # the legend is the shown plot's
        ci = self.canvas.ci
        for plot in (self.map, self.along):
            if plot in ci.items:
                ci.removeItem(plot)
        for row, plot in enumerate(shown):
            ci.addItem(plot, row=row, col=0)

    def _compute_surface(self) -> None:
        state = self.state
        if state is None or self.network:
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
        # Each pixel centred on its grid point (the lines are drawn through the centres).
        dx = (x1 - x0) / max(losses.shape[0] - 1, 1)
        dy = (y1 - y0) / max(losses.shape[1] - 1, 1)
        self.surface.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))
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
        if (self.state is None or self.network
                or not self.map.vb.sceneBoundingRect().contains(position)):
            return  # (a network's slice is no place to start a run from)
        if self.target.isVisible() and self.target.sceneBoundingRect().contains(position):
            return  # a click on the point now is not a new start (dragging it is)
        point: QPointF = self.map.vb.mapSceneToView(position)
        self.start_from(point.x(), point.y())

    def _drag_label(self, x: float, y: float) -> str:
        """While the point is dragged: where it is, and the loss there."""
        if not self.target.moving or self.state is None:
            return ""
        loss = float(self.state.grid([x], [y])[0, 0])
        return f"weight {x:.4g}, bias {y:.4g}\nloss {loss:.4g}: release to start here"

    def _place_drag_label(self, _target: object) -> None:
        """Beside the point, on the side with room (at the right edge it was cut off)."""
        label = self.target.label()
        if label is None:
            return
        label.setVisible(self.target.moving)  # its plate is drawn even with no text
        if not self.target.moving:
            return
        (left, right), (bottom, top) = self.map.viewRange()
        point = self.target.pos()
        right_half, top_half = point.x() > (left + right) / 2, point.y() > (bottom + top) / 2
        label.setAnchor((1 if right_half else 0, 0 if top_half else 1))
        label.offset = pg.Point(-10 if right_half else 10, 6 if top_half else -6)
        label.viewTransformChanged()  # the offset counts pixels: placed again

    def _dropped(self, _target: object) -> None:
        """The point was dragged: a new run starts where it was let go (undoable)."""
        state = self.state
        if state is None or self.network:
            return
        point = self.target.pos()
        x, y = float(point.x()), float(point.y())
        if (x, y) != state.current:
            self.start_from(x, y)
        # Refused (a run is going) or not: the point shows where the weights are (the state
        # is the new run's if the start was taken and a frame drew it; else the next does).
        current = self.state.current if self.state is not None else state.current
        self.target.setPos(*drawable(np.asarray(current)))  # (hides the label: not moving)
