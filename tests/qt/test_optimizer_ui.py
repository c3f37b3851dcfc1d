"""Choosing an optimizer and its hyperparameters in the window; its state after a Step."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from gui_trainer.core.formatting import short
from gui_trainer.core.stages import STAGES
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.optimizer_dialog import OptimizerDialog


def plain(label: QLabel) -> str:
    """What a rich-text label reads as."""
    return QTextDocumentFragment.fromHtml(label.text()).toPlainText()


def rows(text: str) -> str:
    """The panel's table as lines of "label  value" (a cell is a line of its own)."""
    return text.replace("\xa0", " ").replace("\n ", "  ")


def choose(window: MainWindow, name: str) -> None:
    combo = window.settings.optimizer
    combo.setCurrentIndex(combo.findData(name))


def run_loop(window: MainWindow) -> None:
    for stage in STAGES:
        window.actions_by_name[stage].trigger()
    window.frame.flush()


def apply(dialog: OptimizerDialog, qtbot: QtBot) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Apply)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(dialog: OptimizerDialog, name: str, text: str) -> None:
    field = dialog.fields[name]
    assert isinstance(field, QLineEdit)
    field.setText(text)


def test_every_optimizer_is_on_offer_by_its_torch_name(window: MainWindow) -> None:
    combo = window.settings.optimizer
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "SGD", "RMSprop", "Adagrad", "Adam", "AdamW"]
    choose(window, "rmsprop")
    assert type(window.session.optimizer) is torch.optim.RMSprop
    assert plain(window.settings.hyper_summary) == "PyTorch's defaults"


def test_hyperparameters_are_applied_or_refused_with_a_reason(window: MainWindow,
                                                             qtbot: QtBot) -> None:
    optimizer = window.session.optimizer
    dialog = window.settings.edit_hyperparameters()
    assert dialog.isVisible() and set(dialog.fields) == {
        "momentum", "dampening", "nesterov", "weight_decay"}
    type_into(dialog, "momentum", "abc")
    apply(dialog, qtbot)
    assert dialog.isVisible() and "momentum must be a number" in plain(dialog.error)
    assert window.session.optimizer is optimizer  # nothing changed
    # PyTorch's own check: Nesterov needs momentum.
    type_into(dialog, "momentum", "0")
    nesterov = dialog.fields["nesterov"]
    assert isinstance(nesterov, QCheckBox)
    nesterov.setChecked(True)
    apply(dialog, qtbot)
    assert "Nesterov momentum requires a momentum" in plain(dialog.error)
    assert window.session.optimizer is optimizer
    type_into(dialog, "momentum", "0.9")
    apply(dialog, qtbot)
    window.frame.flush()
    assert not dialog.isVisible()
    group = window.session.optimizer.param_groups[0]
    assert (group["momentum"], group["nesterov"]) == (0.9, True)
    assert plain(window.settings.hyper_summary) == "momentum 0.9, nesterov on"
    assert "optimizer = SGD(momentum=0.9, nesterov=True)" in window.timeline_bar.label.text()


def test_the_optimizer_state_panel_shows_pytorchs_state_and_the_ledger(
        window: MainWindow) -> None:
    window.docks["optimizer"].show()
    window.docks["optimizer"].raise_()
    panel = window.optimizer_panel
    assert "Run Step to see" in panel.text()
    choose(window, "adam")
    run_loop(window)
    text = panel.text()
    weight = window.session.model.get_parameter("0.weight")
    exp_avg = float(window.session.optimizer.state[weight]["exp_avg"].reshape(-1)[0])
    assert "torch.optim.Adam" in text and "betas" not in text  # Adam's keywords are beta1/2
    assert f"state['exp_avg']  {short(exp_avg)}" in rows(text)
    assert "m̂ = m / (1 − β1ᵗ)" in text and "−lr × m̂ / (√v̂ + eps)" in text
    assert text.count("✓ the terms add up to PyTorch's change") == 2
    # Zero Grad and the next stages keep the last step in view; Restart clears it.
    window.actions_by_name["zero_grad"].trigger()
    window.frame.flush()
    assert "torch.optim.Adam" in panel.text()
    window.actions_by_name["reset"].trigger()
    window.frame.flush()
    assert "Run Step to see" in panel.text()


def test_sgd_without_momentum_says_its_state_is_empty(window: MainWindow) -> None:
    window.docks["optimizer"].show()
    window.docks["optimizer"].raise_()
    run_loop(window)
    text = window.optimizer_panel.text()
    assert "empty: SGD without momentum keeps nothing between steps" in text
    record = window.controller.latest["step"]
    assert record.optimizer_state is not None
    change = record.optimizer_state.ledger["0.weight"].change
    assert f"−lr × grad  {short(float(np.reshape(change, -1)[0]))}" in rows(text)


def test_enter_in_a_field_applies_instead_of_restoring_defaults(window: MainWindow,
                                                                qtbot: QtBot) -> None:
    dialog = window.settings.edit_hyperparameters()
    type_into(dialog, "momentum", "0.5")
    qtbot.keyClick(dialog.fields["momentum"], Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert window.session.optimizer.param_groups[0]["momentum"] == 0.5


def test_applying_the_same_values_keeps_the_optimizer_and_says_so(window: MainWindow,
                                                                  qtbot: QtBot) -> None:
    run_loop(window)
    optimizer = window.session.optimizer
    messages: list[str] = []
    window.controller.message.connect(messages.append)
    apply(window.settings.edit_hyperparameters(), qtbot)
    assert window.session.optimizer is optimizer
    assert messages and "already has these hyperparameters" in messages[-1]
    assert "started fresh" not in " ".join(messages)
