"""Every kind of change goes through the controller and is announced the same way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from gui_trainer.core.session import TrainingSession
from gui_trainer.qt.controller import SessionController

SIGNALS = ("changed", "settings_changed", "stage_run", "rewound", "was_reset", "message")


class Recorder:
    def __init__(self, controller: SessionController) -> None:
        self.counts: Counter[str] = Counter()
        for name in SIGNALS:
            getattr(controller, name).connect(
                lambda *_args, name=name: self.counts.update([name]))

    def take(self) -> dict[str, int]:
        counts, self.counts = dict(self.counts), Counter()
        return counts


def trained(epochs: int = 2) -> SessionController:
    session = TrainingSession()
    for _ in range(epochs):
        session.run_epoch()
    return SessionController(session)


CHANGES: dict[str, tuple[Callable[[SessionController], object], dict[str, int]]] = {
    # The stage's status line is the window's, drawn with the frame that shows the stage.
    "stage": (lambda c: c.run_stage("zero_grad"),
              {"stage_run": 1, "changed": 1}),
    "learning rate": (lambda c: c.set_lr("0.1"),
                      {"message": 1, "settings_changed": 1, "changed": 1}),
    "mode": (lambda c: c.set_mode("free"),
             {"message": 1, "settings_changed": 1, "changed": 1}),
    "optimizer": (lambda c: c.set_optimizer("adam"),
                  {"message": 1, "settings_changed": 1, "changed": 1}),
    "set_to_none": (lambda c: c.set_zero_grad_to_none(False),
                    {"message": 1, "settings_changed": 1, "changed": 1}),
    "micro-batches": (lambda c: c.set_micro_batches(2),
                      {"message": 1, "settings_changed": 1, "changed": 1}),
    "restart": (lambda c: c.reset(),
                {"message": 1, "was_reset": 1, "settings_changed": 1, "changed": 1}),
    "undo": (lambda c: c.undo(),
             {"rewound": 1, "settings_changed": 1, "changed": 1, "message": 1}),
    "jump": (lambda c: c.jump_to(3),
             {"rewound": 1, "settings_changed": 1, "changed": 1, "message": 1}),
    "jump past the end": (lambda c: c.jump_to(10_000),  # clamped to the end, never an error
                          {"rewound": 1, "settings_changed": 1, "changed": 1, "message": 1}),
}


@pytest.mark.parametrize("name", CHANGES)
def test_each_change_is_announced(qtbot: QtBot, name: str) -> None:
    controller = trained()
    if name == "jump past the end":
        controller.undo()
    recorder = Recorder(controller)
    before = controller.session.position
    change, expected = CHANGES[name]
    change(controller)
    assert recorder.take() == expected
    assert controller.session.position != before  # it really is a change on the timeline


def test_redo_and_rewind_are_announced_like_undo(qtbot: QtBot) -> None:
    controller = trained()
    controller.undo()
    recorder = Recorder(controller)
    controller.redo()
    assert recorder.take() == {"rewound": 1, "settings_changed": 1, "changed": 1, "message": 1}
    controller.set_lr("1000")
    for _ in range(40):
        controller.session.run_epoch()
    recorder.take()
    controller.rewind_before_divergence()
    assert recorder.take() == {"rewound": 1, "settings_changed": 1, "changed": 1, "message": 1}


def test_a_refusal_or_no_change_announces_only_a_message_or_nothing(qtbot: QtBot) -> None:
    controller = trained()
    recorder = Recorder(controller)
    assert controller.run_stage("step") is None  # guided: zero_grad is next
    assert controller.set_lr("abc") is not None
    assert recorder.take() == {"message": 2}
    controller.set_lr("0.01")  # the rate in force: nothing happens
    controller.set_mode("guided")
    controller.set_optimizer("sgd")
    controller.jump_to(controller.session.position)
    assert recorder.take() == {}
