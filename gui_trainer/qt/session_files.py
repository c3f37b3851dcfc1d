"""File ▸ Open, Save, Save As and Open Recent for ``.gtrain`` files, the title's file name
and unsaved marker, and the question before unsaved work would be lost.

"Unsaved" is a session's timeline moved since it was opened or saved: each new action
bumps the timeline's revision, and undo back to the saved position is saved again.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from gui_trainer.core import SessionFileError, TrainingSession
from gui_trainer.core.session_file import SUFFIX, LoadCancelled
from gui_trainer.core.session_file import load as load_session
from gui_trainer.qt.progress_task import run_with_progress

if TYPE_CHECKING:
    from gui_trainer.qt.main_window import MainWindow

FILTER = f"gui_trainer session (*{SUFFIX})"
RECENT_KEY = "files/recent"
MAX_RECENT = 8
Answer = Literal["save", "discard", "cancel"]
Marker = tuple[int, int]


def marker(session: TrainingSession) -> Marker:
    """What changes when the session has something new to save."""
    return session.timeline.revision, session.position


def ask_unsaved(window: MainWindow, why: str) -> Answer:
    """Save, discard or cancel: the learner's choice before unsaved work would go."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved work",
                      f"This session has changes that are not saved. Save them before "
                      f"{why}?", parent=window)
    save = box.addButton("Save…", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Don't Save", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "discard" if clicked is discard else "cancel"


def ask_close_others(window: MainWindow, others: list[TrainingSession]) -> bool:
    """Close although sessions kept for Scenario ▸ Back have unsaved work?"""
    names = ", ".join(f"{s.scenario.title} (epoch {s.epoch})" for s in others)
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved work",
                      f"Sessions you switched away from have unsaved work: {names}. They "
                      "close with the window (Scenario ▸ Back returns to them, to save "
                      "them). Close anyway?", parent=window)
    close = box.addButton("Close Anyway", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is close


class SessionFiles:
    #: Tests answer the dialogs through these (the defaults are Qt's modal dialogs).
    ask_unsaved: Callable[[MainWindow, str], Answer] = staticmethod(ask_unsaved)
    ask_close_others: Callable[[MainWindow, list[TrainingSession]], bool] = staticmethod(
        ask_close_others)

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        #: Per session: the file it was opened from or saved to, and its marker then.
        self._files: weakref.WeakKeyDictionary[TrainingSession, tuple[Path, Marker]] = \
            weakref.WeakKeyDictionary()
        self.ask_open: Callable[[], str | None] = self._ask_open
        self.ask_save: Callable[[str], str | None] = self._ask_save
        self.recent_menu: QMenu | None = None
        window.controller.changed.connect(self.update_title)
        window.controller.scenario_changed.connect(self.update_title)

    # -- state -------------------------------------------------------------------------
    @property
    def session(self) -> TrainingSession:
        return self.window.session

    @property
    def path(self) -> Path | None:
        """The file the shown session belongs to (None: not saved yet)."""
        return self.path_of(self.session)

    def path_of(self, session: TrainingSession) -> Path | None:
        entry = self._files.get(session)
        return None if entry is None else entry[0]

    def unsaved(self, session: TrainingSession | None = None) -> bool:
        """Work that is in no file: a timeline moved since the last save or open (a
        session nobody touched has nothing to lose)."""
        session = session or self.session
        entry = self._files.get(session)
        if entry is None:
            return len(session.timeline) > 0
        return marker(session) != entry[1]

    def update_title(self) -> None:
        path = self.path
        from gui_trainer.qt.main_window import WINDOW_TITLE

        name = path.name if path is not None else "Untitled"
        self.window.setWindowTitle(f"{name}[*] — {WINDOW_TITLE}")
        self.window.setWindowModified(self.unsaved())
        if path is not None:
            self.window.setWindowFilePath(str(path))

    # -- the menu ------------------------------------------------------------------------
    def build_menu(self, menu: QMenu) -> None:
        actions = self.window.actions_by_name
        menu.addAction(actions["open_session"])
        self.recent_menu = menu.addMenu("Open Recent")
        self.recent_menu.setObjectName("recent_menu")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        menu.addAction(actions["save_session"])
        menu.addAction(actions["save_session_as"])
        actions["open_session"].triggered.connect(lambda: self.open())
        actions["save_session"].triggered.connect(self.save)
        actions["save_session_as"].triggered.connect(self.save_as)

    def recent(self) -> list[str]:
        value: object = QSettings().value(RECENT_KEY, [])
        # QSettings gives one string back for a list of one (INI files).
        paths = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [str(p) for p in paths if isinstance(p, str)][:MAX_RECENT]

    def _remember(self, path: Path) -> None:
        paths = [str(path), *(p for p in self.recent() if p != str(path))][:MAX_RECENT]
        QSettings().setValue(RECENT_KEY, paths)

    def _fill_recent(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        paths = self.recent()
        for path in paths:
            action = menu.addAction(Path(path).name)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open(Path(p)))
        menu.setEnabled(bool(paths))

    # -- open and save -------------------------------------------------------------------
    def open(self, path: Path | None = None) -> bool:
        """Open a session file; a bad one is refused with its reason and nothing changes."""
        if not self.keep_work("opening another file"):
            return False
        if path is None:
            chosen = self.ask_open()
            if chosen is None:
                return False
            path = Path(chosen)
        try:
            session = self.load(path, f"Opening {path.name}…")
        except LoadCancelled:
            self.window.statusBar().showMessage(f"Opening {path.name} was cancelled.")
            return False
        except SessionFileError as error:
            QMessageBox.warning(self.window, "Could not open", f"{path.name} could not be "
                                f"opened: {error}.\n\nThe session you had is still open.")
            return False
        self.window.before_switch()
        self._files[session] = (path, marker(session))
        self.window.controller.open_session(
            session, f"Opened {path.name}: {session.scenario.title}, epoch {session.epoch}. "
                     "Undo goes back through what was done before it was saved.")
        self._remember(path)
        self.update_title()
        return True

    def recover(self, path: Path, original: object) -> bool:
        """Show a session saved aside before a crash: unsaved, tied to its file if it had
        one (Save writes there)."""
        try:
            session = self.load(path, "Recovering the unsaved session…")
        except LoadCancelled:
            return False
        except SessionFileError as error:
            QMessageBox.warning(self.window, "Could not recover",
                                f"The session saved aside could not be opened: {error}.")
            return False
        self.window.before_switch()
        if isinstance(original, str):
            self._files[session] = (Path(original), (-1, -1))  # differs from that file
        self.window.controller.open_session(
            session, f"Recovered: {session.scenario.title}, epoch {session.epoch}. It is not "
                     "saved yet: File ▸ Save keeps it.")
        self.update_title()
        return True

    def load(self, path: Path, text: str) -> TrainingSession:
        """Load on a worker behind a progress dialog (the actions are replayed); Cancel
        raises :class:`LoadCancelled`."""
        return run_with_progress(self.window, text,
                                 lambda progress: load_session(path, progress))

    def save(self) -> bool:
        path = self.path
        return self.save_as() if path is None else self._save_to(path)

    def save_as(self) -> bool:
        chosen = self.ask_save(self._suggested())
        if chosen is None:
            return False
        path = Path(chosen)
        if path.suffix != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        session = self.session
        try:
            session.save(path)
        except OSError as error:
            QMessageBox.warning(self.window, "Could not save",
                                f"The session could not be saved to {path}: "
                                f"{error.strerror or error}.\n\nNothing was changed.")
            return False
        self._files[session] = (path, marker(session))
        self._remember(path)
        self.update_title()
        self.window.statusBar().showMessage(f"Saved to {path}.")
        return True

    def keep_work(self, why: str, everything: bool = False) -> bool:
        """Before the shown session's unsaved work would go: save it, drop it, or stop.

        With ``everything`` (closing the window) the sessions kept for Scenario ▸ Back are
        asked about too: they go with the window.
        """
        if self.unsaved():
            answer = self.ask_unsaved(self.window, why)
            if answer == "cancel" or (answer == "save" and not self.save()):
                return False
        if everything:
            others = [s for s in self.window.controller.sessions()[1:] if self.unsaved(s)]
            if others:
                return self.ask_close_others(self.window, others)
        return True

    # -- dialogs ---------------------------------------------------------------------------
    def _folder(self) -> str:
        path = self.path
        if path is not None:
            return str(path.parent)
        return QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())

    def _suggested(self) -> str:
        path = self.path
        if path is not None:
            return str(path)
        session = self.session
        return os.path.join(self._folder(),
                            f"{session.scenario.name.replace(':', '-')}{SUFFIX}")

    def _ask_open(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open Session", self._folder(),
                                              FILTER)
        return path or None

    def _ask_save(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save Session", suggested, FILTER)
        return path or None
