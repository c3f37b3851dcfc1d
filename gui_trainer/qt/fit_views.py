"""The data-fit panel, drawn the way the scenario's task calls for.

One input and a number to predict: the points and the model's curve (for the one neuron,
its straight line, as the seed document draws it). Two inputs and classes: the decision
regions as an image under the points. Anything else: how the predictions compare with the
targets (a confusion matrix, and for pictures a few of them with their labels; or
prediction against target). Each painter creates its plot items once and updates them with
``setData``/``setImage``; the panel swaps painters only when the scenario changes.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QWidget

from gui_trainer.core.scenarios import Scenario
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.plot_data import set_data
from gui_trainer.qt.plots import (
    VALUE_LIMIT,
    LegendEntry,
    PlotPanel,
    finite_or_nan,
    finite_points,
    pen,
    retire,
    style_plot,
)
from gui_trainer.qt.steady_view import steady_plot
from gui_trainer.qt.theme import Colours

#: Points across the input range where a layered model's curve is drawn.
CURVE_POINTS = 200
#: Cells per side of the decision-region image.
REGION_CELLS = 80
#: Pictures shown with their true and predicted labels.
SAMPLES_SHOWN = 12
#: Up to this many classes the confusion matrix writes its counts in the cells.
MAX_COUNTED = 10
#: A cell narrower than this on screen shows its shade only (or than its widest count
#: with ``COUNT_ROOM_PIXELS`` to spare).
MIN_COUNT_PIXELS = 24
COUNT_ROOM_PIXELS = 6
#: A class label needs this much room along the axis.
MIN_LABEL_PIXELS = 14


def class_colour(theme: Colours, index: int) -> str:
    return theme.earlier_runs[index % len(theme.earlier_runs)]


class FitPainter(Protocol):
    def legend(self, theme: Colours) -> list[LegendEntry]: ...
    def apply_pens(self, theme: Colours) -> None: ...
    def refresh(self, state: SessionView) -> None: ...


def painter_kind(scenario: Scenario) -> str:
    data = scenario.data
    if data.task == "regression":
        return "curve" if data.in_features == 1 else "scatter"
    if data.in_features == 2:
        return "regions"
    return "pictures" if data.image_shape is not None else "confusion"


class CurveFit:
    """The points, the model's line or curve, its last outputs and their errors."""

    def __init__(self, plot: pg.PlotItem, scenario: Scenario) -> None:
        data = scenario.data
        self.one_neuron = scenario.is_one_neuron
        self.eval_mode = scenario.model_spec.stochastic
        if scenario.name == "delivery":
            style_plot(plot, "Data fit", "distance (input)", "time (target / prediction)")
        else:
            style_plot(plot, "Data fit", f"{data.feature_names[0]} (input)",
                       f"{data.target_name} (target / prediction)")
        self.data = plot.plot([], [], pen=None, symbol="o", symbolSize=11)
        self.line = plot.plot([], [])
        self.residuals = plot.plot([], [], connect="pairs")
        self.predictions = plot.plot([], [], pen=None, symbol="x", symbolSize=12,
                                     symbolBrush=None)
        #: Where each sample is drawn (for the ring round the current batch).
        self.positions = np.column_stack([data.inputs[:, 0], data.targets[:, 0]]).astype(
            np.float64)

    def legend(self, c: Colours) -> list[LegendEntry]:
        model = ("model: weight × x + bias" if self.one_neuron else
                 "model: its curve now, in eval mode" if self.eval_mode else
                 "model: its curve now")
        return [
            LegendEntry("●", c.data, "data (targets)"),
            LegendEntry("━", c.model, model),
            LegendEntry("✕", c.model, "outputs (last forward)"),
            LegendEntry("╌", c.residual, "error (output − target)"),
        ]

    def apply_pens(self, theme: Colours) -> None:
        self.data.setSymbolBrush(theme.data)
        self.data.setSymbolPen(theme.data)
        self.line.setPen(pen(theme.model, 2.5))
        self.residuals.setPen(pen(theme.residual, 1.5, style=Qt.PenStyle.DashLine))
        self.predictions.setSymbolPen(pen(theme.model, 2.5))

    def refresh(self, state: SessionView) -> None:
        xs = state.inputs.flatten().tolist()
        ys = state.targets.flatten().tolist()
        set_data(self.data, xs, ys)
        span = max(xs) - min(xs) or 1.0
        low, high = min(xs) - 0.25 * span, max(xs) + 0.25 * span
        # A straight line needs its two ends; a curve, many points.
        grid = [low, high] if self.one_neuron else np.linspace(low, high, CURVE_POINTS).tolist()
        line = finite_or_nan(np.asarray(state.predict(grid), dtype=np.float64))
        set_data(self.line, grid, line, connect="finite")
        if state.outputs is None:
            set_data(self.predictions, [], [])
            set_data(self.residuals, [], [])
            return
        # With micro-batches the last forward saw only some samples: draw those.
        rows = list(state.outputs_rows)
        row_x = np.asarray(xs, dtype=np.float64)[rows]
        row_y = np.asarray(ys, dtype=np.float64)[rows]
        outputs = finite_or_nan(state.outputs.reshape(-1).astype(np.float64))
        set_data(self.predictions, *finite_points(row_x, outputs))
        pairs_x = np.repeat(row_x, 2)
        pairs_y = np.column_stack([outputs, row_y]).reshape(-1)
        set_data(self.residuals, pairs_x, pairs_y, connect="pairs")


class RegionFit:
    """The class the model picks at every place of the plane, under the labelled points."""

    def __init__(self, plot: pg.PlotItem, scenario: Scenario) -> None:
        data = scenario.data
        self.classes = data.classes
        style_plot(plot, "Decision regions", data.feature_names[0], data.feature_names[1])
        points = data.inputs.astype(np.float64)
        low, high = points.min(axis=0), points.max(axis=0)
        margin = 0.1 * np.maximum(high - low, 1e-6)
        self.low, self.high = low - margin, high + margin
        xs = np.linspace(self.low[0], self.high[0], REGION_CELLS)
        ys = np.linspace(self.low[1], self.high[1], REGION_CELLS)
        grid_x, grid_y = np.meshgrid(xs, ys)
        self.grid = np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(np.float32)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.rect = QRectF(float(self.low[0]), float(self.low[1]),
                           float(self.high[0] - self.low[0]), float(self.high[1] - self.low[1]))
        plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=7)
        plot.addItem(self.points)
        self.wrong = plot.plot([], [], pen=None, symbol="x", symbolSize=11, symbolBrush=None)
        self.targets = np.asarray(data.targets)
        self.xy = points
        self.positions = points
        self.table = np.zeros((self.classes, 4), dtype=np.uint8)

    def legend(self, c: Colours) -> list[LegendEntry]:
        return [*(LegendEntry("●", class_colour(c, k), f"class {k}")
                  for k in range(min(self.classes, 6))),
                LegendEntry("▒", c.plot_foreground, "shading: the class the model picks there"),
                LegendEntry("✕", c.bad, "wrong in the last forward")]

    def apply_pens(self, theme: Colours) -> None:
        brushes = [pg.mkBrush(class_colour(theme, int(k))) for k in self.targets]
        set_data(self.points, pos=self.xy, brush=brushes, pen=pg.mkPen(theme.plot_background))
        self.wrong.setSymbolPen(pen(theme.bad, 2.5))
        for k in range(self.classes):
            colour = QColor(class_colour(theme, k))
            self.table[k] = (colour.red(), colour.green(), colour.blue(), 80)

    def refresh(self, state: SessionView) -> None:
        logits = state.predict_array(self.grid)
        picked = np.nan_to_num(logits, nan=0.0).argmax(axis=1).reshape(REGION_CELLS,
                                                                       REGION_CELLS)
        self.image.setImage(self.table[picked], autoLevels=False)
        self.image.setRect(self.rect)  # in data coordinates (set after the image: its size)
        if state.outputs is None:
            set_data(self.wrong, [], [])
            return
        rows = np.asarray(state.outputs_rows)
        guesses = state.outputs.argmax(axis=1)
        missed = rows[guesses != self.targets[rows]]
        set_data(self.wrong, self.xy[missed, 0], self.xy[missed, 1])


class ConfusionFit:
    """Rows: the true class; columns: the class the model picks; each cell a count."""

    def __init__(self, plot: pg.PlotItem, scenario: Scenario) -> None:
        data = scenario.data
        self.classes = data.classes
        self.names = data.class_names
        style_plot(plot, "Confusion matrix (all the data, now)", "predicted class",
                   "true class")
        plot.invertY(True)
        ticks = [(k + 0.5, name) for k, name in enumerate(self.names)]
        plot.getAxis("bottom").setTicks([ticks])
        plot.getAxis("left").setTicks([ticks])
        self.label_every = 1
        plot.setAspectLocked(True)
        plot.showGrid(x=False, y=False)  # grid lines ran across the cells
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        # Counts in the cells while a cell is big enough to read them; the shade says the
        # share either way.
        self.counts = [[pg.TextItem(anchor=(0.5, 0.5)) for _ in range(self.classes)]
                       for _ in range(self.classes)] if self.classes <= MAX_COUNTED else []
        for i, row in enumerate(self.counts):
            for j, item in enumerate(row):
                item.setPos(j + 0.5, i + 0.5)
                plot.addItem(item)
        self.targets = np.asarray(data.targets)
        self.good = self.bad = self.text = QColor("#000000")

    def legend(self, c: Colours) -> list[LegendEntry]:
        return [LegendEntry("■", c.good, "the diagonal: right answers"),
                LegendEntry("■", c.bad, "off the diagonal: mistakes (stronger: more of the row)")]

    def apply_pens(self, theme: Colours) -> None:
        self.good, self.bad = QColor(theme.good), QColor(theme.bad)
        self.text = QColor(theme.plot_foreground)

    def _widest_count(self, matrix: np.ndarray) -> float:
        """Pixels the widest count needs, with a little room: "181" overran its cell into
        the next one's count at 1920 × 1080."""
        if not self.counts:
            return 0.0
        metrics = QFontMetricsF(self.counts[0][0].textItem.font())
        return metrics.horizontalAdvance(str(int(matrix.max()))) + COUNT_ROOM_PIXELS

    def matrix(self, state: SessionView) -> np.ndarray:
        guesses = np.nan_to_num(state.predict_array(state.inputs)).argmax(axis=1)
        k = self.classes
        cells = self.targets.astype(np.int64) * k + guesses.astype(np.int64)
        return np.bincount(cells, minlength=k * k).reshape(k, k)

    def refresh(self, state: SessionView) -> None:
        matrix = self.matrix(state)
        share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        rgba = np.zeros((*matrix.shape, 4), dtype=np.uint8)
        rgba[...] = (self.bad.red(), self.bad.green(), self.bad.blue(), 0)
        diagonal = np.eye(self.classes, dtype=bool)
        rgba[diagonal, :3] = (self.good.red(), self.good.green(), self.good.blue())
        alpha = np.sqrt(share) * 220
        # Mistakes are a few per cent of a row: shaded against the worst of them, and never
        # fainter than a visible tint, so a single mistake still shows.
        wrong = ~diagonal & (matrix > 0)
        if wrong.any():
            worst = share[wrong].max()
            alpha[wrong] = 70 + 100 * np.sqrt(share[wrong] / worst)
        rgba[..., 3] = alpha.astype(np.uint8)
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(QRectF(0, 0, self.classes, self.classes))
        cell_pixels = 1 / max(self.plot.getViewBox().viewPixelSize()[0], 1e-9)
        readable = cell_pixels >= max(MIN_COUNT_PIXELS, self._widest_count(matrix))
        # Every other class named when the cells are too small for one label each.
        every = 1 if cell_pixels >= MIN_LABEL_PIXELS else 2
        if every != self.label_every:
            self.label_every = every
            ticks = [(k + 0.5, name) for k, name in enumerate(self.names) if k % every == 0]
            self.plot.getAxis("bottom").setTicks([ticks])
            self.plot.getAxis("left").setTicks([ticks])
        for i, row in enumerate(self.counts):
            for j, item in enumerate(row):
                item.setText(str(matrix[i, j]) if matrix[i, j] and readable else "")
                item.setColor(self.text)


class PictureFit(ConfusionFit):
    """The confusion matrix, and a few pictures with their true and predicted labels."""

    def __init__(self, plot: pg.PlotItem, pictures: pg.PlotItem, scenario: Scenario) -> None:
        super().__init__(plot, scenario)
        data = scenario.data
        assert data.image_shape is not None
        self.shape = data.image_shape
        style_plot(pictures, "Some pictures: true → predicted", "", "")
        pictures.invertY(True)
        pictures.setAspectLocked(True)
        pictures.hideAxis("bottom")
        pictures.hideAxis("left")
        # Ink in the text colour on the plot's background: white paper glared in dark theme
        # and the labels under it were pale on white.
        self.mosaic = pg.ImageItem(axisOrder="row-major")
        pictures.addItem(self.mosaic)
        # One picture of each class first, then the next ones in the file.
        picks = [int(np.flatnonzero(self.targets == k)[0]) for k in range(self.classes)]
        self.rows = (picks + [i for i in range(len(self.targets)) if i not in picks])[
            :SAMPLES_SHOWN]
        height, width = self.shape
        columns, gap = 6, 5  # room under each picture for its label
        tiles = np.zeros(((height + gap) * 2, (width + 2) * columns), dtype=np.float32)
        self.labels = []
        for n, row in enumerate(self.rows):
            top, left = (n // columns) * (height + gap), (n % columns) * (width + 2)
            tiles[top:top + height, left:left + width] = data.inputs[row].reshape(self.shape)
            label = pg.TextItem(anchor=(0.5, 0))
            label.setPos(left + width / 2, top + height + 0.2)
            pictures.addItem(label)
            self.labels.append(label)
        self.mosaic.setImage(tiles, levels=(0, 1))

    def legend(self, c: Colours) -> list[LegendEntry]:
        return [*super().legend(c), LegendEntry("✕", c.bad, "a picture the model gets wrong")]

    def apply_pens(self, theme: Colours) -> None:
        super().apply_pens(theme)
        self.mosaic.setColorMap(pg.ColorMap(
            [0.0, 1.0], [QColor(theme.plot_background), QColor(theme.plot_foreground)]))

    def refresh(self, state: SessionView) -> None:
        super().refresh(state)
        logits = state.predict_array(state.inputs[self.rows])
        guesses = np.nan_to_num(logits).argmax(axis=1)
        for label, row, guess in zip(self.labels, self.rows, guesses, strict=True):
            truth = self.names[int(self.targets[row])]
            right = guess == self.targets[row]
            label.setText(f"{truth}→{self.names[int(guess)]}" + ("" if right else " ✕"))
            label.setColor(self.good if right else self.bad)


class ScatterFit:
    """Prediction against target for each sample: a perfect model puts them on the line."""

    def __init__(self, plot: pg.PlotItem, scenario: Scenario) -> None:
        name = scenario.data.target_name
        style_plot(plot, "Predictions against targets", f"{name} (target)",
                   f"{name} (prediction)")
        self.diagonal = plot.plot([], [])
        self.points = plot.plot([], [], pen=None, symbol="o", symbolSize=7)
        self.targets = np.asarray(scenario.data.targets, dtype=np.float64).reshape(-1)

    def legend(self, c: Colours) -> list[LegendEntry]:
        return [LegendEntry("●", c.data, "one sample: (target, prediction)"),
                LegendEntry("━", c.model, "prediction = target")]

    def apply_pens(self, theme: Colours) -> None:
        self.diagonal.setPen(pen(theme.model, 1.5))
        self.points.setSymbolBrush(theme.data)
        self.points.setSymbolPen(theme.data)

    def refresh(self, state: SessionView) -> None:
        low, high = float(np.min(self.targets)), float(np.max(self.targets))
        set_data(self.diagonal, [low, high], [low, high])
        guesses = finite_or_nan(state.predict_array(state.inputs)
                                .astype(np.float64).reshape(-1))
        set_data(self.points, *finite_points(self.targets, guesses))


class FitPlot(PlotPanel):
    """How well the model fits the data now, drawn for the scenario's task."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("fit_plot", parent)
        self.scenario: Scenario | None = None
        self.kind = ""
        #: Made for the first scenario shown (a plot made and dropped costs a deletion).
        self.plot: pg.PlotItem | None = None
        self.pictures: pg.PlotItem | None = None
        self.painter: FitPainter | None = None
        #: The state drawn last: a theme switch draws it again in the new colours (cells and
        #: labels take their colours when drawn, not from the pens).
        self.state: SessionView | None = None

    def plot_items(self) -> list[pg.PlotItem]:
        return [p for p in (self.plot, self.pictures) if p is not None]

    def apply_pens(self, theme: Colours) -> None:
        if self.painter is not None:
            self.batch_ring.setSymbolPen(pen(theme.accent, 2))
            self.painter.apply_pens(theme)
            if self.state is not None and self.state.scenario is self.scenario:
                self.painter.refresh(self.state)

    def show_scenario(self, scenario: Scenario) -> None:
        """Set up the painter for ``scenario`` (once per scenario, not per frame)."""
        self.scenario = scenario
        self.kind = painter_kind(scenario)
        old = self.plot_items()
        self.canvas.clear()
        retire(old)
        self.plot = steady_plot(self.canvas, row=0, col=0)
        self.pictures = None
        painter: FitPainter
        if self.kind == "pictures":
            self.pictures = self.canvas.addPlot(row=0, col=1)
            painter = PictureFit(self.plot, self.pictures, scenario)
        elif self.kind == "curve":
            painter = CurveFit(self.plot, scenario)
        elif self.kind == "regions":
            painter = RegionFit(self.plot, scenario)
        elif self.kind == "confusion":
            painter = ConfusionFit(self.plot, scenario)
        else:
            painter = ScatterFit(self.plot, scenario)
        self.painter = painter
        if self.kind in ("curve", "scatter"):
            self.plot.setLimits(xMin=-VALUE_LIMIT, xMax=VALUE_LIMIT, yMin=-VALUE_LIMIT,
                                yMax=VALUE_LIMIT)
        #: A ring round each row of the current step's batch (mini-batches only).
        self.batch_ring = self.plot.plot([], [], pen=None, symbol="o", symbolSize=15,
                                         symbolBrush=None)
        self.batch_ring.setZValue(5)
        self.batched = False
        self.legend.set_entries(self._legend_entries)
        self.restyle()

    def _legend_entries(self, c: Colours) -> list[LegendEntry]:
        assert self.painter is not None
        entries = self.painter.legend(c)
        if self.batched:
            entries.append(LegendEntry("○", c.accent, "this step's batch"))
        return entries

    def _show_batch(self, state: SessionView) -> None:
        positions: np.ndarray | None = getattr(self.painter, "positions", None)
        rows = state.batch_rows
        batched = rows is not None and positions is not None
        if batched != self.batched:
            self.batched = batched
            self.legend.refresh()
        if rows is None or positions is None:
            set_data(self.batch_ring, [], [])
            return
        picked = positions[list(rows)]
        set_data(self.batch_ring, *finite_points(picked[:, 0], picked[:, 1]))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Counts and labels fit the cells' new size (they are decided when drawn)."""
        super().resizeEvent(event)
        if self.painter is not None and self.state is not None and (
                self.state.scenario is self.scenario and self.kind in ("confusion", "pictures")):
            self.painter.refresh(self.state)

    def refresh(self, state: SessionView) -> None:
        if state.scenario is not self.scenario:
            self.show_scenario(state.scenario)
        assert self.painter is not None
        self.state = state
        self.painter.refresh(state)
        self._show_batch(state)
