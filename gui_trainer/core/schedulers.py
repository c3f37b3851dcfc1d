"""Learning-rate schedulers a learner can pick: the real ``torch.optim.lr_scheduler`` classes.

A choice is the class name and its keywords that differ from the defaults here, checked by
ranges of our own (with a message a learner can act on) and then by PyTorch itself on a
throwaway optimizer. ``preview`` runs the real scheduler on a throwaway optimizer to draw the
whole schedule before training.

When ``scheduler.step()`` runs: after every optimizer step for ``OneCycleLR`` (its schedule
is counted in steps), at the end of every epoch for the others (their ``step_size`` and
``T_max`` are counted in epochs, and ``ReduceLROnPlateau`` watches the validation loss of
the epoch). With the full batch an epoch is one step, so both run after every step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from gui_trainer.core import optimizers
from gui_trainer.core.optimizers import OptimizerName

SchedulerName = Literal["StepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR",
                        "ReduceLROnPlateau"]
SCHEDULERS: tuple[SchedulerName, ...] = ("StepLR", "ExponentialLR", "CosineAnnealingLR",
                                         "OneCycleLR", "ReduceLROnPlateau")
#: The non-default keywords as sorted (name, value) pairs: hashable and comparable.
Options = tuple[tuple[str, float | int], ...]


@dataclass(frozen=True)
class Keyword:
    """One keyword of a scheduler: default, range, whole number or not, what it does."""

    name: str
    default: float | int
    low: float
    high: float
    whole: bool = False
    #: Whether ``low`` itself is refused (a factor of 0 would zero the rate).
    low_exclusive: bool = False
    doc: str = ""

    def check(self, value: object) -> float | int:
        if isinstance(value, bool | np.bool_):
            raise ValueError(f"{self.name} is a number, not {value!r}")
        if self.whole:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int | np.integer):
                raise ValueError(f"{self.name} must be a whole number, not {value!r}")
            number: float | int = int(value)
        else:
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"{self.name} must be a number, not {value!r}") from None
        bottom = "(" if self.low_exclusive else "["
        above = number > self.low if self.low_exclusive else number >= self.low
        if not (math.isfinite(number) and above and number <= self.high):
            raise ValueError(f"{self.name} must be in {bottom}{self.low:g}, {self.high:g}], "
                             f"not {value!r}")
        return number


KEYWORDS: dict[SchedulerName, tuple[Keyword, ...]] = {
    "StepLR": (
        Keyword("step_size", 10, 1, 1e6, whole=True, doc="epochs between two cuts"),
        Keyword("gamma", 0.1, 0.0, 1.0, low_exclusive=True, doc="each cut multiplies lr by"),
    ),
    "ExponentialLR": (
        Keyword("gamma", 0.95, 0.0, 1.0, low_exclusive=True,
                doc="lr is multiplied by this every epoch"),
    ),
    "CosineAnnealingLR": (
        Keyword("T_max", 50, 1, 1e6, whole=True, doc="epochs from lr down to eta_min"),
        Keyword("eta_min", 0.0, 0.0, 1e3, doc="the lowest lr"),
    ),
    "OneCycleLR": (
        Keyword("max_lr", 0.1, 0.0, 1e3, low_exclusive=True, doc="the peak of the cycle"),
        Keyword("total_steps", 100, 1, 1e7, whole=True,
                doc="optimizer steps in the whole cycle (stepping past it raises)"),
        Keyword("pct_start", 0.3, 0.0, 1.0, low_exclusive=True,
                doc="share of the cycle spent warming up"),
        Keyword("div_factor", 25.0, 1.0, 1e6, doc="the first lr is max_lr / div_factor"),
    ),
    "ReduceLROnPlateau": (
        Keyword("factor", 0.1, 0.0, 1.0, low_exclusive=True,
                doc="lr is multiplied by this on a plateau"),
        Keyword("patience", 10, 0, 1e6, whole=True,
                doc="epochs without improvement before a cut"),
        Keyword("threshold", 1e-4, 0.0, 1.0, doc="how much better counts as better"),
        Keyword("min_lr", 0.0, 0.0, 1e3, doc="the lowest lr"),
    ),
}


def check_name(name: object) -> SchedulerName:
    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}: expected one of "
                         f"{', '.join(SCHEDULERS)} (or None for none)")
    return name


def keyword(name: SchedulerName, key: str) -> Keyword:
    for item in KEYWORDS[name]:
        if item.name == key:
            return item
    known = ", ".join(k.name for k in KEYWORDS[name])
    raise ValueError(f"{name} takes {known} here, not {key!r}")


def check(name: object, given: Mapping[str, object] | Iterable[Any],
          optimizer_name: OptimizerName = "sgd",
          optimizer_options: optimizers.Options = ()) -> tuple[SchedulerName, Options]:
    """A scheduler choice checked: our ranges, then PyTorch's own checks on a throwaway
    optimizer like the session's (OneCycleLR needs momentum or betas to cycle)."""
    scheduler = check_name(name)
    items = dict(given.items() if isinstance(given, Mapping) else given)
    checked = {key: keyword(scheduler, key).check(value) for key, value in items.items()}
    options = tuple(sorted((key, value) for key, value in checked.items()
                           if value != keyword(scheduler, key).default))
    param = torch.zeros(1, requires_grad=True)
    optimizer = optimizers.build(optimizer_name, [param], 0.1, optimizer_options)
    try:
        build(scheduler, options, optimizer)
    except ValueError:
        raise
    except Exception as exc:  # e.g. OneCycleLR's ZeroDivisionError for a one-step warm-up
        raise ValueError(f"PyTorch cannot make {scheduler} with these keywords "
                         f"({type(exc).__name__}: {exc})") from None
    return scheduler, options


def values(name: SchedulerName, options: Options) -> dict[str, float | int]:
    full = {item.name: item.default for item in KEYWORDS[name]}
    full.update(dict(options))
    return full


def build(name: SchedulerName, options: Options,
          optimizer: torch.optim.Optimizer) -> Any:
    """The real scheduler on ``optimizer`` (its ValueError, a message, passes through)."""
    cls = getattr(torch.optim.lr_scheduler, name)
    return cls(optimizer, **values(name, options))


def every_step(name: SchedulerName | None) -> bool:
    """Whether ``scheduler.step()`` follows every optimizer step (else every epoch's end)."""
    return name == "OneCycleLR"


def preview(name: SchedulerName, options: Options, lr: float, calls: int,
            optimizer_name: OptimizerName = "sgd",
            optimizer_options: optimizers.Options = ()) -> np.ndarray:
    """The lr before each of ``calls`` scheduler steps and after the last, from the real
    scheduler on a throwaway optimizer (ReduceLROnPlateau: as if the loss never improved)."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = optimizers.build(optimizer_name, [param], lr, optimizer_options)
    scheduler = build(name, options, optimizer)
    if name == "OneCycleLR":
        calls = min(calls, int(values(name, options)["total_steps"]) - 1)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(max(calls, 0)):
        optimizer.step()  # no gradient: nothing moves, but PyTorch wants the order
        if name == "ReduceLROnPlateau":
            scheduler.step(1.0)  # the metric (torch's stub types it as an epoch)
        else:
            scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return np.asarray(rates, dtype=np.float64)


def ahead(name: SchedulerName, options: Options, scheduler: Any,
          optimizer: torch.optim.Optimizer, calls: int) -> np.ndarray:
    """The lr now and after each of the next ``calls`` scheduler steps, from where the live
    ``scheduler`` is: a copy of it on a throwaway optimizer, stepped ahead (the live ones are
    untouched). ReduceLROnPlateau's future depends on losses not yet measured: flat."""
    live = optimizer.param_groups[0]
    if name == "ReduceLROnPlateau":
        return np.full(calls + 1, float(live["lr"]))
    param = torch.zeros(1, requires_grad=True)
    copy = torch.optim.SGD([param], lr=float(live["lr"]))
    group = copy.param_groups[0]
    for key, value in live.items():
        if key != "params":
            group[key] = value
    shadow = build(name, options, copy)
    for key, value in live.items():  # making it moved the rate: back to the live one's
        if key != "params":
            group[key] = value
    shadow.load_state_dict(scheduler.state_dict())
    rates = [float(group["lr"])]
    left = calls
    if name == "OneCycleLR":
        left = min(calls, int(values(name, options)["total_steps"]) - 1 - shadow.last_epoch)
    for _ in range(max(left, 0)):
        copy.step()
        shadow.step()
        rates.append(float(group["lr"]))
    return np.asarray(rates, dtype=np.float64)


#: The keywords PyTorch has no default for: always written.
REQUIRED: dict[SchedulerName, tuple[str, ...]] = {
    "StepLR": ("step_size",), "ExponentialLR": ("gamma",), "CosineAnnealingLR": ("T_max",),
    "OneCycleLR": ("max_lr", "total_steps"), "ReduceLROnPlateau": ()}


def code(name: SchedulerName, options: Options) -> str:
    """``scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)``: what PyTorch
    requires, and what differs from the defaults here (ours are PyTorch's where it has one)."""
    full, given = values(name, options), dict(options)
    args = ["optimizer", *(f"{item.name}={full[item.name]!r}" for item in KEYWORDS[name]
                           if item.name in REQUIRED[name] or item.name in given)]
    return f"scheduler = torch.optim.lr_scheduler.{name}({', '.join(args)})"
