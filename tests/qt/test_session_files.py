"""File ▸ Open / Save / Save As / Open Recent, the title, and never losing work."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMessageBox, QProgressDialog
from pytestqt.qtbot import QtBot

from gui_trainer.app import parse_args, start_window
from gui_trainer.core import TrainingSession
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.session_files import SessionFiles
from tests.core.test_export import same, session_state


def save_as(window: MainWindow, path: Path) -> None:
    window.files.ask_save = lambda _suggested: str(path)
    window.actions_by_name["save_session_as"].trigger()


def test_the_title_names_the_file_and_marks_unsaved_work(window: MainWindow,
                                                         tmp_path: Path) -> None:
    assert window.windowTitle().startswith("Untitled[*]") and not window.isWindowModified()
    window.controller.run_stage("zero_grad")
    assert window.isWindowModified()
    save_as(window, tmp_path / "first steps")  # the suffix is added
    path = tmp_path / "first steps.gtrain"
    assert path.exists() and window.windowTitle().startswith("first steps.gtrain[*]")
    assert not window.isWindowModified() and "Saved to" in window.statusBar().currentMessage()
    window.controller.undo()
    assert window.isWindowModified()  # not what the file holds
    window.controller.redo()
    assert not window.isWindowModified()  # back to what it holds
    window.controller.run_stage("forward")
    window.actions_by_name["save_session"].trigger()  # Save: the same file, no dialog
    assert not window.isWindowModified()
    assert TrainingSession.load(path).position == window.session.position


def test_opening_a_file_shows_its_session_and_back_returns(window: MainWindow,
                                                            tmp_path: Path) -> None:
    saved = TrainingSession(scenario="moons")
    for _ in range(3):
        saved.run_epoch()
    path = tmp_path / "moons.gtrain"
    saved.save(path)
    before = window.session
    window.files.ask_open = lambda: str(path)
    window.actions_by_name["open_session"].trigger()
    assert window.session is not before and same(session_state(window.session),
                                                 session_state(saved))
    assert window.windowTitle().startswith("moons.gtrain") and not window.isWindowModified()
    assert window.files.recent()[0] == str(path)
    assert window.controller.previous is before  # Scenario ▸ Back returns to it
    window.controller.undo()  # undo reaches back before the save
    assert window.session.position == saved.position - 1


def test_a_bad_file_is_refused_and_the_session_stays(window: MainWindow, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda _parent, _title, text: warnings.append(text))
    path = tmp_path / "broken.gtrain"
    path.write_bytes(b"PK\x03\x04 not really")
    window.controller.run_stage("zero_grad")
    before = window.session
    assert not window.files.open(path)
    assert window.session is before and window.isWindowModified()
    assert warnings and "not a zip archive" in warnings[0] and "still open" in warnings[0]


@pytest.mark.parametrize("answer", ["cancel", "discard", "save"])
def test_closing_with_unsaved_work_asks(qtbot: QtBot, tmp_path: Path, answer: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def ask(_window: MainWindow, why: str) -> str:
        asked.append(why)
        return answer

    monkeypatch.setattr(SessionFiles, "ask_unsaved", staticmethod(ask))
    window = start_window(parse_args([]))
    qtbot.addWidget(window)
    window.files.ask_save = lambda _suggested: str(tmp_path / "kept.gtrain")
    event = QCloseEvent()
    window.closeEvent(event)  # nothing done yet: nothing to lose, no question
    assert event.isAccepted() and asked == []
    window.controller.run_stage("zero_grad")
    event = QCloseEvent()
    window.closeEvent(event)
    assert asked == ["closing"]
    assert event.isAccepted() == (answer != "cancel")
    assert (tmp_path / "kept.gtrain").exists() == (answer == "save")


def test_opening_another_file_asks_first(window: MainWindow, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SessionFiles, "ask_unsaved",
                        staticmethod(lambda _window, _why: "cancel"))
    path = tmp_path / "other.gtrain"
    TrainingSession().save(path)
    window.controller.run_stage("zero_grad")
    before = window.session
    assert not window.files.open(path)  # the learner chose to stay
    assert window.session is before


def test_a_file_named_on_the_command_line_is_opened(qtbot: QtBot, tmp_path: Path) -> None:
    saved = TrainingSession()
    for _ in range(4):
        saved.run_epoch()
    path = tmp_path / "lesson.gtrain"
    saved.save(path)
    window = start_window(parse_args([str(path)]))
    qtbot.addWidget(window)
    assert window.session.epoch == 4 and window.files.path == path
    window.close()


def test_open_recent_lists_the_latest_files_first(window: MainWindow, tmp_path: Path) -> None:
    paths = []
    for name in ("a", "b"):
        session = TrainingSession()
        for _ in range(2 if name == "a" else 5):
            session.run_epoch()
        path = tmp_path / f"{name}.gtrain"
        session.save(path)
        paths.append(path)
        assert window.files.open(path)
    menu = window.files.recent_menu
    assert menu is not None
    menu.aboutToShow.emit()
    actions = menu.actions()
    assert [a.text() for a in actions] == ["b.gtrain", "a.gtrain"] and menu.isEnabled()
    actions[1].trigger()
    assert window.files.path == paths[0] and window.session.epoch == 2


def test_a_long_load_keeps_the_window_responsive_and_can_be_cancelled(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    saved = TrainingSession()
    for _ in range(300):
        saved.run_epoch()
    path = tmp_path / "long.gtrain"
    saved.save(path)
    ticks: list[int] = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    assert window.files.open(path)  # replayed on a worker: the GUI's timer kept firing
    timer.stop()
    assert window.session.epoch == 300 and len(ticks) >= 5
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda _self: True)  # Cancel pressed
    before = window.session
    assert not window.files.open(path)  # the learner pressed Cancel
    assert window.session is before and "cancelled" in window.statusBar().currentMessage()


def test_no_garbage_collection_runs_on_a_worker(window: MainWindow, tmp_path: Path) -> None:
    import gc

    from gui_trainer.qt.progress_task import run_with_progress

    seen: list[bool] = []

    def work(_progress: object) -> int:
        seen.append(gc.isenabled())
        return 7

    result = run_with_progress(window, "Working…", work)
    assert result == 7 and seen == [False]  # a collection there deadlocked with Qt
    assert gc.isenabled()  # and the GUI thread collects again afterwards
