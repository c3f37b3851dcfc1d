"""The About box and the keyboard-shortcuts help."""

from __future__ import annotations

import html
import platform

import pyqtgraph
import PySide6
import torch
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from gui_trainer import __version__, build_info


def versions() -> dict[str, str]:
    return {
        "gui_trainer": __version__,
        "Python": platform.python_version(),
        "PyTorch": torch.__version__,
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "pyqtgraph": pyqtgraph.__version__,
        "Runs on": f"{build_info.how_installed()}, {build_info.platform_name()}",
    }


def about_text() -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>&nbsp;{html.escape(v)}</td></tr>"
                   for k, v in versions().items())
    return (
        "<h3>gui_trainer</h3>"
        "<p>Click through the real PyTorch training loop — Zero Grad, Forward, Loss, Backward, "
        "Step — one stage at a time, and see what each call did with your own numbers.</p>"
        f"<table>{rows}</table>"
    )


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About gui_trainer", about_text())


def shortcuts_text(actions: dict[str, QAction]) -> str:
    rows = []
    for action in actions.values():
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                         for k in action.shortcuts())
        if keys:
            rows.append(f"<tr><td><b>{html.escape(keys)}</b></td>"
                        f"<td>&nbsp;{html.escape(action.text().replace('&', ''))}</td></tr>")
    return "<h3>Keyboard shortcuts</h3><table>" + "".join(rows) + "</table>"


def show_shortcuts(parent: QWidget, actions: dict[str, QAction]) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle("Keyboard shortcuts")
    box.setText(shortcuts_text(actions))
    box.exec()
