"""The parameters, their gradients, the loss and the epoch, as the session holds them now.

The one neuron shows its weight and bias number by number; a layered model one line per
tensor (shape, norm, gradient norm), and a classifier its accuracy.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QWidget

from gui_trainer.core.formatting import full, short
from gui_trainer.core.stages import LABELS
from gui_trainer.core.view_state import SessionView

ROWS = (
    ("weight", "weight"),
    ("bias", "bias"),
    ("weight_grad", "weight.grad"),
    ("bias_grad", "bias.grad"),
    ("tensors", "parameters"),
    ("loss", "loss"),
    ("accuracy", "accuracy"),
    ("epoch", "epoch"),
    ("iteration", "iteration"),
    ("next", "next stage"),
)


class Readout(QGroupBox):
    """Plain numbers, short on screen and exact in the tooltip (select to copy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Values now", parent)
        form = self.form = QFormLayout(self)
        self.values: dict[str, QLabel] = {}
        # A font, not a stylesheet: a stylesheet freezes the label's colours at the theme it
        # was polished in, and the numbers went near-invisible after a switch.
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(mono.pointSizeF(), self.font().pointSizeF()) * 1.1)
        for key, title in ROWS:
            label = QLabel("–", self)
            label.setObjectName(f"readout_{key}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setFont(mono)
            form.addRow(f"{title}:", label)
            self.values[key] = label

    def _show_rows(self, state: SessionView) -> None:
        one = state.one_neuron
        shown = {"weight": one, "bias": one, "weight_grad": one, "bias_grad": one,
                 "tensors": not one, "accuracy": state.scenario.task == "classification",
                 "iteration": state.iterations_per_epoch > 1}
        for key, visible in shown.items():
            self.form.setRowVisible(self.values[key], visible)

    def refresh(self, state: SessionView) -> None:
        self._show_rows(state)
        params = state.params
        loss = state.loss
        numbers: dict[str, float | None] = {"loss": loss}
        if state.one_neuron:
            numbers.update(weight=params.weight, bias=params.bias,
                           weight_grad=params.weight_grad, bias_grad=params.bias_grad)
        else:
            # Columns, not sentences: a sentence per tensor made the side column too wide.
            width = max(len(t.name) for t in params.tensors) + 2
            rows = [f"{'tensor':<{width}}{'‖p‖':<9}‖grad‖", *(
                f"{t.name:<{width}}{short(t.norm, 3):<9}{short(t.grad_norm, 3)}"
                for t in params.tensors)]
            self.values["tensors"].setText("\n".join(rows))
            self.values["tensors"].setToolTip(
                "Each tensor of model.named_parameters(): its norm ‖p‖ and the norm of its "
                ".grad (None while .grad is None). Shapes and more: the Layers panel.")
        record = state.history
        if state.scenario.task == "classification":
            accuracy = record.column("accuracy")
            self.values["accuracy"].setText(
                f"{accuracy[-1]:.1%} (before the last step)" if len(accuracy) else "–")
        for key, value in numbers.items():
            self.values[key].setText(short(value))
            self.values[key].setToolTip(full(value))
        self.values["epoch"].setText(str(state.epoch))
        self.values["iteration"].setText(
            f"{state.iteration} of {state.iterations_per_epoch} ({state.steps} steps done)")
        self.values["iteration"].setToolTip(
            "Each step takes the next batch the DataLoader gives; an epoch is one pass over "
            "every training row: len(loader) batches.")
        self.values["next"].setText(LABELS[state.next_stage])
