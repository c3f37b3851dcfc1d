"""Never lose work: unsaved sessions are saved aside every minute, and offered back after a
crash.

Each running window owns an id: ``<id>.gtrain`` (the session, written atomically) and
``<id>.json`` (which file it came from, when, what) in the user data folder, and holds
``<id>.lock`` (a ``QLockFile``) while it runs. A clean close deletes all three. At the next
start, an autosave whose lock can be taken belonged to a process that is gone — Qt's lock
file knows the owner's process id and host — so it is offered back: recover, discard, or
keep it for later.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QLockFile, QStandardPaths, QTimer
from PySide6.QtWidgets import QMessageBox

from gui_trainer.core.files import write_atomic
from gui_trainer.core.session_file import to_bytes

if TYPE_CHECKING:
    from gui_trainer.qt.main_window import MainWindow

#: How often unsaved work is saved aside.
INTERVAL_MS = 60_000
Choice = Literal["recover", "discard", "later"]


def autosave_folder() -> Path:
    """Where autosaves live: the user data folder (tests point it elsewhere)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".gui_trainer") / "autosave"


@dataclass(frozen=True)
class Orphan:
    """An autosave left by a window that did not close: its files, and the lock now ours."""

    session: Path
    info: dict[str, object]
    lock: QLockFile

    def describe(self) -> str:
        when = self.info.get("saved_at")
        moment = time.strftime("%d %b %H:%M", time.localtime(when)) if isinstance(
            when, int | float) else "an unknown time"
        original = self.info.get("file")
        where = f" (from {Path(str(original)).name})" if original else ""
        return (f"{self.info.get('title', 'a session')}{where}, epoch "
                f"{self.info.get('epoch', '?')}, saved aside at {moment}")

    def discard(self) -> None:
        for path in (self.session, self.session.with_suffix(".json")):
            path.unlink(missing_ok=True)
        self.lock.unlock()


def orphans(folder: Path | None = None) -> list[Orphan]:
    """Autosaves whose window is gone (their locks could be taken: now held by us)."""
    folder = folder or autosave_folder()
    found = []
    for session in sorted(folder.glob("*.gtrain")):
        lock = QLockFile(str(session.with_suffix(".lock")))
        lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
        if not lock.tryLock(0):
            continue  # its window is still running
        try:
            info = json.loads(session.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        found.append(Orphan(session, info if isinstance(info, dict) else {}, lock))
    return found


def ask_recover(window: MainWindow, orphan: Orphan) -> Choice:
    box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work?",
                      "gui_trainer did not close properly last time. Its unsaved session "
                      f"was kept: {orphan.describe()}. Open it?", parent=window)
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    return "recover" if clicked is recover else "discard" if clicked is discard else "later"


class Autosave:
    #: Tests answer the question through this (the default is Qt's modal box).
    ask: Callable[[MainWindow, Orphan], Choice] = staticmethod(ask_recover)

    def __init__(self, window: MainWindow, interval_ms: int = INTERVAL_MS) -> None:
        self.window = window
        self.folder = autosave_folder()
        self.id = uuid.uuid4().hex
        self.path = self.folder / f"{self.id}.gtrain"
        self._lock: QLockFile | None = None
        self.timer = QTimer(window)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_aside)
        self.timer.start()

    def save_aside(self) -> bool:
        """Save the shown session aside if it has unsaved work (else drop the old copy)."""
        files = self.window.files
        if not files.unsaved():
            self.remove()
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self._lock is None:  # held while the window runs: its autosave is not orphaned
                lock = QLockFile(str(self.path.with_suffix(".lock")))
                lock.setStaleLockTime(0)
                if not lock.tryLock(0):
                    return False
                self._lock = lock
            session = self.window.session
            write_atomic(self.path, to_bytes(session))
            info = {"file": None if files.path is None else str(files.path),
                    "saved_at": time.time(), "title": session.scenario.title,
                    "epoch": session.epoch}
            write_atomic(self.path.with_suffix(".json"), json.dumps(info).encode("utf-8"))
        except OSError as error:  # a full disk must not stop the learner: say it, go on
            self.window.statusBar().showMessage(f"Could not save aside for recovery: {error}")
            return False
        return True

    def remove(self) -> None:
        """This window's autosave is not needed (saved, or closed on purpose)."""
        for path in (self.path, self.path.with_suffix(".json")):
            path.unlink(missing_ok=True)

    def stop(self) -> None:
        """The window closes on purpose: nothing to recover."""
        self.timer.stop()
        self.remove()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def offer_recovery(self) -> None:
        """At start: each session a crashed window left, offered back one by one."""
        for orphan in orphans(self.folder):
            choice = type(self).ask(self.window, orphan)
            if choice == "recover" and self.window.files.recover(orphan.session,
                                                                 orphan.info.get("file")):
                orphan.discard()  # it is in the window now (and saved aside again soon)
            elif choice == "discard":
                orphan.discard()
            else:
                orphan.lock.unlock()  # kept for the next start
