"""What may be clicked now, and why not: decided in one place from the session and the runs.

The controller computes an :class:`Enablement` after every change; the window only applies
it to its actions. Keeping the rules here (not spread over the widgets) means a rule such as
"nothing runs a stage by hand while auto-train runs" holds for buttons, keys, menus and the
loop diagram alike, and is tested without a window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gui_trainer.core.explanations import Audience, audience
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import LOOP_ORDER, Stage

#: Why a stage cannot be clicked while a run drives the session.
AUTO_TRAIN_RUNNING = "Auto-train is running: pause it (Ctrl+P) or stop it (Esc) first."
EXPERIMENT_RUNNING = "An experiment is running: stop it (Esc) first."


@dataclass(frozen=True)
class Enablement:
    #: Per stage: why it cannot run by hand now, or None if it can.
    refusals: Mapping[Stage, str | None]
    #: The loop's stages in order, the optional ones only while on (their buttons show).
    stages_on: tuple[Stage, ...]
    next_stage: bool
    train_start: bool
    train_pause: bool
    train_stop: bool
    undo: bool
    redo: bool
    rewind_divergence: bool
    reset: bool
    predict: bool
    #: Predict's Reveal and the timeline slider: they change the session too.
    reveal: bool
    timeline: bool
    #: Whom the stage texts are written for.
    reader: Audience

    @property
    def busy(self) -> bool:
        return not self.next_stage


#: Why an optional stage cannot run while it is off.
OFF: dict[str, str] = {
    "clip": "Clipping is off: give clip_max_norm a number in the settings.",
    "evaluate": "This scenario holds no rows out for validation.",
    "schedule": "There is no scheduler: choose one in the settings.",
}


def enablement(session: TrainingSession, auto_train: str, experiment: str) -> Enablement:
    """The rules; ``auto_train`` and ``experiment`` are the runs' states (idle, running, ...)."""
    training, experimenting = auto_train == "running", experiment == "running"
    busy = training or experimenting

    on = session.stages_on

    def refusal(stage: Stage) -> str | None:
        if stage not in on:
            return OFF[stage]
        if training:
            return AUTO_TRAIN_RUNNING
        if experimenting:
            return EXPERIMENT_RUNNING
        return session.refusal(stage)

    return Enablement(
        refusals={stage: refusal(stage) for stage in LOOP_ORDER},
        stages_on=on,
        next_stage=not busy,
        train_start=not busy,
        train_pause=training,
        train_stop=auto_train != "idle" or experimenting,
        undo=session.can_undo and not busy,
        redo=session.can_redo and not busy,
        rewind_divergence=not busy and session.position_before_divergence() is not None,
        reset=not experimenting,
        predict=not busy,
        reveal=not busy,
        timeline=not busy,
        reader=audience(session.one_neuron, session.scenario.task),
    )
