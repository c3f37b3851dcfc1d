"""The one Qt driver for runs of many stages (auto-train, the experiments).

It pulls stages from a core generator (``core.runs``) at a pace: one stage per timer tick,
published like a click so each button and panel follows, or — at interval 0 — as many whole
epochs as fit in a time budget per event-loop turn, so the window keeps answering clicks
while the machine trains as fast as it can. Such a batch ends on an iteration with records
only when a frame is due to show them; when the run pauses or ends after batches without
them, the last iteration is replayed with records (the session stays where it is), so the
panels show where it is. Pausing is not pulling.

At interval 0, a run that can go on quietly (auto-train, given ``resume``) is handed to the
training process once it is ready (``training_process.py``): the window then only takes
over what the process grew by, a frame at a time, and draws; where the run needs records
again (its last iteration, an error, a divergence) or on pause, stop or a slower pace, it
goes on here from the last growth taken.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QObject, QTimer, Signal

from gui_trainer.core.growth import Growth, StaleGrowth, take_growth
from gui_trainer.core.records import StageRecord
from gui_trainer.core.runs import Pace, Progress, Run, RunEnd, ends_the_run
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import Stage
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.training_process import TrainingProcess

#: Work per event-loop turn at full speed: short enough that a click is answered at once.
BATCH_BUDGET_S = 0.012
#: What taking over a growth may cost this thread (its last iteration replayed with
#: records), as the median of the first ``TAKES_MEASURED`` (or the first alone, if it costs
#: three times as much): a bigger model's replay, done
#: while the process computes on both cores with as many threads (the same count, or the
#: numbers would differ in their last bits), costs the frames more than the process saves:
#: its runs train here.
TAKE_BUDGET_S = 0.015
TAKES_MEASURED = 3

State = Literal["idle", "running", "paused"]


def too_costly(takes: list[float], budget: float) -> bool:
    """Whether growths that took ``takes`` seconds each to take over (the first ones of a
    stretch) cost too much: the first far over ``budget`` at once (no second hitch), or the
    median of the first ``TAKES_MEASURED`` over it."""
    if takes and takes[0] > 3 * budget:
        return True
    return len(takes) == TAKES_MEASURED and sorted(takes)[TAKES_MEASURED // 2] > budget


class RunDriver(QObject):
    state_changed = Signal(str)
    progressed = Signal(object)  # the latest Progress
    #: The run is over: its RunEnd (None when stopped from outside, by ``stop``).
    ended = Signal(object)
    #: The training process took the run (True) or gave it back (False).
    remote_changed = Signal(bool)

    def __init__(self, controller: SessionController, kind: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        #: The controller's name for this run ("auto_train", "experiment").
        self.kind = kind
        self.state: State = "idle"
        self.interval_ms = 0
        self._run: Run | None = None
        #: The run's pace, when it can run quietly (auto-train): quiet within a batch.
        self._pace: Pace | None = None
        #: The run again from a number of epochs done: how it goes on after the process.
        self._resume: Callable[[int], Run] | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.process: TrainingProcess | None = None
        #: The session the process is training a copy of (None: training here).
        self._remote: TrainingSession | None = None
        self._done = self._total = 0
        #: Seconds each growth of the current stretch took to take over.
        self._takes: list[float] = []
        #: A session whose growths cost more than ``TAKE_BUDGET_S``: trained here.
        self._too_big: weakref.ref[TrainingSession] | None = None
        #: Whether the window would draw a frame now (its throttle's ``due``): a batch ends
        #: on an iteration with records only then — the records of the others were never
        #: shown, and for a bigger model they cost more than the quiet iterations between.
        self.frame_due: Callable[[], bool] = lambda: True
        #: The session whose published records are behind it (quiet iterations ran since
        #: them) and the position it was at then; else None.
        self._stale: tuple[weakref.ref[TrainingSession], int] | None = None

    def use_process(self, process: TrainingProcess) -> None:
        """Hand quiet stretches of runs to ``process`` (started when a run first needs it)."""
        self.process = process
        process.grown.connect(self._grown)
        process.ended.connect(self._process_ended)

    @property
    def remote(self) -> bool:
        """The training process is running the run's iterations now."""
        return self._remote is not None

    @property
    def batch_mode(self) -> bool:
        """Running as fast as the machine goes: records are not shown one by one."""
        return self.state == "running" and self.interval_ms == 0

    def set_interval(self, ms: int) -> None:
        self.interval_ms = max(0, ms)
        if self.interval_ms and self._remote is not None:  # stage by stage: here
            self._back_here()
        if self._timer.isActive():
            self._timer.setInterval(self.interval_ms)

    def start(self, run: Run, pace: Pace | None = None,
              resume: Callable[[int], Run] | None = None) -> None:
        """Drive ``run`` from its first stage (a run already going or paused is dropped).

        ``pace``, if given, is the run's: the driver sets it quiet inside a batch, where no
        record is shown one by one, and speaks again for the batch's last iteration when a
        frame is due to show it.
        ``resume(done)``, if given, makes the run again from ``done`` epochs: such a run
        may be handed to the training process.
        """
        self._timer.stop()
        self._stop_remote()
        if self._run is not None:
            self._run.close()
        self._run = run
        self._pace = pace
        self._resume = resume
        self._set_state("running")
        self._timer.start(self.interval_ms)

    def pause(self) -> None:
        if self.state == "running":
            self._timer.stop()
            self._stop_remote()  # the session stays at the last growth taken
            try:
                self._catch_up()  # before the views hear of the pause: they show its records
            finally:
                self._set_state("paused")

    def stop(self) -> None:
        """End the run where it is; nothing more of it will run."""
        self._finish(None)

    def _mark_stale(self, session: TrainingSession) -> None:
        self._stale = (weakref.ref(session), session.position)

    def _catch_up(self) -> None:
        """Where quiet iterations left the published records behind the session, its last
        iteration replayed with records (the session ends where it was), so that a paused
        or ended run shows PyTorch's numbers of where it is."""
        stale, self._stale = self._stale, None
        session = None if stale is None else stale[0]()
        if (stale is None or session is None or session is not self.controller.session
                or session.position != stale[1]):  # changed since: its own records show it
            return
        records = session.records_since(session.iteration_start())
        self.controller.publish(records[-1] if records else None, per_stage=False,
                                latest={record.stage: record for record in records},
                                replace=True)

    def _finish(self, end: RunEnd | None) -> None:
        if self.state == "idle":
            return
        self._timer.stop()
        self._stop_remote()
        if self._run is not None:
            self._run.close()
            self._run = None
        try:
            self._catch_up()
        finally:
            self._set_state("idle")
            self.ended.emit(end)

    def _set_state(self, state: State) -> None:
        self.state = state
        self.controller.run_state_changed(self.kind, state)
        self.state_changed.emit(state)

    def _tick(self) -> None:
        try:
            if self.interval_ms > 0:
                self._one_stage()
            else:
                self._batch()
        except Exception as exc:
            # Never tick into the same failure again: the run ends, and the error is shown.
            self._finish(RunEnd("error", f"Stopped: {type(exc).__name__}: {exc}"))
            raise

    def _pull(self) -> Progress | RunEnd | None:
        assert self._run is not None
        try:
            return next(self._run)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]

    def _one_stage(self) -> None:
        if self._pace is not None:
            self._pace.quiet = False
        pulled = self._pull()
        if isinstance(pulled, Progress):
            assert pulled.record is not None  # not quiet: every stage has its record
            # After quiet iterations the other stages' records are out of date.
            self.controller.publish(pulled.record, replace=self._stale is not None)
            self._stale = None
            self.progressed.emit(pulled)
            end = pulled.end
        else:
            end = pulled or RunEnd("target", "")
        if end is not None:
            self._finish(end)

    def _batch(self) -> None:
        """Whole iterations until the time budget is spent: quietly (no records) while the
        run allows it, then — when a frame is due to show them — one iteration with records,
        so the panels show where the batch ended with PyTorch's own numbers."""
        deadline = time.perf_counter() + BATCH_BUDGET_S
        pace = self._pace
        if pace is not None:
            pace.quiet = True
        latest: dict[Stage, StageRecord] = {}
        last: Progress | None = None
        shown: StageRecord | None = None
        quiet_ran = False
        end: RunEnd | None = None
        while True:
            pulled = self._pull()
            if not isinstance(pulled, Progress):
                end = pulled or RunEnd("target", "")
                break
            last = pulled
            if pulled.record is None:
                quiet_ran = True
            else:
                shown = latest[pulled.record.stage] = pulled.record
            if pulled.end is not None:
                end = pulled.end
                break
            if pulled.boundary and time.perf_counter() >= deadline:
                if pace is None or not pace.quiet or not self.frame_due():
                    break
                pace.quiet = False  # the batch ends on an iteration with records
        if pace is not None:
            pace.quiet = False
        if last is not None:
            if shown is not None:
                # After quiet iterations, records from before them are out of date: only
                # the batch's own are kept (as after a jump).
                self.controller.publish(shown, per_stage=False, latest=latest,
                                        replace=quiet_ran or self._stale is not None)
                self._stale = None
            if last.record is None:
                # Ended quietly, no frame due: the records wait for a batch before a frame
                # (or for the pause or end that replays the last iteration with them).
                self._mark_stale(self.controller.session)
            self.progressed.emit(last)
        if end is not None:
            self._finish(end)
        elif last is not None and self._stale is None:
            self._hand_over(last)

    # -- the training process ------------------------------------------------------------
    def _hand_over(self, last: Progress) -> None:
        """Give the run's next quiet stretch to the training process, if it can take it."""
        process, session = self.process, self.controller.session
        if (process is None or self._resume is None or self._pace is None
                or self.interval_ms or self.state != "running" or process.failed):
            return
        if not process.ready:
            process.launch()  # ready in a second or two; until then the run goes on here
            return
        if ends_the_run(session, last.done, last.total) or (
                self._too_big is not None and self._too_big() is session):
            return
        if process.run(session, last.done, last.total):
            self._timer.stop()
            if self._run is not None:
                self._run.close()
                self._run = None
            self._remote = session
            self._done, self._total = last.done, last.total
            self._takes = []
            self.remote_changed.emit(True)

    def _grown(self, grown: Growth, done: int) -> None:
        session = self._remote
        if session is None:
            return
        if session is not self.controller.session:  # another session now: not this run's
            self._stop_remote()
            return
        started = time.perf_counter()
        try:
            records = take_growth(session, grown)
        except StaleGrowth:  # changed here meanwhile: go on from what the session is
            self._back_here()
            return
        except Exception as exc:  # a bug: never leave the run waiting on the process
            self._finish(RunEnd("error", f"Stopped: {type(exc).__name__}: {exc}"))
            raise
        self._takes.append(time.perf_counter() - started)
        self._done = done
        shown = records[-1] if records else None
        self.controller.publish(shown, per_stage=False,
                                latest={record.stage: record for record in records},
                                replace=True)
        self.progressed.emit(Progress(shown, done, self._total, boundary=True))
        if too_costly(self._takes, TAKE_BUDGET_S):
            self._too_big = weakref.ref(session)
            self._back_here()
            return
        assert self.process is not None
        self.process.ack()

    def _process_ended(self, reason: str, done: int, final: Growth | None,
                       error: str) -> None:
        session = self._remote
        if session is None:
            return
        self._remote = None
        self.remote_changed.emit(False)
        if final is not None and session is self.controller.session:
            try:
                take_growth(session, final)
            except StaleGrowth:  # changed here meanwhile: it goes on from what it is
                pass
            else:
                # Taken where the process stopped: no iteration of it to show, so the
                # records are the last growth's until this thread runs one.
                self._done = done
                self._mark_stale(session)
        elif reason == "records" and done >= 0:
            self._done = done  # the last growth taken was where it stopped
        self._back_here()

    def _back_here(self) -> None:
        """Go on with the run on this thread, from the last growth taken."""
        self._stop_remote()
        if self.state != "running" or self._resume is None:
            return
        if self._run is not None:
            self._run.close()
        self._run = self._resume(self._done)
        self._timer.start(self.interval_ms)

    def _stop_remote(self) -> None:
        if self._remote is not None:
            self._remote = None
            if self.process is not None:
                self.process.stop()
            self.remote_changed.emit(False)
