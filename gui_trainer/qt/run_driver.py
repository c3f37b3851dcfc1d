"""The one Qt driver for runs of many stages (auto-train, the experiments).

It pulls stages from a core generator (``core.runs``) at a pace: one stage per timer tick,
published like a click so each button and panel follows, or — at interval 0 — as many whole
epochs as fit in a time budget per event-loop turn, published once, so the window keeps
answering clicks while the machine trains as fast as it can. Pausing is not pulling.
"""

from __future__ import annotations

import time
from typing import Literal

from PySide6.QtCore import QObject, QTimer, Signal

from gui_trainer.core.records import StageRecord
from gui_trainer.core.runs import Pace, Progress, Run, RunEnd
from gui_trainer.core.stages import Stage
from gui_trainer.qt.controller import SessionController

#: Work per event-loop turn at full speed: short enough that a click is answered at once.
BATCH_BUDGET_S = 0.012

State = Literal["idle", "running", "paused"]


class RunDriver(QObject):
    state_changed = Signal(str)
    progressed = Signal(object)  # the latest Progress
    #: The run is over: its RunEnd (None when stopped from outside, by ``stop``).
    ended = Signal(object)

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
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    @property
    def batch_mode(self) -> bool:
        """Running as fast as the machine goes: records are not shown one by one."""
        return self.state == "running" and self.interval_ms == 0

    def set_interval(self, ms: int) -> None:
        self.interval_ms = max(0, ms)
        if self._timer.isActive():
            self._timer.setInterval(self.interval_ms)

    def start(self, run: Run, pace: Pace | None = None) -> None:
        """Drive ``run`` from its first stage (a run already going or paused is dropped).

        ``pace``, if given, is the run's: the driver sets it quiet inside a batch, where no
        record is shown one by one, and speaks again for the batch's last iteration.
        """
        self._timer.stop()
        if self._run is not None:
            self._run.close()
        self._run = run
        self._pace = pace
        self._set_state("running")
        self._timer.start(self.interval_ms)

    def pause(self) -> None:
        if self.state == "running":
            self._timer.stop()
            self._set_state("paused")

    def stop(self) -> None:
        """End the run where it is; nothing more of it will run."""
        self._finish(None)

    def _finish(self, end: RunEnd | None) -> None:
        if self.state == "idle":
            return
        self._timer.stop()
        if self._run is not None:
            self._run.close()
            self._run = None
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
            self.controller.publish(pulled.record)
            self.progressed.emit(pulled)
            end = pulled.end
        else:
            end = pulled or RunEnd("target", "")
        if end is not None:
            self._finish(end)

    def _batch(self) -> None:
        """Whole iterations until the time budget is spent: quietly (no records) while the
        run allows it, then one iteration with records, so the panels show where the batch
        ended with PyTorch's own numbers."""
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
                if pace is None or not pace.quiet:
                    break
                pace.quiet = False  # the batch ends on an iteration with records
        if pace is not None:
            pace.quiet = False
        if last is not None:
            # After quiet iterations, records from before them are out of date: only the
            # batch's own are kept (as after a jump).
            self.controller.publish(shown, per_stage=False, latest=latest, replace=quiet_ran)
            self.progressed.emit(last)
        if end is not None:
            self._finish(end)
