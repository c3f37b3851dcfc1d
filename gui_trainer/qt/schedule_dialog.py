"""Choose a learning-rate scheduler and its keywords, with the whole schedule drawn first.

The preview is the real ``torch.optim.lr_scheduler`` class stepped on a throwaway optimizer
(``schedulers.preview``), redrawn as the learner types; Apply makes it the session's
scheduler (one undoable action), or shows why PyTorch or the ranges refused it.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core import schedulers
from gui_trainer.core.schedulers import SCHEDULERS, SchedulerName
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.optimizer_dialog import apply_button_box
from gui_trainer.qt.plots import pen, style_plot
from gui_trainer.qt.rich_label import RichLabel
from gui_trainer.qt.theme import colours

#: Scheduler steps the preview draws (an epoch each, or a step each for OneCycleLR).
PREVIEW_CALLS = 100
NONE_TEXT = "none (a constant learning rate)"


class ScheduleDialog(QDialog):
    """The scheduler, its keywords, and the schedule they make, before any training."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule_dialog")
        self.setWindowTitle("Learning-rate schedule")
        self.setMinimumSize(460, 480)
        self.controller = controller
        layout = QVBoxLayout(self)
        intro = RichLabel(self)
        intro.setWordWrap(True)
        intro.show_plain("scheduler = torch.optim.lr_scheduler.…(optimizer, …), then "
                         "scheduler.step() after each epoch (after each step for OneCycleLR). "
                         "The plot is the real scheduler run ahead on a copy of the optimizer.")
        layout.addWidget(intro)
        self.choice = QComboBox(self)
        self.choice.setObjectName("scheduler_choice")
        self.choice.addItem(NONE_TEXT, None)
        for name in SCHEDULERS:
            self.choice.addItem(name, name)
        self.form = QFormLayout()
        self.form.addRow("Scheduler:", self.choice)
        layout.addLayout(self.form)
        self.fields: dict[str, QLineEdit] = {}
        self.preview = pg.PlotWidget(self)
        self.preview.setObjectName("schedule_preview")
        self.preview.setMinimumHeight(160)
        self.curve = self.preview.plot([], [])
        style_plot(self.preview.getPlotItem(), "The schedule ahead", "scheduler.step() calls",
                   "lr")
        layout.addWidget(self.preview, 1)
        #: Why the last Apply (or the preview) was refused.
        self.error = RichLabel(self)
        self.error.setObjectName("schedule_error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = apply_button_box(self, self.apply)
        self.buttons = buttons
        layout.addWidget(buttons)
        current = controller.session.scheduler_choice
        self.choice.setCurrentIndex(self.choice.findData(None if current is None
                                                         else current[0]))
        self._show_fields(current[1] if current is not None else None)
        self.choice.currentIndexChanged.connect(lambda _index: self._show_fields(None))

    @property
    def name(self) -> SchedulerName | None:
        data = self.choice.currentData()
        return None if data is None else schedulers.check_name(data)

    def _show_fields(self, values: dict[str, float | int] | None) -> None:
        """The chosen scheduler's keywords (its values now, or the defaults)."""
        for field in self.fields.values():
            self.form.removeRow(field)
        self.fields = {}
        name = self.name
        if name is not None:
            shown = values or schedulers.values(name, ())
            for keyword in schedulers.KEYWORDS[name]:
                field = QLineEdit(repr(shown[keyword.name]), self)
                field.setObjectName(f"schedule_{keyword.name}")
                field.setToolTip(keyword.doc)
                field.textChanged.connect(lambda _text: self.redraw())
                self.fields[keyword.name] = field
                self.form.addRow(f"{keyword.name}:", field)
        self.redraw()

    def values(self) -> dict[str, object]:
        """What the fields say: whole numbers as ints, the rest as typed (checked later)."""
        typed: dict[str, object] = {}
        for key, field in self.fields.items():
            text = field.text().strip()
            try:
                typed[key] = int(text) if text.lstrip("-").isdigit() else float(text)
            except ValueError:
                typed[key] = text
        return typed

    def redraw(self) -> None:
        """The schedule the fields make, or why they make none."""
        self.curve.setPen(pen(colours().loss, 2))
        session = self.controller.session
        name = self.name
        if name is None:
            self.curve.setData([0, PREVIEW_CALLS], [session.lr, session.lr])
            self.error.hide()
            return
        settings = session.settings
        try:
            choice = schedulers.check(name, self.values(), settings.optimizer_name,
                                      settings.optimizer_options)
        except ValueError as exc:
            self.curve.setData([], [])
            self.error.show_coloured(str(exc), "bad")
            self.error.show()
            return
        self.error.hide()
        rates = schedulers.preview(*choice, session.lr, PREVIEW_CALLS,
                                   settings.optimizer_name, settings.optimizer_options)
        self.curve.setData(range(len(rates)), rates)

    def apply(self) -> None:
        reason = self.controller.set_scheduler(self.name, self.values())
        if reason is None:
            self.accept()
        else:
            self.error.show_coloured(reason, "bad")
            self.error.show()
