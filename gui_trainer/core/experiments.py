"""One-click experiments: the classic order mistakes, run for real in free mode.

Each experiment restarts from the starting weights (an undoable action: the earlier run stays
on the loss plot) and then runs a fixed sequence of stages. The sequence is the experiment;
the words say what to watch for while it runs and what it showed.
"""

from __future__ import annotations

from dataclasses import dataclass

from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import Stage

LOOP_WITHOUT_ZERO_GRAD: tuple[Stage, ...] = ("forward", "loss", "backward", "step")


@dataclass(frozen=True)
class Experiment:
    key: str
    title: str
    #: Shown when it starts: what is about to happen and what to watch.
    intro: str
    stages: tuple[Stage, ...]
    #: Shown when it ends: what it showed.
    lesson: str


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        "skip_zero_grad",
        "Skip Zero Grad for several epochs",
        "One Zero Grad, then six loops without it. Watch weight.grad: each backward adds its "
        "fresh gradient to the old sum (the table compares the two).",
        ("zero_grad", *LOOP_WITHOUT_ZERO_GRAD * 6),
        "The gradient the optimizer used was a running sum, not this step's gradient, so the "
        "steps grew and pointed partly the wrong way. That is why each loop starts with Zero Grad.",
    ),
    Experiment(
        "skip_backward",
        "Skip Backward",
        "Three loops of Zero Grad, Forward, Loss, Step, with no Backward. Watch .grad and the "
        "weights.",
        ("zero_grad", "forward", "loss", "step") * 3,
        ".grad stayed None, so Step had nothing to follow and the weights never moved: the loss "
        "is the same every epoch.",
    ),
    Experiment(
        "skip_step",
        "Skip Step",
        "Three loops of Zero Grad, Forward, Loss, Backward, with no Step. Watch the gradients "
        "and the weights.",
        ("zero_grad", "forward", "loss", "backward") * 3,
        "Gradients were computed every time, but nothing applied them: the weights and the loss "
        "did not change (the readout shows the same loss each time, and the loss history stays "
        "empty because no step was completed).",
    ),
    Experiment(
        "backward_twice",
        "Backward twice on one graph",
        "One loop, with a second Backward straight after the first.",
        ("zero_grad", "forward", "loss", "backward", "backward"),
        "The first backward freed the values the graph had saved, so PyTorch refused to go "
        "through it again. A new Forward and Loss build a new graph.",
    ),
    Experiment(
        "zero_grad_before_step",
        "Zero Grad between Backward and Step",
        "One loop, with Zero Grad moved to just before Step.",
        ("zero_grad", "forward", "loss", "backward", "zero_grad", "step"),
        "Zero Grad threw away the gradients backward had just computed, so Step had nothing to "
        "follow and the weights stayed where they were.",
    ),
)

BY_KEY = {experiment.key: experiment for experiment in EXPERIMENTS}


def start_experiment(session: TrainingSession) -> None:
    """Restart from the starting weights in free mode (both undoable)."""
    session.reset()
    session.mode = "free"


def run_experiment(session: TrainingSession, experiment: Experiment) -> list[StageRecord]:
    """Run the whole experiment at once (the window runs it stage by stage instead)."""
    start_experiment(session)
    return [session.run(stage) for stage in experiment.stages]
