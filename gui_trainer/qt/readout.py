"""Weight, bias, their gradients, the loss and the epoch, as the session holds them now."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QWidget

from gui_trainer.core.formatting import full, short
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import LABELS

ROWS = (
    ("weight", "weight"),
    ("bias", "bias"),
    ("weight_grad", "weight.grad"),
    ("bias_grad", "bias.grad"),
    ("loss", "loss"),
    ("epoch", "epoch"),
    ("next", "next stage"),
)


class Readout(QGroupBox):
    """Plain numbers, short on screen and exact in the tooltip (select to copy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Values now", parent)
        form = QFormLayout(self)
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

    def refresh(self, session: TrainingSession) -> None:
        params = session.params()
        loss = None if session.loss is None else float(session.loss.item())
        numbers = {
            "weight": params.weight,
            "bias": params.bias,
            "weight_grad": params.weight_grad,
            "bias_grad": params.bias_grad,
            "loss": loss,
        }
        for key, value in numbers.items():
            self.values[key].setText(short(value))
            self.values[key].setToolTip(full(value))
        self.values["epoch"].setText(str(session.epoch))
        self.values["next"].setText(LABELS[session.next_stage])
