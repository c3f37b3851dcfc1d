"""The window's frames: a redraw with a million-step history, and a click until it is painted.

    python benchmarks/frames.py

``redraw_million``: the seed scenario's history holds 1,000,000 rows (one per step); each frame
adds the next step's row (as a click or auto-train would), then the whole window is drawn
(``refresh_now``) and painted (``repaint``, then the event loop). Median of the frames, in ms,
against the same frame with a short history (a real run of a few hundred steps). Also the
plots alone: the three plots brought up to date and painted, the goal's "redraw of every
plot" (the full frame also lays out and paints the text panels and controls).

``click_paint``: 40 clicks on Next stage in a 1600 × 1000 window, each timed from the click to
the end of the paint that follows it (the event loop run until nothing is left to do), with a
pause between clicks like a person's. Median and worst, in ms. The clicks start once the
window's start-up work is done (the thread that imports ``torch._dynamo`` after the first
frame: a Step clicked before it ends waits for it, a cold-start cost that
``benchmarks/startup.py`` owns).

Offscreen, Qt's virtual screen is 800 × 800 unless told otherwise, and on it the window opens
small and compact (docks as tabs, the graph and math panels hidden): not the window the
figures are about. So when this module makes the QApplication, the offscreen screen is
1920 × 1200 (``SCREEN``); when a QApplication with a smaller screen exists already,
``click_paint`` measures in a fresh Python of its own.

Each function makes and closes its own window; both return plain floats with descriptive keys,
so ``benchmarks/run.py`` can print them beside its other figures.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from gui_trainer.core.session import TrainingSession
    from gui_trainer.qt.main_window import MainWindow

MILLION = 1_000_000
#: Docks behind the Graph's tab at start whose plots draw the history too.
PANELS = ("landscape", "layers")
#: Frames timed with each history (the first one, which sets the view up, is left out).
FRAMES = 21
#: The short history's steps: a real run through the session, click by click.
SHORT_STEPS = 300
#: Steps run through the real session to check the filled rows against (see ``fill_history``).
CHECKED_STEPS = 50
CLICKS = 40
#: Between two clicks: a person does not click faster than this.
CLICK_PAUSE_S = 0.06
WINDOW_SIZE = (1600, 1000)
#: The offscreen virtual screen: room for the window and a title bar.
SCREEN = (1920, 1200)
#: Longest wait for the start-up's background work before the clicks begin.
STARTUP_WAIT_S = 60.0


def _application() -> QApplication:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return QApplication(sys.argv[:1])
    config = _screen_config()
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    try:
        return QApplication(sys.argv[:1])
    finally:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # for any Python started from here
        os.unlink(config)  # read once, by the QApplication


def _screen_config() -> str:
    """A configuration file for Qt's offscreen platform: one screen of ``SCREEN``."""
    width, height = SCREEN
    config = {"screens": [{"name": "benchmark", "x": 0, "y": 0, "width": width,
                           "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                           "dpr": 1}]}
    handle, path = tempfile.mkstemp(prefix="gui_trainer_screen_", suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump(config, file)
    return path


def _screen_fits(app: QApplication) -> bool:
    screen = app.primaryScreen()
    if screen is None:
        return False
    available = screen.availableGeometry()
    return available.width() >= WINDOW_SIZE[0] and available.height() >= WINDOW_SIZE[1]


def _wait_for_startup_work(app: QApplication) -> None:
    """Let the window's start-up work end (every thread but this one that is no daemon)."""
    deadline = time.perf_counter() + STARTUP_WAIT_S
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.perf_counter()))
    _settle(app, 0.1)


def _window() -> MainWindow:
    from gui_trainer.app import create_window

    window = create_window(remember=False)
    window.resize(*WINDOW_SIZE)
    window.show()
    return window


def _window_size(window: MainWindow) -> tuple[int, int]:
    return window.width(), window.height()


def _close(app: QApplication, window: MainWindow) -> None:
    # The run is nobody's work: no "save it?" box (offscreen, it would wait forever).
    window.files.ask_unsaved = lambda *_args: "discard"
    window.files.ask_close_others = lambda *_args: True
    window.close()
    window.deleteLater()
    app.processEvents()


def _settle(app: QApplication, seconds: float) -> None:
    """Run the event loop for a while (timers, animations, deferred draws)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.002)


def sgd_rows(session: TrainingSession, steps: int) -> dict[str, np.ndarray]:
    """The seed scenario's run, step by step, as its history would record it.

    The one neuron with mean squared error and plain SGD is a linear map of (weight, bias):
    after k steps the parameters are the minimum plus Aᵏ times where they started from it.
    Worked out for every k at once (float64) instead of a million real steps through PyTorch.
    """
    x = session.inputs.double().reshape(-1).numpy()
    y = session.targets.double().reshape(-1).numpy()
    n, lr = len(x), float(session.lr)
    hessian = 2.0 / n * np.asarray([[x @ x, x.sum()], [x.sum(), n]])
    design = np.column_stack([x, np.ones(n)])
    best = np.linalg.lstsq(design, y, rcond=None)[0]
    start = np.asarray([float(p.detach().reshape(-1)[0]) for p in session.model.parameters()])
    values, vectors = np.linalg.eigh(np.eye(2) - lr * hessian)
    k = np.arange(steps + 1, dtype=np.float64)
    offset = vectors.T @ (start - best)  # in the eigenbasis
    # Row k: the parameters after k steps (row 0: the start).
    params = best + (values[np.newaxis, :] ** k[:, np.newaxis] * offset) @ vectors.T
    residuals = params @ design.T - y  # (steps + 1) × n
    losses = np.mean(residuals**2, axis=1)
    grads = (params - best) @ hessian.T
    before = slice(0, steps)
    return {
        "epoch": np.arange(1, steps + 1), "step": np.arange(1, steps + 1),
        "loss": losses[before], "batch_loss": losses[before], "lr": np.full(steps, lr),
        "weight": params[1:, 0], "bias": params[1:, 1],
        "weight_grad": grads[before, 0], "bias_grad": grads[before, 1],
        "weight_grad_fresh": grads[before, 0], "bias_grad_fresh": grads[before, 1],
    }


def fill_history(session: TrainingSession, rows: dict[str, np.ndarray], size: int) -> None:
    """Put ``rows`` into the session's history and show the first ``size`` of them.

    Appending a million rows one by one takes about as long as the frames measured many times
    over, so they go in as whole columns (``History.extend``); then the history is cut to
    ``size`` rows (its ``_size``: the benchmark knows the layout; nothing in the app does
    this), so ``show_rows`` can show more of them without appending again.
    """
    history = session.history
    history.extend(rows)
    history._size = size  # see the docstring


def show_rows(session: TrainingSession, size: int) -> None:
    session.history._size = size  # the rows fill_history wrote


def _check_rows(rows: dict[str, np.ndarray]) -> None:
    """The worked-out rows are the real session's, to float32's precision."""
    from gui_trainer.core.session import TrainingSession

    real = TrainingSession()
    for _ in range(CHECKED_STEPS):
        real.run_epoch()
    for name in ("loss", "weight", "bias", "weight_grad"):
        ours = rows[name][:CHECKED_STEPS]
        theirs = real.history.column(name)
        if not np.allclose(ours, theirs, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"the filled {name!r} column is not the seed run's")


def _frame_ms(app: QApplication, window: MainWindow) -> float:
    start = time.perf_counter()
    window.refresh_now()
    window.repaint()
    app.processEvents()
    return (time.perf_counter() - start) * 1000


def _plots_frame_ms(app: QApplication, window: MainWindow) -> float:
    """ms to bring the three plots up to date and paint them: issue 12's "redraw of every
    plot", without the text panels and controls a full frame redraws as well."""
    from gui_trainer.qt.steady_view import settle

    start = time.perf_counter()
    state = window.controller.capture(landscape=False, along=False)
    plots = (window.fit_plot, window.loss_plot, window.grad_plot)
    for plot in plots:
        plot.refresh(state)
        settle(plot)
    for plot in plots:
        plot.canvas.repaint()
    return (time.perf_counter() - start) * 1000


def _redraw_ms(app: QApplication, window: MainWindow, advance: Callable[[int], object],
               frame_ms: Callable[[QApplication, MainWindow], float] = _frame_ms) -> float:
    """Median ms of a redraw (the whole window unless told), ``advance(frame)`` adding a
    step before each frame."""
    times = []
    for frame in range(FRAMES + 1):
        advance(frame)
        window.controller.publish(None)  # what a step does: "changed"
        times.append(frame_ms(app, window))
    return statistics.median(times[1:])


def redraw_million() -> dict[str, float]:
    """ms per full redraw of the window with a 1,000,000-step history, and with a short one."""
    app = _application()
    window = _window()
    _settle(app, 0.2)
    # Rows for every series of frames below: the whole window, the plots, each panel.
    rows = sgd_rows(window.session, MILLION + (len(PANELS) + 2) * (FRAMES + 1) + 1)
    _check_rows(rows)
    # The session's own parameters where the filled run ends: the landscape's "now" dot sits
    # at the end of the path, as after a real run.
    import torch

    with torch.no_grad():
        for parameter, name in zip(window.session.model.parameters(), ("weight", "bias"),
                                   strict=True):
            parameter.fill_(float(rows[name][MILLION - 1]))
    fill_history(window.session, rows, MILLION)
    session = window.session
    shown = 0

    def advance(_frame: int) -> None:
        nonlocal shown
        shown += 1
        show_rows(session, MILLION + shown)

    million = _redraw_ms(app, window, advance)
    million_plots = _redraw_ms(app, window, advance, _plots_frame_ms)
    # The Layers and Landscape panels share a tab group with the Graph: each in turn in front.
    panels = {}
    for dock in PANELS:
        window.docks[dock].show()
        window.docks[dock].raise_()
        _settle(app, 0.1)
        panels[dock] = _redraw_ms(app, window, advance)
    _close(app, window)

    window = _window()  # a real run, step by step
    _settle(app, 0.2)
    for _ in range(SHORT_STEPS):
        window.session.run_epoch()
    session = window.session
    short = _redraw_ms(app, window, lambda _frame: session.run_epoch())
    _close(app, window)
    return {"redraw_1m_rows_ms": million, "redraw_1m_rows_plots_ms": million_plots,
            **{f"redraw_1m_rows_{dock}_shown_ms": ms for dock, ms in panels.items()},
            f"redraw_{SHORT_STEPS}_rows_ms": short, "redraw_1m_over_short": million / short}


def click_paint() -> dict[str, float]:
    """ms from a Next-stage click to the end of the paint that shows it (40 clicks)."""
    app = _application()
    if not _screen_fits(app):  # somebody else's QApplication, on a smaller screen
        return _click_paint_elsewhere()
    window = _window()
    _settle(app, 0.3)
    if _window_size(window) != WINDOW_SIZE:
        raise AssertionError(f"the window is {_window_size(window)}, not {WINDOW_SIZE}")
    _wait_for_startup_work(app)
    action = window.actions_by_name["next_stage"]
    times = []
    for _ in range(CLICKS):
        start = time.perf_counter()
        action.trigger()
        while window.frame._timer.isActive():  # a draw the throttle deferred
            app.processEvents()
        app.processEvents()  # the paint events the draw posted
        times.append((time.perf_counter() - start) * 1000)
        _settle(app, CLICK_PAUSE_S)
    _close(app, window)
    return {"click_paint_median_ms": statistics.median(times),
            "click_paint_worst_ms": max(times)}


def _click_paint_elsewhere() -> dict[str, float]:
    """``click_paint`` in a fresh Python, whose QApplication gets a big enough screen."""
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    output = subprocess.run([sys.executable, __file__, "--click-json"], env=environment,
                            check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return figures


def main() -> int:
    if sys.argv[1:] == ["--click-json"]:
        print(json.dumps(click_paint()))
        return 0
    for name, value in {**redraw_million(), **click_paint()}.items():
        print(f"{name:28} {value:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
