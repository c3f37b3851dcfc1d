"""The five stages of the training loop, their order and their display names."""

from typing import Final, Literal, get_args

Stage = Literal["zero_grad", "forward", "loss", "backward", "step"]

#: The loop order. Every other module derives order from this tuple.
STAGES: Final[tuple[Stage, ...]] = get_args(Stage)

LABELS: Final[dict[Stage, str]] = {
    "zero_grad": "Zero Grad",
    "forward": "Forward",
    "loss": "Loss",
    "backward": "Backward",
    "step": "Step",
}

#: The line of a training script each stage runs, as a learner would write it.
CODE: Final[dict[Stage, str]] = {
    "zero_grad": "optimizer.zero_grad()",
    "forward": "outputs = model(distances)",
    "loss": "loss = loss_function(outputs, times)",
    "backward": "loss.backward()",
    "step": "optimizer.step()",
}


def as_stage(name: str) -> Stage:
    """Validate a stage name coming from outside (a notebook, a menu, a test)."""
    if name not in STAGES:
        raise ValueError(f"unknown stage {name!r}: expected one of {', '.join(STAGES)}")
    return name


def following(stage: Stage) -> Stage:
    """The stage that comes after ``stage`` in the loop (step wraps to zero_grad)."""
    return STAGES[(STAGES.index(stage) + 1) % len(STAGES)]
