"""A history column kept as the rows where it changes, not as one value a row.

Most of a step's numbers change every step (the loss, the weights), but some change
rarely or in a straight line: the learning rate and the settings stay put for thousands of
steps, the step number goes up by one a row, and the epoch does too with the full batch
(with mini-batches it stays put for an epoch's steps). Kept a value a row they were 20 of
the 52 bytes of a one-neuron step; kept as *segments* — a start row, its value, and a slope
of 0 (constant) or 1 (up by one a row) — a million steps of the default run keep a handful.

Like the history's rows, segments past the rows in use are kept (a redo reads them again)
until a row is written over them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class Segments:
    """One column: ``note(row, value)`` in row order, ``values(start, stop)`` to read.

    ``rising`` columns (whole numbers) may go up by one a row within a segment; the others
    only stay constant.
    """

    # Rows are looked up as np.int32, the starts' own type: a Python int makes NumPy cast
    # every start to int64 first (a millisecond a look-up with a million segments).

    def __init__(self, dtype: npt.DTypeLike, rising: bool = False) -> None:
        self.dtype = np.dtype(dtype)
        self.rising = rising
        self._starts = np.zeros(16, dtype=np.int32)  # as the rows: two billion
        self._values = np.zeros(16, dtype=self.dtype)
        self._slopes = np.zeros(16, dtype=np.int8)
        self._count = 0
        # The last segment as Python numbers: a step's note compares with them alone.
        self._start = -1
        self._value: float = 0.0
        self._slope = 0
        self._next = 0  # the row after the last one noted
        #: Counts notes that wrote over segments already there (after an undo), so a cached
        #: expansion knows its rows may have changed.
        self.rewrites = 0

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return int(self._starts.nbytes + self._values.nbytes + self._slopes.nbytes)

    def note(self, row: int, value: float) -> None:
        """The column's value at ``row``; rows are noted in order, and a row at or before
        one noted already writes over it and everything after it."""
        if row < self._next:
            self.rewrites += 1  # rows from here on change: a cached expansion is stale
            if row <= self._start:
                self._drop_from(row)
        self._next = row + 1
        if self._count:
            offset = row - self._start
            expected = self._value + self._slope * offset
            if value == expected or (value != value and expected != expected):  # NaN is NaN
                return
            if (self.rising and self._slope == 0 and offset == 1
                    and value == self._value + 1):
                self._slope = 1
                self._slopes[self._count - 1] = 1
                return
        self._add(row, value)

    def _drop_from(self, row: int) -> None:
        """Forget the segments starting at ``row`` or later."""
        kept = int(np.searchsorted(self._starts[: self._count], np.int32(row), side="left"))
        if kept == self._count:
            return
        self._count = kept
        if kept:
            self._start = int(self._starts[kept - 1])
            self._value = self._values[kept - 1].item()
            self._slope = int(self._slopes[kept - 1])
        else:
            self._start, self._value, self._slope = -1, 0.0, 0

    def _add(self, row: int, value: float) -> None:
        if self._count == len(self._starts):
            size = 2 * self._count
            self._starts = np.resize(self._starts, size)
            self._values = np.resize(self._values, size)
            self._slopes = np.resize(self._slopes, size)
        self._starts[self._count] = row
        self._values[self._count] = value
        self._slopes[self._count] = 0
        self._count += 1
        self._start, self._value, self._slope = row, self._values[self._count - 1].item(), 0

    def values(self, start: int, stop: int) -> np.ndarray:
        """The column's values for rows [``start``, ``stop``) (all noted)."""
        if stop <= start:
            return np.zeros(0, dtype=self.dtype)
        starts = self._starts[: self._count]
        first = int(np.searchsorted(starts, np.int32(start), side="right")) - 1
        last = int(np.searchsorted(starts, np.int32(stop), side="left"))
        if first < 0:
            raise IndexError(f"row {start} was never noted")
        bounds = starts[first:last].copy()
        bounds[0] = start
        lengths = np.diff(np.append(bounds, stop))
        out = np.repeat(self._values[first:last], lengths)
        slopes = self._slopes[first:last]
        if slopes.any():
            rows = np.arange(start, stop, dtype=np.int64)
            since = rows - np.repeat(starts[first:last], lengths)
            out = (out + np.repeat(slopes, lengths) * since).astype(self.dtype)
        return out

    def value(self, row: int) -> float:
        """The value at one ``row`` (noted)."""
        index = int(np.searchsorted(self._starts[: self._count], np.int32(row),
                                    side="right")) - 1
        if index < 0:
            raise IndexError(f"row {row} was never noted")
        base: float = self._values[index].item()
        return base + int(self._slopes[index]) * (row - int(self._starts[index]))

    def note_many(self, row: int, values: np.ndarray) -> None:
        """:meth:`note` for ``values`` at rows ``row``, ``row + 1``, … (a whole column at
        once: only the rows where its pattern may change are noted one by one)."""
        values = np.asarray(values, dtype=self.dtype)
        if not len(values):
            return
        wide = values.astype(np.float64)
        step = np.diff(wide)
        turns = np.zeros(len(values), dtype=bool)
        turns[:2] = True
        allowed = (step == 0) | ((step == 1) if self.rising else False)
        turns[1:] |= ~allowed
        turns[2:] |= step[1:] != step[:-1]
        turns[1:] |= turns[:-1].copy()  # a segment's second row sets its slope
        for index in np.flatnonzero(turns).tolist():
            self.note(row + index, values[index].item())
        self._next = row + len(values)
        if not np.array_equal(self.values(row, row + len(values)), values, equal_nan=True):
            raise AssertionError("segments do not reproduce the column")  # a bug here
