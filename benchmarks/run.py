"""Performance harness: every claim is a ratio against a baseline measured in the same run.

    make bench

1. Simulator overhead: epochs per second through ``TrainingSession.run`` (records, history,
   timeline) against the same five calls in a bare PyTorch loop.
2. Redraw throttling: auto-train with the app's frame-throttled plots against redrawing every
   plot after every epoch (the naive way), both through the real window offscreen.
3. Memory per step of a long run: history and timeline bytes per completed step.
4. Earlier runs: a click's frame with 300 earlier runs on the loss plot against none.
5. The seed scenario against the one-neuron-only core it grew from (the commit before the
   core was generalized, taken from git history): epochs per second, alternating runs.
6. A network's landscape: a 31 × 31 slice and the path plane against one training epoch of
   the same network, and the weights the path keeps after a long run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch
from torch import nn

from gui_trainer.core import TrainingSession
from gui_trainer.core.session import DEFAULT_INPUTS, DEFAULT_TARGETS

EPOCHS = 2000
#: Redrawing every epoch costs ~0.1 s an epoch offscreen, so the window comparison is shorter.
WINDOW_EPOCHS = 150
REPEATS = 3


def best_of(run: Callable[[], float]) -> float:
    return min(run() for _ in range(REPEATS))


def bare_pytorch() -> float:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 1))
    x, y = torch.tensor(DEFAULT_INPUTS), torch.tensor(DEFAULT_TARGETS)
    loss_fn, opt = nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def simulator() -> float:
    session = TrainingSession()
    start = time.perf_counter()
    for _ in range(EPOCHS):
        session.run_epoch()
    return time.perf_counter() - start


def window_auto_train(throttled: bool, epochs: int | None = None) -> tuple[float, int]:
    from PySide6.QtWidgets import QApplication

    from gui_trainer.app import create_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = create_window(remember=False)
    window.show()
    draws = 0
    if not throttled:
        def redraw_every_epoch() -> None:
            nonlocal draws
            window._draw_frame()
            draws += 1
        window.controller.changed.connect(redraw_every_epoch)
        # One epoch per batch, so "changed" fires once per epoch.
        import gui_trainer.qt.run_driver as auto
        auto.BATCH_BUDGET_S = 0.0
    window.auto_panel.speed.setValue(window.auto_panel.speed.maximum())
    window.auto_panel.epochs.setValue(epochs or WINDOW_EPOCHS)
    start = time.perf_counter()
    window.actions_by_name["train_start"].trigger()
    while window.trainer.state != "idle":
        app.processEvents()
    elapsed = time.perf_counter() - start
    if throttled:
        draws = window.frame.draws
    else:
        import gui_trainer.qt.run_driver as auto
        auto.BATCH_BUDGET_S = 0.012
    window.close()
    window.deleteLater()
    app.processEvents()
    return elapsed, draws


def click_frame_s(earlier_runs: int) -> float:
    """Median time of a click's frame (run an epoch, draw, paint) with earlier runs kept."""
    from PySide6.QtWidgets import QApplication

    from gui_trainer.app import create_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = create_window(remember=False)
    window.resize(1600, 1000)
    window.show()
    for _ in range(earlier_runs):
        window.session.run_epoch()
        window.controller.reset()
    times = []
    for _ in range(31):
        start = time.perf_counter()
        window.session.run_epoch()
        window.controller.publish(None)
        window.frame.flush()
        window.repaint()
        app.processEvents()
        times.append(time.perf_counter() - start)
    window.close()
    window.deleteLater()
    app.processEvents()
    return statistics.median(times[1:])


#: The last commit whose core knew only the one neuron (before "Scenarios beyond one neuron").
ONE_NEURON_CORE = "2636a8f"
VERSION_REPEATS = 5
#: Epochs per second of the seed scenario through TrainingSession.run_epoch, in a child process
#: so each version imports its own gui_trainer.
SEED_SPEED = """
import sys, time
sys.path.insert(0, sys.argv[1])
from gui_trainer.core import TrainingSession
session = TrainingSession()
for _ in range(200):
    session.run_epoch()
start = time.process_time()  # CPU time: what another process does to the machine counts less
for _ in range({epochs}):
    session.run_epoch()
print({epochs} / (time.process_time() - start))
"""


def seed_speed(root: str) -> float:
    script = SEED_SPEED.format(epochs=EPOCHS)
    out = subprocess.run([sys.executable, "-c", script, root], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def against_one_neuron_core() -> str:
    """The seed scenario now against the core before it was generalized, same machine."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(["git", "-C", here, "archive", ONE_NEURON_CORE, "gui_trainer",
                                  "resources"], capture_output=True)
        if archive.returncode != 0:
            return f"skipped: commit {ONE_NEURON_CORE} is not in this clone's history"
        tar_path = os.path.join(old, "old.tar")
        with open(tar_path, "wb") as handle:
            handle.write(archive.stdout)
        with tarfile.open(tar_path) as tar:
            tar.extractall(old, filter="data")
        now, before = [], []
        for _ in range(VERSION_REPEATS):  # alternating: drift in the machine hits both alike
            before.append(seed_speed(old))
            now.append(seed_speed(here))
    best_now, best_before = max(now), max(before)
    return (f"{best_now:.0f} epochs/s now against {best_before:.0f} with the one-neuron core "
            f"({ONE_NEURON_CORE}), best of {VERSION_REPEATS} each: ratio "
            f"{best_now / best_before:.2f}x")


def landscape_costs() -> list[str]:
    from gui_trainer.core.slices import path_plane, slice_grid, slice_job

    lines = []
    for name in ("moons", "spiral", "digits"):
        session = TrainingSession(scenario=name)
        epoch = best_of(lambda s=session: timed(s.run_epoch))  # type: ignore[misc]
        plane = path_plane(session)
        random = best_of(lambda s=session: timed(lambda: slice_grid(slice_job(s))))  # type: ignore[misc]
        on_plane = best_of(lambda p=plane: timed(lambda: slice_grid(p.job)))  # type: ignore[misc]
        lines.append(f"   {name:7} slice {random:5.2f} s, path plane {on_plane:5.2f} s = "
                     f"{random / epoch:,.0f} and {on_plane / epoch:,.0f} epochs' time "
                     f"(epoch {epoch * 1000:.1f} ms)")
    session = TrainingSession(scenario="moons")
    for _ in range(20_000):
        session.run_epoch()
    assert session.trail is not None
    lines.append(f"   the path kept after 20,000 moons epochs: {session.trail.nbytes:,} bytes "
                 f"({len(session.trail.points(session.history)[0])} points)")
    return lines


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> int:
    print(f"torch {torch.__version__}, {EPOCHS} epochs, best of {REPEATS}")
    bare = best_of(bare_pytorch)
    sim = best_of(simulator)
    print(f"1. bare PyTorch loop      {EPOCHS / bare:9.0f} epochs/s")
    print(f"   TrainingSession.run    {EPOCHS / sim:9.0f} epochs/s   "
          f"overhead ratio {sim / bare:.2f}x (records, history, timeline)")
    naive = [window_auto_train(throttled=False) for _ in range(2)]
    smart = [window_auto_train(throttled=True) for _ in range(2)]
    naive_s = statistics.median(t for t, _ in naive)
    smart_s = statistics.median(t for t, _ in smart)
    print(f"2. auto-train {WINDOW_EPOCHS} epochs in the window (offscreen), median of 2:")
    print(f"   redraw every epoch     {naive_s:7.2f} s, {naive[0][1]} redraws")
    print(f"   frame-throttled        {smart_s:7.2f} s, {smart[0][1]} redraws   "
          f"speed-up ratio {naive_s / smart_s:.1f}x")
    long_s, long_draws = window_auto_train(throttled=True, epochs=EPOCHS)
    print(f"   a long run, {EPOCHS} epochs: {EPOCHS / long_s:.0f} epochs/s with {long_draws} "
          f"redraws = {sim / long_s:.0%} of the core's own speed "
          "(the rest: drawing and the event loop)")
    session = TrainingSession()
    for _ in range(20_000):
        session.run_epoch()
    per_step = (session.history.nbytes + session.timeline.nbytes) / 20_000
    print(f"3. memory after 20,000 epochs: {per_step:.0f} bytes per step in the history and "
          f"timeline arrays (preallocated with doubling), plus "
          f"{session.timeline.checkpoint_count} checkpoints; `make soak` measures all of it "
          "as the process's growth")
    none, many = click_frame_s(0), click_frame_s(300)
    print(f"4. a click's frame with 300 earlier runs on the loss plot: {many * 1000:.0f} ms "
          f"against {none * 1000:.0f} ms with none, ratio {many / none:.2f}x")
    print(f"5. the seed scenario: {against_one_neuron_core()}")
    print("6. a network's landscape, 31 × 31 points (worker thread), best of 3:")
    for line in landscape_costs():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
