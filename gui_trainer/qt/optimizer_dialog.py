"""The optimizer's hyperparameters: one field per keyword of the real ``torch.optim`` class.

Numbers are typed, switches ticked; Apply builds a fresh optimizer with them (one undoable
action). A value the optimizer cannot take — ours or PyTorch's own check — is named in the
dialog, which stays open with what was typed, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.optimizers import HYPERPARAMETERS, TORCH_CLASS
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.rich_label import RichLabel

Button = QDialogButtonBox.StandardButton


def apply_button_box(dialog: QDialog, apply: Callable[[], None],
                     extra: Button = Button.NoButton) -> QDialogButtonBox:
    """Apply and Cancel (and ``extra``): Enter in a field means Apply, never another button
    (a field's Enter once restored the defaults); Cancel or Esc rejects."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply
                               | QDialogButtonBox.StandardButton.Cancel | extra, dialog)
    buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(apply)
    buttons.rejected.connect(dialog.reject)
    for button in buttons.buttons():
        if isinstance(button, QPushButton):
            button.setAutoDefault(False)
    buttons.button(QDialogButtonBox.StandardButton.Apply).setDefault(True)
    return buttons


class OptimizerDialog(QDialog):
    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("optimizer_dialog")
        self.controller = controller
        session = controller.session
        self.name = session.optimizer_name
        self.setWindowTitle(f"{TORCH_CLASS[self.name]}: hyperparameters")
        layout = QVBoxLayout(self)
        intro = RichLabel(self)
        intro.setWordWrap(True)
        intro.show_plain(f"torch.optim.{TORCH_CLASS[self.name]}(model.parameters(), "
                         f"lr={session.lr!r}, …). Applying changed values starts a fresh "
                         "optimizer with them; its state (momentum, running averages) starts "
                         "at zero. Unchanged values keep the optimizer and its state.")
        layout.addWidget(intro)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit | QCheckBox] = {}
        current = session.optimizer_options
        for hyper in HYPERPARAMETERS[self.name]:
            field: QLineEdit | QCheckBox
            if hyper.is_switch:
                field = QCheckBox(self)
                field.setChecked(bool(current[hyper.name]))
            else:
                field = QLineEdit(repr(current[hyper.name]), self)
            field.setObjectName(f"hyper_{hyper.name}")
            field.setToolTip(hyper.doc)
            form.addRow(f"{hyper.name}:", field)
            self.fields[hyper.name] = field
        layout.addLayout(form)
        #: Why the last Apply was refused.
        self.error = RichLabel(self)
        self.error.setObjectName("optimizer_error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = apply_button_box(self, self.apply,
                                   QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).setText(
            "PyTorch's defaults")
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults)
        self.buttons = buttons
        layout.addWidget(buttons)

    def values(self) -> dict[str, object]:
        """What the fields say, as typed (the session checks them)."""
        return {name: field.isChecked() if isinstance(field, QCheckBox) else field.text()
                for name, field in self.fields.items()}

    def restore_defaults(self) -> None:
        for hyper in HYPERPARAMETERS[self.name]:
            field = self.fields[hyper.name]
            if isinstance(field, QCheckBox):
                field.setChecked(bool(hyper.default))
            else:
                field.setText(repr(hyper.default))

    def apply(self) -> None:
        reason = self.controller.set_optimizer_options(self.values())
        if reason is None:
            self.accept()
        else:
            self.error.show_coloured(reason, "bad")
            self.error.show()
