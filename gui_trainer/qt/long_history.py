"""Curves over a long history, drawn at the cost of what is on screen.

A million-step run made every frame pass over every row several times (NaN masks, pyqtgraph's
log mapping, bounds and downsampling): half a second a frame. Here each curve keeps what it
computed from the rows it has seen and works out only the new rows; pyqtgraph gets the run as
pyqtgraph's own 'peak' downsampling would draw it (each block's highest and lowest value), or,
zoomed in, the rows in view. Short runs (up to ``DIRECT_LIMIT`` rows) are handed over as they
are, exactly as before.

A cache is only as good as its check: rows are appended, but undo and rewind truncate the
history and a restart begins a new run, after which new rows are written where old ones were.
:class:`RowsSeen` tells whether the rows a cache saw are still there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg

from gui_trainer.core.history import History, tensor_history
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.plot_data import set_data

FloatArray = npt.NDArray[np.float64]
#: Up to this many rows a curve gets every row (pyqtgraph clips and downsamples them itself).
DIRECT_LIMIT = 16_384
#: A long run is drawn as at least this many blocks (and fewer than twice as many): finer
#: than pyqtgraph's own downsampling (~5 samples per pixel) on any plot narrower than 800 px.
MIN_BLOCKS = 4_096
#: Rows of a cache's end compared byte for byte to tell it is still the history's.
TAIL = 4


class RowsSeen:
    """The current run's rows a cache was computed from, and whether they are still there.

    The same history, the same run starting at the same row, at least as many rows, and the
    last rows seen unchanged byte for byte (a truncation rewrites them: the next step's row
    differs from the undone one in its weights, loss or settings).
    """

    def __init__(self) -> None:
        self._run: tuple[int, int] | None = None
        self._history: History | None = None
        self.count = 0
        self._tail = b""

    def valid(self, history: History) -> int:
        """How many of the rows seen can be kept (0: start again)."""
        mark = history.mark()
        if (history is not self._history
                or (history.run, mark.run_start) != self._run
                or len(history) < self.count
                or self._tail_bytes(history, self.count) != self._tail):
            return 0
        return self.count

    def seen(self, history: History, count: int) -> None:
        mark = history.mark()
        self._history = history
        self._run = (history.run, mark.run_start)
        self.count = count
        self._tail = self._tail_bytes(history, count)

    def forget(self) -> None:
        self._history = None
        self.count = 0

    @staticmethod
    def _tail_bytes(history: History, count: int) -> bytes:
        start = history.mark().run_start
        return history.fingerprint(start + max(0, count - TAIL), start + count)


class Growing:
    """A float64 array that grows by appending (doubling its storage)."""

    def __init__(self) -> None:
        self._data = np.zeros(0, dtype=np.float64)
        self.size = 0

    @property
    def values(self) -> FloatArray:
        return self._data[: self.size]

    def truncate(self, size: int) -> None:
        self.size = min(self.size, size)

    def extend(self, values: npt.ArrayLike) -> None:
        values = np.asarray(values, dtype=np.float64)
        need = self.size + len(values)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data), 1024), dtype=np.float64)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size: need] = values
        self.size = need


class LongCurve:
    """A PlotDataItem showing y over the current run's steps, however many there are.

    ``show(history, xs, ys_from)``: ``xs`` the x of every row of the current run (ascending),
    ``ys_from(start)`` the y of rows ``start:`` (each row's y depends on that row alone, or on
    the row before: computed only for rows not seen yet).
    """

    def __init__(self, item: pg.PlotDataItem) -> None:
        self.item = item
        self.rows = RowsSeen()
        self.ys = Growing()
        self.block = 0  # rows per block (0: no blocks yet)
        self.highs = Growing()
        self.lows = Growing()
        self._xs: npt.NDArray[np.generic] = np.zeros(0)
        self._direct = True
        view = item.getViewBox()
        self._connected: pg.ViewBox | None = None
        if view is not None:
            self._watch(view)

    def _watch(self, view: pg.ViewBox) -> None:
        """Zoomed in, a pan or zoom shows other rows: hand them over then."""
        view.sigXRangeChanged.connect(self._range_changed)
        self._connected = view

    def clear(self) -> None:
        self.rows.forget()
        self.ys.truncate(0)
        self._xs = np.zeros(0)
        self._direct = True
        set_data(self.item, [], [])

    def show(self, history: History, xs: npt.NDArray[np.generic],
             ys_from: Callable[[int], FloatArray]) -> None:
        count = len(xs)
        if count <= DIRECT_LIMIT:
            self.rows.forget()
            self._direct = True
            self._xs = xs
            set_data(self.item, xs, ys_from(0), connect="finite")
            return
        kept = self.rows.valid(history)
        if kept == 0 or self._direct:
            kept = 0
            self.block = 0
        self.ys.truncate(kept)
        if count > kept:
            self.ys.extend(ys_from(kept))
        self.rows.seen(history, count)
        self._direct = False
        self._xs = xs
        self._update_blocks(kept)
        self._hand_over()

    def _update_blocks(self, kept: int) -> None:
        count = self.ys.size
        block = self.block or 1
        while count // block >= 2 * MIN_BLOCKS:
            block *= 2
        if block != self.block or not self.block:
            self.block = block
            self.highs.truncate(0)
            self.lows.truncate(0)
        done = self.highs.size  # complete blocks worked out
        # The rows already in blocks never change while the cache stands (kept ≥ them).
        done = min(done, kept // block)
        self.highs.truncate(done)
        self.lows.truncate(done)
        whole = count // block
        if whole > done:
            values = self.ys.values[done * block: whole * block].reshape(-1, block)
            self.highs.extend(values.max(axis=1))
            self.lows.extend(values.min(axis=1))

    def _range_changed(self, *_args: object) -> None:
        if not self._direct and self.ys.size:
            self._hand_over()

    def _hand_over(self) -> None:
        """The blocks (or, zoomed in, the rows) in view, as pyqtgraph's 'peak' draws them."""
        view = self.item.getViewBox()
        if view is not None and view is not self._connected:
            self._watch(view)
        xs, ys = self._xs, self.ys.values
        count = len(ys)
        first, last = 0, count
        if view is not None and not view.autoRangeEnabled()[0]:
            (left, right), _ = view.viewRange()
            first = max(0, int(np.searchsorted(xs, left)) - 1)
            last = min(count, int(np.searchsorted(xs, right)) + 1)
        block = self.block
        width = view.width() if view is not None else 0.0
        if (last - first) < 2 * block * max(width, 1.0) or last - first <= DIRECT_LIMIT:
            # Zoomed in: fewer than two blocks a pixel would show the blocks; the rows then.
            set_data(self.item, xs[first:last], ys[first:last], connect="finite")
            return
        start, stop = first // block, min(last // block + 1, self.highs.size)
        centre = xs[np.arange(start, stop) * block + block // 2].astype(np.float64)
        peaks_x = np.repeat(centre, 2)
        peaks_y = np.empty(2 * (stop - start))
        peaks_y[0::2] = self.highs.values[start:stop]
        peaks_y[1::2] = self.lows.values[start:stop]
        # The rows past the last whole block, as they are (the newest step is exact).
        tail = stop * block
        set_data(self.item, np.concatenate([peaks_x, xs[tail:last].astype(np.float64)]),
                          np.concatenate([peaks_y, ys[tail:last]]), connect="finite")


class _Suffix:
    """The rows of a history's current run from ``start`` on, as ``tensor_history`` reads
    them (only ``column``)."""

    def __init__(self, history: History, start: int) -> None:
        self._history = history
        self._start = start

    def column(self, name: str) -> FloatArray:
        return self._history.column(name)[self._start:]


def tensor_rows(state: SessionView, kind: str, name: str, start: int) -> FloatArray:
    """Rows ``start:`` of ``state.tensor_history(kind, name)``, working out only those.

    The core's own ``tensor_history`` on the rows from ``start - 1`` (a ratio compares a row
    with the one before), its first value dropped.
    """
    if start == 0:
        return state.tensor_history(kind, name)
    suffix = cast(History, _Suffix(state.history, start - 1))
    # Any number marks the one neuron (whose columns are its two numbers); the value it
    # would compare the first row with belongs to the dropped row.
    first = 1.0 if state.one_neuron else None
    return tensor_history(suffix, kind, name, first)[1:]
