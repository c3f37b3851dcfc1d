"""Everything a session did, so that any earlier moment can be restored exactly.

Storing a full copy of the model, optimizer and graph after every stage would cost
kilobytes a stage; a million stages would not fit. Instead the timeline keeps:

* the *log*: one byte per stage in a growable NumPy array (settings changes, which are
  rare, sit in a small dict beside it), and
* *checkpoints*: a full snapshot every ``CHECKPOINT_EVERY`` actions, taken only at a moment
  when no live autograd graph exists (PyTorch cannot copy a graph).

Rewinding to position p restores the last checkpoint at or before p and replays the log up
to p. PyTorch on the CPU is deterministic for these operations, so the replay gives the
same numbers bit for bit, and the cost of a jump is bounded by the checkpoint spacing.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gui_trainer.core.optimizers import TORCH_CLASS
from gui_trainer.core.stages import LABELS, STAGE_BY_CODE, STAGE_CODES, Stage

CHECKPOINT_EVERY = 128
#: The latest checkpoints are kept as taken, so an undo replays at most CHECKPOINT_EVERY
#: actions; older ones are thinned to one every SPARSE_EVERY actions, so a million steps
#: keep ten thousand checkpoints, not forty thousand (a jump far back replays more, but
#: quietly: see ``Rewind.jump_to``; 1,024 made the farthest jumps take ~140 ms here).
RECENT_CHECKPOINTS = 64
SPARSE_EVERY = 512
SETTING = 5  # log code for "a setting changed" (the value is in ``settings``)
RESET = SETTING + 1


@dataclass(frozen=True)
class Action:
    """One entry of the log: a stage, a setting change, or a reset."""

    kind: str  # "stage", "setting" or "reset"
    stage: Stage | None = None
    name: str | None = None
    value: Any = None

    def describe(self) -> str:
        if self.kind == "stage" and self.stage is not None:
            return LABELS[self.stage]
        if self.kind == "reset":
            return "Restart" + (f": {self.value}" if self.value else "")
        if self.name == "start":
            return ("Start at the first weights" if self.value is None else
                    f"Start at weight {self.value[0]:.4g}, bias {self.value[1]:.4g}")
        if self.name == "scheduler":
            if self.value is None:
                return "scheduler = None"
            name, options = self.value
            given = ", ".join(f"{key}={value!r}" for key, value in options)
            return f"scheduler = {name}({given})"
        if self.name == "optimizer":
            name, options = self.value
            given = ", ".join(f"{key}={value!r}" for key, value in options)
            return f"optimizer = {TORCH_CLASS[name]}({given})"
        return f"{self.name} = {self.value}"


@dataclass(frozen=True)
class TimelineStretch:
    """A run of a timeline's log and its checkpoints, made elsewhere (a training process)."""

    codes: np.ndarray
    settings: dict[int, tuple[str, Any]]
    resets: tuple[int, ...]
    non_finite: tuple[int, ...]
    #: Every checkpoint position up to the stretch's end, as the other side thinned them.
    checkpoint_positions: tuple[int, ...]
    #: The checkpoints taken within the stretch (at its start or later).
    new_checkpoints: dict[int, Any]
    #: The other timeline's ``revision`` at its end.
    revision: int


class Timeline:
    def __init__(self) -> None:
        self._codes = np.zeros(1024, dtype=np.int8)
        self._length = 0
        self.position = 0
        #: Counts the actions ever recorded: a file saved at (revision, position) has
        #: nothing new to save while both are the same (undo and redo move only position).
        self.revision = 0
        self._settings: dict[int, tuple[str, Any]] = {}
        # Sorted indices of the rare actions the window asks about after every change, so
        # those questions cost a bisect instead of a scan of a possibly huge log.
        self._resets: list[int] = []
        self._non_finite: list[int] = []
        self._checkpoint_positions: list[int] = []
        self._checkpoints: list[Any] = []

    def __len__(self) -> int:
        return self._length

    def action(self, index: int) -> Action:
        """The action that moved the session from position ``index`` to ``index + 1``."""
        code = int(self._codes[index])
        if code in STAGE_BY_CODE:
            return Action("stage", stage=STAGE_BY_CODE[code])
        if code == RESET:
            return Action("reset", value=self._settings.get(index, ("", ""))[1])
        name, value = self._settings[index]
        return Action("setting", name=name, value=value)

    def record(self, action: Action, loss: float | None = None) -> None:
        """Append ``action`` (and the loss after it) at the position, dropping any redo tail."""
        self.revision += 1
        self.truncate_after_position()
        if self._length == len(self._codes):
            self._grow()
        if loss is not None and not math.isfinite(loss):
            self._non_finite.append(self._length)  # finds "just before it diverged"
        if action.kind == "stage" and action.stage is not None:
            code = STAGE_CODES[action.stage]
        elif action.kind == "reset":
            code = RESET
            self._resets.append(self._length)
            if action.value:
                self._settings[self._length] = ("note", action.value)
        else:
            code = SETTING
            self._settings[self._length] = (str(action.name), action.value)
        self._codes[self._length] = code
        self._length += 1
        self.position = self._length

    def record_stage(self, stage: Stage) -> None:
        """Append a stage after which the loss is finite (or None): ``record`` made cheap
        for auto-train's quiet iterations, which run a million of them."""
        self.revision += 1
        if self.position != self._length:
            self.truncate_after_position()
        if self._length == len(self._codes):
            self._grow()
        self._codes[self._length] = STAGE_CODES[stage]
        self._length += 1
        self.position = self._length

    def stretch(self, start: int, stop: int) -> TimelineStretch:
        """The log's actions [``start``, ``stop``) and the checkpoints up to ``stop``, to be
        appended to a copy of this timeline that stopped at ``start`` (see ``growth.py``)."""
        cuts = [bisect.bisect_left(marks, start) for marks in (self._resets, self._non_finite)]
        return TimelineStretch(
            codes=self._codes[start:stop].copy(),
            settings={i: v for i, v in self._settings.items() if start <= i < stop},
            resets=tuple(i for i in self._resets[cuts[0]:] if i < stop),
            non_finite=tuple(i for i in self._non_finite[cuts[1]:] if i < stop),
            checkpoint_positions=tuple(p for p in self._checkpoint_positions if p <= stop),
            new_checkpoints={p: c for p, c in zip(self._checkpoint_positions,
                                                   self._checkpoints, strict=True)
                             if start <= p <= stop},
            revision=self.revision,
        )

    def append_stretch(self, stretch: TimelineStretch,
                       intern: Callable[[Any], Any] | None = None) -> None:
        """Append what :meth:`stretch` took from a timeline that was this one up to here
        (at its position, where the stretch starts; a redo tail is dropped as a new action
        drops it); ``intern`` gives a checkpoint its shared parts (the session's packer)."""
        self.truncate_after_position()
        start = self._length
        stop = start + len(stretch.codes)
        while stop > len(self._codes):
            self._grow()
        self._codes[start:stop] = stretch.codes
        self._settings.update(stretch.settings)
        self._resets.extend(stretch.resets)
        self._non_finite.extend(stretch.non_finite)
        kept = dict(zip(self._checkpoint_positions, self._checkpoints, strict=True))
        for position, checkpoint in stretch.new_checkpoints.items():
            if position not in kept:
                kept[position] = checkpoint if intern is None else intern(checkpoint)
        # The other side thinned its checkpoints as this one would have: take its list.
        self._checkpoint_positions = list(stretch.checkpoint_positions)
        self._checkpoints = [kept[p] for p in self._checkpoint_positions]
        self._length = self.position = stop
        self.revision = stretch.revision

    def _grow(self) -> None:
        # np.zeros and a copy: the new half stays untouched (not resident) until written,
        # where concatenating zeros wrote every byte of it.
        grown = np.zeros(2 * len(self._codes), dtype=self._codes.dtype)
        grown[: self._length] = self._codes[: self._length]
        self._codes = grown

    def run_start(self) -> int:
        """Position just after the last reset before the current position (0 if none)."""
        index = bisect.bisect_left(self._resets, self.position) - 1
        return 0 if index < 0 else self._resets[index] + 1

    def step_positions(self, start: int, stop: int) -> list[int]:
        """Indices of the step actions in [start, stop)."""
        steps = np.flatnonzero(self._codes[start:stop] == STAGE_CODES["step"])
        return [start + int(i) for i in steps]

    def first_step_from(self, start: int, stop: int) -> int | None:
        """Index of the first step action in [start, stop), or None.

        Scans in slices and stops at the first hit: the Code panel asks on every frame, and
        a whole-range scan of a long run's log cost milliseconds each time.
        """
        step = STAGE_CODES["step"]
        for begin in range(start, stop, 4096):
            hits = np.flatnonzero(self._codes[begin:min(begin + 4096, stop)] == step)
            if len(hits):
                return begin + int(hits[0])
        return None

    def settings_changed(self, start: int, stop: int) -> list[str]:
        """The names of the settings changed by the actions in [start, stop)."""
        return [name for index, (name, _value) in sorted(self._settings.items())
                if start <= index < stop and self._codes[index] == SETTING]

    def first_stage_from(self, start: int) -> int:
        """Index of the first stage action at or after ``start`` (settings before it stay)."""
        codes = self._codes[start: self.position]
        stages = np.flatnonzero((codes != SETTING) & (codes != RESET))
        return start + int(stages[0]) if len(stages) else start

    def first_non_finite(self, start: int = 0) -> int | None:
        """Index of the first action from ``start`` after which the loss was inf or NaN."""
        index = bisect.bisect_left(self._non_finite, start)
        if index < len(self._non_finite) and self._non_finite[index] < self.position:
            return self._non_finite[index]
        return None

    def truncate_after_position(self) -> None:
        if self.position == self._length:
            return
        self._length = self.position
        self._settings = {i: v for i, v in self._settings.items() if i < self._length}
        for marks in (self._resets, self._non_finite):
            del marks[bisect.bisect_left(marks, self._length):]
        keep = bisect.bisect_right(self._checkpoint_positions, self._length)
        del self._checkpoint_positions[keep:]
        del self._checkpoints[keep:]

    def wants_checkpoint(self) -> bool:
        last = self._checkpoint_positions[-1] if self._checkpoint_positions else -CHECKPOINT_EVERY
        return self.position - last >= CHECKPOINT_EVERY

    def add_checkpoint(self, snapshot: Any) -> None:
        positions = self._checkpoint_positions
        if positions and positions[-1] >= self.position:
            return
        positions.append(self.position)
        self._checkpoints.append(snapshot)
        # The checkpoint leaving the recent ones goes if it is too near the one before it
        # (the first, at position 0, always stays).
        leaving = len(positions) - RECENT_CHECKPOINTS - 1
        if leaving >= 1 and positions[leaving] - positions[leaving - 1] < SPARSE_EVERY:
            del positions[leaving]
            del self._checkpoints[leaving]

    def checkpoint_before(self, position: int) -> tuple[int, Any]:
        """The latest checkpoint at or before ``position``."""
        index = bisect.bisect_right(self._checkpoint_positions, position) - 1
        if index < 0:
            raise ValueError("the timeline has no checkpoint before this position")
        return self._checkpoint_positions[index], self._checkpoints[index]

    @property
    def checkpoint_count(self) -> int:
        return len(self._checkpoints)

    @property
    def nbytes(self) -> int:
        return int(self._codes.nbytes)
