"""A landscape slice computed on a worker thread, with progress and cancel.

The job holds copies of everything it needs (``core.slices``), so the session trains on
while the worker evaluates the grid; the GUI thread polls its progress, so no Qt object is
touched from the worker.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from gui_trainer.core.slices import SliceJob, slice_grid
from gui_trainer.qt import worker_gc

POLL_MS = 50


class SliceWorker(QObject):
    #: (rows done, rows in all) while it runs.
    progressed = Signal(int, int)
    #: (what was asked for, losses or None if cancelled).
    finished = Signal(object, object)
    #: Why the computation failed (PyTorch raised in the worker).
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slice")
        self._future: Future[np.ndarray | None] | None = None
        self._cancel = threading.Event()
        self._rows = (0, 0)
        self._what: object = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check)

    @property
    def busy(self) -> bool:
        return self._future is not None

    def start(self, job: SliceJob, what: object) -> bool:
        """Compute ``job``'s grid; ``what`` comes back with it. False if one is running."""
        if self.busy:
            return False
        self._cancel.clear()
        self._rows = (0, len(job.alphas))
        self._what = what

        def progress(done: int, total: int) -> bool:  # in the worker: plain values only
            self._rows = (done, total)
            return not self._cancel.is_set()

        worker_gc.hold()  # no collection on the worker (see worker_gc)
        self._future = self._executor.submit(slice_grid, job, progress)
        self._poll.start()
        return True

    def cancel(self) -> None:
        """Stop the grid being computed (the worker stops after its current row)."""
        self._cancel.set()

    def _check(self) -> None:
        future = self._future
        if future is None:
            self._poll.stop()
            return
        self.progressed.emit(*self._rows)
        if not future.done():
            return
        self._poll.stop()
        self._future = None
        worker_gc.release()
        try:
            losses = future.result()
        except Exception as error:  # shown to the learner: a slice never takes the app down
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(self._what, losses)

    def shutdown(self) -> None:
        """The window closes: stop the worker and the polling."""
        self.cancel()
        self._poll.stop()
        if self._future is not None:
            self._future = None
            worker_gc.release()
        self._executor.shutdown(wait=False, cancel_futures=True)
