"""An uncaught exception in a slot is logged and shown; the window stays alive and usable."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from gui_trainer.app import install_error_hook
from gui_trainer.qt.main_window import MainWindow


@pytest.mark.qt_no_exception_capture  # the app's own hook must see the exception
def test_an_exception_in_a_slot_is_shown_and_the_window_lives_on(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)  # type: ignore[func-returns-value]
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_error_hook()
    real_run_stage = window.controller.run_stage

    def broken(stage: str) -> None:
        raise ValueError("something broke")

    monkeypatch.setattr(window.controller, "run_stage", broken)
    button = window.step_buttons.buttons["zero_grad"]
    with caplog.at_level(logging.ERROR, logger="gui_trainer"):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # the slot raises inside Qt
    assert shown and "ValueError: something broke" in shown[0]
    assert "still open" in shown[0]
    assert "something broke" in caplog.text
    monkeypatch.setattr(window.controller, "run_stage", real_run_stage)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # and the same click works now
    assert window.session.stage_count == 1
