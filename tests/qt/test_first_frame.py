"""What the window puts off until its first frame is painted, or until it is first needed.

The Layers and Landscape panels are made when their tabs are first shown, the Scenario menu's
entries after the first frame, PyTorch's compiler (``torch._dynamo``) is imported on a thread
of its own after it, and Python's garbage collector resumes then: each must work as if it had
been there all along.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui_trainer.app import create_window
from gui_trainer.core.formatting import short
from gui_trainer.core.landscape import trajectory
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.qt.landscape_panel import LandscapePanel
from gui_trainer.qt.layers_panel import LayersPanel
from gui_trainer.qt.main_window import LAZY_SIZES, MainWindow
from tests.qt.conftest import show


def click_loop(window: MainWindow, qtbot: QtBot, loops: int = 1) -> None:
    for _ in range(loops):
        for stage in ("zero_grad", "forward", "loss", "backward", "step"):
            qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)


def test_hidden_tabs_are_not_made_before_they_are_shown(qtbot: QtBot) -> None:
    window = show(create_window(), qtbot)
    QApplication.processEvents()
    assert window.lazy_layers.panel is None and window.lazy_landscape.panel is None
    assert window.docks["layers"].widget() is window.lazy_layers.stand_in
    # Closing a window whose landscape was never made stops nothing that is not there.
    window.close()
    assert window.lazy_landscape.panel is None


def test_the_layers_tab_shows_the_session_now_when_first_opened(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.scenario_menu.actions_by_name["moons"].trigger()
    click_loop(window, qtbot, loops=2)
    assert window.lazy_layers.panel is None
    window.docks["layers"].raise_()  # the learner clicks its tab: nothing else
    qtbot.waitUntil(lambda: window.lazy_layers.panel is not None
                    and window.lazy_layers.panel.isVisible(), timeout=2_000)
    panel = window.lazy_layers.panel
    assert isinstance(panel, LayersPanel) and window.docks["layers"].widget() is panel
    names = [name for name, _ in window.session.model.named_parameters()]
    rows = [panel.table.item(row, 0) for row in range(panel.table.rowCount())]
    assert [item.text() for item in rows if item is not None] == names
    norm = float(dict(window.session.model.named_parameters())[names[0]].detach().norm())
    shown = panel.table.item(0, 2)
    assert shown is not None and shown.text() == short(norm, 4)
    # Drawn again on the next click, like any panel in view.
    click_loop(window, qtbot)
    window.refresh_now()
    assert panel.table.rowCount() == len(names) + len(list(window.session.model.buffers()))


def test_the_landscape_tab_shows_the_run_so_far_when_first_opened(
    window: MainWindow, qtbot: QtBot
) -> None:
    click_loop(window, qtbot, loops=3)
    assert window.lazy_landscape.panel is None
    window.docks["landscape"].raise_()
    qtbot.waitUntil(lambda: window.lazy_landscape.panel is not None
                    and window.lazy_landscape.panel.state is not None, timeout=2_000)
    panel = window.lazy_landscape.panel
    assert isinstance(panel, LandscapePanel) and panel.isVisible()
    xs, ys = panel.path.getData()
    path = trajectory(window.session)
    assert xs is not None and ys is not None
    np.testing.assert_array_equal(xs[1:], path[:, 0])  # the start, then every step
    np.testing.assert_array_equal(ys[1:], path[:, 1])
    # A click on the map still asks for a redraw through the window's frame.
    assert panel.receivers("2needs_redraw()") >= 1


def test_asking_for_a_panel_makes_it_in_its_dock(window: MainWindow) -> None:
    panel = window.landscape_panel  # exports, smoke tests and scripts ask for it by name
    assert window.lazy_landscape.panel is panel
    assert window.docks["landscape"].widget() is panel
    assert window.landscape_panel is panel  # made once


def test_the_stand_ins_ask_for_the_panels_own_sizes(window: MainWindow) -> None:
    """The docks are laid out with the stand-ins in place: they must ask what the panels
    would (else the first layout differs from the one the panels would have had)."""
    for name, panel in (("layers", window.layers_panel), ("landscape", window.landscape_panel)):
        minimum, preferred = LAZY_SIZES[name]
        assert panel.minimumSizeHint() == minimum, name
        assert panel.sizeHint() == preferred, name


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


def test_a_task_that_raises_does_not_keep_the_others_from_running() -> None:
    """The last task resumes garbage collection: a failing one before it (a scenario's data
    missing when the menu fills) must not leave the collector off for the session."""
    from PySide6.QtWidgets import QWidget

    from gui_trainer.qt.first_frame import AfterFirstFrame

    ran: list[str] = []

    def broken() -> None:
        ran.append("broken")
        raise OSError("digits.csv is missing")

    widget = QWidget()
    after = AfterFirstFrame(widget)
    after.tasks += [broken, lambda: ran.append("collector resumed")]
    with pytest.raises(OSError, match="is missing"):
        after.run()
    assert ran == ["broken", "collector resumed"]
    widget.deleteLater()
