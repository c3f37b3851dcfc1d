"""Plots whose auto-range holds still while the data moves a little, and one paint a frame.

pyqtgraph's auto-range fits the view to the data exactly at every change. While training,
every frame moved each view by a hair: every axis laid its ticks out again (~2.5 ms an axis,
six axes a frame), the grid and the curves crept under the learner's eyes, and because the
range was worked out inside the paint, each plot was painted twice a frame (measured with
``benchmarks/frames.py``). ``SteadyViewBox`` keeps the view while the data stays inside it
and fills a fair share of it; ``settle`` works the range out before Qt paints.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

#: The view is fitted again when the data spans less than this share of it.
MIN_FILL = 0.5
#: Room added beyond the data on the side it left the view by, as a share of the data's
#: span: a run that grows steadily moves the view once every tenth or so of its length.
HEADROOM = 0.1
#: A single value closer than this share of the view to its edge is centred.
EDGE = 0.05


def steady_span(view: tuple[float, float], target: tuple[float, float]
                ) -> tuple[float, float] | None:
    """The new range for one axis of a view showing ``view`` when the data (padded as
    pyqtgraph pads it) needs ``target``; ``None`` when the view can stay as it is."""
    low, high = target
    view_low, view_high = view
    span = high - low
    if span <= 0:  # one value: kept well inside, or centred (pyqtgraph keeps the width)
        margin = EDGE * (view_high - view_low)
        return None if view_low + margin <= low <= view_high - margin else (low, high)
    inside = view_low <= low and high <= view_high
    if inside and span >= MIN_FILL * (view_high - view_low):
        return None
    if inside:  # but lost in a view far larger than it: fit it
        return low, high
    # The data left the view: it grows on that side, with room for the next frames, and
    # keeps its other side (shrinking it there too made a view swing to and fro).
    extra = span * HEADROOM
    return (low - extra if low < view_low else view_low,
            high + extra if high > view_high else view_high)


class SteadyViewBox(pg.ViewBox):  # type: ignore[misc]
    """A ViewBox whose automatic range moves only when the data leaves the view or takes
    up less than ``MIN_FILL`` of it. Zooming, panning and "A" (auto-range) act as in any
    pyqtgraph plot; a range set in code is set as asked, and so is an aspect-locked one."""

    _steadying = False

    def updateAutoRange(self) -> None:
        self._steadying = True
        try:
            super().updateAutoRange()
        finally:
            self._steadying = False

    def setRange(self, rect: Any = None, xRange: Any = None, yRange: Any = None,
                 *args: Any, **kwargs: Any) -> None:
        # With its aspect locked, the view pyqtgraph sets is not the one asked for: the
        # confusion matrix's view swung between two ranges at every paint. As pyqtgraph does.
        if self._steadying and rect is None and not self.state["aspectLocked"]:
            shown = self.viewRange()
            if xRange is not None:
                xRange = steady_span((shown[0][0], shown[0][1]), (xRange[0], xRange[1]))
            if yRange is not None:
                yRange = steady_span((shown[1][0], shown[1][1]), (yRange[0], yRange[1]))
            if xRange is None and yRange is None:
                return
        super().setRange(rect, xRange, yRange, *args, **kwargs)


def steady_plot(canvas: pg.GraphicsLayoutWidget, **kwargs: Any) -> pg.PlotItem:
    """``canvas.addPlot(**kwargs)`` with a ``SteadyViewBox``."""
    plot: pg.PlotItem = canvas.addPlot(viewBox=SteadyViewBox(), **kwargs)
    return plot


def settle(panel: QWidget) -> None:
    """Work out the auto-ranges of the plots in ``panel`` now, before Qt paints them.

    pyqtgraph does it at the start of the paint; a range that changes there asks for a
    second paint of the whole canvas right after the first.
    """
    if not panel.isVisible():
        return
    for canvas in panel.findChildren(pg.GraphicsView):
        scene = canvas.scene()
        if canvas.isVisible() and scene is not None:
            scene.prepareForPaint()
