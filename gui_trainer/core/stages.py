"""The stages of the training loop, their order and their display names.

Five stages are the loop every script has (the five buttons, keys 1–5). Three are optional,
on when the session's settings ask for them: Clip between Backward and Step (a
``clip_max_norm``), Evaluate at the end of an epoch (a validation split), Schedule after the
step or the epoch (a learning-rate scheduler).
"""

from typing import Final, Literal, get_args

Stage = Literal["zero_grad", "forward", "loss", "backward", "step", "clip", "evaluate",
                "schedule"]

#: The five stages of every loop, in order. Every other module derives order from this tuple.
STAGES: Final[tuple[Stage, ...]] = get_args(Stage)[:5]
#: The optional stages, and every stage in the order a loop with all of them runs them.
OPTIONAL_STAGES: Final[tuple[Stage, ...]] = get_args(Stage)[5:]
LOOP_ORDER: Final[tuple[Stage, ...]] = ("zero_grad", "forward", "loss", "backward", "clip",
                                        "step", "evaluate", "schedule")

LABELS: Final[dict[Stage, str]] = {
    "zero_grad": "Zero Grad",
    "forward": "Forward",
    "loss": "Loss",
    "backward": "Backward",
    "step": "Step",
    "clip": "Clip",
    "evaluate": "Evaluate",
    "schedule": "Schedule",
}

#: The line of a training script each stage runs, as a learner would write it.
CODE: Final[dict[Stage, str]] = {
    "zero_grad": "optimizer.zero_grad()",
    "forward": "outputs = model(distances)",
    "loss": "loss = loss_function(outputs, times)",
    "backward": "loss.backward()",
    "step": "optimizer.step()",
    "clip": "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)",
    "evaluate": "model.eval(); with torch.no_grad(): val_loss = …; model.train()",
    "schedule": "scheduler.step()",
}

#: Each stage's code in the timeline's log and in session files: the five keep 0–4 (5 and 6
#: mean a setting and a restart there), the optional ones come after.
STAGE_CODES: Final[dict[Stage, int]] = {
    **{stage: code for code, stage in enumerate(STAGES)}, "clip": 7, "evaluate": 8,
    "schedule": 9}
STAGE_BY_CODE: Final[dict[int, Stage]] = {code: stage for stage, code in STAGE_CODES.items()}

#: The key that runs each stage: 1–5 the five, 6–8 the optional ones in loop order.
STAGE_KEYS: Final[dict[Stage, str]] = {
    **{stage: str(number) for number, stage in enumerate(STAGES, start=1)},
    "clip": "6", "evaluate": "7", "schedule": "8"}


def as_stage(name: str) -> Stage:
    """Validate a stage name coming from outside (a notebook, a menu, a test)."""
    if name not in LABELS:
        raise ValueError(f"unknown stage {name!r}: expected one of {', '.join(LABELS)}")
    return name


def following(stage: Stage) -> Stage:
    """The stage after ``stage`` in the five-stage loop (step wraps to zero_grad; an
    optional stage is followed by what follows the stage it comes after)."""
    if stage == "clip":
        return "step"
    if stage in ("evaluate", "schedule"):
        return "zero_grad"
    return STAGES[(STAGES.index(stage) + 1) % len(STAGES)]
