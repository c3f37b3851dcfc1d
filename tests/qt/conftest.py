from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui_trainer.app import create_window
from gui_trainer.qt.main_window import MainWindow


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, qapp: QApplication) -> Iterator[Path]:
    """Every test gets its own empty settings folder; the learner's are never touched."""
    QCoreApplication.setOrganizationName("gui_trainer_tests")
    QCoreApplication.setApplicationName("gui-trainer")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    yield tmp_path


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    win = create_window()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.trainer.stop()
