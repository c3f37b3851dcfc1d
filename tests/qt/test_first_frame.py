"""What the window puts off until its first frame is painted.

The Scenario menu's entries are made after the first frame (or when it opens first).
PyTorch's compiler (``torch._dynamo``) is imported on a thread of its own after the first
frame, and Python's garbage collector resumes then: training must work as if they had been
there all along.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from pytestqt.qtbot import QtBot

from gui_trainer.app import create_window
from gui_trainer.core.scenarios import SCENARIOS


def test_the_scenario_menu_is_filled_after_the_first_frame(qtbot: QtBot) -> None:
    window = create_window()
    qtbot.addWidget(window)
    menu = window.scenario_menu
    assert not menu._actions  # nothing made yet: it would read every scenario's data
    window.controller.open_scenario(window.session.scenario)  # a switch before it is filled
    window.show()
    qtbot.waitUntil(lambda: bool(menu._actions), timeout=5_000)
    assert window.after_first_frame.done
    entries = [action for action in menu.actions() if not action.isSeparator()]
    assert [action.objectName() for action in entries] == [
        *(f"scenario_{name}" for name in SCENARIOS), "scenario_back"]
    assert entries[0].text() == SCENARIOS["delivery"].title
    assert menu.actions_by_name["delivery"].isChecked()
    assert menu.back.isEnabled() and menu.back.text().startswith("Back to ")


def test_the_scenario_menu_fills_itself_when_opened_first(qtbot: QtBot) -> None:
    window = create_window()
    qtbot.addWidget(window)
    menu = window.scenario_menu
    menu.aboutToShow.emit()
    assert len(menu._actions) == 6 and menu.actions_by_name["delivery"].isChecked()


def test_pytorchs_compiler_is_imported_after_the_first_frame() -> None:
    """In a fresh process (this one imported torch._dynamo long ago): no torch._dynamo
    until the window is painted, then on a thread; a Step works before, during and after,
    and PyTorch's own wrapping of the optimizer's methods is back afterwards."""
    script = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        from gui_trainer.app import create_window
        from torch.optim import Optimizer

        app = QApplication(sys.argv[:1])
        window = create_window(remember=False)
        assert "torch._dynamo" not in sys.modules
        for stage in ("zero_grad", "forward", "loss", "backward"):
            window.controller.run_stage(stage)
        assert "torch._dynamo" not in sys.modules, "a stage before Step needed it"
        assert getattr(Optimizer.zero_grad.__wrapped__, "__dynamo_disable") is not None
        window.show()
        while not window.after_first_frame.done:
            app.processEvents()
        from gui_trainer.qt import first_frame
        first_frame._importer.join(120)
        assert "torch._dynamo" in sys.modules
        assert getattr(Optimizer.zero_grad.__wrapped__, "__dynamo_disable", None) is None
        window.controller.run_stage("step")
        assert window.controller.last_record.ok
        window.controller.run_stage("zero_grad")  # wrapped by PyTorch itself now
        assert window.controller.last_record.ok
        assert getattr(Optimizer.zero_grad.__wrapped__, "__dynamo_disable") is not (
            Optimizer.zero_grad.__wrapped__)
        print("ok")
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("ok")


def test_main_collects_garbage_again_after_the_first_frame(tmp_path: Path) -> None:
    """main() starts without Python's garbage collector (start-up makes long-lived objects,
    not garbage); after the first frame what start-up made is frozen out of collections and
    collecting resumes. Also: torch is imported before Qt, the style set before the window."""
    script = textwrap.dedent("""
        import gc, os, sys
        import gui_trainer.app as app_module

        make_window = app_module.create_window
        def create_window(**kwargs):
            from PySide6.QtWidgets import QApplication
            from gui_trainer.qt.theme import OutlinedIndicators
            modules = list(sys.modules)
            before = {"gc off": not gc.isenabled(),
                      "torch first": modules.index("torch") < modules.index("PySide6"),
                      "style": isinstance(QApplication.instance().style(),
                                          OutlinedIndicators)}
            if not all(before.values()):  # (main's error hook would wait in a dialog)
                print(before, flush=True)
                os._exit(1)
            window = make_window(remember=False)
            def check():  # after every task of the first frame (start_window adds one)
                ok = gc.isenabled() and gc.get_freeze_count() > 100_000
                print("ok" if ok else f"gc: {gc.isenabled()}, {gc.get_freeze_count()}",
                      flush=True)
                os._exit(0 if ok else 1)
            from PySide6.QtCore import QTimer
            window.after_first_frame.tasks.append(lambda: QTimer.singleShot(0, check))
            return window

        app_module.create_window = create_window
        app_module.main([])
    """)
    home = str(tmp_path)  # no autosave of the learner's is offered
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": home,
           "XDG_DATA_HOME": home}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("ok")
