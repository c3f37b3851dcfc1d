"""The learner's settings: learning rate, mode, optimizer, and how zero_grad clears."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QWidget,
)

from gui_trainer.core.formatting import short
from gui_trainer.core.session import MODES, OPTIMIZERS, Mode
from gui_trainer.qt.controller import OPTIMIZER_NAMES, SessionController, options_summary
from gui_trainer.qt.fields import CommitLineEdit
from gui_trainer.qt.optimizer_dialog import OptimizerDialog
from gui_trainer.qt.rich_label import RichLabel

LR_PRESETS = (0.01, 0.1, 1.0)
MODE_TIPS = {
    "guided": "Stages run in loop order; the next one is highlighted.",
    "free": "Any stage in any order: see what PyTorch really does when the order is wrong.",
}


class SettingsPanel(QGroupBox):
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__("Settings", parent)
        self.controller = controller
        form = QFormLayout(self)

        self.lr_edit = CommitLineEdit(short(controller.session.lr), self)
        self.lr_edit.setObjectName("lr_edit")
        self.lr_edit.setMinimumWidth(64)
        self.lr_edit.setToolTip("A positive number; press Enter to apply, Esc to go back. "
                                "Try 0.01, 0.1 and 1.0.")
        self.lr_edit.commit_requested.connect(self.apply_lr)
        self.lr_edit.revert_requested.connect(self.revert_lr)
        self.lr_edit.textEdited.connect(self._lr_edited)
        presets = QHBoxLayout()
        presets.addWidget(self.lr_edit)
        for rate in LR_PRESETS:
            button = QPushButton(short(rate), self)
            button.setObjectName(f"lr_preset_{short(rate)}")
            button.setToolTip(f"Set the learning rate to {short(rate)}")
            button.setMaximumWidth(44)
            button.clicked.connect(lambda _=False, r=rate: self.choose_lr(r))
            presets.addWidget(button)
        form.addRow("Learning rate:", presets)
        #: Why a typed rate was refused, or that a typed rate waits for Enter.
        self.lr_error = RichLabel(self)
        self.lr_error.setObjectName("lr_error")
        self.lr_error.hide()
        form.addRow(self.lr_error)

        modes = QHBoxLayout()
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QRadioButton] = {}
        for mode in MODES:
            radio = QRadioButton(mode.capitalize(), self)
            radio.setObjectName(f"mode_{mode}")
            radio.setToolTip(MODE_TIPS[mode])
            radio.toggled.connect(lambda on, m=mode: self._toggle_mode(m, on))
            self.mode_group.addButton(radio)
            self.mode_buttons[mode] = radio
            modes.addWidget(radio)
        form.addRow("Mode:", modes)

        self.optimizer = QComboBox(self)
        self.optimizer.setObjectName("optimizer_choice")
        for name in OPTIMIZERS:
            self.optimizer.addItem(OPTIMIZER_NAMES[name], name)
        self.optimizer.setToolTip("Changing the optimizer starts it fresh, with PyTorch's "
                                  "default hyperparameters (momentum and Adam keep state).")
        self.optimizer.currentIndexChanged.connect(self._choose_optimizer)
        self.hyper_button = QPushButton("Hyperparameters…", self)
        self.hyper_button.setObjectName("optimizer_hyperparameters")
        self.hyper_button.setToolTip("momentum, betas, weight_decay…: the optimizer's keywords")
        self.hyper_button.clicked.connect(self.edit_hyperparameters)
        optimizer_row = QHBoxLayout()
        optimizer_row.addWidget(self.optimizer, 1)
        optimizer_row.addWidget(self.hyper_button)
        form.addRow("Optimizer:", optimizer_row)
        #: What differs from PyTorch's defaults ("momentum 0.9, nesterov on").
        self.hyper_summary = RichLabel(self)
        self.hyper_summary.setObjectName("optimizer_summary")
        self.hyper_summary.setWordWrap(True)
        form.addRow(self.hyper_summary)
        self.dialog: OptimizerDialog | None = None

        self.micro = QComboBox(self)
        self.micro.setObjectName("micro_batches")
        self._fill_micro_batches()
        self.micro.setToolTip(
            "Split the data into micro-batches: forward, loss and backward run on each and the "
            "gradients add up in .grad before one step — gradient accumulation on purpose."
        )
        self.micro.currentIndexChanged.connect(
            lambda index: controller.set_micro_batches(self.micro.itemData(index))
        )
        form.addRow("Micro-batches:", self.micro)

        self.to_none = QCheckBox("zero_grad sets .grad to None", self)
        self.to_none.setObjectName("set_to_none")
        self.to_none.setToolTip(
            "PyTorch 2 default (set_to_none=True). Untick to fill gradients with 0.0 instead."
        )
        self.to_none.toggled.connect(controller.set_zero_grad_to_none)
        form.addRow(self.to_none)
        self.sync()
        controller.settings_changed.connect(self.sync)

    def choose_lr(self, rate: float) -> None:
        self.lr_edit.setText(short(rate))
        self.apply_lr()

    def apply_lr(self) -> None:
        """Apply the typed rate (Enter, a preset, or leaving the field on purpose)."""
        text = self.lr_edit.text()
        if text == short(self.controller.session.lr) and self.lr_error.isHidden():
            return
        reason = self.controller.set_lr(text)
        if reason is None:
            self.lr_error.hide()
            self.lr_edit.setText(short(self.controller.session.lr))
            self.lr_edit.clearFocus()  # give the keys 1–5 and Space back to the stages
        else:
            self.lr_error.show_coloured(reason, "bad")
            self.lr_error.show()
            if not self.lr_edit.hasFocus():  # left the field: show the rate in force again
                self.lr_edit.setText(short(self.controller.session.lr))

    def revert_lr(self) -> None:
        self.lr_error.hide()
        self.lr_edit.setText(short(self.controller.session.lr))
        self.lr_edit.clearFocus()

    def _lr_edited(self, text: str) -> None:
        if text == short(self.controller.session.lr):
            self.lr_error.hide()
            return
        self.lr_error.show_coloured("Press Enter to use this learning rate (Esc keeps "
                                    f"{short(self.controller.session.lr)}).", "muted")
        self.lr_error.show()

    def _toggle_mode(self, mode: Mode, on: bool) -> None:
        if on:
            self.controller.set_mode(mode)

    def _choose_optimizer(self, index: int) -> None:
        self.controller.set_optimizer(self.optimizer.itemData(index))

    def edit_hyperparameters(self) -> OptimizerDialog:
        """Open the hyperparameters of the optimizer in use (window-modal, not blocking)."""
        self.dialog = OptimizerDialog(self.controller, self)
        self.dialog.finished.connect(self._dialog_closed)
        self.dialog.open()
        return self.dialog

    def _dialog_closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None

    def _fill_micro_batches(self) -> None:
        """The counts that split this session's data evenly (another scenario, other counts)."""
        session = self.controller.session
        self.micro.clear()
        for count in session.valid_micro_batches():
            size = len(session.inputs) // count
            each = "1 sample" if size == 1 else f"{size} samples"
            text = "1 (full batch)" if count == 1 else f"{count} ({each} each)"
            self.micro.addItem(text, count)

    def sync(self) -> None:
        """Show the session's settings (after a load, a reset or a change elsewhere)."""
        session = self.controller.session
        # Showing the session's values is not the learner changing them: no signals.
        blockers = [QSignalBlocker(w) for w in (self.optimizer, self.to_none, self.micro,
                                                *self.mode_buttons.values())]
        counts = session.valid_micro_batches()
        if [self.micro.itemData(i) for i in range(self.micro.count())] != counts:
            self._fill_micro_batches()
        if not self.lr_edit.hasFocus():
            self.lr_edit.setText(short(session.lr))
            self.lr_error.hide()
        self.mode_buttons[session.mode].setChecked(True)
        self.optimizer.setCurrentIndex(OPTIMIZERS.index(session.optimizer_name))
        self.hyper_summary.show_coloured(options_summary(session), "muted")
        self.to_none.setChecked(session.set_to_none)
        self.micro.setCurrentIndex(self.micro.findData(session.micro_batches))
        del blockers
