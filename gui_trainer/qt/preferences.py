"""What the app remembers between runs (QSettings): window layout and the learner's settings.

Everything read back is checked — type, range, finite, size — before it is used: a
hand-edited or corrupt settings file falls back to the defaults for the values it spoils,
each is named in one message, and each is removed from the file so that junk (a 10 MB
value, say) is not carried along and written back on every close.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings

from gui_trainer.core.scenarios import DEFAULT_SCENARIO
from gui_trainer.core.session import DEFAULT_INPUTS, MODES, OPTIMIZERS, micro_batch_counts
from gui_trainer.core.validation import parse_learning_rate
from gui_trainer.qt.auto_train import MAX_EPOCHS, SPEEDS
from gui_trainer.qt.theme import THEME_CHOICES

if TYPE_CHECKING:
    from gui_trainer.qt.main_window import MainWindow

#: Bump when the dock layout changes so an old saved layout is not forced onto a new one.
LAYOUT_VERSION = 4
#: A saved layout is a few KB; anything far larger is not one of ours.
MAX_LAYOUT_BYTES = 256 * 1024
#: Plain values (a mode, a number) are a few characters.
MAX_TEXT = 64


def _layout(value: object) -> QByteArray:
    if not isinstance(value, QByteArray) or value.isEmpty() or value.size() > MAX_LAYOUT_BYTES:
        raise ValueError("not a saved layout")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValueError("not a short text")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = _text(value)
        if text not in options:
            raise ValueError(f"not one of {options}")
        return text
    return parse


def _int_in(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        text = _text(value) if not isinstance(value, int) or isinstance(value, bool) else str(value)
        if not text.isascii() or not text.lstrip("-").isdigit():
            raise ValueError("not a whole number")
        number = int(text)
        if not low <= number <= high:
            raise ValueError(f"outside {low}–{high}")
        return number
    return parse


def _lr(value: object) -> float:
    return parse_learning_rate(_text(value))


#: Every key the app reads: its name in messages and how to check it.
SCHEMA: dict[str, tuple[str, Callable[[object], Any]]] = {
    "session/mode": ("mode", _choice(MODES)),
    "session/lr": ("learning rate", _lr),
    "session/optimizer": ("optimizer", _choice(OPTIMIZERS)),
    "session/micro_batches": ("micro-batches",
                              _int_in(1, max(micro_batch_counts(len(DEFAULT_INPUTS))))),
    "auto/speed": ("auto-train speed", _int_in(0, len(SPEEDS) - 1)),
    "auto/epochs": ("auto-train epochs", _int_in(1, MAX_EPOCHS)),
    "view/theme": ("theme", _choice(THEME_CHOICES)),
    "window/geometry": ("window size", _layout),
    "window/state": ("panel layout", _layout),
    "window/plot_splitter": ("panel sizes", _layout),
    "window/lower_plots": ("panel sizes", _layout),
}


def read(store: QSettings, key: str, problems: list[str]) -> Any:
    """The checked value of ``key``, or None if absent or unusable (then named and removed)."""
    value = store.value(key)
    if value is None:
        return None
    name, parse = SCHEMA[key]
    try:
        return parse(value)
    except (ValueError, TypeError, OverflowError):
        if name not in problems:
            problems.append(name)
        store.remove(key)  # never carried along or written back
        return None


def save(window: MainWindow, settings: QSettings | None = None) -> None:
    store = settings or QSettings()
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("window/state", window.saveState(LAYOUT_VERSION))
    store.setValue("window/layout_version", LAYOUT_VERSION)
    store.setValue("window/plot_splitter", window.plot_splitter.saveState())
    store.setValue("window/lower_plots", window.lower_plots.saveState())
    store.setValue("session/mode", window.session.mode)
    # The app starts on the seed scenario: only its own settings are worth restoring (moons'
    # Adam at 0.01 or a split of 200 samples into 5 would not fit the four deliveries).
    session = window.controller.session_of(DEFAULT_SCENARIO)
    if session is not None:
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
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    for key, keyword in (("session/mode", "mode"), ("session/lr", "lr"),
                         ("session/optimizer", "optimizer"),
                         ("session/micro_batches", "micro_batches")):
        value = read(store, key, problems)
        if value is not None:
            kwargs[keyword] = value
    if kwargs.get("micro_batches") not in (None, *micro_batch_counts(len(DEFAULT_INPUTS))):
        problems.append("micro-batches")
        store.remove("session/micro_batches")
        del kwargs["micro_batches"]
    return kwargs, problems


def restore_window(window: MainWindow, settings: QSettings | None = None) -> list[str]:
    """Apply the saved layout and view settings; return what could not be used."""
    store = settings or QSettings()
    problems: list[str] = []
    if str(store.value("window/layout_version")) != str(LAYOUT_VERSION):
        # A layout saved by an older version: not a problem to report, just not used.
        for key in ("window/state", "window/main_splitter", "window/plot_splitter",
                    "window/lower_plots"):
            store.remove(key)
    geometry = read(store, "window/geometry", problems)
    if geometry is not None and not window.restoreGeometry(geometry):
        problems.append("window size")
    state = read(store, "window/state", problems)
    if state is not None and not window.restoreState(state, LAYOUT_VERSION):
        problems.append("panel layout")
    for key, splitter in (("window/plot_splitter", window.plot_splitter),
                          ("window/lower_plots", window.lower_plots)):
        saved = read(store, key, problems)
        if saved is not None and not splitter.restoreState(saved) and "panel sizes" not in problems:
            problems.append("panel sizes")
    speed = read(store, "auto/speed", problems)
    if speed is not None:
        window.auto_panel.speed.setValue(speed)
    epochs = read(store, "auto/epochs", problems)
    if epochs is not None:
        window.auto_panel.epochs.setValue(epochs)
    theme = read(store, "view/theme", problems)
    if theme is not None:
        window.set_theme(theme)
    return problems
