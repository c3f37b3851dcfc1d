"""A copy of the session trains (as the training process does), the session takes over what
it grew by: the result must be exactly the session that ran those iterations itself."""

from __future__ import annotations

import dataclasses
import multiprocessing
import pickle
import threading
from multiprocessing.connection import Connection

import pytest
import torch

from gui_trainer.core import TrainingSession
from gui_trainer.core.growth import Growth, StaleGrowth, take_growth
from gui_trainer.core.records import StageRecord
from gui_trainer.core.runs import auto_train
from gui_trainer.core.training_process import run_stretch, serve, session_from
from tests.core.test_quiet_runs import CASES, state_of


class Window:
    """Plays the window's side: takes each growth at once (or only every ``every``-th
    look, so the copy's growths get bigger), and acknowledges it."""

    def __init__(self, session: TrainingSession, every: int = 1) -> None:
        self.session = session
        self.every = every
        self.looks = 0
        self.pending: list[Growth] = []
        self.taken: list[list[StageRecord]] = []
        self.done = 0

    def send(self, grown: Growth, done: int) -> None:
        self.pending.append(grown)
        self.done = done

    def catch_up(self) -> None:
        """Take what arrived after the copy's last look (it is sent before it ends)."""
        while self.pending:
            self.taken.append(take_growth(self.session, self.pending.pop(0)))

    def inbox(self) -> str | None:
        self.looks += 1
        if self.pending and self.looks % self.every == 0:
            self.taken.append(take_growth(self.session, self.pending.pop(0)))
            return "ack"
        return None


def copy_of(session: TrainingSession) -> TrainingSession:
    return session_from(pickle.dumps(session))


def fields_of(record: StageRecord) -> dict[str, str]:
    """Every field of a record, comparable (NaN is not == NaN; a ledger has no repr)."""
    return {field.name: repr(vars(value) if hasattr(value, "__dict__") else value)
            for field in dataclasses.fields(record)
            for value in [getattr(record, field.name)]}


def finish_in_window(window: TrainingSession, done: int, epochs: int) -> None:
    for progress in auto_train(window, epochs, done):
        if progress.end is not None:
            break


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("every", [1, 3])
def test_a_run_taken_over_from_a_copy_is_the_run_itself(case: str, every: int) -> None:
    epochs = 40
    session, reference = CASES[case](), CASES[case]()
    for clicked in (session, reference):  # part way through an iteration, as a learner is
        clicked.run(clicked.next_stage)
    finish_in_window(reference, 0, epochs)
    window = Window(session, every)
    reason, done, final = run_stretch(copy_of(session), 0, epochs, window.inbox,
                                      window.send, frame_s=0.0, look_s=0.0)
    assert reason == "records"
    window.catch_up()
    assert window.taken, "the copy sent growths the window took"
    assert all(records for records in window.taken), "each replays an iteration with records"
    assert all(records[-1].stage in ("step", "evaluate", "schedule")
               for records in window.taken)
    if final is not None:
        assert take_growth(session, final) == []  # the copy's state where it stopped
    assert window.done <= done < epochs
    finish_in_window(session, done, epochs)
    assert state_of(session) == state_of(reference)
    assert session.timeline.revision == reference.timeline.revision
    for position in (0, 129, len(reference.timeline) - 3):  # and its timeline takes it back
        session.jump_to(position)
        reference.jump_to(position)
        assert state_of(session) == state_of(reference)


def test_a_growth_replays_the_copys_last_iteration_with_its_records() -> None:
    session, reference = TrainingSession(), TrainingSession()
    window = Window(session)
    run_stretch(copy_of(session), 0, 10, window.inbox, window.send, frame_s=0.0, look_s=0.0)
    first = window.taken[0]
    expected = reference.run_iteration()
    assert [r.stage for r in first] == [r.stage for r in expected]
    assert [fields_of(r) for r in first] == [fields_of(r) for r in expected]


def test_a_diverging_run_stops_the_copy_before_the_loss_goes_wrong() -> None:
    session, reference = TrainingSession(lr=2.0), TrainingSession(lr=2.0)
    window = Window(session)
    reason, done, final = run_stretch(copy_of(session), 0, 5000, window.inbox, window.send,
                                      frame_s=0.0, look_s=0.0)
    assert reason == "records" and done < 5000
    window.catch_up()
    if final is not None:
        take_growth(session, final)
    ends = [p.end for p in auto_train(session, 5000, done) if p.end is not None]
    assert ends[0] is not None and ends[0].reason == "diverged"
    reference_ends = [p.end for p in auto_train(reference, 5000) if p.end is not None]
    assert reference_ends == ends
    assert state_of(session) == state_of(reference)


def test_a_growth_is_refused_once_the_session_changed_and_changes_nothing() -> None:
    session = TrainingSession()
    pending: list[Growth] = []
    run_stretch(copy_of(session), 0, 20, lambda: None, lambda g, d: pending.append(g),
                frame_s=0.0, look_s=0.0)
    session.lr = 0.05  # the learner changed a setting meanwhile
    before = state_of(session)
    with pytest.raises(StaleGrowth):
        take_growth(session, pending[0])
    assert state_of(session) == before


def test_the_copy_stops_when_told() -> None:
    session = TrainingSession()
    looks = iter([None, None, "stop"])
    reason, done, final = run_stretch(copy_of(session), 0, 1000, lambda: next(looks),
                                      lambda g, d: None, frame_s=0.0, look_s=0.0)
    assert (reason, done, final) == ("stopped", 2, None)


def test_a_window_with_a_redo_tail_takes_a_growth_as_a_new_action_would() -> None:
    session, reference = TrainingSession(), TrainingSession()
    for clicked in (session, reference):
        for _ in range(30):
            clicked.run_iteration()
        clicked.jump_to(60)  # undone back: the rest stays for redo
    window = Window(session)
    _, done, final = run_stretch(copy_of(session), 0, 20, window.inbox, window.send,
                                 frame_s=0.0, look_s=0.0)
    window.catch_up()
    if final is not None:
        take_growth(session, final)
    finish_in_window(session, done, 20)
    finish_in_window(reference, 0, 20)
    assert state_of(session) == state_of(reference)


def serving() -> tuple[Connection, threading.Thread]:
    """The process's loop on a thread, through a real pipe (the same messages)."""
    ours, theirs = multiprocessing.Pipe()
    thread = threading.Thread(target=serve, args=(theirs, torch.get_num_threads()),
                              daemon=True)
    thread.start()
    assert ours.recv() == ("ready",)
    return ours, thread


def test_the_process_loop_sends_growths_as_they_are_taken_and_ends_the_run() -> None:
    conn, thread = serving()
    session, reference = TrainingSession(), TrainingSession()
    conn.send(("run", 1, pickle.dumps(session), 0, 400))
    while True:
        message = conn.recv()
        if message[0] == "growth":
            assert message[1] == 1
            take_growth(session, message[2])
            conn.send(("ack", 1))
            continue
        kind, run_id, reason, done, final, error = message
        break
    assert (kind, run_id, reason, error) == ("ended", 1, "records", "")
    if final is not None:
        take_growth(session, final)
    finish_in_window(session, done, 400)
    finish_in_window(reference, 0, 400)
    assert state_of(session) == state_of(reference)
    conn.send(("quit",))
    thread.join(5)
    assert not thread.is_alive()


def test_the_process_loop_stops_when_told_and_reports_a_failure() -> None:
    conn, thread = serving()
    conn.send(("run", 7, pickle.dumps(TrainingSession()), 0, 10**6))
    assert conn.recv()[0] == "growth"  # no ack: it waits, training, for the window
    conn.send(("stop", 7))
    kind, run_id, reason, done, final, error = conn.recv()
    assert (kind, run_id, reason, final, error) == ("ended", 7, "stopped", None, "")
    assert done > 0  # it went on training while the window did not take the growth
    conn.send(("run", 8, b"not a session", 0, 10))
    kind, run_id, reason, _done, final, error = conn.recv()
    assert (kind, run_id, reason, final) == ("ended", 8, "error", None)
    assert "UnpicklingError" in error
    conn.close()  # the window has gone: the loop ends
    thread.join(5)
    assert not thread.is_alive()
