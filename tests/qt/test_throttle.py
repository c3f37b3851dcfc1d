"""The frame throttle merges bursts and backs off when drawing is slow (no timing asserts)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.throttle import MAX_DRAW_SHARE, FrameThrottle


def test_a_burst_of_requests_is_one_immediate_draw_and_one_trailing_draw(qtbot: QtBot) -> None:
    calls: list[float] = []
    throttle = FrameThrottle(lambda: calls.append(time.perf_counter()), fps=30)
    for _ in range(100):
        throttle.request()
    assert len(calls) == 1  # the first request draws at once
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=1000)
    qtbot.wait(100)
    assert len(calls) == 2  # the other 99 were merged into one


def test_slow_draws_stretch_the_interval(qtbot: QtBot) -> None:
    def slow_draw() -> None:
        time.sleep(0.05)

    throttle = FrameThrottle(slow_draw, fps=30)
    throttle.request()
    # After a 50 ms draw the next may start no sooner than cost / share after this one did.
    assert throttle.interval >= 0.05 / MAX_DRAW_SHARE - 1e-3


def test_paint_time_outside_the_draw_counts_too(qtbot: QtBot) -> None:
    throttle = FrameThrottle(lambda: None, fps=30, extra_cost=lambda: 0.05)
    throttle.request()
    assert throttle.interval >= 0.05 / MAX_DRAW_SHARE - 1e-3


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def on_fake_clock(draw_s: float, paint_s: float = 0.0) -> tuple[FrameThrottle, FakeClock]:
    """A 30 frames/s throttle at the training process's 80 % share, whose draws take
    ``draw_s`` of a fake clock (starting at 100 s) and whose paints after them ``paint_s``."""
    clock = FakeClock()

    def draw() -> None:
        clock.now += draw_s

    throttle = FrameThrottle(draw, fps=30, extra_cost=lambda: paint_s, clock=clock)
    throttle.max_share = 0.8
    return throttle, clock


def test_frames_start_one_frame_apart_however_long_each_takes(qtbot: QtBot) -> None:
    """At 30 frames/s a frame that takes 10 ms (within its share) is followed by the next
    33 ms after it started, not 33 ms after it ended: else 30 frames/s is never reached."""
    throttle, clock = on_fake_clock(0.010)
    throttle.request()
    assert throttle.interval == pytest.approx(1 / 30)
    clock.now = 100.0 + 1 / 30 - 0.001
    assert not throttle.due()
    clock.now = 100.0 + 1 / 30 + 0.001
    assert throttle.due()
    throttle.request()  # due: drawn at once
    assert throttle.draws == 2


def test_a_costly_frame_keeps_drawing_to_its_share_of_the_time(qtbot: QtBot) -> None:
    throttle, clock = on_fake_clock(0.040)
    throttle.request()
    assert throttle.interval == pytest.approx(0.040 / 0.8)  # 40 ms of every 50
    clock.now = 100.0 + 0.049
    assert not throttle.due()
    clock.now = 100.0 + 0.051
    assert throttle.due()


def test_a_frame_is_due_once_the_interval_since_the_last_has_passed(qtbot: QtBot) -> None:
    throttle = FrameThrottle(lambda: None, fps=30, extra_cost=lambda: 0.05)
    assert throttle.due()  # nothing drawn yet
    throttle.request()
    assert not throttle.due()  # just drawn: the next waits its interval
    qtbot.waitUntil(throttle.due, timeout=1000)


def test_auto_train_asks_the_windows_frames_whether_one_is_due(window: MainWindow) -> None:
    assert window.trainer.driver.frame_due == window.frame.due


def test_each_frame_draws_one_captured_state(window: MainWindow, qtbot: QtBot) -> None:
    """Views draw the state the controller captured, once a frame, not the live session."""
    captured: list[SessionView] = []
    real = window.controller.capture

    def counting(landscape: bool = False, along: bool = True) -> SessionView:
        captured.append(real(landscape, along))
        return captured[-1]

    window.controller.capture = counting  # type: ignore[method-assign]
    window.frame.flush()
    draws = window.frame.draws
    for _ in range(5):
        window.controller.run_stage(window.session.next_stage)
    window.frame.flush()
    assert 1 <= len(captured) == window.frame.draws - draws < 5  # one capture a frame
    state = captured[-1]
    assert window.readout.values["epoch"].text() == str(state.epoch)
    assert window.code_panel.listing == state.listing


def test_a_click_is_drawn_at_once_even_after_a_slow_frame(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.frame.flush()
    window.frame.request()  # a frame drawn just now...
    window.frame._interval = 10.0  # ...that was slow: the next would wait 10 s
    draws = window.frame.draws
    qtbot.mouseClick(window.step_buttons.buttons["zero_grad"], Qt.MouseButton.LeftButton)
    assert window.frame.draws == draws + 1  # no event loop turn, no wait
    assert window.readout.values["next"].text() == "Forward"


def test_a_request_before_the_next_frame_is_due_waits_for_the_rest_of_the_interval(
        qtbot: QtBot) -> None:
    """Paint time after the draw counts from the same start: 10 ms drawing and 30 ms
    painting at an 80 % share put the next frame 50 ms after this one started."""
    throttle, clock = on_fake_clock(0.010, paint_s=0.030)
    throttle.request()
    clock.now = 100.0 + 0.020
    throttle.request()
    assert throttle.draws == 1
    assert throttle._timer.isActive()
    assert throttle._timer.interval() == 30  # ms: the rest of the 50
    throttle.cancel()
