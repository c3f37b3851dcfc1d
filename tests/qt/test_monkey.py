"""A GUI monkey: the real window, random clicks, menus, typing, keys, wheels and drags.

It fails on any exception raised inside Qt (pytest-qt's capture), any Qt warning or critical
message (``qt_log_level_fail``), and any single action slower than ``SLOW_S``. A handful of
seeds run in ``make test``; ``make monkey`` runs many more (``MONKEY_SEEDS``, ``MONKEY_ACTIONS``).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QSlider,
    QWidget,
)
from pytestqt.qtbot import QtBot

from gui_trainer.app import create_window
from gui_trainer.qt.exports import Exports
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.session_files import SessionFiles

SEEDS = [int(s) for s in os.environ.get("MONKEY_SEEDS", "1,2,3").split(",")]
ACTIONS = int(os.environ.get("MONKEY_ACTIONS", "120"))
#: One action (and the event loop turn after it) must not take longer than this.
SLOW_S = 3.0
#: What a monkey types: numbers good and bad, junk, huge, empty.
TEXTS = ["0.1", "1", "abc", "-3", "1e9", "nan", "0", "", "2", "1e-300", "\u0661", "99999999",
         "0.05", " 0.3 ", "inf"]
KEYS: list[tuple[Qt.Key, Qt.KeyboardModifier]] = [
    *((key, Qt.KeyboardModifier.NoModifier) for key in (
        Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_Space,
        Qt.Key.Key_Escape, Qt.Key.Key_Tab, Qt.Key.Key_Return)),
    *((key, Qt.KeyboardModifier.ControlModifier) for key in (
        Qt.Key.Key_Z, Qt.Key.Key_T, Qt.Key.Key_P, Qt.Key.Key_B, Qt.Key.Key_R)),
    (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier),
]
#: Menu actions a monkey must not take: Quit ends the run it is testing.
SKIP_ACTIONS = {"quit"}


def visible(window: MainWindow, kind: type[QWidget]) -> list[QWidget]:
    return [w for w in window.findChildren(kind) if w.isVisible() and w.isEnabled()]


class Monkey:
    def __init__(self, window: MainWindow, qtbot: QtBot, seed: int) -> None:
        self.window, self.qtbot, self.rng = window, qtbot, random.Random(seed)
        self.log: list[str] = []

    def act(self) -> None:
        moves: list[Callable[[], None]] = [
            self.click_button, self.click_button, self.click_button, self.menu_action,
            self.type_text, self.press_key, self.press_key, self.wheel, self.slide,
            self.choose, self.wait,
        ]
        self.rng.choice(moves)()

    def pick(self, items: list[QWidget]) -> QWidget | None:
        return self.rng.choice(items) if items else None

    def click_button(self) -> None:
        button = self.pick(visible(self.window, QAbstractButton))
        if button is not None:
            self.log.append(f"click {button.objectName() or button.text()!r}")  # type: ignore[attr-defined]
            self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton,
                                  pos=QPoint(min(8, button.width() - 1), button.height() // 2))

    def menu_action(self) -> None:
        actions = [(name, a) for name, a in self.window.actions_by_name.items()
                   if a.isEnabled() and name not in SKIP_ACTIONS]
        actions += [(k, a) for k, a in self.window.experiment_actions.items() if a.isEnabled()]
        name, action = self.rng.choice(actions)
        self.log.append(f"menu {name}")
        action.trigger()

    def type_text(self) -> None:
        field = self.pick(visible(self.window, QLineEdit) + visible(self.window, QAbstractSpinBox))
        if field is None:
            return
        text = self.rng.choice(TEXTS)
        self.log.append(f"type {text!r} into {field.objectName()!r}")
        self.qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
        edit = field.lineEdit() if isinstance(field, QAbstractSpinBox) else field
        edit.selectAll()  # type: ignore[attr-defined]
        for char in text:
            if char.isascii():
                self.qtbot.keyClick(field, char)
            else:  # QTest only types ASCII (it aborts otherwise): send the key event itself
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(field, QKeyEvent(
                        kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char))
        self.qtbot.keyClick(field, self.rng.choice([Qt.Key.Key_Return, Qt.Key.Key_Tab]))

    def press_key(self) -> None:
        key, modifiers = self.rng.choice(KEYS)
        self.log.append(f"key {key.name} {modifiers}")
        target = QApplication.focusWidget() or self.window
        self.qtbot.keyClick(target, key, modifiers)

    def wheel(self) -> None:
        plots = [p.canvas for p in (self.window.fit_plot, self.window.loss_plot,
                                    self.window.grad_plot) if p.canvas.isVisible()]
        canvas = self.pick(plots)  # type: ignore[arg-type]
        if canvas is None:
            return
        notches = self.rng.choice([-40, -5, 5, 40])
        owner = canvas.parent()
        self.log.append(f"wheel {notches} on {owner.objectName() if owner else None}")
        centre = QPointF(canvas.width() / 2, canvas.height() / 2)
        for _ in range(abs(notches)):
            event = QWheelEvent(centre, canvas.mapToGlobal(centre), QPoint(),
                                QPoint(0, 120 if notches > 0 else -120),
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                Qt.ScrollPhase.NoScrollPhase, False)
            QApplication.sendEvent(canvas.viewport(), event)  # type: ignore[attr-defined]

    def slide(self) -> None:
        slider = self.pick(visible(self.window, QSlider))
        if isinstance(slider, QSlider):
            value = self.rng.randint(slider.minimum(), slider.maximum())
            self.log.append(f"slide {slider.objectName()!r} to {value}")
            slider.setValue(value)

    def choose(self) -> None:
        combo = self.pick(visible(self.window, QComboBox))
        if isinstance(combo, QComboBox) and combo.count():
            index = self.rng.randrange(combo.count())
            self.log.append(f"choose {combo.objectName()!r} #{index}")
            combo.setCurrentIndex(index)

    def wait(self) -> None:
        ms = self.rng.choice([10, 50, 200])
        self.log.append(f"wait {ms} ms")
        self.qtbot.wait(ms)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_monkey_cannot_break_the_window(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, seed: int, tmp_path: Path
) -> None:
    # Modal dialogs would wait for a person: count them and go on.
    dialogs: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: dialogs.append(box.text()) or 0)  # type: ignore[func-returns-value]
    monkeypatch.setattr(QMessageBox, "about", lambda *args: dialogs.append("about"))
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: dialogs.append(str(args[2])))
    # File dialogs answered: the monkey saves, opens what it saved, and exports.
    saved = tmp_path / "monkey.gtrain"
    monkeypatch.setattr(SessionFiles, "_ask_save", lambda _self, _suggested: str(saved))
    monkeypatch.setattr(SessionFiles, "_ask_open",
                        lambda _self: str(saved) if saved.exists() else None)
    monkeypatch.setattr(Exports, "_ask", lambda _self, _title, _suggested, _filters: (
        str(tmp_path / "export"), ""))
    window = create_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.experiments.interval_ms = 5
    monkey = Monkey(window, qtbot, seed)
    for _ in range(ACTIONS):
        start = time.perf_counter()
        monkey.act()
        QApplication.processEvents()
        spent = time.perf_counter() - start
        assert spent < SLOW_S, f"{monkey.log[-1]} took {spent:.1f} s; steps: {monkey.log[-20:]}"
        assert window.isVisible(), monkey.log[-20:]
    window.actions_by_name["train_stop"].trigger()
    # Still a working window: the next stage runs and the views draw it.
    window.actions_by_name["predict"].setChecked(False)  # else it would ask for a guess
    window.settings.mode_buttons["guided"].setChecked(True)
    before = window.session.stage_count
    window.actions_by_name["next_stage"].trigger()
    window.refresh_now()
    assert window.session.stage_count == before + 1
    assert not [d for d in dialogs if "Something went wrong" in d], dialogs
