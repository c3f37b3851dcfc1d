"""Coalesce bursts of "something changed" into at most one redraw per frame."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

DEFAULT_FPS = 30.0


class FrameThrottle(QObject):
    """Call ``draw`` at most ``fps`` times a second, and always once after the last request.

    A request that comes after a quiet frame draws at once (a click feels instant); requests
    during a burst (auto-train) are merged into one draw at the end of the frame.
    """

    def __init__(self, draw: Callable[[], None], fps: float = DEFAULT_FPS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._draw = draw
        self._interval = 1.0 / fps
        self._last = -float("inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)
        self.draws = 0

    def request(self) -> None:
        if self._timer.isActive():
            return
        wait = self._last + self._interval - time.perf_counter()
        if wait <= 0:
            self._fire()
        else:
            self._timer.start(max(1, round(wait * 1000)))

    def flush(self) -> None:
        """Draw now if a draw is pending (e.g. before a screenshot or a test assertion)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def _fire(self) -> None:
        self._last = time.perf_counter()
        self.draws += 1
        self._draw()
