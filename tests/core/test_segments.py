"""Segment columns (``segments.py``) against a plain list of every value noted."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gui_trainer.core.history import History
from gui_trainer.core.segments import Segments

#: A step of a column: the same value, one more, a jump, or an undo/redo of ``k`` rows.
MOVES = st.one_of(
    st.tuples(st.just("same"), st.just(0)), st.tuples(st.just("up"), st.just(0)),
    st.tuples(st.just("set"), st.integers(-3, 3)),
    st.tuples(st.just("undo"), st.integers(1, 6)), st.tuples(st.just("redo"), st.integers(1, 6)))


def play(moves: list[tuple[str, int]], rising: bool) -> None:
    segments = Segments(np.int32, rising=rising)
    noted: list[int] = []  # every row noted, including rows an undo left for a redo
    size = 0
    seen: tuple[int, np.ndarray] | None = None
    for kind, amount in moves:
        if kind == "undo":
            size = max(0, size - amount)
        elif kind == "redo":
            size = min(len(noted), size + amount)
        else:
            last = noted[size - 1] if size else 0
            value = {"same": last, "up": last + 1, "set": amount}[kind]
            segments.note(size, value)
            noted[size:] = [value]
            size += 1
        assert segments.values(0, size).tolist() == noted[:size]
        if size:
            row = size // 2
            assert segments.value(row) == noted[row]
            assert segments.values(row, size).tolist() == noted[row:size]
        # What a cache may keep: the values of rows it read, while no row was written over.
        if seen is not None and seen[0] == segments.rewrites:
            kept = seen[1][: size]
            assert kept.tolist() == noted[: len(kept)]
        seen = (segments.rewrites, segments.values(0, size))


@settings(max_examples=300, deadline=None)
@given(st.lists(MOVES, max_size=60), st.booleans())
def test_segments_give_back_every_value_noted_through_undo_and_redo(
        moves: list[tuple[str, int]], rising: bool) -> None:
    play(moves, rising)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0, 0, 0, 1, 1, 1, 2, -1, 7]), max_size=80), st.booleans())
def test_a_whole_column_at_once_is_the_same_as_row_by_row(steps: list[int],
                                                          rising: bool) -> None:
    values = np.cumsum(np.asarray([5, *steps], dtype=np.int64)).astype(np.int32)
    at_once, one_by_one = Segments(np.int32, rising), Segments(np.int32, rising)
    at_once.note_many(0, values)
    for row, value in enumerate(values.tolist()):
        one_by_one.note(row, value)
    assert at_once.values(0, len(values)).tolist() == values.tolist()
    assert len(at_once) == len(one_by_one)


def test_a_long_run_keeps_a_few_segments_not_a_value_a_row() -> None:
    """Why segments: the step numbers and a learning rate that stays put, a million rows
    of them, are a handful of segments; a schedule that moves lr every step is one a step."""
    steps, lr, scheduled = Segments(np.int32, rising=True), Segments(np.float64), Segments(
        np.float64)
    for row in range(10_000):
        steps.note(row, row + 1)
        lr.note(row, 0.01)
        scheduled.note(row, 0.01 * 0.999**row)
    assert len(steps) == 1 and len(lr) == 1 and len(scheduled) == 10_000
    epochs = Segments(np.int32, rising=True)  # mini-batches: 4 steps an epoch
    for row in range(10_000):
        epochs.note(row, row // 4 + 1)
    assert len(epochs) == 2_500
    assert epochs.values(0, 10_000).tolist() == [row // 4 + 1 for row in range(10_000)]


def test_history_rows_keep_their_settings_through_undo_and_redo() -> None:
    history = History()
    for step in range(1, 7):
        history.append(epoch=step, step=step, loss=1.0 / step, lr=0.1 * step,
                       optimizer=step % 2, micro_batches=1 + step // 3)
    full = history.all_rows().tobytes()
    assert history.column("lr").tolist() == [0.1 * step for step in range(1, 7)]
    assert history.column("step").tolist() == [1, 2, 3, 4, 5, 6]
    mark = history.mark()
    history.restore(history.mark().__class__(3, 0, 0))
    assert history.column("micro_batches").tolist() == [1, 1, 2]
    history.restore(mark)  # a redo: the rows are still there
    assert history.all_rows().tobytes() == full
    history.restore(history.mark().__class__(3, 0, 0))
    history.append(epoch=4, step=4, loss=9.0, lr=0.3, optimizer=1, micro_batches=2)
    assert history.column("lr").tolist() == [0.1, 0.2, 0.1 * 3, 0.3]
    assert history.column("loss")[-1] == 9.0
    assert history.rows(2, 4)["lr"].tolist() == [0.1 * 3, 0.3]


def test_a_frame_after_a_step_writes_out_only_the_new_rows() -> None:
    """The loss plot asks for a million step numbers at every frame: the expansion grows in
    place (doubling room, as the rows' own array), it is not written out again each time."""
    history = History()
    for step in range(1, 1001):
        history.append(epoch=step, step=step, loss=1.0, lr=0.1)
    first = history.column("step")
    grown = []
    for step in range(1001, 1301):
        history.append(epoch=step, step=step, loss=1.0, lr=0.1)
        grown.append(history.column("step"))
    assert grown[-1].tolist() == list(range(1, 1301))
    assert sum(not np.shares_memory(a, b) for a, b in itertools.pairwise(grown)) <= 1
    assert first.tolist() == list(range(1, 1001))  # what a frame holds stays as it was


def test_a_fingerprint_changes_when_rows_are_written_over_even_with_the_same_numbers() -> None:
    history = History()
    for step in (1, 2, 3):
        history.append(epoch=step, step=step, loss=0.5, lr=0.1)
    mark, before = history.mark(), history.fingerprint(1, 3)
    history.restore(history.mark().__class__(2, 0, 0))
    history.restore(mark)  # a redo: nothing written over
    assert history.fingerprint(1, 3) == before
    history.restore(history.mark().__class__(2, 0, 0))
    history.append(epoch=3, step=3, loss=0.5, lr=0.2)  # only the learning rate differs
    assert history.fingerprint(1, 3) != before


def test_whole_columns_appended_at_once_are_the_rows_appended_one_by_one() -> None:
    one_by_one, at_once = History(), History()
    steps = np.arange(1, 41)
    columns = {"epoch": (steps + 3) // 4, "step": steps, "loss": 1.0 / steps,
               "lr": np.where(steps < 20, 0.1, 0.05), "optimizer": (steps > 30).astype(int)}
    for row in range(40):
        one_by_one.append(**{name: column[row].item() for name, column in columns.items()})
    at_once.extend(columns)
    assert at_once.all_rows().tobytes() == one_by_one.all_rows().tobytes()
