"""What a copy of a session did, handed back to the session it was copied from.

Auto-train at full speed runs its quiet iterations in a training process
(``training_process.py``) on a copy of the window's session, so the window's thread only
draws. Every frame, the copy sends what it grew by since the window last took over: the
history rows, the timeline's log and checkpoints, the landscape's trail, and its state at
the start of its last iteration. The window appends the rows and the log, puts that state
back and replays the last iteration with records — as a jump replays its last stage — so the
panels show PyTorch's own numbers, and its session is exactly what running those iterations
itself would have left (the tests compare them field by field).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gui_trainer.core.param_trail import TrailStretch
from gui_trainer.core.records import StageRecord
from gui_trainer.core.rewind import Snapshot
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.timeline import TimelineStretch


class StaleGrowth(ValueError):
    """The session is no longer where the copy started from (the learner changed it)."""


@dataclass(frozen=True, slots=True)
class SyncPoint:
    """Where a session is, as far as taking over a copy's growth goes: both sides at equal
    points hold the same history, log and state."""

    position: int
    revision: int
    history_size: int
    validation_size: int
    run: int
    run_start: int


def sync_point(session: TrainingSession) -> SyncPoint:
    mark = session.history.mark()
    timeline = session.timeline
    return SyncPoint(timeline.position, timeline.revision, mark.size, mark.val_size,
                     mark.run, mark.run_start)


@dataclass(frozen=True, slots=True)
class FrameStart:
    """The copy at the start of the iteration the window will replay with records."""

    since: SyncPoint
    position: int
    snapshot: Snapshot
    rows: np.ndarray
    validation: np.ndarray
    trail: TrailStretch | None


@dataclass(frozen=True, slots=True)
class Growth:
    """Everything the window needs to be where the copy is (see the module's docstring)."""

    start: FrameStart
    timeline: TimelineStretch
    until: SyncPoint


def frame_start(session: TrainingSession, since: SyncPoint) -> FrameStart:
    """Taken on the copy at an iteration's start (cheap: rows since the last growth, one
    snapshot)."""
    mark = session.history.mark()
    trail = (None if session.trail is None
             else session.trail.stretch(mark.run, since.history_size, mark.size))
    return FrameStart(since, session.position, session._capture(),
                      session.history.rows(since.history_size, mark.size),
                      session.history.validation_rows(since.validation_size, mark.val_size),
                      trail)


def growth(start: FrameStart, session: TrainingSession) -> Growth:
    """What the copy grew by from ``start.since`` to now (``start`` taken on it before)."""
    return Growth(start, session.timeline.stretch(start.since.position, session.position),
                  sync_point(session))


def take_growth(session: TrainingSession, grown: Growth) -> list[StageRecord]:
    """Make ``session`` what the copy became; the records of the replayed iteration.

    Raises :class:`StaleGrowth`, changing nothing, if ``session`` is not where the growth
    starts (a setting changed, an undo, a stage clicked since).
    """
    start = grown.start
    if sync_point(session) != start.since:
        raise StaleGrowth("the session changed since the training process started from it")
    history = session.history
    history.append_rows(start.rows, start.validation)
    if session.trail is not None and start.trail is not None:
        session.trail.take_stretch(start.trail)
    session.timeline.append_stretch(grown.timeline, intern=session.interned)
    records = session.replay_with_records(start.snapshot, start.position,
                                          grown.until.position)
    if sync_point(session) != grown.until:  # pragma: no cover - a bug, not an input
        raise RuntimeError(f"took over a growth to {grown.until}, reached "
                           f"{sync_point(session)}")
    return records
