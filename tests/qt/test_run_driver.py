"""The one driver of runs: pace, pause, stop, and a run that fails ends at once."""

from __future__ import annotations

from collections.abc import Generator

from pytestqt.qtbot import QtBot

from gui_trainer.core.runs import Progress, RunEnd, auto_train
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.run_driver import RunDriver


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
