"""File ▸ Export: each file is what the core makes, written whole, and a failure says so."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from gui_trainer.core.export import history_csv, script
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.theme import colours


def answer(window: MainWindow, path: Path | None, chosen: str = "") -> list[str]:
    """Answer the next save dialogs with ``path``; returns the titles asked."""
    asked: list[str] = []

    def ask(title: str, suggested: str, filters: str) -> tuple[str, str] | None:
        asked.append(title)
        return None if path is None else (str(path), chosen)

    window.exports.ask = ask
    return asked


def trigger(window: MainWindow, name: str) -> None:
    menu = window.findChild(QMenu, "export_menu")
    assert menu is not None
    [action] = [a for a in menu.actions() if a.objectName() == name]
    action.trigger()


def test_the_script_export_writes_the_cores_script(window: MainWindow, tmp_path: Path) -> None:
    for _ in range(3):
        window.session.run_epoch()
    target = tmp_path / "my run.py"
    answer(window, target)
    trigger(window, "export_script")
    assert target.read_text(encoding="utf-8") == script(window.session)
    assert str(target) in window.statusBar().currentMessage()


def test_the_history_export_has_every_step_and_column(window: MainWindow,
                                                      tmp_path: Path) -> None:
    for _ in range(4):
        window.session.run_epoch()
    window.controller.reset()
    window.session.run_epoch()
    target = tmp_path / "history.csv"
    answer(window, target)
    trigger(window, "export_history")
    text = target.read_text(encoding="utf-8")
    assert text == history_csv(window.session)
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 5 and [int(r["run"]) for r in rows] == [0, 0, 0, 0, 1]
    weights = window.session.history.all_rows()["weight"]
    np.testing.assert_array_equal([float(r["weight"]) for r in rows], weights)


def test_the_worked_math_export_is_the_panels_full_text(window: MainWindow,
                                                        tmp_path: Path) -> None:
    target = tmp_path / "math.txt"
    asked = answer(window, target)
    trigger(window, "export_math")  # nothing to export yet: said, no dialog
    assert asked == [] and "No worked math yet" in window.statusBar().currentMessage()
    window.controller.run_stage("zero_grad")
    window.controller.run_stage("forward")
    window.refresh_now()
    trigger(window, "export_math")
    text = window.math_panel.full_text()
    assert text is not None and target.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("name", "chosen"), [("plot.png", ""), ("plot.svg", ""),
                                              ("plot", "SVG drawing (*.svg)")])
def test_a_plot_exports_as_png_or_svg(window: MainWindow, tmp_path: Path, name: str,
                                      chosen: str) -> None:
    window.session.run_epoch()
    window.refresh_now()
    answer(window, tmp_path / name, chosen)
    trigger(window, "export_plot_loss")
    written = list(tmp_path.iterdir())
    assert len(written) == 1  # no temporary file left behind
    path = written[0]
    canvas = window.loss_plot.canvas
    assert canvas.isVisible() and canvas.width() >= 200  # brought on screen to be drawn
    if path.suffix == ".png":
        image = QImage(str(path))
        assert not image.isNull() and image.width() == 2 * canvas.width()
    else:
        assert path.suffix == ".svg"
        root = ElementTree.parse(path).getroot()
        assert root.tag.endswith("svg") and "Loss history" in path.read_text(encoding="utf-8")
        # Qt draws it back: the loss curve's colour is in the picture.
        renderer = QSvgRenderer(str(path))
        assert renderer.isValid()
        image = QImage(renderer.defaultSize(), QImage.Format.Format_ARGB32)
        image.fill(0xFFFFFFFF)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        colour = QColor(colours().loss)
        assert any(QColor(image.pixel(x, y)) == colour for x in range(0, image.width(), 2)
                   for y in range(0, image.height(), 2))


def test_a_file_that_cannot_be_written_is_said_and_nothing_changes(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    good = tmp_path / "keep.csv"
    good.write_text("the learner's earlier file", encoding="utf-8")
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda _parent, _title, text: warnings.append(text))
    answer(window, tmp_path / "no such folder" / "history.csv")
    trigger(window, "export_history")
    assert warnings and "could not be saved" in warnings[0] and "Nothing was changed" in \
        warnings[0]
    assert good.read_text(encoding="utf-8") == "the learner's earlier file"
    answer(window, None)  # the learner cancels the dialog: nothing happens
    trigger(window, "export_history")
    assert len(warnings) == 1


def test_a_long_script_export_can_be_cancelled(window: MainWindow, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QProgressDialog

    for _ in range(300):
        window.session.run_epoch()
    target = tmp_path / "long.py"
    answer(window, target)
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda _self: True)  # Cancel pressed
    trigger(window, "export_script")
    assert not target.exists() and "cancelled" in window.statusBar().currentMessage()
