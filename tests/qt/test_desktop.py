"""Desktop manners: remembered settings and layout, themes, About, shortcuts, icon."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette, QTextDocumentFragment
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from gui_trainer import build_info
from gui_trainer.app import create_window
from gui_trainer.qt import dialogs
from gui_trainer.qt.auto_train import SPEEDS
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.theme import DARK, LIGHT


def open_window(qtbot: QtBot) -> MainWindow:
    window = create_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_settings_and_layout_round_trip(qtbot: QtBot, isolated_settings: Path) -> None:
    first = open_window(qtbot)
    # The offscreen screen is 800×800 and a restore keeps a window on its screen: pick a size
    # on it that differs from the one the window opened at.
    opened = (first.width(), first.height())
    first.resize(first.width() - 37, first.height() - 23)
    size = (first.width(), first.height())
    assert size != opened
    first.settings.choose_lr(0.1)
    first.settings.mode_buttons["free"].setChecked(True)
    first.auto_panel.speed.setValue(2)
    first.auto_panel.epochs.setValue(250)
    first.docks["graph"].hide()
    first.set_theme("dark")
    first.close()
    assert list(isolated_settings.rglob("*.ini")), "settings were not written to the test folder"

    second = open_window(qtbot)
    assert second.session.lr == 0.1 and second.session.mode == "free"
    assert second.session.position == 0  # restored settings are the start, not undoable edits
    assert second.auto_panel.speed.value() == 2 and second.trainer.target == 250
    assert (second.width(), second.height()) == size
    assert not second.docks["graph"].isVisible()
    assert second.theme_choice == "dark"
    second.actions_by_name["reset_layout"].trigger()
    assert second.docks["graph"].isVisible()


def test_another_scenarios_settings_do_not_become_the_seeds(
    qtbot: QtBot, isolated_settings: Path
) -> None:
    """The app starts on the delivery scenario: moons' Adam and its split are not saved."""
    first = open_window(qtbot)
    first.settings.choose_lr(0.1)
    first.scenario_menu.actions_by_name["moons"].trigger()
    first.controller.set_micro_batches(5)
    first.close()
    second = open_window(qtbot)
    assert second.session.scenario.name == "delivery"
    assert second.session.lr == 0.1 and second.session.optimizer_name == "sgd"
    assert second.session.micro_batches == 1
    assert "could not be used" not in second.statusBar().currentMessage()


def test_corrupt_settings_fall_back_with_a_message(qtbot: QtBot) -> None:
    store = QSettings()
    store.setValue("session/lr", "abc")
    store.setValue("session/mode", "sideways")
    store.setValue("window/state", "not a layout")
    store.setValue("auto/speed", "fast")
    store.sync()
    window = open_window(qtbot)
    assert window.session.lr == 0.01 and window.session.mode == "guided"
    message = window.statusBar().currentMessage()
    assert "learning rate" in message and "mode" in message


def test_dark_theme_restyles_the_plots(window: MainWindow) -> None:
    window.set_theme("dark")
    QApplication.processEvents()  # the palette change reaches the views as an event
    dark = QColor(DARK.plot_background)
    for plot in (window.fit_plot, window.loss_plot, window.grad_plot):
        assert plot.backgroundBrush().color() == dark  # type: ignore[attr-defined]
    window_colour = QPalette.ColorRole.Window
    assert QApplication.palette().color(window_colour).lightness() < 80
    window.set_theme("light")
    QApplication.processEvents()
    assert window.loss_plot.backgroundBrush().color() == QColor(  # type: ignore[attr-defined]
        LIGHT.plot_background)
    assert QApplication.palette().color(window_colour).lightness() > 180


def test_about_lists_every_version_and_shortcuts_list_the_keys(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    window.actions_by_name["about"].trigger()  # Help ▸ About gui_trainer
    assert len(shown) == 1
    about = QTextDocumentFragment.fromHtml(shown[0]).toPlainText()
    # The versions as the installed packages declare them, not as the dialog computes them.
    expected = {
        "gui_trainer": metadata.version("gui-trainer"),
        "Python": ".".join(map(str, sys.version_info[:3])),
        "PyTorch": metadata.version("torch"),
        "PySide6": metadata.version("PySide6-Essentials"),
        "pyqtgraph": metadata.version("pyqtgraph"),
    }
    lines = [line.strip() for line in about.replace("\xa0", " ").splitlines()]
    for name, version in expected.items():
        shown_version = lines[lines.index(name, 2) + 1]  # the table: name, then version
        # torch names its build after a "+" (2.13.0+cu130) where its package metadata may not.
        assert shown_version == version or shown_version.startswith(f"{version}+"), name
    assert lines[lines.index("Runs on", 2) + 1] == f"{build_info.how_installed()}, " + (
        f"{platform.system()} {platform.machine()}")
    shortcuts = dialogs.shortcuts_text(window.actions_by_name)
    for key in ("Ctrl+Z", "Ctrl+Shift+Z", "Space", "F1"):
        assert key in shortcuts


def test_application_identity(qapp: QApplication) -> None:
    from gui_trainer.app import configure_application

    app = qapp
    configure_application(app)
    assert app.desktopFileName() == "gui-trainer"
    assert not app.windowIcon().isNull()
    assert not app.windowIcon().pixmap(64, 64).isNull()


def test_no_settings_file_can_stop_the_app_from_starting(
    qtbot: QtBot, isolated_settings: Path
) -> None:
    store = QSettings()
    store.setValue("auto/speed", "2147483648")  # made create_window raise OverflowError
    store.setValue("auto/epochs", str(2**31))
    store.setValue("session/lr", "nan")
    store.setValue("session/micro_batches", "3")
    store.setValue("view/theme", "x" * 10_000_000)  # 10 MB of junk
    store.setValue("window/geometry", "junk")
    store.sync()
    window = open_window(qtbot)
    message = window.statusBar().currentMessage()
    for name in ("auto-train speed", "auto-train epochs", "learning rate", "micro-batches",
                 "theme", "window size"):
        assert name in message, name
    assert window.trainer.speed in range(len(SPEEDS)) and window.trainer.target == 100
    assert window.session.lr == 0.01 and window.session.micro_batches == 1
    window.close()
    written = sum(f.stat().st_size for f in isolated_settings.rglob("*.ini"))
    assert written < 100_000  # the junk was not written back
    again = open_window(qtbot)  # and the next start is clean
    assert "could not be used" not in again.statusBar().currentMessage()


def test_a_layout_saved_by_an_older_version_is_dropped_without_a_message(
    qtbot: QtBot,
) -> None:
    first = open_window(qtbot)
    first.close()
    store = QSettings()
    store.setValue("window/layout_version", 1)  # as the previous release saved it
    store.setValue("window/main_splitter", first.saveState())  # a key that release had
    store.sync()
    second = open_window(qtbot)
    assert "could not be used" not in second.statusBar().currentMessage()
    assert QSettings().value("window/main_splitter") is None
