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
    """An autosaved session left by a window that did not close."""

    session: Path
    info: dict[str, object]

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


def orphans(folder: Path | None = None) -> list[tuple[QLockFile, list[Orphan]]]:
    """The autosaves of windows that are gone, by window: the window's lock (taken: now
    ours) and its sessions (``<id>.<k>.gtrain``, the shown one first)."""
    folder = folder or autosave_folder()
    found = []
    for owner in sorted({path.name.split(".")[0] for path in folder.glob("*.gtrain")}):
        lock = QLockFile(str(folder / f"{owner}.lock"))
        lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
        if not lock.tryLock(0):
            continue  # its window is still running
        group = []
        for session in sorted(folder.glob(f"{owner}.*.gtrain")):
            try:
                info = json.loads(session.with_suffix(".json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
            group.append(Orphan(session, info if isinstance(info, dict) else {}))
        found.append((lock, group))
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
        self._lock: QLockFile | None = None
        self.timer = QTimer(window)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_aside)
        self.timer.start()

    def save_aside(self) -> bool:
        """Save aside every session with unsaved work — the one shown and those kept for
        Scenario ▸ Back — and drop copies no longer needed."""
        files = self.window.files
        sessions = [s for s in self.window.controller.sessions() if files.unsaved(s)]
        if not sessions:
            self.remove()
            return False
        written = set()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self._lock is None:  # held while the window runs: its autosaves are not orphans
                lock = QLockFile(str(self.folder / f"{self.id}.lock"))
                lock.setStaleLockTime(0)
                if not lock.tryLock(0):
                    return False
                self._lock = lock
            for index, session in enumerate(sessions):
                path = self.folder / f"{self.id}.{index}.gtrain"
                write_atomic(path, to_bytes(session))
                original = files.path_of(session)
                info = {"file": None if original is None else str(original),
                        "saved_at": time.time(), "title": session.scenario.title,
                        "epoch": session.epoch}
                write_atomic(path.with_suffix(".json"), json.dumps(info).encode("utf-8"))
                written.add(path)
        except OSError as error:  # a full disk must not stop the learner: say it, go on
            self.window.statusBar().showMessage(f"Could not save aside for recovery: {error}")
            return False
        self.remove(keep=written)
        return True

    def remove(self, keep: set[Path] | None = None) -> None:
        """This window's autosaves that are not needed (saved, or closed on purpose)."""
        for path in self.folder.glob(f"{self.id}.*.gtrain"):
            if keep is None or path not in keep:
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)

    def stop(self) -> None:
        """The window closes on purpose: nothing to recover."""
        self.timer.stop()
        self.remove()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def offer_recovery(self) -> None:
        """At start: each session a crashed window left, offered back one by one."""
        for lock, group in orphans(self.folder):
            for orphan in group:
                choice = type(self).ask(self.window, orphan)
                if choice == "recover" and self.window.files.recover(
                        orphan.session, orphan.info.get("file")):
                    self.save_aside()  # aside again, under this window, before it goes
                    orphan.discard()
                elif choice == "discard":
                    orphan.discard()
            lock.unlock()  # what was kept for later is offered at the next start
