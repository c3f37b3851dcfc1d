"""The session's settings as one frozen value: what the learner chose, checked once.

A change makes a new ``Settings`` (``dataclasses.replace``), so a checkpoint keeps the one it
had without copying, and the timeline logs a (name, value) pair that replays exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, cast

from gui_trainer.core import schedulers
from gui_trainer.core.batches import check_batch_size, micro_batch_choices
from gui_trainer.core.optimizers import (
    OPTIMIZERS,
    OptimizerName,
    Options,
    check_optimizer,
    check_options,
)
from gui_trainer.core.schedulers import Options as SchedulerOptions
from gui_trainer.core.schedulers import SchedulerName
from gui_trainer.core.validation import flag, parse_learning_rate, whole_number

Mode = Literal["guided", "free"]
MODES: tuple[Mode, ...] = ("guided", "free")
__all__ = ["MODES", "OPTIMIZERS", "Mode", "OptimizerName", "Settings", "check_optimizer"]


def micro_batch_counts(samples: int) -> list[int]:
    """The micro-batch counts that split ``samples`` evenly (equal sizes keep the scaling exact)."""
    return [k for k in range(1, samples + 1) if samples % k == 0]


def check_mode(mode: object) -> Mode:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected 'guided' or 'free'")
    return mode


def name_and_pairs(value: object, what: str, keywords: str) -> tuple[object, dict[Any, Any]]:
    """``(name, options)`` split, the options as a dict (lists of pairs accepted: a file
    stores them so); ``what`` and ``keywords`` name them in the message."""
    try:
        name, options = cast("tuple[object, object]", value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} is (name, {keywords}), not {value!r}") from None
    if not isinstance(options, dict | list | tuple):
        raise ValueError(f"{keywords} are name/value pairs, not {options!r}")
    try:
        pairs = options if isinstance(options, dict) else dict(options)
    except (TypeError, ValueError):
        raise ValueError(f"{keywords} are name/value pairs, not {options!r}") from None
    return name, pairs


def check_optimizer_choice(value: object) -> tuple[OptimizerName, Options]:
    """An optimizer and its hyperparameters, as ``(name, options)``."""
    name, pairs = name_and_pairs(value, "an optimizer choice", "hyperparameters")
    checked = check_optimizer(name)
    return checked, check_options(checked, pairs)


def check_micro_batches(value: object, samples: int, batch_size: int | None = None,
                        drop_last: bool = False) -> int:
    count = whole_number(value, "micro_batches")
    allowed = micro_batch_choices(samples, batch_size, drop_last)
    if count not in allowed:
        shown = allowed if len(allowed) <= 12 else [*allowed[:11], "…"]
        if batch_size is None or allowed == micro_batch_counts(min(batch_size, samples)):
            what = f"split {min(batch_size or samples, samples)} samples evenly"
        else:
            what = f"divide the epoch's {allowed[-1]} batches into equal groups"
        raise ValueError(f"micro-batches must {what}: one of "
                         f"{', '.join(map(str, shown))}")
    return count


#: A start further out than this is off any map a learner could mean.
START_LIMIT = 1e6


def check_start(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        weight, bias = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(f"a start is a (weight, bias) pair of numbers, not {value!r}") from None
    for name, number in (("weight", weight), ("bias", bias)):
        if not abs(number) <= START_LIMIT:  # also refuses NaN
            raise ValueError(f"the start's {name} must be a number within ±{START_LIMIT:g}, "
                             f"not {number}")
    return weight, bias


@dataclass(frozen=True)
class Settings:
    lr: float
    mode: Mode
    optimizer_name: OptimizerName
    set_to_none: bool
    #: How many micro-batches one step accumulates gradients over (1 = the full batch).
    micro_batches: int
    #: The one neuron's (weight, bias) where each run starts, chosen on the loss landscape;
    #: None: the scenario's seeded first weights.
    start: tuple[float, float] | None = None
    #: The optimizer's hyperparameters that differ from PyTorch's defaults (besides lr).
    optimizer_options: Options = ()
    #: The DataLoader's rows per batch (None: the full batch, one batch per epoch).
    batch_size: int | None = None
    #: Whether the DataLoader shuffles the rows each epoch (from its seeded generator).
    shuffle: bool = False
    #: Whether the DataLoader drops a last batch smaller than batch_size.
    drop_last: bool = False
    #: Gradient clipping's max_norm (the Clip stage runs between Backward and Step), or None.
    clip_max_norm: float | None = None
    #: The learning-rate scheduler (the Schedule stage) as (class name, non-default
    #: keywords), or None.
    scheduler: tuple[SchedulerName, SchedulerOptions] | None = None
    #: Evaluate calls ``model.eval()`` first and measures under ``torch.no_grad()``: both on
    #: in a correct loop; an experiment turns one off to show what it is for.
    evaluate_model_eval: bool = True
    evaluate_no_grad: bool = True
    #: Classification: Loss applies softmax to the outputs before CrossEntropyLoss (a
    #: mistake: the loss applies log-softmax itself), on only to show what it does.
    softmax_before_loss: bool = False

    @property
    def scheduler_name(self) -> SchedulerName | None:
        return None if self.scheduler is None else self.scheduler[0]

    @property
    def optimizer(self) -> tuple[OptimizerName, Options]:
        """The optimizer choice as one value: the ``"optimizer"`` setting."""
        return self.optimizer_name, self.optimizer_options

    @classmethod
    def checked(cls, *, lr: object, mode: object, optimizer_name: object,
                set_to_none: object, micro_batches: object, samples: int,
                optimizer_options: object = (), batch_size: object = None,
                shuffle: object = False, drop_last: object = False,
                clip_max_norm: object = None, scheduler: object = None,
                evaluate_model_eval: object = True, evaluate_no_grad: object = True,
                softmax_before_loss: object = False) -> Settings:
        """Settings from what a caller passed; raises ValueError/TypeError before any change."""
        name, options = check_optimizer_choice((optimizer_name, optimizer_options))
        settings = cls(lr=parse_learning_rate(lr), mode=check_mode(mode),
                       optimizer_name=name, optimizer_options=options,
                       set_to_none=flag(set_to_none, "set_to_none"),
                       micro_batches=whole_number(micro_batches, "micro_batches"),
                       batch_size=check_batch_size(batch_size, samples),
                       shuffle=flag(shuffle, "shuffle"), drop_last=flag(drop_last, "drop_last"),
                       clip_max_norm=check_clip(clip_max_norm),
                       evaluate_model_eval=flag(evaluate_model_eval, "evaluate_model_eval"),
                       evaluate_no_grad=flag(evaluate_no_grad, "evaluate_no_grad"),
                       softmax_before_loss=flag(softmax_before_loss, "softmax_before_loss"))
        check_batches(settings, samples)
        return replace(settings, scheduler=check_scheduler(scheduler, settings))


#: What ``change_setting`` takes: the fields, and "optimizer" (name and options at once).
NAMES = (*(f.name for f in fields(Settings) if f.name != "optimizer_options"), "optimizer")


def check_softmax_task(task: str) -> None:
    """Softmax before the loss is a classifier's mistake: refused for a regression."""
    if task != "classification":
        raise ValueError("softmax before the loss belongs to a classifier's CrossEntropyLoss; "
                         "this scenario predicts numbers (MSELoss)")


def check_clip(value: object) -> float | None:
    """None (no clipping) or a positive, finite max_norm."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"clip_max_norm is a number or None, not {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"clip_max_norm must be a number (or None for no clipping), not "
                         f"{value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"clip_max_norm must be a positive number, not {value!r}")
    return number


def check_scheduler(value: object, settings: Settings) -> tuple[SchedulerName,
                                                                 SchedulerOptions] | None:
    """None, or (name, keywords) checked against the optimizer ``settings`` choose."""
    if value is None:
        return None
    name, pairs = name_and_pairs(value, "a scheduler choice (or None)", "a scheduler's keywords")
    return schedulers.check(name, pairs, settings.optimizer_name, settings.optimizer_options)


#: The settings that shape the DataLoader's batches (and so which micro-batch counts fit).
BATCH_SETTINGS = ("batch_size", "shuffle", "drop_last", "micro_batches")


def check_batches(settings: Settings, samples: int) -> None:
    """Raise if the micro-batch count does not fit the batches these settings make."""
    try:
        check_micro_batches(settings.micro_batches, samples, settings.batch_size,
                            settings.drop_last)
    except ValueError as exc:
        if settings.batch_size is None:
            raise
        raise ValueError(f"{exc} (with batch_size {settings.batch_size}); change micro-batches "
                         "first") from None


def check_setting(name: str, value: Any, samples: int) -> Any:
    """``value`` checked for the setting ``name`` on its own (raises before anything
    changes); :func:`check_batches` then checks the batch settings together."""
    if name == "lr":
        return parse_learning_rate(value)
    if name == "mode":
        return check_mode(value)
    if name == "optimizer_name":
        return check_optimizer(value)
    if name == "optimizer":
        return check_optimizer_choice(value)
    if name == "set_to_none":
        return flag(value, "set_to_none")
    if name == "micro_batches":
        return whole_number(value, "micro_batches")
    if name == "batch_size":
        return check_batch_size(value, samples)
    if name in ("shuffle", "drop_last", "evaluate_model_eval", "evaluate_no_grad",
                "softmax_before_loss"):
        return flag(value, name)
    if name == "start":
        return check_start(value)
    if name == "clip_max_norm":
        return check_clip(value)
    if name == "scheduler":
        return value  # checked with the optimizer it drives: check_scheduler
    raise ValueError(f"unknown setting {name!r}: expected one of {', '.join(NAMES)}")
