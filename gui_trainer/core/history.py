"""Per-step history: a preallocated, growable NumPy structured array, and segments.

A Python list of tensors per step would cost about a kilobyte a step and make plotting a
long run slow; one packed row per step of the numbers that change at every step (the
losses, the one neuron's weights and gradients: 32 bytes) lets the plots take column views
without copying. The columns that change rarely or in a straight line (the epoch and step
numbers, the learning rate, the settings) are kept as segments (``segments.py``): a million
steps of a run fit in ~32 MB. Rows are never rewritten: a reset starts a new *run* (earlier
runs stay for comparison), and a rewind truncates, so the history always matches the
timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gui_trainer.core.optimizers import OPTIMIZERS, TORCH_CLASS
from gui_trainer.core.segments import Segments

#: Numbers PyTorch computed in float32 (a loss's or a tensor's ``.item()``) are kept in
#: float32: exactly the same values, in half the bytes — a million steps must fit in a few
#: tens of megabytes. Whatever is computed here in float64 (a network's grad norms and
#: update ratios) or given as a Python float (lr) stays float64.
BASE_COLUMNS: list[tuple[str, type]] = [
    #: The epoch the step belongs to (1 = the first pass over the data), and the step's
    #: number; with the full batch they are the same (int32: two billion steps a run).
    ("epoch", np.int32),
    ("step", np.int32),
    #: The loss over all the training rows before the step, and over the step's own batch.
    ("loss", np.float32),
    ("batch_loss", np.float32),
    ("lr", np.float64),
    ("free_mode", np.int8),
    #: Which optimizer took the step: its index in ``optimizers.OPTIMIZERS``.
    ("optimizer", np.int8),
    ("micro_batches", np.int16),
]
#: Base columns kept as segments, and whether each may rise by one a row (``segments.py``).
SEGMENT_COLUMNS = {"epoch": True, "step": True, "lr": False, "free_mode": False,
                   "optimizer": False, "micro_batches": False}
VALIDATION_ROW = np.dtype([("run", np.int32), ("step", np.int64), ("loss", np.float64),
                           ("accuracy", np.float64)])
#: The one-neuron model's columns: its two numbers, their .grad, and the gradient the last
#: backward computed on its own, before adding to .grad.
ONE_NEURON_COLUMNS = ("weight", "bias", "weight_grad", "bias_grad", "weight_grad_fresh",
                      "bias_grad_fresh")
#: Columns besides the base ones whose values are float32 (the rest are float64).
FLOAT32_COLUMNS = frozenset(ONE_NEURON_COLUMNS) | {"accuracy"}
Array = npt.NDArray[np.float64]


def _blank(dtype: np.dtype) -> float | int:
    """A missing value: NaN, or 0 for a whole number."""
    return np.nan if np.issubdtype(dtype, np.floating) else 0


def nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else value


@dataclass(frozen=True, slots=True)
class HistoryMark:
    """Enough to put the history back exactly as it was (for rewind)."""

    size: int
    run: int
    run_start: int
    #: Rows of the validation table (``History.validation``).
    val_size: int = 0


@dataclass(frozen=True)
class RunSummary:
    run: int
    start: int
    stop: int
    label: str


class History:
    """One row per completed optimizer step; missing values (no loss, no grad) are NaN.

    Besides the loss and the settings, a row has ``columns`` of float64: for the one-neuron
    model its numbers (the default); for others the accuracy (classification) and, per
    parameter tensor, ``grad_norm:<name>`` and ``update_ratio:<name>`` — never whole tensors,
    so a million steps stay a few hundred bytes each.
    """

    def __init__(self, columns: Sequence[str] = ONE_NEURON_COLUMNS,
                 capacity: int = 1024) -> None:
        self.row = np.dtype(BASE_COLUMNS + [
            (name, np.float32 if name in FLOAT32_COLUMNS else np.float64) for name in columns])
        self.columns: tuple[str, ...] = self.row.names or ()
        dense = [name for name in self.columns if name not in SEGMENT_COLUMNS]
        self._dense_row = np.dtype([(name, self.row[name]) for name in dense])
        self._data = np.zeros(capacity, dtype=self._dense_row)
        self._index = {name: i for i, name in enumerate(dense)}
        self._blank: list[float | int] = [_blank(self.row[name]) for name in dense]
        self._segments = {name: Segments(self.row[name], rising)
                          for name, rising in SEGMENT_COLUMNS.items()}
        self._segment_blank = {name: _blank(self.row[name]) for name in SEGMENT_COLUMNS}
        #: Expansions of segment columns by (column, first row): (rewrites, values, rows
        #: filled).
        self._expanded: dict[tuple[str, int], tuple[int, np.ndarray, int]] = {}
        self._size = 0
        self._run = 0
        self._run_start = 0
        #: Where each run's rows start, by run number (rows of a run are contiguous, runs in
        #: order): a column of run numbers would cost four bytes a step. Entries past
        #: ``_run`` are a redo's, kept until a new run overwrites them.
        self._run_starts: list[int] = [0]
        #: What started each run, when something named it (an experiment's title).
        self._notes: dict[int, str] = {}
        #: Where each run started, when the model is small enough to say (the one neuron).
        self._starts: dict[int, tuple[float, ...]] = {}
        #: One row per Evaluate: after how many steps of which run, the validation loss and
        #: accuracy (NaN for regression).
        self._val = np.zeros(64, dtype=VALIDATION_ROW)
        self._val_size = 0

    def __len__(self) -> int:
        """Rows of the current run."""
        return self._size - self._run_start

    @property
    def run(self) -> int:
        return self._run

    def append(self, **fields: float | int | None) -> None:
        """One row; columns not given are NaN (0 for whole numbers), None is NaN."""
        if self._size == len(self._data):
            grown = np.zeros(2 * len(self._data), dtype=self._dense_row)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        values = self._blank.copy()
        index = self._index
        row = self._size
        blank = self._segment_blank
        for name, segments in self._segments.items():
            value = fields.pop(name, None)
            segments.note(row, blank[name] if value is None else value)
        for name, value in fields.items():
            values[index[name]] = np.nan if value is None else value
        # One assignment of the whole row: a field at a time cost more than the step itself.
        self._data[row] = tuple(values)
        self._size += 1

    def extend(self, columns: dict[str, np.ndarray]) -> None:
        """Append rows given as whole columns (of one length; as :meth:`append`, a column
        not given is NaN or 0): a million rows at once, where appending them one by one
        would take seconds."""
        count = len(next(iter(columns.values())))
        start, stop = self._size, self._size + count
        if stop > len(self._data):
            grown = np.zeros(max(stop, 2 * len(self._data)), dtype=self._dense_row)
            grown[:start] = self._data[:start]
            self._data = grown
        for name, blank in zip(self._index, self._blank, strict=True):
            self._data[name][start:stop] = columns.get(name, blank)
        for name, segments in self._segments.items():
            given = columns.get(name)
            segments.note_many(start, np.full(count, self._segment_blank[name])
                               if given is None else given)
        self._size = stop

    def append_rows(self, rows: np.ndarray, validation: np.ndarray) -> None:
        """Append whole rows (as :meth:`rows` gives them) and validation rows (as
        ``validation_rows`` gives them) made by a copy of this history that stopped here."""
        if len(rows):
            self.extend({name: rows[name] for name in self.columns})
        stop = self._val_size + len(validation)
        self._validation_room(stop)
        self._val[self._val_size:stop] = validation
        self._val_size = stop

    def validation_rows(self, start: int, stop: int) -> np.ndarray:
        """Validation rows [``start``, ``stop``) of every run, as stored (a copy)."""
        return self._val[start:min(stop, self._val_size)].copy()

    def column(self, name: str, run: int | None = None) -> Array:
        """A read-only view of one column of the current run (or of an earlier ``run``)."""
        start, stop = (self._run_start, self._size) if run is None else self._bounds(run)
        if name in self._segments:
            view = self._expansion(name, start, stop)
        else:
            view = self._data[name][start:stop]
        view.flags.writeable = False
        return view

    def _expansion(self, name: str, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) of a segment column, grown from the last expansion when it
        started at the same row and nothing was written over since: a plot asks for the
        step numbers of a million rows at every frame."""
        segments = self._segments[name]
        key = (name, start)
        cached = self._expanded.get(key)
        if cached is not None and cached[0] == segments.rewrites:
            _, buffer, have = cached
            if stop - start <= have:
                return buffer[: stop - start]
            if stop - start > len(buffer):  # room to grow into, as the rows' own array
                buffer = np.resize(buffer, max(stop - start, 2 * len(buffer)))
            buffer[have: stop - start] = segments.values(start + have, stop)
        else:
            buffer = segments.values(start, stop)
        if len(self._expanded) > 64:  # runs' starts left behind by undone runs
            self._expanded.clear()
        self._expanded[key] = (segments.rewrites, buffer, stop - start)
        return buffer[: stop - start]

    def fingerprint(self, start: int, stop: int) -> bytes:
        """Bytes that change if rows [``start``, ``stop``) are written over: their numbers,
        and how many times a segment column was (cheap at every frame, unlike :meth:`rows`)."""
        rewrites = sum(segments.rewrites for segments in self._segments.values())
        return self._data[start:min(stop, self._size)].tobytes() + rewrites.to_bytes(8, "little")

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Whole rows [``start``, ``stop``) of every run kept, as one structured array (a
        copy: segment columns are written out)."""
        stop = min(stop, self._size)
        start = min(start, stop)
        out = np.zeros(stop - start, dtype=self.row)
        for name in self._index:
            out[name] = self._data[name][start:stop]
        for name, segments in self._segments.items():
            out[name] = segments.values(start, stop)
        return out

    def start_run(self, note: str = "") -> None:
        """Begin a new run (after a reset); the rows so far stay as an earlier run.

        ``note`` names the run on the loss plot once it is an earlier run (an experiment's
        title, say).
        """
        self._run += 1
        self._run_start = self._size
        if self._run < len(self._run_starts):
            self._run_starts[self._run] = self._size
        else:
            self._run_starts.append(self._size)
        self._notes[self._run] = note

    def note_start(self, values: tuple[float, ...]) -> None:
        """Where the current run starts (its parameters before the first step)."""
        self._starts[self._run] = values

    def start_of(self, run: int | None = None) -> tuple[float, ...] | None:
        """Where this run (or an earlier ``run``) started, if it was noted."""
        return self._starts.get(self._run if run is None else run)

    def earlier_runs(self) -> list[RunSummary]:
        """The earlier runs that have at least one step, numbered 1, 2, … in order.

        Each is labelled with what started it (if named) and the settings of its last step.
        """
        summaries = []
        runs = [run for run in range(self._run) if self._bounds(run)[1] > self._bounds(run)[0]]
        for ordinal, run in enumerate(runs, start=1):
            start, stop = self._bounds(run)
            last = {name: self._segments[name].value(stop - 1)
                    for name in ("lr", "optimizer", "free_mode", "micro_batches")}
            note = self._notes.get(int(run), "")
            label = (
                f"run {ordinal}: " + (f"{note}, " if note else "")
                + f"lr {float(last['lr']):g}, {TORCH_CLASS[OPTIMIZERS[int(last['optimizer'])]]}, "
                f"{'free' if last['free_mode'] else 'guided'}"
                + (f", {int(last['micro_batches'])} micro-batches"
                   if last["micro_batches"] > 1 else "")
            )
            summaries.append(RunSummary(int(run), start, stop, label))
        return summaries

    def note_validation(self, loss: float, accuracy: float | None) -> None:
        """An Evaluate's result, placed after the steps of the current run so far."""
        self._validation_room(self._val_size + 1)
        self._val[self._val_size] = (self._run, len(self), loss, nan_if_none(accuracy))
        self._val_size += 1

    def _validation_room(self, size: int) -> None:
        """Room for ``size`` validation rows (doubling, as the rows' own array)."""
        if size > len(self._val):
            grown = np.zeros(max(size, 2 * len(self._val)), dtype=VALIDATION_ROW)
            grown[: self._val_size] = self._val[: self._val_size]
            self._val = grown

    def validation(self, run: int | None = None) -> np.ndarray:
        """The Evaluate rows of the current run (or of ``run``): fields ``step`` (steps done
        before it), ``loss`` and ``accuracy`` (a read-only view)."""
        rows = self._val[: self._val_size]
        view: np.ndarray = rows[rows["run"] == (self._run if run is None else run)]
        view.flags.writeable = False
        return view

    def mark(self) -> HistoryMark:
        return HistoryMark(self._size, self._run, self._run_start, self._val_size)

    def restore(self, mark: HistoryMark) -> None:
        """Back to an earlier :meth:`mark` (rows after it are dropped)."""
        # A mark past the current size is a redo: those rows are still in the array, because
        # the timeline drops every later mark before anything new is appended.
        if mark.size > len(self._data):
            raise ValueError(f"no history rows up to {mark.size}")
        self._size, self._run, self._run_start = mark.size, mark.run, mark.run_start
        # Runs up to the mark's start where they started then: the timeline drops every
        # mark of a branch abandoned since, so no later restart has moved them.
        self._run_starts[mark.run] = mark.run_start
        self._val_size = mark.val_size

    def all_rows(self) -> np.ndarray:
        """Every row kept, earlier runs first (a read-only copy)."""
        rows = self.rows(0, self._size)
        rows.flags.writeable = False
        return rows

    def run_numbers(self) -> np.ndarray:
        """The run each of :meth:`all_rows` belongs to."""
        numbers = np.zeros(self._size, dtype=np.int32)
        for run in range(self._run + 1):
            start, stop = self._bounds(run)
            numbers[start:stop] = run
        return numbers

    @property
    def bytes_per_row(self) -> int:
        """What a row keeps in the rows' array (its segment columns cost nothing a row while
        they change rarely or in a straight line)."""
        return int(self._dense_row.itemsize)

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes + self._val.nbytes
                   + sum(segments.nbytes for segments in self._segments.values()))

    def _bounds(self, run: int) -> tuple[int, int]:
        """Rows [start, stop) of ``run`` (an empty range for a run with no step or none)."""
        if run == self._run:
            return self._run_start, self._size
        if not 0 <= run < self._run:
            return 0, 0
        return self._run_starts[run], self._run_starts[run + 1]


def tensor_history(history: History, kind: str, name: str,
                   first: float | None = None) -> np.ndarray:
    """Per step of this run: ``"grad_norm"`` or ``"update_ratio"`` of tensor ``name``.

    Layered models keep these columns. The one neuron (``first``: its parameter's number at
    the start of the run) keeps its two numbers, from which they follow: the norm is the
    number's size, and the ratio compares each step's number with the one before.
    """
    if kind not in ("grad_norm", "update_ratio"):
        raise ValueError(f"unknown kind {kind!r}: expected 'grad_norm' or 'update_ratio'")
    if first is None:
        return history.column(f"{kind}:{name}")
    which = name.rsplit(".", 1)[-1]  # "weight" or "bias"
    if kind == "grad_norm":
        return np.abs(history.column(f"{which}_grad"))
    values = history.column(which)
    before = np.concatenate([[first], values[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios: np.ndarray = np.abs(values - before) / np.abs(before)
    return ratios
