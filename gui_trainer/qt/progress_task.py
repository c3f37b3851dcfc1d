"""Long work off the GUI thread behind a progress dialog with Cancel.

Loading a session and exporting its script replay every action, which costs what doing them
did (seconds after a long auto-train). The work runs on a worker thread with copies it owns;
the GUI thread keeps drawing, shows how far it is, and a Cancel makes ``progress`` return
False, which the work turns into its own "cancelled" exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from gui_trainer.qt import worker_gc

T = TypeVar("T")
#: Work shorter than this shows no dialog.
SHOW_AFTER_MS = 500


def run_with_progress(parent: QWidget, text: str,
                      work: Callable[[Callable[[int, int], bool]], T]) -> T:
    """``work(progress)`` on a worker thread; its result (or exception) here."""
    dialog = QProgressDialog(text, "Cancel", 0, 1000, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(SHOW_AFTER_MS)
    dialog.setValue(0)
    done = [0.0]
    stop = threading.Event()

    def progress(finished: int, total: int) -> bool:  # in the worker: plain values only
        done[0] = finished / max(total, 1)
        return not stop.is_set()

    worker_gc.hold()  # no collection on the worker (see worker_gc)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="progress") as pool:
            future = pool.submit(work, progress)
            while not future.done():
                QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 30)
                if dialog.wasCanceled():
                    stop.set()
                dialog.setValue(int(done[0] * 1000))
                wait([future], timeout=0.01)
    finally:
        worker_gc.release()
    dialog.reset()
    dialog.deleteLater()
    return future.result()
