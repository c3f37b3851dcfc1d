"""The training process seen from the window: start it, hand it a stretch of a run, read
what it sends back on the event loop (``core/training_process.py`` is the other side).

The process is spawned (a fresh interpreter: forking a process with Qt running is unsafe)
when auto-train first asks for it, and imports torch on its own core meanwhile; until it
says it is ready the run trains on the window's thread as before. Messages are read by a
short timer, so nothing here blocks the window; a stretch that was stopped is forgotten at
once, and anything it still sends is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import torch
from PySide6.QtCore import QObject, QTimer, Signal

from gui_trainer.core.session import TrainingSession
from gui_trainer.core.training_process import serve

log = logging.getLogger(__name__)

#: How often the window looks for messages while a stretch runs (and while it waits for
#: the process to start): well under a frame.
READ_MS = 4
WAIT_MS = 50


class TrainingProcess(QObject):
    """One training process for the window's runs, one stretch at a time."""

    #: A growth of the running stretch, and the run's epochs done with it.
    grown = Signal(object, int)
    #: The stretch is over: why ("records", "error"), epochs done, its last growth (or
    #: None), the process's traceback on an error.
    ended = Signal(str, int, object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.ready = False
        #: Set when the process cannot be used (it failed to start or died): runs stay on
        #: the window's thread.
        self.failed = False
        self._run_id = 0
        self._active: int | None = None
        #: Stretches stopped whose "ended" has not come yet: a new one waits for them, or
        #: the process, blocked sending to a window sending it a session, would never read.
        self._stopping: set[int] = set()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._read)

    @property
    def running(self) -> bool:
        """A stretch is out with the process."""
        return self._active is not None

    def launch(self) -> None:
        """Start the process if it is not started (returns at once; ``ready`` comes later)."""
        if self._process is not None or self.failed:
            return
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=serve, args=(theirs, torch.get_num_threads()),
                                  name="gui-trainer training", daemon=True)
        try:
            process.start()
        except Exception:  # e.g. no way to start an interpreter in this bundle
            log.exception("the training process could not start; training on the window's "
                          "thread")
            self.failed = True
            return
        theirs.close()
        self._process, self._conn = process, ours
        self._timer.start(WAIT_MS)

    def run(self, session: TrainingSession, done: int, epochs: int) -> bool:
        """Hand the process ``session``'s run from ``done`` of ``epochs`` epochs; False if it
        cannot take it (not ready, or the session does not pickle)."""
        self._read()
        if (not self.ready or self._conn is None or self._active is not None
                or self._stopping):
            return False
        try:
            data = pickle.dumps(session, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # something in it does not pickle: train on the window's thread
            log.exception("the session could not be sent to the training process")
            return False
        self._run_id += 1
        if not self._send(("run", self._run_id, data, done, epochs)):
            return False
        self._active = self._run_id
        self._timer.start(READ_MS)
        return True

    def ack(self) -> None:
        """The window took the last growth: the process may send the next."""
        if self._active is not None:
            self._send(("ack", self._active))

    def stop(self) -> None:
        """Stop the running stretch; nothing more of it reaches the window."""
        if self._active is not None:
            self._stopping.add(self._active)
            self._send(("stop", self._active))
            self._active = None
            self._timer.start(WAIT_MS)

    def close(self) -> None:
        """End the process (the window is closing)."""
        self._timer.stop()
        self._active = None
        self._stopping.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):  # gone already
                conn.send(("quit",))
            conn.close()
        if self._process is not None:
            if self.ready:  # it reads the quit at once; while importing, it would not
                self._process.join(timeout=1.0)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout=1.0)
            self._process = None
        self.ready = False

    def _send(self, message: tuple[Any, ...]) -> bool:
        assert self._conn is not None
        try:
            self._conn.send(message)
        except (OSError, ValueError):
            self._lost()
            return False
        return True

    def _read(self) -> None:
        conn = self._conn
        try:
            while conn is not None and conn.poll():
                self._handle(conn.recv())
                conn = self._conn
        except (EOFError, OSError):
            self._lost()

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            self.ready = True
            log.info("training process ready")
            return
        if message[1] != self._active:  # from a stretch stopped since
            if kind == "ended":
                self._stopping.discard(message[1])
            return
        if kind == "growth":
            self.grown.emit(message[2], message[3])
        elif kind == "ended":
            _, _, reason, done, final, error = message
            self._active = None
            self._timer.start(WAIT_MS)
            if error:
                log.error("the training process failed; training on the window's thread:\n%s",
                          error)
            self.ended.emit(reason, done, final, error)

    def _lost(self) -> None:
        """The process has gone: runs go on on the window's thread."""
        log.error("the training process ended; training on the window's thread")
        active = self._active
        self.close()
        self.failed = True
        if active is not None:
            self.ended.emit("error", -1, None, "the training process ended")
