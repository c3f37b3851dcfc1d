"""Coalesce bursts of "something changed" into at most one redraw per frame."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

DEFAULT_FPS = 30.0
#: A frame may take at most this share of the time: slow draws (a big window, software
#: rendering) stretch the interval instead of starving the work the frames show.
MAX_DRAW_SHARE = 0.3
#: The share while the work is elsewhere (auto-train in the training process): this thread
#: has only the frames to do, and a click or key still finds a gap between two of them.
ELSEWHERE_DRAW_SHARE = 0.8


class FrameThrottle(QObject):
    """Call ``draw`` at most ``fps`` times a second, and always once after the last request.

    A request that comes after a quiet frame draws at once (a click feels instant); requests
    during a burst (auto-train) are merged into one draw at the end of the frame. Frames start
    ``1 / fps`` apart; when a frame costs more than ``max_share`` of that, the next starts
    later, so drawing never takes more than that share of the time.
    """

    def __init__(self, draw: Callable[[], None], fps: float = DEFAULT_FPS,
                 extra_cost: Callable[[], float] | None = None,
                 parent: QObject | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(parent)
        self._draw = draw
        self._clock = clock
        #: Drawing work done outside ``draw`` since the last frame (e.g. paint events).
        self._extra_cost = extra_cost or (lambda: 0.0)
        self._min_interval = 1.0 / fps
        self._interval = self._min_interval
        #: When the last frame started: the interval runs from a frame's start to the next
        #: one's, or ``fps`` could never be reached (each frame would add its own cost).
        self._last = -float("inf")
        #: The share of the time frames may take (``MAX_DRAW_SHARE`` while this thread also
        #: does the work they show).
        self.max_share = MAX_DRAW_SHARE
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)
        self.draws = 0

    @property
    def interval(self) -> float:
        """Seconds from the last frame's start to the next one's (grows when drawing is
        slow)."""
        return self._interval

    def due(self) -> bool:
        """Whether the last frame is an interval old, so the next may be drawn now: work
        that only a frame shows need not be done before then."""
        return self._clock() >= self._last + self._interval

    def request(self) -> None:
        if self._timer.isActive():
            return
        wait = self._last + self._interval - self._clock()
        if wait <= 0:
            self._fire()
        else:
            self._timer.start(max(1, round(wait * 1000)))

    def flush(self) -> None:
        """Draw now if a draw is pending (e.g. before a screenshot or a test assertion)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def cancel(self) -> None:
        """Drop a pending draw (the window is closing)."""
        self._timer.stop()

    def _fire(self) -> None:
        start = self._last = self._clock()
        self.draws += 1
        self._draw()
        cost = self._clock() - start + self._extra_cost()
        self._interval = max(self._min_interval, cost / self.max_share)
