"""Runs of many stages — auto-train and the experiments — as generators a front end drives.

Each kind of run is one generator: it picks the next stage, runs it on the session (the real
PyTorch call) and yields what happened; it alone decides when the run is over and why. The
front end only decides the pace — one stage per timer tick so each button lights up, or
batches of stages inside a time budget so the window keeps answering — and may stop pulling
at any point (pause, stop): a suspended generator has run nothing it was not asked for.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Literal

from gui_trainer.core.experiments import Experiment
from gui_trainer.core.formatting import short
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession

EndReason = Literal["target", "diverged", "error", "refused"]


@dataclass(frozen=True, slots=True)
class RunEnd:
    """Why a run is over, in plain words for the learner."""

    reason: EndReason
    message: str


@dataclass(frozen=True, slots=True)
class Progress:
    """One stage of a run (or a quiet iteration): its record (None for a quiet iteration),
    how far the run is, and whether it ended there."""

    record: StageRecord | None
    done: int
    total: int
    #: A place where a batch may pause with the session in a tidy state (an epoch's end).
    boundary: bool
    end: RunEnd | None = None


@dataclass(slots=True)
class Pace:
    """What the front end asks of a run's next stages, changed between pulls: ``quiet``
    runs whole iterations without records (``TrainingSession.run_iteration_quietly``),
    for a pace at which no record would be shown one by one."""

    quiet: bool = False


#: Yields one Progress per stage run; returns the RunEnd if it ends without running a stage.
Run = Generator[Progress, None, RunEnd | None]


def check_record(record: StageRecord) -> RunEnd | None:
    """Why auto-train must stop after ``record``, or None to go on."""
    if record.error is not None or not record.ran:
        return RunEnd("error",
                      f"Auto-train stopped: {record.label} could not run. {record.explanation}")
    if not record.loss_is_finite:
        return RunEnd("diverged", (
            f"Auto-train stopped at epoch {record.epoch}: the loss became {short(record.loss)}. "
            f"With lr = {short(record.lr)} each step overshoots the minimum and the error grows "
            "until it overflows. Lower the learning rate, then Restart (Ctrl+R)."
        ))
    return None


def done_message(session: TrainingSession, epochs: int) -> str:
    """What a finished auto-train run of ``epochs`` did to the loss."""
    # The run's own rows (every step of its epochs); fewer if the learner undid some while
    # it was paused.
    history = session.history.column("loss")
    first_epoch = session.epoch - epochs + 1
    losses = history[session.history.column("epoch") >= first_epoch]
    if len(losses) == 0:
        return f"Auto-train done: {epochs} epochs."
    text = f"Auto-train done: {epochs} epochs, loss {short(float(losses[-1]))}."
    if len(losses) > 1 and losses[-1] > losses[0]:
        text += (" The loss grew: this learning rate overshoots the minimum at every step "
                 "and will diverge. Try a smaller one.")
    return text


def auto_train(session: TrainingSession, epochs: int, done: int = 0,
               pace: Pace | None = None) -> Run:
    """The loop's next stage, again and again, until ``epochs`` epochs are done (with the
    full batch an epoch is one step; with mini-batches, ``len(loader)`` of them).

    ``done`` counts epochs already run (a paused run resumes where it was). Stops at the
    first stage that raises or does not run, and at a loss that is NaN or infinite. While
    ``pace.quiet``, whole iterations run without records and yield one Progress each
    (record None) — but the run's last iteration, and any stage worth a record, make one.
    """
    if done >= epochs:
        return RunEnd("target", done_message(session, done))
    while True:
        epoch = session.epoch
        if pace is not None and pace.quiet and not ends_the_run(session, done, epochs):
            records = session.run_iteration_quietly()
            if not records:
                done += session.epoch - epoch
                end = (RunEnd("target", done_message(session, done)) if done >= epochs
                       else None)
                yield Progress(None, done, epochs, boundary=True, end=end)
                if end is not None:
                    return None
                continue
            record = records[-1]  # the stage worth a record ended the quiet iteration
        else:
            record = session.run(session.next_stage)
        stepped = record.stage == "step" and record.ok
        done += session.epoch - epoch
        end = check_record(record)
        if end is None and done >= epochs and session.next_stage not in ("evaluate",
                                                                         "schedule"):
            end = RunEnd("target", done_message(session, done))
        yield Progress(record, done, epochs, boundary=stepped, end=end)
        if end is not None:
            return None


def ends_the_run(session: TrainingSession, done: int, epochs: int) -> bool:
    """Whether the next iteration completes the run's last epoch, or finishes it (its
    Evaluate or Schedule): shown stage by stage, so the run ends on its own last records."""
    if done >= epochs:  # the epoch is complete; its Evaluate or Schedule is still due
        return True
    return done + 1 >= epochs and session.iteration == session.iterations_per_epoch


def experiment_run(session: TrainingSession, experiment: Experiment) -> Run:
    """The experiment's stages in its order, even the ones PyTorch refuses with an error.

    Errors are part of what the experiments show; the run stops only if the session refuses
    a stage (the learner switched to guided mode part way).
    """
    total = len(experiment.stages)
    for done, stage in enumerate(experiment.stages, start=1):
        refusal = session.refusal(stage)
        if refusal is not None:
            return RunEnd("refused", refusal)
        record = session.run(stage)
        yield Progress(record, done, total, boundary=True,
                       end=RunEnd("target", "") if done == total else None)
    return None
