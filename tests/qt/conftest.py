"""Fixtures for the Qt tests: isolated settings, a shown main window, and a leak check."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from gui_trainer.app import create_window
from gui_trainer.qt import autosave
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.session_files import SessionFiles


@pytest.fixture(autouse=True)
def no_unsaved_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a window with unsaved work asks (a modal box); tests that close windows
    drop the work unless they answer the question themselves."""
    monkeypatch.setattr(SessionFiles, "ask_unsaved", staticmethod(lambda *_args: "discard"))
    monkeypatch.setattr(SessionFiles, "ask_close_others", staticmethod(lambda *_args: True))


@pytest.fixture(autouse=True)
def isolated_autosave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Autosaves go to the test's own folder, never the learner's."""
    folder = tmp_path / "autosave"
    monkeypatch.setattr(autosave, "autosave_folder", lambda: folder)
    return folder


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, qapp: QApplication) -> Iterator[Path]:
    """Every test gets its own empty settings folder; the learner's are never touched."""
    QCoreApplication.setOrganizationName("gui_trainer_tests")
    QCoreApplication.setApplicationName("gui-trainer")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    yield tmp_path


def shown(widget: QWidget) -> bool:
    """Visible now; False for a widget deleted meanwhile (pyqtgraph's parentless plot menus
    are top-level widgets that Python's garbage collector may delete at any moment)."""
    try:
        return shiboken6.isValid(widget) and widget.isVisible()
    except RuntimeError:  # deleted between the check and the call
        return False


@pytest.fixture(autouse=True)
def no_leaks(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a window open or a timer running after its windows closed.

    pytest-qt closes the widgets a test registered (``qtbot.addWidget``) before fixtures are
    torn down, so by then every window must be hidden and every timer the app started from
    Python stopped: a timer still running would fire into a closed window (napari checks
    its tests the same way).
    """
    started: weakref.WeakSet[QTimer] = weakref.WeakSet()
    original = QTimer.start

    def start(timer: QTimer, *args: object) -> None:
        started.add(timer)
        original(timer, *args)

    monkeypatch.setattr(QTimer, "start", start)
    yield
    # pytest-qt closed the test's widgets with deleteLater: delete them now, or every later
    # test would repaint them on each theme change (the suite slowed down to minutes).
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    windows = [w for w in QApplication.topLevelWidgets() if shown(w)]
    for widget in windows:
        widget.close()
    # The test's widgets that only reference cycles keep alive (pyqtgraph's items, slots
    # holding their owners) go now, between tests. Left to the cyclic collector they were
    # freed whenever it next ran — once inside the next test's pyqtgraph layout, as a new
    # window was built, and the run died of a segfault (the fix equinor/ert and others
    # found for the same crash).
    gc.collect()
    running = [t for t in started if shiboken6.isValid(t) and t.isActive()]
    for timer in running:
        timer.stop()
    assert not windows, f"windows left open: {[w.objectName() or w for w in windows]}"
    assert not running, (
        "timers left running: "
        f"{[(p.objectName() if (p := t.parent()) else None, t.interval()) for t in running]}")


def show(window: MainWindow, qtbot: QtBot) -> MainWindow:
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    yield show(create_window(), qtbot)
