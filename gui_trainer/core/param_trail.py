"""A network's weights along its path, kept within a fixed budget, for the landscape.

The history keeps a few numbers a step; the path plane (PCA of where the weights went) needs
whole weight vectors. Keeping one a step would cost megabytes a thousand steps, so the trail
keeps at most ``limit`` vectors a run: when a run reaches it, every other one is dropped and
from then on only every second step is kept (then every fourth, …). The path stays evenly
sampled from the start to now, and a million steps cost what a few hundred do.

Vectors are keyed by the history row of their step, so the trail follows the timeline the
way the history does: rows past the history's end (after an undo) are not read but kept for
redo, and dropped when a new step is written in their place.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from gui_trainer.core.history import History

#: Vectors kept a run at most, and the bytes they may take (a large model keeps fewer).
MAX_POINTS = 256
BYTES_PER_RUN = 1 << 20
#: Runs whose vectors are kept: the current one and the latest earlier ones (as drawn).
KEPT_RUNS = 7


def flat(params: Iterable[torch.Tensor]) -> np.ndarray:
    """The parameters as one float32 vector, in ``named_parameters`` order."""
    return torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy()


def stride(steps: int, limit: int) -> int:
    """Keep every ``stride``-th step once a run has taken ``steps``: at most ``limit`` kept.

    A function of the step count alone, so a replay keeps the same steps as the first time.
    """
    if steps <= limit:
        return 1
    return 1 << math.ceil(math.log2(steps / limit))


@dataclass
class _RunTrail:
    start_row: int
    #: History rows kept (the n-th step of the run is row start_row + n − 1), in order.
    rows: list[int] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class TrailStretch:
    """What a trail kept from a history row on, to be taken over by a copy of it that
    stopped there (see ``growth.py``): the runs it keeps, and the current run's rows with
    the vectors of those at or after ``since``."""

    runs: tuple[int, ...]
    run: int
    start_row: int
    rows: tuple[int, ...]
    vectors: dict[int, np.ndarray]


class ParameterTrail:
    def __init__(self, size: int) -> None:
        """``size``: the number of parameters (one vector's length)."""
        self.size = size
        self.limit = max(2, min(MAX_POINTS, BYTES_PER_RUN // (4 * max(size, 1))))
        self._runs: dict[int, _RunTrail] = {}

    def record(self, history: History, params: Iterable[torch.Tensor],
               replaying: bool = False) -> None:
        """After a step was appended to ``history``: keep the weights if it is their turn.

        A new step (not ``replaying`` one for an undo or a jump) makes what came after it in
        the old timeline unreachable: those vectors are dropped. A replayed step keeps them,
        for redo: it only fills in a step this run should keep and does not have.
        """
        mark = history.mark()
        row = mark.size - 1
        trail = self._runs.get(mark.run)
        if trail is None or trail.start_row != mark.run_start:
            trail = self._runs[mark.run] = _RunTrail(mark.run_start)
            others = sorted(run for run in self._runs if run != mark.run)
            for run in others[:-(KEPT_RUNS - 1)]:  # a new run: the oldest ones go
                del self._runs[run]
        if not replaying:
            for run in [run for run in self._runs if run > mark.run]:
                del self._runs[run]
            cut = bisect.bisect_left(trail.rows, row)
            del trail.rows[cut:], trail.vectors[cut:]
        steps = row - trail.start_row + 1
        every = stride(steps, self.limit)
        at = bisect.bisect_left(trail.rows, row)
        if steps % every == 0 and (at == len(trail.rows) or trail.rows[at] != row):
            trail.rows.insert(at, row)
            trail.vectors.insert(at, flat(params))
        if every != stride(steps - 1, self.limit):  # the stride just doubled: thin out
            # The steps up to now at the stride they have now; later ones (for redo) stay.
            keep = [i for i, r in enumerate(trail.rows)
                    if r > row or (r - trail.start_row + 1) % every == 0]
            trail.rows = [trail.rows[i] for i in keep]
            trail.vectors = [trail.vectors[i] for i in keep]

    def points(self, history: History, run: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(steps, vectors) of this run (or an earlier ``run``) as the history has it now:
        ``steps[k]`` counts the steps taken when ``vectors[k]`` was kept."""
        mark = history.mark()
        if run is None:
            run, start, stop = mark.run, mark.run_start, mark.size
        else:
            bounds = [s for s in history.earlier_runs() if s.run == run]
            if not bounds:
                return np.zeros(0, dtype=np.int64), np.zeros((0, self.size), np.float32)
            start, stop = bounds[0].start, bounds[0].stop
        trail = self._runs.get(run)
        if trail is None or trail.start_row != start:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.size), np.float32)
        kept = [i for i, row in enumerate(trail.rows) if row < stop]
        steps = np.asarray([trail.rows[i] - start + 1 for i in kept], dtype=np.int64)
        vectors = (np.stack([trail.vectors[i] for i in kept]) if kept
                   else np.zeros((0, self.size), np.float32))
        return steps, vectors

    def stretch(self, run: int, since: int, stop: int) -> TrailStretch | None:
        """The trail as it is now for ``run`` up to history row ``stop`` (rows kept for a
        redo are left out), with the vectors of rows from ``since`` on."""
        trail = self._runs.get(run)
        if trail is None:
            return None
        kept = [(row, vector) for row, vector in zip(trail.rows, trail.vectors, strict=True)
                if row < stop]
        return TrailStretch(tuple(self._runs), run, trail.start_row,
                            tuple(row for row, _ in kept),
                            {row: vector for row, vector in kept if row >= since})

    def take_stretch(self, stretch: TrailStretch) -> None:
        """Become what :meth:`stretch` saw (the rows before its ``since`` are this trail's)."""
        known = self._runs.get(stretch.run)
        have = {} if known is None or known.start_row != stretch.start_row else dict(
            zip(known.rows, known.vectors, strict=True))
        have.update(stretch.vectors)
        for run in [run for run in self._runs if run not in stretch.runs]:
            del self._runs[run]
        self._runs[stretch.run] = _RunTrail(stretch.start_row, list(stretch.rows),
                                            [have[row] for row in stretch.rows])

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for trail in self._runs.values() for v in trail.vectors)
