"""``gui-trainer --smoke``: the real window, real epochs through the buttons' own code.

CI and the bundle test run this to prove that everything the app loads at run time is there:
Qt plugins, pyqtgraph, torch (SGD, and Adam, which imports more of torch lazily), resources.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from gui_trainer.core.stages import STAGES
from gui_trainer.qt.main_window import MainWindow

SMOKE_EPOCHS = 3
AUTO_EPOCHS = 20
#: Enough for a few frames' growths from the training process (~1,000 epochs a second).
PROCESS_EPOCHS = 1500
TIMEOUT_S = 60.0


class SmokeFailure(RuntimeError):
    pass


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def _train_by_clicks(window: MainWindow, epochs: int) -> None:
    for _ in range(epochs):
        for stage in STAGES:
            window.step_buttons.buttons[stage].click()
            QApplication.processEvents()
            record = window.controller.last_record
            _check(record is not None and record.stage == stage and record.ok,
                   f"the {stage} button did not run its stage")


def _auto_train(app: QApplication, window: MainWindow, epochs: int) -> None:
    window.trainer.target = epochs
    window.auto_panel.speed.setValue(window.auto_panel.speed.maximum())
    window.actions_by_name["train_start"].trigger()
    deadline = time.monotonic() + TIMEOUT_S
    while window.trainer.state != "idle":
        _check(time.monotonic() < deadline, "auto-train did not finish in time")
        app.processEvents()
        time.sleep(0.001)
    _check(window.trainer.done == epochs, f"auto-train ran {window.trainer.done} of {epochs}")


def _train_in_the_process(app: QApplication, window: MainWindow) -> None:
    """Auto-train at full speed in the training process (a second interpreter: in the
    bundle, the program started again), its growths taken over by the window."""
    process = window.trainer.driver.process
    _check(process is not None, "the window has no training process")
    assert process is not None
    process.launch()
    deadline = time.monotonic() + TIMEOUT_S
    while not process.ready:
        _check(not process.failed, "the training process could not start")
        _check(time.monotonic() < deadline, "the training process did not start in time")
        app.processEvents()
        time.sleep(0.01)
    growths: list[int] = []
    process.grown.connect(lambda _growth, done: growths.append(done))
    start = window.session.epoch
    _auto_train(app, window, PROCESS_EPOCHS)
    _check(len(growths) >= 2, f"the window took {len(growths)} growths from the process")
    _check(not process.failed, "the training process failed")
    _check(window.session.epoch == start + PROCESS_EPOCHS, "the process's epochs were lost")


def _show_landscape(app: QApplication, window: MainWindow) -> None:
    """The landscape: torch.func's vmap and functional_call (the one neuron's exact map)."""
    window.docks["landscape"].show()
    window.docks["landscape"].raise_()
    window.refresh_now()
    app.processEvents()
    panel = window.landscape_panel
    panel._compute_surface()
    _check(panel.surface.image is not None, "the loss landscape was not drawn")


def _train_a_network(app: QApplication, window: MainWindow) -> None:
    """A layered model too: its graph layout (grandalf), per-tensor views, cross-entropy,
    and its landscape (a slice and the path's plane, by SVD) computed in a worker thread."""
    window.scenario_menu.actions_by_name["moons"].trigger()
    _check(window.session.scenario.name == "moons", "could not open the moons scenario")
    window.docks["graph"].raise_()
    _train_by_clicks(window, 1)
    _check(bool(window.graph_view.boxes), "the network's graph was not drawn")
    _auto_train(app, window, AUTO_EPOCHS)
    window.docks["landscape"].raise_()
    window.refresh_now()
    panel = window.landscape_panel
    for button, kind in ((panel.slice_button, "slice"), (panel.plane_button, "plane")):
        button.click()
        deadline = time.monotonic() + TIMEOUT_S
        while panel.slicing:
            _check(time.monotonic() < deadline, f"the landscape {kind} did not finish in time")
            app.processEvents()
            time.sleep(0.01)
        _check(panel.network_view == kind, f"the network's landscape {kind} was not drawn")
    _check(panel.surface.image is not None, "the network's landscape was not drawn")


def _save_and_open(window: MainWindow) -> None:
    """A session file (zip, JSON, safetensors) written and read back into the window."""
    before = window.session
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "smoke.gtrain"
        window.files.ask_save = lambda _suggested: str(path)
        _check(window.files.save_as(), "the session could not be saved")
        _check(window.files.open(path), "the saved session could not be opened")
    _check(window.session is not before and window.session.epoch == before.epoch
           and window.session.params() == before.params(),
           "the opened session is not the saved one")


def run_smoke(app: QApplication,
              create_window: Callable[..., MainWindow]) -> int:
    """``create_window`` is the app's factory, passed in: the Qt layer never imports the app."""
    started = time.monotonic()
    # An exception in a slot does not stop Qt: it reaches sys.excepthook. Any at all fails.
    errors: list[str] = []
    previous_hook = sys.excepthook
    sys.excepthook = lambda kind, value, _tb: errors.append(f"{kind.__name__}: {value}")
    try:
        window = create_window(remember=False)  # never touch the learner's saved settings
        window.show()
        app.processEvents()
        _check(not window.windowIcon().isNull() or not app.windowIcon().isNull(),
               "the application icon did not load")
        first = window.session.params()
        _train_by_clicks(window, SMOKE_EPOCHS)
        _check(window.session.epoch == SMOKE_EPOCHS, "epochs were not counted")
        _check(window.session.params() != first, "SGD did not move the weights")
        _auto_train(app, window, AUTO_EPOCHS)
        _train_in_the_process(app, window)
        sgd_loss = window.session.history.column("loss")[-1]
        _check(math.isfinite(sgd_loss), "SGD loss is not finite")
        window.settings.optimizer.setCurrentIndex(window.settings.optimizer.findData("adam"))
        _check(window.session.optimizer_name == "adam", "could not switch to Adam")
        _train_by_clicks(window, SMOKE_EPOCHS)
        _auto_train(app, window, AUTO_EPOCHS)
        window.refresh_now()
        adam_epochs, adam_loss = window.session.epoch, window.session.history.column("loss")[-1]
        _show_landscape(app, window)
        _train_a_network(app, window)
        window.refresh_now()
        _save_and_open(window)
        # The sessions kept for Back have unsaved work: closing would ask a person.
        window.files.ask_unsaved = lambda *_args: "discard"
        window.files.ask_close_others = lambda *_args: True
        window.close()
        _check(not window.isVisible(), "the window did not close")
        _check(not errors, f"{len(errors)} exception(s) in the window, the first: {errors[0]}"
               if errors else "")
    except Exception as exc:  # report any failure as a non-zero exit, with its reason
        print(f"smoke: FAILED: {type(exc).__name__}: {exc}")
        return 1
    finally:
        sys.excepthook = previous_hook
    elapsed = time.monotonic() - started
    print(
        f"smoke: ok — {adam_epochs} epochs (SGD, {PROCESS_EPOCHS} of them in the training "
        f"process, then Adam), final loss {adam_loss:.6g}; "
        f"moons {window.session.epoch} epochs, loss "
        f"{window.session.history.column('loss')[-1]:.6g}; {elapsed:.1f} s"
    )
    return 0
