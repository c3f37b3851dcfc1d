"""What the app remembers between runs (QSettings): window layout and the learner's settings.

Everything read back is checked: a hand-edited or corrupt settings file falls back to the
defaults for the values it spoils, and the app still starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings

from gui_trainer.core.session import DEFAULT_INPUTS, MODES, OPTIMIZERS, micro_batch_counts
from gui_trainer.core.validation import parse_learning_rate
from gui_trainer.qt.theme import THEME_CHOICES

if TYPE_CHECKING:
    from gui_trainer.qt.main_window import MainWindow

#: Bump when the dock layout changes so an old saved layout is not forced onto a new one.
LAYOUT_VERSION = 2


def _bytes(value: object) -> QByteArray | None:
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def save(window: MainWindow, settings: QSettings | None = None) -> None:
    store = settings or QSettings()
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("window/state", window.saveState(LAYOUT_VERSION))
    store.setValue("window/plot_splitter", window.plot_splitter.saveState())
    store.setValue("window/lower_plots", window.lower_plots.saveState())
    session = window.session
    store.setValue("session/mode", session.mode)
    store.setValue("session/lr", repr(session.lr))
    store.setValue("session/optimizer", session.optimizer_name)
    store.setValue("session/micro_batches", session.micro_batches)
    store.setValue("auto/speed", window.trainer.speed)
    store.setValue("auto/epochs", window.trainer.target)
    store.setValue("view/theme", window.theme_choice)
    store.sync()


def session_settings(settings: QSettings | None = None) -> tuple[dict[str, Any], list[str]]:
    """The saved session settings as TrainingSession keywords, so they are the start state
    (not actions on the timeline that Undo would take back)."""
    store = settings or QSettings()
    kwargs: dict[str, Any] = {}
    problems: list[str] = []
    mode = store.value("session/mode")
    if mode in MODES:
        kwargs["mode"] = mode
    elif mode is not None:
        problems.append("mode")
    lr = store.value("session/lr")
    if lr is not None:
        try:
            kwargs["lr"] = parse_learning_rate(lr)
        except ValueError:
            problems.append("learning rate")
    optimizer = store.value("session/optimizer")
    if optimizer in OPTIMIZERS:
        kwargs["optimizer"] = optimizer
    elif optimizer is not None:
        problems.append("optimizer")
    micro = _int(store.value("session/micro_batches"))
    if micro in micro_batch_counts(len(DEFAULT_INPUTS)):
        kwargs["micro_batches"] = micro
    elif micro is not None:
        problems.append("micro-batches")
    return kwargs, problems


def restore_window(window: MainWindow, settings: QSettings | None = None) -> list[str]:
    """Apply the saved layout and view settings; return what could not be used."""
    store = settings or QSettings()
    problems: list[str] = []
    geometry = _bytes(store.value("window/geometry"))
    if geometry is not None and not window.restoreGeometry(geometry):
        problems.append("window size")
    state = _bytes(store.value("window/state"))
    if state is not None and not window.restoreState(state, LAYOUT_VERSION):
        problems.append("panel layout")
    for key, splitter in (("window/plot_splitter", window.plot_splitter),
                          ("window/lower_plots", window.lower_plots)):
        saved = _bytes(store.value(key))
        if saved is not None and not splitter.restoreState(saved):
            problems.append("panel sizes")
    speed = _int(store.value("auto/speed"))
    if speed is not None:
        window.auto_panel.speed.setValue(speed)
    epochs = _int(store.value("auto/epochs"))
    if epochs is not None and epochs > 0:
        window.auto_panel.epochs.setValue(epochs)
    theme = store.value("view/theme")
    if theme in THEME_CHOICES:
        window.set_theme(theme)
    elif theme is not None:
        problems.append("theme")
    return problems


def _int(value: object) -> int | None:
    try:
        return None if value is None else int(str(value))
    except ValueError:
        return None
