"""File ▸ Export: the session as a script, the history as CSV, the worked math as text, and
each plot as PNG or SVG.

Every file is written whole or not at all (``core.files.write_atomic``); a file that cannot
be written is said so, and nothing else changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QStandardPaths
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from gui_trainer.core.export import history_csv, plan, write_script
from gui_trainer.core.files import write_atomic
from gui_trainer.core.session_file import LoadCancelled
from gui_trainer.qt.progress_task import run_with_progress

if TYPE_CHECKING:
    from gui_trainer.qt.main_window import MainWindow
    from gui_trainer.qt.plots import PlotPanel

PLOT_FILTERS = "PNG image (*.png);;SVG drawing (*.svg)"
#: A PNG is drawn this many times the plot's size on screen (sharp on a slide).
PNG_SCALE = 2


def reveal(widget: QWidget) -> None:
    """Bring a widget on screen: its tab chosen, its dock shown and raised (a plot in a
    hidden tab has no size to be drawn at)."""
    child, parent = widget, widget.parentWidget()
    while parent is not None:
        tabs = parent.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(tabs, QTabWidget):
            tabs.setCurrentWidget(child)
        if isinstance(parent, QDockWidget):
            parent.show()
            parent.raise_()
        child, parent = parent, parent.parentWidget()
    QApplication.processEvents()


def plot_png(panel: PlotPanel) -> bytes:
    """The panel's plots as a PNG, PNG_SCALE times their size on screen (pyqtgraph's
    ImageExporter lays them out again at that size: text and lines stay sharp)."""
    # Imported when first used (with the SVG one, a hundredth of a second at start-up).
    import pyqtgraph.exporters as pg_exporters

    scene = panel.canvas.scene()
    exporter = pg_exporters.ImageExporter(scene)
    exporter.parameters()["width"] = int(panel.canvas.width() * PNG_SCALE)
    image = exporter.export(toBytes=True)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def plot_svg(panel: PlotPanel) -> bytes:
    """The panel's plots as an SVG drawing (lines stay lines at any zoom)."""
    from gui_trainer.qt.svg_export import svg_bytes

    return svg_bytes(panel.canvas.scene())


class Exports:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        #: Tests answer the save dialog here: (path, chosen filter) or None to cancel.
        self.ask: Callable[[str, str, str], tuple[str, str] | None] = self._ask

    def build_menu(self, parent: QMenu) -> QMenu:
        menu = parent.addMenu("Export")
        menu.setObjectName("export_menu")
        entries: list[tuple[str, str, str, Callable[[], None]]] = [
            ("export_script", "PyTorch Script…",
             "A .py file that does what you did, in order, and ends where you are",
             self.export_script),
            ("export_history", "History as CSV…",
             "One row per step of every run: the loss, the settings and the parameters",
             self.export_history),
            ("export_math", "Worked Math as Text…",
             "The worked math of the last stage, as the Worked math panel shows it",
             self.export_math),
        ]
        window = self.window
        # Asked for when chosen: the landscape panel is made when first needed.
        plots: tuple[tuple[str, str, Callable[[], PlotPanel]], ...] = (
            ("fit", "Data Fit Plot…", lambda: window.fit_plot),
            ("loss", "Loss History Plot…", lambda: window.loss_plot),
            ("grad", "Gradient Plot…", lambda: window.grad_plot),
            ("landscape", "Landscape Plot…", lambda: window.landscape_panel))
        for name, text, tip, run in entries:
            action = menu.addAction(text)
            action.setObjectName(name)
            action.setStatusTip(tip)
            action.triggered.connect(run)
        menu.addSeparator()
        for key, text, panel in plots:
            action = menu.addAction(text)
            action.setObjectName(f"export_plot_{key}")
            action.setStatusTip("The plot as a PNG image or an SVG drawing")
            action.triggered.connect(lambda _=False, p=panel, k=key: self.export_plot(p(), k))
        return menu

    # -- the exports -------------------------------------------------------------------
    def export_script(self) -> None:
        chosen = self.ask("Export PyTorch Script", self._name("py"), "Python script (*.py)")
        if chosen is None:
            return
        copied = plan(self.window.session)  # now: the replay runs while the session goes on
        try:
            text = run_with_progress(self.window, "Writing the script…",
                                     lambda progress: write_script(copied, progress))
        except LoadCancelled:
            self.window.statusBar().showMessage("The script export was cancelled.")
            return
        self._write(chosen[0], text.encode("utf-8"), "The script")

    def export_history(self) -> None:
        chosen = self.ask("Export History as CSV", self._name("csv"), "CSV table (*.csv)")
        if chosen is not None:
            self._write(chosen[0], history_csv(self.window.session).encode("utf-8"),
                        "The history")

    def export_math(self) -> None:
        text = self.window.math_panel.full_text()
        if text is None:
            self.window.statusBar().showMessage(
                "No worked math yet: run a stage first, then export it.")
            return
        chosen = self.ask("Export Worked Math", self._name("txt"), "Text (*.txt)")
        if chosen is not None:
            self._write(chosen[0], text.encode("utf-8"), "The worked math")

    def export_plot(self, panel: PlotPanel, key: str) -> None:
        chosen = self.ask("Export Plot", self._name("png", key), PLOT_FILTERS)
        if chosen is None:
            return
        path, chosen_filter = chosen
        svg = path.lower().endswith(".svg") or (
            not path.lower().endswith(".png") and "svg" in chosen_filter.lower())
        if not path.lower().endswith((".png", ".svg")):
            path += ".svg" if svg else ".png"
        reveal(panel)
        data = plot_svg(panel) if svg else plot_png(panel)
        self._write(path, data, "The plot")

    # -- helpers -------------------------------------------------------------------------
    def _name(self, suffix: str, what: str = "") -> str:
        session = self.window.session
        stem = (f"{session.scenario.name.replace(':', '-')}-epoch-{session.epoch}"
                + (f"-{what}" if what else ""))  # (no colon: Windows and macOS refuse it)
        return os.path.join(self.folder, f"{stem}.{suffix}")

    def _ask(self, title: str, suggested: str, filters: str) -> tuple[str, str] | None:
        path, chosen = QFileDialog.getSaveFileName(self.window, title, suggested, filters)
        return (path, chosen) if path else None

    def _write(self, path: str, data: bytes, what: str) -> bool:
        try:
            write_atomic(path, data)
        except OSError as error:
            QMessageBox.warning(self.window, "Could not save",
                                f"{what} could not be saved to {path}:\n{error.strerror or error}"
                                "\n\nNothing was changed.")
            return False
        self.folder = os.path.dirname(os.path.abspath(path))
        self.window.statusBar().showMessage(f"{what} was saved to {path}.")
        return True
