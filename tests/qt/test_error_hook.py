"""An uncaught exception in a slot is logged and shown; the window stays alive."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from gui_trainer.app import install_error_hook
from gui_trainer.qt.main_window import MainWindow


def test_error_hook_shows_a_dialog_and_logs(window: MainWindow, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_error_hook()
    try:
        raise ValueError("something broke")
    except ValueError:
        with caplog.at_level(logging.ERROR, logger="gui_trainer"):
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    assert shown and "ValueError: something broke" in shown[0]
    assert "still open" in shown[0]
    assert "something broke" in caplog.text
    assert window.isVisible()
    window.controller.run_stage("zero_grad")  # and it still works
    assert window.session.stage_count == 1
