"""Auto-train as a plain function over time-boxed batches, so any front end stays responsive.

The Qt side calls :func:`train_for` from a timer: each call does at most ``budget_s`` of work
and returns, letting the event loop repaint and answer clicks between batches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from gui_trainer.core.formatting import short
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import Stage

StopReason = Literal["target", "diverged", "error"]


@dataclass(frozen=True)
class BatchResult:
    """What one batch did; ``stop`` is set when auto-train must not go on."""

    epochs: int
    last: StageRecord | None
    stop: StopReason | None = None
    message: str = ""
    #: The latest record of each stage in this batch (for the panels when the run pauses).
    latest: dict[Stage, StageRecord] = field(default_factory=dict)


def check_record(record: StageRecord) -> tuple[StopReason, str] | None:
    """Why auto-train must stop after ``record``, or None to go on."""
    if record.error is not None or not record.ran:
        return "error", f"Auto-train stopped: {record.label} could not run. {record.explanation}"
    if not record.loss_is_finite:
        return "diverged", (
            f"Auto-train stopped at epoch {record.epoch}: the loss became {short(record.loss)}. "
            f"With lr = {short(record.lr)} each step overshoots the minimum and the error grows "
            "until it overflows. Lower the learning rate, then Restart (Ctrl+R)."
        )
    return None


def train_for(session: TrainingSession, epochs_left: int, budget_s: float) -> BatchResult:
    """Run whole loop iterations until ``epochs_left`` are done or ``budget_s`` has passed.

    Always completes at least one stage, so progress is made even on a slow machine.
    """
    deadline = time.perf_counter() + budget_s
    done = 0
    last: StageRecord | None = None
    latest: dict[Stage, StageRecord] = {}
    while done < epochs_left:
        last = session.run(session.next_stage)
        latest[last.stage] = last
        stop = check_record(last)
        if stop is not None:
            return BatchResult(done, last, *stop, latest=latest)
        if last.stage == "step":
            done += 1
            if time.perf_counter() >= deadline:
                break
    if done >= epochs_left:
        return BatchResult(done, last, "target", "", latest=latest)
    return BatchResult(done, last, latest=latest)
