"""The one driver of runs: pace, pause, stop, and a run that fails ends at once."""

from __future__ import annotations

from collections.abc import Generator

from pytestqt.qtbot import QtBot

from gui_trainer.core.runs import Pace, Progress, Run, RunEnd, auto_train
from gui_trainer.core.training_process import run_stretch
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.run_driver import RunDriver
from tests.core.test_growth import Window, copy_of


def test_a_run_that_raises_ends_at_once_and_the_error_is_not_swallowed(qtbot: QtBot) -> None:
    controller = SessionController()
    driver = RunDriver(controller, "auto_train")

    def broken() -> Generator[Progress, None, RunEnd | None]:
        if controller.session.epoch < 0:
            yield  # type: ignore[misc]  # never: makes this a generator
        raise ValueError("boom")

    ends: list[RunEnd | None] = []
    driver.ended.connect(ends.append)
    with qtbot.capture_exceptions() as raised:
        driver.start(broken())
        qtbot.waitUntil(lambda: driver.state == "idle", timeout=2_000)
    assert [str(exc[1]) for exc in raised] == ["boom"]
    assert ends[0] is not None and ends[0].reason == "error" and "boom" in ends[0].message
    assert controller.runs["auto_train"] == "idle" and not controller.enablement().busy


def test_starting_again_drops_the_paused_run(qtbot: QtBot) -> None:
    controller = SessionController()
    driver = RunDriver(controller, "auto_train")
    driver.set_interval(1)
    closed = []

    def first() -> Generator[Progress, None, RunEnd | None]:
        try:
            yield from auto_train(controller.session, 1000)
        finally:
            closed.append(controller.session.position)
        return None

    driver.start(first())
    qtbot.waitUntil(lambda: controller.session.position >= 3, timeout=2_000)
    driver.pause()
    assert controller.runs["auto_train"] == "paused" and not closed
    position, epoch = controller.session.position, controller.session.epoch
    driver.start(auto_train(controller.session, 1, done=0))
    assert closed == [position]  # the paused run is closed, not left suspended
    qtbot.waitUntil(lambda: driver.state == "idle", timeout=5_000)
    assert controller.session.epoch == epoch + 1  # the new run's one epoch, no more


def _published_records(controller: SessionController) -> list[object]:
    """Every record the controller publishes (its latest one, at each change)."""
    seen: list[object] = []
    controller.changed.connect(lambda: seen.append(controller.last_record))
    return seen


def _shows_where_it_is(controller: SessionController) -> None:
    """The latest records are the session's last iteration, as PyTorch left it."""
    session, latest = controller.session, controller.latest
    assert set(latest) == {"zero_grad", "forward", "loss", "backward", "step"}
    step = latest["step"]
    assert controller.last_record is step
    assert step.epoch == session.epoch and step.steps == session.steps
    assert step.after == session.params()
    assert latest["zero_grad"].index == step.index - 4  # one iteration, all its stages


def _full_speed(qtbot: QtBot, controller: SessionController, driver: RunDriver) -> None:
    """Start auto-train at full speed and let it run 30 epochs or more."""
    pace = Pace()
    epoch = controller.session.epoch
    driver.start(auto_train(controller.session, 100_000, pace=pace), pace)
    qtbot.waitUntil(lambda: controller.session.epoch >= epoch + 30, timeout=10_000)


def test_with_no_frame_due_a_batch_ends_quietly_and_pausing_shows_where_it_is(
        qtbot: QtBot) -> None:
    controller = SessionController()
    driver = RunDriver(controller, "auto_train")
    driver.frame_due = lambda: False
    published = _published_records(controller)
    _full_speed(qtbot, controller, driver)
    # Batches went by (many epochs), and not one record was made for a frame that would
    # not have shown it.
    assert published[1:] == [None] * (len(published) - 1) and controller.latest == {}
    position = controller.session.position
    driver.pause()
    _shows_where_it_is(controller)
    assert controller.session.position == position  # replayed, not trained past
    assert controller.runs["auto_train"] == "paused"
    epoch = controller.session.epoch
    qtbot.wait(50)
    assert controller.session.epoch == epoch  # paused: nothing more runs


def test_with_a_frame_due_each_batch_ends_on_an_iteration_with_records(qtbot: QtBot) -> None:
    controller = SessionController()
    driver = RunDriver(controller, "auto_train")
    _full_speed(qtbot, controller, driver)
    _shows_where_it_is(controller)  # between two batches: the last one's own records
    driver.stop()
    _shows_where_it_is(controller)


def test_stopping_or_slowing_down_after_quiet_batches_shows_where_it_is(
        qtbot: QtBot) -> None:
    controller = SessionController()
    driver = RunDriver(controller, "auto_train")
    driver.frame_due = lambda: False
    _full_speed(qtbot, controller, driver)
    driver.stop()
    _shows_where_it_is(controller)
    assert driver.state == "idle"

    _full_speed(qtbot, controller, driver)
    first: list[set[str]] = []  # the stages with records at the first stage shown alone

    def note_first() -> None:
        if not first and controller.last_record is not None:
            first.append(set(controller.latest))

    controller.changed.connect(note_first)
    driver.set_interval(1)  # stage by stage from here: the others' records are stale
    qtbot.waitUntil(lambda: bool(first), timeout=2_000)
    driver.stop()
    assert first == [{"zero_grad"}]


def test_a_pause_just_after_the_process_gave_the_run_back_shows_where_it_is(
        qtbot: QtBot) -> None:
    """Where the process stops (the run's last iteration needs records), the window takes
    its last growth, which has no iteration of its own to show: a pause before this thread
    ran one replays the last iteration with records, and the session stays where it is."""
    controller = SessionController()
    driver = RunDriver(controller, "auto_train")
    session = controller.session
    window = Window(session, every=10**9)  # takes nothing while the process runs
    reason, done, final = run_stretch(copy_of(session), 0, 30, window.inbox, window.send)
    window.catch_up()  # the growth sent first
    assert reason == "records" and final is not None and done == 29
    pace = Pace()

    def resume(done: int) -> Run:
        return auto_train(session, 30, done, pace)

    driver.start(resume(0), pace, resume)
    driver._remote = session  # as if the process had the run (it ran the copy above)
    driver._process_ended(reason, done, final, "")
    assert session.epoch == 29
    position = session.position
    driver.pause()
    _shows_where_it_is(controller)
    assert session.epoch == 29 and session.position == position
    assert driver.state == "paused"
    driver.stop()
