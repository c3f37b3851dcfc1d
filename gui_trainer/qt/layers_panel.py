"""Inside the model, tensor by tensor: what each parameter holds and what its gradient says.

A table with one row per ``named_parameters()`` tensor (shape, norm, mean, spread, gradient
norm), then the buffers (BatchNorm's running averages: state, not parameters, no gradient);
the selected tensor's values and gradient as heat maps; the last forward's dropout masks;
the histogram of every gradient value now; log10 of each tensor's update:data ratio
|Δp|/|p| per step (around −3 is healthy; far below, the layer barely learns; near 0, it is
thrown around); and what each activation layer does over all the data (dead ReLUs,
saturated Tanh/Sigmoid units).
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.formatting import short
from gui_trainer.core.records import TensorValues
from gui_trainer.core.train_modes import DropoutMask
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.long_history import LongCurve, tensor_rows
from gui_trainer.qt.plot_data import set_data
from gui_trainer.qt.plots import LegendEntry, PlotPanel, finite_or_nan, pen, style_plot
from gui_trainer.qt.rich_label import RichLabel
from gui_trainer.qt.theme import Colours

#: The gradient's norm before mean and spread: it is what a narrow dock must not hide.
COLUMNS = ("tensor", "shape", "‖p‖", "‖grad‖", "mean", "std")
HISTOGRAM_BINS = 40


def as_image(array: np.ndarray) -> np.ndarray:
    """A weight (out × in) as rows and columns; a bias (or a count) as one row."""
    return array.reshape(1, -1) if array.ndim <= 1 else array.reshape(array.shape[0], -1)


def diverging(theme: Colours) -> pg.ColorMap:
    """Negative in one colour, positive in another, zero the plot's background."""
    return pg.ColorMap([0.0, 0.5, 1.0], [QColor(theme.accent), QColor(theme.plot_background),
                                         QColor(theme.bad)])


class HeatMaps(PlotPanel):
    """The selected tensor's values and its gradient, element by element."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("layers_heat_maps", parent)
        self.values_plot = self.canvas.addPlot(row=0, col=0)
        self.grads_plot = self.canvas.addPlot(row=0, col=1)
        for plot, title in ((self.values_plot, "values"), (self.grads_plot, ".grad")):
            plot.setTitle(title)
            plot.invertY(True)
            plot.setAspectLocked(False)
            plot.hideAxis("bottom")
        self.values = pg.ImageItem(axisOrder="row-major")
        self.grads = pg.ImageItem(axisOrder="row-major")
        self.values_plot.addItem(self.values)
        self.grads_plot.addItem(self.grads)
        self.legend.set_entries(lambda c: [
            LegendEntry("■", c.accent, "negative"), LegendEntry("■", c.bad, "positive"),
            LegendEntry("", c.muted, "(the title gives the largest size, ±)")])
        self.restyle()

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.values_plot, self.grads_plot]

    def apply_pens(self, theme: Colours) -> None:
        self.colourmap = diverging(theme)
        for image in (self.values, self.grads):
            image.setColorMap(self.colourmap)

    def show_tensor(self, tensor: TensorValues, buffer: bool = False) -> None:
        for plot, image, array, what in (
                (self.values_plot, self.values, tensor.value, tensor.name),
                (self.grads_plot, self.grads, tensor.grad, f"{tensor.name}.grad")):
            if array is None:
                image.clear()
                plot.setTitle("a buffer: no .grad" if buffer else f"{what}: None")
                continue
            picture = as_image(array).astype(np.float64)
            finite = picture[np.isfinite(picture)]
            reach = float(np.abs(finite).max()) if finite.size else 0.0
            image.setImage(np.nan_to_num(picture), levels=(-reach or -1.0, reach or 1.0))
            image.setRect(QRectF(0, 0, picture.shape[1], picture.shape[0]))
            plot.setTitle(f"{what} ±{short(reach, 3)}")


class DropoutMasks(PlotPanel):
    """Each dropout layer's mask from the last forward: a row per sample, a column per
    unit, kept outputs lit and zeroed ones dark."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("layers_dropout", parent)
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self.legend.set_entries(lambda c: [
            LegendEntry("■", c.model, "kept (× 1/(1 − p))"),
            LegendEntry("■", c.plot_background, "zeroed"),
            LegendEntry("", c.muted, "rows: samples · columns: units")])
        self.masks: tuple[DropoutMask, ...] = ()
        self._wide = False
        self.restyle()

    def plot_items(self) -> list[pg.PlotItem]:
        return self.plots

    def apply_pens(self, theme: Colours) -> None:
        self.colourmap = pg.ColorMap([0.0, 1.0], [QColor(theme.plot_background),
                                                  QColor(theme.model)])
        for image in self.images:
            image.setColorMap(self.colourmap)

    def _side_by_side(self) -> bool:
        return self.width() > 3 * self.height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Masks side by side in a wide panel, one above the other in a tall one."""
        super().resizeEvent(event)
        if self.plots and self._side_by_side() != self._wide:
            self._lay_out(len(self.plots))
            self.show_masks(self.masks)

    def _lay_out(self, count: int) -> None:
        self.canvas.clear()
        self.plots, self.images = [], []
        self._wide = self._side_by_side()
        for index in range(count):
            plot = (self.canvas.addPlot(row=0, col=index) if self._wide
                    else self.canvas.addPlot(row=index, col=0))
            plot.invertY(True)
            plot.hideAxis("bottom")
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self.plots.append(plot)
            self.images.append(image)
        self.restyle()

    def show_masks(self, masks: tuple[DropoutMask, ...]) -> None:
        if len(masks) != len(self.plots):
            self._lay_out(len(masks))
        self.masks = masks
        for plot, image, mask in zip(self.plots, self.images, masks, strict=True):
            image.setImage(mask.kept.astype(np.float64), levels=(0.0, 1.0))
            image.setRect(QRectF(0, 0, mask.kept.shape[1], mask.kept.shape[0]))
            plot.setTitle(f"layer {mask.name}: p = {mask.p:g}, kept {mask.kept_share:.0%}")


class GradientPlots(PlotPanel):
    """Every gradient value now (a histogram) and each tensor's update:data ratio per step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("layers_gradients", parent)
        self.histogram_plot = self.canvas.addPlot(row=0, col=0)
        self.ratio_plot = self.canvas.addPlot(row=1, col=0)
        style_plot(self.histogram_plot, "Every gradient value now", ".grad value", "count")
        self.histogram = pg.PlotDataItem([], [], stepMode="center", fillLevel=0)
        self.histogram_plot.addItem(self.histogram)
        style_plot(self.ratio_plot, "log10 |Δp|/|p| per step", "epoch", "log10 ratio")
        self.ratio_plot.setDownsampling(auto=True, mode="peak")
        self.ratio_plot.setClipToView(True)
        self.curves: list[pg.PlotDataItem] = []
        self.feeds: list[LongCurve] = []
        self.names: tuple[str, ...] = ()
        self.restyle()

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.histogram_plot, self.ratio_plot]

    def apply_pens(self, theme: Colours) -> None:
        self.histogram.setPen(pen(theme.model, 1.5))
        self.histogram.setBrush(QColor(theme.model).lighter(120))
        for index, curve in enumerate(self.curves):
            curve.setPen(pen(theme.earlier_runs[index % len(theme.earlier_runs)], 2))

    def show_names(self, names: tuple[str, ...]) -> None:
        for curve in self.curves:
            self.ratio_plot.removeItem(curve)
        self.names = names
        self.curves = [self.ratio_plot.plot([], []) for _ in names]
        self.feeds = [LongCurve(curve) for curve in self.curves]
        self.legend.set_entries(lambda c: [
            LegendEntry("━", c.earlier_runs[i % len(c.earlier_runs)], name)
            for i, name in enumerate(names)])
        self.restyle()

    def show_histogram(self, tensors: tuple[TensorValues, ...]) -> None:
        grads = [t.grad.reshape(-1) for t in tensors if t.grad is not None]
        values = np.concatenate(grads).astype(np.float64) if grads else np.zeros(0)
        values = values[np.isfinite(values)]
        if values.size == 0:
            set_data(self.histogram, [], [])
            self.histogram_plot.setTitle("Every gradient value now: none (.grad is None)")
            return
        self.histogram_plot.setTitle("Every gradient value now")
        counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
        set_data(self.histogram, edges, counts, stepMode="center", fillLevel=0)

    def show_ratios(self, state: SessionView) -> None:
        epochs = state.history.column("step")
        for feed, name in zip(self.feeds, self.names, strict=True):
            def logs(start: int, name: str = name) -> np.ndarray:
                ratios = tensor_rows(state, "update_ratio", name, start)
                with np.errstate(divide="ignore", invalid="ignore"):
                    return finite_or_nan(np.log10(np.where(ratios > 0, ratios, np.nan)))
            feed.show(state.history, epochs, logs)


class LayersPanel(QWidget):
    """The table, the plots and the activation statistics, for the session now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layers_panel")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("layers_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.heat_maps = HeatMaps(self)
        self.gradients = GradientPlots(self)
        self.dropout = DropoutMasks(self)
        self.dropout_note = RichLabel(self)
        self.dropout_note.setObjectName("layers_dropout_note")
        self.dropout_note.setWordWrap(True)
        dropout = QWidget(self)
        dropout_layout = QVBoxLayout(dropout)
        dropout_layout.setContentsMargins(0, 0, 0, 0)
        dropout_layout.addWidget(self.dropout_note)
        dropout_layout.addWidget(self.dropout, 1)
        self.activity = RichLabel(self)
        self.activity.setObjectName("layers_activity")
        self.activity.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        activity = QScrollArea(self)
        activity.setWidget(self.activity)
        activity.setWidgetResizable(True)
        activity.setFrameShape(QScrollArea.Shape.NoFrame)
        # Tabs, not one tall stack: the dock shares a side column, and on a small screen
        # four plots and a table stacked got a sliver each.
        tensors = QSplitter(Qt.Orientation.Vertical, self)
        tensors.addWidget(self.table)
        tensors.addWidget(self.heat_maps)
        # Every part may shrink: the dock shares a small screen's column with others.
        for part in (self.table, self.heat_maps, self.gradients, activity, self.dropout):
            part.setMinimumHeight(24)
        tensors.setStretchFactor(0, 2)
        tensors.setStretchFactor(1, 3)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("layers_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(tensors, "Tensors")
        self.tabs.addTab(self.gradients, "Gradients")
        self.tabs.addTab(activity, "Activations")
        self.dropout_tab = self.tabs.addTab(dropout, "Dropout")
        self.tabs.setTabVisible(self.dropout_tab, False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs, 1)
        self._history: object = None  # the session drawn: another one, other tensors
        self.tensors: tuple[TensorValues, ...] = ()
        self._parameters = 0  # the rows before the buffers

    @property
    def selected(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else 0

    def refresh(self, state: SessionView) -> None:
        if state.history is not self._history:
            self._history = state.history
            names = state.param_names
            self.table.setRowCount(len(names) + len(state.buffers))
            self.gradients.show_names(names)
            self.table.selectRow(0)
        self.tensors = (*state.params.tensors, *state.buffers)
        self._parameters = len(state.params.tensors)
        buffers = {buffer.name for buffer in state.buffers}
        for row, tensor in enumerate(self.tensors):
            buffer = tensor.name in buffers
            texts = (f"{tensor.name} (buffer)" if buffer else tensor.name,
                     "×".join(map(str, tensor.shape)) or "1", short(tensor.norm, 4),
                     "no grad" if buffer else short(tensor.grad_norm, 4),
                     short(tensor.mean, 4), short(tensor.std, 4))
            for column, text in enumerate(texts):
                item = self.table.item(row, column)
                if item is None:
                    self.table.setItem(row, column, QTableWidgetItem(text))
                elif item.text() != text:
                    item.setText(text)
        self._show_selected()
        self.gradients.show_histogram(state.params.tensors)
        self.gradients.show_ratios(state)
        self._show_activity(state)
        self._show_dropout(state)

    def _show_dropout(self, state: SessionView) -> None:
        has_dropout = state.scenario.model_spec.dropout > 0
        self.tabs.setTabVisible(self.dropout_tab, has_dropout)
        if not has_dropout:
            return
        self.dropout.show_masks(state.dropout_masks)
        self.dropout_note.show_plain(
            "The masks of the last Forward: each forward in train mode draws new ones, so "
            "each step learns with a different part of the network switched off. Eval mode "
            "(Evaluate, and every curve and loss the app measures) uses no mask."
            if state.dropout_masks else
            "Run Forward to see which outputs dropout zeroes: each train-mode forward draws "
            "a new mask.")

    def _selection_changed(self) -> None:
        if self.tensors:
            self._show_selected()

    def _show_selected(self) -> None:
        row = min(self.selected, len(self.tensors) - 1)
        self.heat_maps.show_tensor(self.tensors[row], buffer=row >= self._parameters)

    def _show_activity(self, state: SessionView) -> None:
        stats = state.activations
        if not stats:
            self.activity.show_plain("No activation layers: the model is linear.")
            return
        lines = []
        for layer in stats:
            if layer.kind == "ReLU":
                trouble = f"{layer.dead_units} of {layer.units} units dead (0 for every sample)"
            else:
                trouble = f"{layer.saturated:.0%} of outputs saturated (slope near 0)"
            lines.append(f"{layer.name}: mean {layer.mean:.3g}, std {layer.std:.3g}; {trouble}")
        self.activity.show_content(lambda _c: "<br>".join(html.escape(line) for line in lines))
