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
    QLabel,
    QPushButton,
    QRadioButton,
    QWidget,
)

from gui_trainer.core.formatting import short
from gui_trainer.core.session import MODES, OPTIMIZERS, Mode
from gui_trainer.qt.controller import (
    OPTIMIZER_NAMES,
    SessionController,
    options_summary,
    schedule_summary,
)
from gui_trainer.qt.fields import CommitLineEdit
from gui_trainer.qt.optimizer_dialog import OptimizerDialog
from gui_trainer.qt.rich_label import RichLabel
from gui_trainer.qt.schedule_dialog import ScheduleDialog

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

        self.batch = QComboBox(self)
        self.batch.setObjectName("batch_size")
        self.batch.setEditable(True)  # presets, or type any size and press Enter
        self.batch.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # No completer: its popup of "1…", "16", "128" while typing a number got in the way
        # (and took the keyboard from the window).
        self.batch.setCompleter(None)  # type: ignore[arg-type]  # None: no completer (Qt allows it)
        self.batch.setToolTip(
            "DataLoader(batch_size=…): the rows each step learns from. Full batch: every row "
            "at once; mini-batches: a noisier step per batch, several steps per epoch; 1: one "
            "sample at a time. Type any size and press Enter.")
        self._fill_batch_sizes()
        self.batch.activated.connect(self._choose_batch_size)
        line = self.batch.lineEdit()
        if line is not None:
            line.returnPressed.connect(self._typed_batch_size)
        self.shuffle = QCheckBox("shuffle", self)
        self.shuffle.setObjectName("shuffle")
        self.shuffle.setToolTip("DataLoader(shuffle=True): a new order of the rows every "
                                "epoch, drawn from a generator seeded like the model.")
        self.shuffle.toggled.connect(lambda on: controller.change_batches("shuffle", on))
        self.drop_last = QCheckBox("drop_last", self)
        self.drop_last.setObjectName("drop_last")
        self.drop_last.setToolTip("DataLoader(drop_last=True): skip a last batch smaller "
                                  "than batch_size.")
        self.drop_last.toggled.connect(lambda on: controller.change_batches("drop_last", on))
        form.addRow("Batch size:", self.batch)
        # On a row of their own: beside the sizes they widened the side column on a small
        # screen and squeezed the plots.
        loader_flags = QHBoxLayout()
        loader_flags.addWidget(self.shuffle)
        loader_flags.addWidget(self.drop_last)
        loader_flags.addStretch(1)
        form.addRow("", loader_flags)

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

        self.clip = QCheckBox("clip at", self)
        self.clip.setObjectName("clip_on")
        self.clip.setToolTip("clip_grad_norm_(model.parameters(), max_norm) between Backward "
                             "and Step: the Clip stage.")
        self.clip_norm = CommitLineEdit("1.0", self)
        self.clip_norm.setObjectName("clip_max_norm")
        self.clip_norm.setToolTip("max_norm: the longest the gradients together may be. Press "
                                  "Enter to apply.")
        self.clip.toggled.connect(lambda _on: self._apply_clip())
        self.clip_norm.commit_requested.connect(self._apply_clip)
        self.clip_norm.revert_requested.connect(self.sync)
        clip_row = QHBoxLayout()
        clip_row.addWidget(self.clip)
        clip_row.addWidget(self.clip_norm, 1)
        form.addRow("Gradient clip:", clip_row)
        self.clip_error = RichLabel(self)
        self.clip_error.setWordWrap(True)
        self.clip_error.hide()
        form.addRow(self.clip_error)

        self.schedule_button = QPushButton("Schedule…", self)
        self.schedule_button.setObjectName("schedule_button")
        self.schedule_button.setToolTip("A learning-rate scheduler, with its whole schedule "
                                        "drawn before training")
        self.schedule_button.clicked.connect(self.edit_schedule)
        self.schedule_summary = RichLabel(self)
        self.schedule_summary.setObjectName("schedule_summary")
        self.schedule_summary.setWordWrap(True)
        form.addRow("LR schedule:", self.schedule_button)
        form.addRow(self.schedule_summary)
        self.schedule_dialog: ScheduleDialog | None = None

        self.to_none = QCheckBox("zero_grad sets .grad to None", self)
        self.to_none.setObjectName("set_to_none")
        self.to_none.setToolTip(
            "PyTorch 2 default (set_to_none=True). Untick to fill gradients with 0.0 instead."
        )
        self.to_none.toggled.connect(controller.set_zero_grad_to_none)
        form.addRow(self.to_none)

        # The calls a correct loop makes, untickable to see why (the experiments do).
        self.evaluate_eval = QCheckBox("model.eval()", self)
        self.evaluate_eval.setObjectName("evaluate_model_eval")
        self.evaluate_eval.setToolTip("Evaluate switches the model to eval mode first (dropout "
                                      "off, BatchNorm on its running averages). Untick to see "
                                      "what measuring in train mode does.")
        self.evaluate_eval.toggled.connect(
            lambda on: controller.set_flag("evaluate_model_eval", on))
        self.evaluate_no_grad = QCheckBox("torch.no_grad()", self)
        self.evaluate_no_grad.setObjectName("evaluate_no_grad")
        self.evaluate_no_grad.setToolTip("Evaluate measures without recording a graph. Untick "
                                         "to see the graph autograd records for nothing.")
        self.evaluate_no_grad.toggled.connect(
            lambda on: controller.set_flag("evaluate_no_grad", on))
        evaluate_row = QHBoxLayout()
        evaluate_row.addWidget(self.evaluate_eval)
        evaluate_row.addWidget(self.evaluate_no_grad)
        evaluate_row.addStretch(1)
        self.evaluate_label = QLabel("Evaluate with:", self)
        form.addRow(self.evaluate_label, evaluate_row)
        self._evaluate_row = evaluate_row
        self.softmax = QCheckBox("softmax before the loss (a mistake)", self)
        self.softmax.setObjectName("softmax_before_loss")
        self.softmax.setToolTip("CrossEntropyLoss(softmax(outputs), targets): the loss "
                                "applies log-softmax itself, so this squashes twice. Tick to "
                                "see what it does to the loss and the learning.")
        self.softmax.toggled.connect(lambda on: controller.set_flag("softmax_before_loss", on))
        form.addRow(self.softmax)
        self._form = form
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

    def edit_schedule(self) -> ScheduleDialog:
        """Open the scheduler chooser (window-modal, not blocking)."""
        self.schedule_dialog = ScheduleDialog(self.controller, self)
        self.schedule_dialog.finished.connect(self._schedule_closed)
        self.schedule_dialog.open()
        return self.schedule_dialog

    def _schedule_closed(self) -> None:
        if self.schedule_dialog is not None:
            self.schedule_dialog.deleteLater()
            self.schedule_dialog = None

    def _apply_clip(self) -> None:
        value: object = None
        if self.clip.isChecked():
            text = self.clip_norm.text().strip()
            try:
                value = float(text)
            except ValueError:
                value = text
        reason = self.controller.set_clip(value)
        if reason is None:
            self.clip_error.hide()
            self.clip_norm.clearFocus()  # give the keys back to the stages
        else:
            self.clip_error.show_coloured(reason, "bad")
            self.clip_error.show()
            self.sync()

    def _dialog_closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None

    def _fill_micro_batches(self) -> None:
        """The counts that fit the batches now (another scenario or batch size, other
        counts): parts of the one batch, or loader batches gathered per step."""
        session = self.controller.session
        self.micro.clear()
        one_batch = len(session.epoch_batches) == 1
        rows = len(session.epoch_batches[0])
        for count in session.valid_micro_batches():
            if one_batch:
                size = rows // count
                each = "1 sample" if size == 1 else f"{size} samples"
                whole = "full batch" if session.batch_size is None else "the whole batch"
                text = f"1 ({whole})" if count == 1 else f"{count} ({each} each)"
            else:
                text = ("1 (a step per batch)" if count == 1 else
                        f"{count} (a step every {count} batches)")
            self.micro.addItem(text, count)

    def batch_presets(self) -> list[int | None]:
        """Full batch, the usual powers of two below it, one sample at a time."""
        samples = len(self.controller.session.inputs)
        sizes = [n for n in (256, 128, 64, 32, 16, 8, 4, 2) if n < samples]
        return [None, *sizes, 1]

    def _fill_batch_sizes(self) -> None:
        session = self.controller.session
        samples = len(session.inputs)
        self.batch.clear()
        for size in self.batch_presets():
            text = (f"full batch ({samples})" if size is None else
                    "1 (one sample at a time)" if size == 1 else str(size))
            self.batch.addItem(text, size)
        if session.batch_size not in self.batch_presets():
            self.batch.addItem(str(session.batch_size), session.batch_size)

    def _choose_batch_size(self, index: int) -> None:
        self.controller.change_batches("batch_size", self.batch.itemData(index))
        self.batch.clearFocus()  # give the keys 1–5 and Space back to the stages

    def _typed_batch_size(self) -> None:
        text = self.batch.currentText().strip()
        index = self.batch.findText(text)
        if index >= 0:
            self._choose_batch_size(index)
            return
        value: object = text
        if text.isdigit():
            value = int(text)
        elif text.lower() in ("full", "full batch", "none"):
            value = None
        if not self.controller.change_batches("batch_size", value):
            self.sync()  # refused (and said why): show the size in force again
        self.batch.clearFocus()

    def sync(self) -> None:
        """Show the session's settings (after a load, a reset or a change elsewhere)."""
        session = self.controller.session
        # Showing the session's values is not the learner changing them: no signals.
        blockers = [QSignalBlocker(w) for w in (self.optimizer, self.to_none, self.micro,
                                                self.batch, self.shuffle, self.drop_last,
                                                self.clip, self.evaluate_eval,
                                                self.evaluate_no_grad, self.softmax,
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
        if session.batch_size not in [self.batch.itemData(i) for i in range(self.batch.count())] \
                or self.batch.count() != len(self.batch_presets()) + (
                    session.batch_size not in self.batch_presets()):
            self._fill_batch_sizes()
        self.batch.setCurrentIndex(self.batch.findData(session.batch_size))
        self.shuffle.setChecked(session.shuffle)
        self.drop_last.setChecked(session.drop_last)
        self.drop_last.setEnabled(session.batch_size is not None)
        self.clip.setChecked(session.clip_max_norm is not None)
        if session.clip_max_norm is not None and not self.clip_norm.hasFocus():
            self.clip_norm.setText(f"{session.clip_max_norm:g}")
        self.schedule_summary.show_coloured(schedule_summary(session), "muted")
        self.evaluate_eval.setChecked(session.evaluate_model_eval)
        self.evaluate_no_grad.setChecked(session.evaluate_no_grad)
        self._form.setRowVisible(self._evaluate_row, session.has_validation)
        self.softmax.setChecked(session.softmax_before_loss)
        self._form.setRowVisible(self.softmax, session.scenario.task == "classification")
        del blockers
