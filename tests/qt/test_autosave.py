"""Unsaved work is saved aside every minute, and offered back after a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import QCloseEvent
from pytestqt.qtbot import QtBot

from gui_trainer.app import parse_args, start_window
from gui_trainer.core import TrainingSession
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.qt.autosave import Autosave, Orphan, orphans
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.session_files import SessionFiles
from tests.core.test_export import same, session_state


def test_unsaved_work_is_saved_aside_and_dropped_once_saved(
    window: MainWindow, isolated_autosave: Path, tmp_path: Path
) -> None:
    aside = window.autosave
    assert aside.timer.isActive() and aside.timer.interval() == 60_000
    assert not aside.save_aside()  # nothing done: nothing to keep
    for _ in range(2):
        window.session.run_epoch()
    window.controller.publish(None)
    assert aside.save_aside()
    path = isolated_autosave / f"{aside.id}.0.gtrain"
    kept = TrainingSession.load(path)
    assert same(session_state(kept), session_state(window.session))
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["file"] is None and info["epoch"] == 2
    assert orphans(isolated_autosave) == []  # its window is running: not an orphan
    window.files.ask_save = lambda _suggested: str(tmp_path / "done.gtrain")
    window.files.save_as()
    assert not aside.save_aside() and not path.exists()  # saved: nothing aside


def test_a_session_switched_away_from_is_kept_aside_and_asked_about(
    window: MainWindow, isolated_autosave: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        window.session.run_epoch()
    window.controller.publish(None)
    window.controller.open_scenario(SCENARIOS["curve"])  # the delivery work goes to Back
    assert window.autosave.save_aside()
    kept = sorted(isolated_autosave.glob("*.gtrain"))
    assert [TrainingSession.load(p).epoch for p in kept] == [3]  # the fresh curve: nothing
    asked: list[list[str]] = []

    def ask(_window: MainWindow, others: list[TrainingSession]) -> bool:
        asked.append([s.scenario.name for s in others])
        return False

    monkeypatch.setattr(SessionFiles, "ask_close_others", staticmethod(ask))
    event = QCloseEvent()
    window.closeEvent(event)
    assert asked == [["delivery"]] and not event.isAccepted()  # the learner stays
    assert kept[0].exists()


def test_a_clean_close_leaves_nothing_to_recover(qtbot: QtBot, isolated_autosave: Path
                                                 ) -> None:
    window = start_window(parse_args([]))
    qtbot.addWidget(window)
    window.session.run_epoch()
    window.controller.publish(None)
    assert window.autosave.save_aside()
    window.close()  # (the tests answer "Don't Save")
    assert not window.autosave.timer.isActive()
    assert list(isolated_autosave.iterdir()) == []


CRASH = textwrap.dedent("""
    import os, signal, sys
    from PySide6.QtCore import QLockFile
    from gui_trainer.core import TrainingSession
    from gui_trainer.core.session_file import save
    folder = sys.argv[1]
    lock = QLockFile(os.path.join(folder, "crashed.lock"))  # the window's
    lock.setStaleLockTime(0)
    assert lock.tryLock(0)
    session = TrainingSession(scenario="moons")
    for _ in range(3):
        session.run_epoch()
    save(session, os.path.join(folder, "crashed.0.gtrain"))
    with open(os.path.join(folder, "crashed.0.json"), "w") as info:
        info.write('{"file": null, "saved_at": 0, "title": "Two moons", "epoch": 3}')
    os.kill(os.getpid(), signal.SIGKILL)  # the crash: no close, the lock left behind
""")


@pytest.mark.skipif(os.name != "posix", reason="killed with SIGKILL")
@pytest.mark.parametrize("choice", ["recover", "discard", "later"])
def test_after_a_crash_the_next_start_offers_the_work_back(
    qtbot: QtBot, isolated_autosave: Path, monkeypatch: pytest.MonkeyPatch, choice: str
) -> None:
    isolated_autosave.mkdir(parents=True)
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(isolated_autosave)],
                             check=False, timeout=120)
    assert crashed.returncode == -signal.SIGKILL
    assert (isolated_autosave / "crashed.lock").exists()  # left by the dead process
    asked: list[str] = []

    def ask(_window: MainWindow, orphan: Orphan) -> str:
        asked.append(orphan.describe())
        return choice

    monkeypatch.setattr(Autosave, "ask", staticmethod(ask))
    window = start_window(parse_args([]))
    qtbot.addWidget(window)
    assert len(asked) == 1 and "Two moons" in asked[0] and "epoch 3" in asked[0]
    recovered = window.session.scenario.name == "moons"
    assert recovered == (choice == "recover")
    if recovered:
        assert window.session.epoch == 3 and window.isWindowModified()  # not saved yet
    left = (isolated_autosave / "crashed.0.gtrain").exists()
    assert left == (choice == "later")
    assert not (isolated_autosave / "crashed.lock").exists()  # not held by us any more
    if recovered:  # aside again at once, under the new window (a second crash loses nothing)
        [aside] = isolated_autosave.glob(f"{window.autosave.id}.*.gtrain")
        assert TrainingSession.load(aside).epoch == 3
    window.close()
