"""Cold start: how long a learner waits for the window, against the bare imports it needs.

    python benchmarks/startup.py            # offscreen, and on Xvfb when it is installed
    python benchmarks/startup.py --runs 7

The baseline is a fresh Python that imports torch, PySide6.QtWidgets and pyqtgraph and creates
a QApplication: no app can start faster than that. The app is a fresh Python running
``gui_trainer.app.main()`` itself (its settings, autosave and recent files in an empty
temporary folder, on Linux), stopped when the window's first paint is done. Both are timed from just
before the process is started to the moment it reports (Python's own start-up included, its
exit not), alternately, so that a busy moment of the machine hits both alike; one warm-up run
of each goes first (disk cache, and the app's bytecode is compiled and cached as on a learner's
machine: PYTHONDONTWRITEBYTECODE is unset for the children). The headline ratio is the median
app time over the median baseline time, on a virtual screen (Xvfb) when there is one, offscreen
otherwise. On a busy machine the wall times swing by a second; the ratio of each app run to
the baseline run before it, and the ratio of CPU times, swing far less (both are reported).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import sys, time
import torch
from PySide6.QtWidgets import QApplication
import pyqtgraph
app = QApplication(sys.argv[:1])
print("done", time.time(), time.process_time())
"""

#: ``main()`` itself, with a hook that reports the first painted frame. Phases are printed as
#: wall-clock times; the parent subtracts its own start time.
APP = """
import os, sys, time
import gui_trainer.app as app_module

def done():
    print("done", time.time(), time.process_time(), flush=True)
    os._exit(0)  # the exit is not part of the wait

def watch_first_paint(app):
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        seen = False
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                QTimer.singleShot(0, done)  # after every widget of this first frame painted
            return False

    app.first_paint = FirstPaint()
    app.installEventFilter(app.first_paint)

# Hooks around main()'s own steps: nothing is imported earlier or in another order.
make_application, make_window = app_module._application, app_module.create_window
def application():
    app = make_application()
    if not hasattr(app, "first_paint"):
        watch_first_paint(app)
    return app

def create_window(**kwargs):
    print("window", time.time())
    window = make_window(**kwargs)
    print("built", time.time())
    return window

app_module._application, app_module.create_window = application, create_window
sys.exit(app_module.main([]))
"""


def _run(script: str, env: dict[str, str]) -> dict[str, float]:
    """Seconds from just before the start to each phase the child reports."""
    start = time.time()
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    phases = {}
    for line in done.stdout.splitlines():
        name, *stamps = line.split()
        if name in ("window", "built", "done"):
            phases[name] = float(stamps[0]) - start
        if name == "done":
            phases["cpu"] = float(stamps[1])  # the process's CPU time, every thread
    if "done" not in phases:
        raise RuntimeError(f"the child never reported its first frame (exit code "
                           f"{done.returncode}):\n{done.stderr}")
    return phases


def _alternate(env: dict[str, str], runs: int) -> dict[str, float]:
    """``runs`` baseline and app starts, alternating, after one warm-up of each (disk cache)."""
    _run(BARE, env)
    _run(APP, env)
    bare_runs = []
    app: list[dict[str, float]] = []
    for _ in range(runs):
        bare_runs.append(_run(BARE, env))
        app.append(_run(APP, env))
    bare = [b["done"] for b in bare_runs]
    window = [a["done"] for a in app]
    bare_cpu = statistics.median(b["cpu"] for b in bare_runs)
    window_cpu = statistics.median(a["cpu"] for a in app)
    median_bare, median_window = statistics.median(bare), statistics.median(window)
    return {
        "bare_s": median_bare,
        "window_s": median_window,
        "ratio": median_window / median_bare,
        "bare_min_s": min(bare),
        "window_min_s": min(window),
        "ratio_of_min": min(window) / min(bare),
        # Each app run against the baseline run just before it: steadier on a busy machine.
        "paired_ratio": statistics.median(w / b for w, b in zip(window, bare, strict=True)),
        # CPU time (all threads) rather than wall time: what other work on the machine
        # changes least (it cannot show waiting for the disk or the X server).
        "bare_cpu_s": bare_cpu,
        "window_cpu_s": window_cpu,
        "cpu_ratio": window_cpu / bare_cpu,
        # Where the app's time goes (medians): from the start to create_window (Python,
        # whatever main() imports first, the QApplication); create_window (the rest of the
        # imports, the session, the window); then show() to the end of the first paint.
        "to_create_window_s": statistics.median(a["window"] for a in app),
        "build_s": statistics.median(a["built"] - a["window"] for a in app),
        "show_to_painted_s": statistics.median(a["done"] - a["built"] for a in app),
    }


def _free_display() -> str:
    for number in range(77, 120):
        if not (Path(f"/tmp/.X11-unix/X{number}").exists()
                or Path(f"/tmp/.X{number}-lock").exists()):
            return f":{number}"
    raise RuntimeError("no free X display number")


def cold_start(runs: int = 5) -> dict[str, float]:
    """Seconds to the bare imports and to the app's first painted window, and their ratio.

    Measured offscreen always (keys ``offscreen_*``) and on a private Xvfb screen when Xvfb
    is installed (``xvfb_*``; ``xvfb`` is 1.0 then, else 0.0). ``ratio``, ``bare_s`` and
    ``window_s`` are the headline: Xvfb's when measured, offscreen's otherwise.
    """
    base = dict(os.environ)
    for name in ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"):
        base.pop(name, None)
    with tempfile.TemporaryDirectory() as home:
        # No learner's settings, autosave or recent files are read or written.
        base.update(XDG_CONFIG_HOME=home, XDG_DATA_HOME=home, XDG_CACHE_HOME=home)
        result: dict[str, float] = {"runs": float(runs)}
        offscreen = _alternate({**base, "QT_QPA_PLATFORM": "offscreen"}, runs)
        result.update({f"offscreen_{key}": value for key, value in offscreen.items()})
        headline = offscreen
        xvfb = shutil.which("Xvfb") if sys.platform.startswith("linux") else None
        result["xvfb"] = 0.0
        if xvfb:
            display = _free_display()
            server = subprocess.Popen([xvfb, display, "-screen", "0", "1920x1080x24",
                                       "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.5)
                on_screen = _alternate({**base, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display},
                                       runs)
            finally:
                server.terminate()
                server.wait()
            result["xvfb"] = 1.0
            result.update({f"xvfb_{key}": value for key, value in on_screen.items()})
            headline = on_screen
        result.update(bare_s=headline["bare_s"], window_s=headline["window_s"],
                      ratio=headline["ratio"])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="alternating runs of each")
    args = parser.parse_args(argv)
    figures = cold_start(args.runs)
    print(f"cold start, {args.runs:.0f} alternating runs of each, medians (minimums):")
    screens = ["offscreen"] + (["xvfb"] if figures["xvfb"] else [])
    for screen in screens:
        f = {key.removeprefix(f"{screen}_"): value for key, value in figures.items()
             if key.startswith(f"{screen}_")}
        print(f"  {screen:9}  bare imports {f['bare_s']:.2f} s ({f['bare_min_s']:.2f}), "
              f"window painted {f['window_s']:.2f} s ({f['window_min_s']:.2f}), "
              f"ratio {f['ratio']:.2f}x ({f['ratio_of_min']:.2f}x), "
              f"run by run {f['paired_ratio']:.2f}x; CPU time {f['bare_cpu_s']:.2f} s against "
              f"{f['window_cpu_s']:.2f} s, {f['cpu_ratio']:.2f}x")
        print(f"             app: to create_window {f['to_create_window_s']:.2f} s, "
              f"create_window {f['build_s']:.2f} s, shown and painted "
              f"{f['show_to_painted_s']:.2f} s")
    print(f"  headline ({screens[-1]}): {figures['ratio']:.2f}x the bare imports "
          "(goal ≤ 1.25x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
