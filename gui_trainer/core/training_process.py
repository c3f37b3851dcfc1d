"""Auto-train's quiet iterations in a process of their own: the training side.

On two cores the window could not both train at full speed and draw 25 frames a second on
one thread, and a worker thread would not help: a stage at these sizes is mostly Python, and
the thread would take the GIL from the frames. So the window sends a copy of its session
(pickled: our own process, spawned from the same program, reads it) to this process, which
runs ``run_iteration_quietly`` — the same calls as the window's own quiet iterations — and
sends back what it grew by (``growth.py``) about every ``FRAME_S``, one growth at a time:
the next waits for the window to have taken the last, so a busy window gets fewer, bigger
ones and never a queue. It stops, and says why, where the run needs records (its last
iteration, a stage that errs, warns or diverges) or when told to; the window goes on from
the last growth it took, on its own thread.

Messages (tuples): window → process ``("run", run_id, session_bytes, done, epochs)``,
``("ack", run_id)``, ``("stop", run_id)``, ``("quit",)``; process → window ``("ready",)``,
``("growth", run_id, Growth, done)``, ``("ended", run_id, reason, done, Growth | None,
error_text)`` with reason ``"records"`` (the run goes on with records), ``"stopped"`` or
``"error"``.
"""

from __future__ import annotations

import pickle
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from gui_trainer.core.growth import Growth, frame_start, growth, sync_point
from gui_trainer.core.runs import ends_the_run
from gui_trainer.core.session import TrainingSession

#: How often the process offers a growth: about the frame rate the window aims at.
FRAME_S = 0.035
#: How often it looks for what the window said: a look costs ~10 µs, an epoch ~0.7 ms.
LOOK_S = 0.002

Message = tuple[Any, ...]


def serve(conn: Connection, threads: int) -> None:
    """The process's main loop: one stretch of a run at a time, until told to quit."""
    import torch

    # The window's thread count: intra-op parallelism may round differently with another.
    torch.set_num_threads(threads)
    # What PyTorch imports on first use (the optimizer's first step imports its compiler,
    # seconds of it), imported before the process says it is ready, not in a run.
    TrainingSession().run_iteration_quietly()
    conn.send(("ready",))
    try:
        while True:
            message = conn.recv()
            if message[0] == "quit":
                return
            if message[0] != "run":
                continue  # an ack or stop for a stretch already over
            _serve_run(conn, *message[1:])
            message = ()  # the session's bytes go with it
    except (EOFError, OSError):  # the window has gone
        return


def _serve_run(conn: Connection, run_id: int, data: bytes, done: int, epochs: int) -> None:
    """One stretch; the copy of the session is dropped with this call's frame."""
    try:
        reason, done, final = run_stretch(session_from(data), done, epochs,
                                          _inbox(conn, run_id), _sender(conn, run_id))
        conn.send(("ended", run_id, reason, done, final, ""))
    except (EOFError, OSError):
        raise
    except Exception:  # the window goes on from its own session, and says why
        conn.send(("ended", run_id, "error", done, None, traceback.format_exc()))


def session_from(data: bytes) -> TrainingSession:
    """The window's session from its pickle, its PyTorch objects made again.

    Pickling keeps the tensors and numbers but not what PyTorch attaches at run time (a
    scheduler's wrapper around ``optimizer.step``, without which it warns that it stepped
    first), so the copy jumps to where it is: a jump makes the optimizer, scheduler, loader
    and graphs anew from the last checkpoint and replays the log after it, bit for bit.
    """
    session = pickle.loads(data)
    if not isinstance(session, TrainingSession):
        raise TypeError(f"expected a pickled TrainingSession, got {type(session).__name__}")
    session.jump_to(session.position)
    return session


def _sender(conn: Connection, run_id: int) -> Callable[[Growth, int], None]:
    def send(grown: Growth, done: int) -> None:
        conn.send(("growth", run_id, grown, done))

    return send


def _inbox(conn: Connection, run_id: int) -> Callable[[], str | None]:
    """What the window said about this stretch since the last look ("ack", "stop")."""

    def look() -> str | None:
        said = None
        while conn.poll():
            message = conn.recv()
            if message[0] == "quit":
                raise EOFError
            if len(message) > 1 and message[1] == run_id and message[0] in ("ack", "stop"):
                said = "stop" if "stop" in (said, message[0]) else message[0]
        return said

    return look


def run_stretch(session: TrainingSession, done: int, epochs: int,
                inbox: Callable[[], str | None], send: Callable[[Growth, int], None],
                frame_s: float = FRAME_S, look_s: float = LOOK_S
                ) -> tuple[str, int, Growth | None]:
    """Quiet iterations of an auto-train run (``done`` of ``epochs`` epochs) until its next
    iteration needs records or the window says stop; growths sent as the window takes them.

    Returns (reason, epochs done, the last growth): ``"records"`` with the growth up to
    where the run goes on with records (None when the window has it all), ``"stopped"``
    with None.
    """
    since = sync_point(session)
    waiting = False  # for the window to take the growth sent last
    due = look = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now >= look:
            said = inbox()
            if said == "stop":
                return "stopped", done, None
            if said == "ack":
                waiting = False
            look = now + look_s
        if ends_the_run(session, done, epochs):
            break
        start = frame_start(session, since) if not waiting and now >= due else None
        position, epoch = session.position, session.epoch
        revision = session.timeline.revision
        if session.run_iteration_quietly():  # a stage worth a record: the window runs it
            session.jump_to(position)
            session.timeline.revision = revision  # as if it had not run here at all
            break
        done += session.epoch - epoch
        if start is not None:
            grown = growth(start, session)
            send(grown, done)
            since, waiting, due = grown.until, True, now + frame_s
    if sync_point(session) == since:
        return "records", done, None
    return "records", done, growth(frame_start(session, since), session)
