"""Predict, then reveal: a guess is asked for before Backward or Step, then scored."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.predict import QUESTIONS, Score, parse_weight_guess, score_sign, score_weight
from gui_trainer.core.records import StageRecord
from gui_trainer.core.stages import LABELS, Stage
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.fields import give_focus
from gui_trainer.qt.rich_label import RichLabel, coloured


class PredictPanel(QFrame):
    """Hidden until a predictable stage is asked for; Reveal runs it and scores the guess."""

    scored = Signal(object)

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predict_panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.controller = controller
        self.stage: Stage | None = None
        # The question and the verdict wrap on rows of their own: in one row they made the
        # window wider than a small screen.
        layout = QVBoxLayout(self)
        self.question = QLabel(self)
        self.question.setWordWrap(True)
        layout.addWidget(self.question)
        answer = QHBoxLayout()
        layout.addLayout(answer)
        self.positive = QRadioButton("positive", self)
        self.negative = QRadioButton("negative", self)
        self.weight = QLineEdit(self)
        self.weight.setObjectName("predict_weight")
        self.weight.setPlaceholderText("new weight")
        self.weight.returnPressed.connect(self.reveal)
        for widget in (self.positive, self.negative, self.weight):
            answer.addWidget(widget)
        self.reveal_button = QPushButton("Reveal", self)
        self.reveal_button.setObjectName("predict_reveal")
        self.reveal_button.clicked.connect(self.reveal)
        answer.addWidget(self.reveal_button)
        answer.addStretch(1)
        self.result = RichLabel(self)
        self.result.setObjectName("predict_result")
        layout.addWidget(self.result)
        self.hide()

    def ask(self, stage: Stage) -> None:
        self.stage = stage
        self.question.setText(f"<b>Before {LABELS[stage]}:</b> {QUESTIONS[stage]}")
        for widget in (self.positive, self.negative):
            widget.setVisible(stage == "backward")
            widget.setAutoExclusive(False)
            widget.setChecked(False)
            widget.setAutoExclusive(True)
        self.weight.setVisible(stage == "step")
        self.weight.clear()
        self.reveal_button.show()
        self.result.show_plain("")
        self.show()
        if stage == "step":
            give_focus(self.weight)  # asked to type a number: the digits are the answer

    def reveal(self) -> None:
        """Check the guess; a missing or bad guess is refused and nothing runs."""
        stage = self.stage
        if stage is None:
            return
        if stage == "backward":
            if not (self.positive.isChecked() or self.negative.isChecked()):
                self.result.show_plain("Pick positive or negative first.")
                return
            guess_positive = self.positive.isChecked()
        else:
            try:
                guess = parse_weight_guess(self.weight.text())
            except ValueError as exc:
                self.result.show_plain(str(exc))
                return
        self.stage = None
        self.return_focus()
        record = self.controller.run_stage(stage)
        if record is None:
            self.hide()
            return
        score = (score_sign(guess_positive, record) if stage == "backward"
                 else score_weight(guess, record))
        self.show_score(score, record)

    def show_score(self, score: Score, record: StageRecord) -> None:
        self.result.show_content(
            lambda c: coloured(score.message, c.good if score.correct else c.bad))
        self.return_focus()
        self.reveal_button.hide()
        self.scored.emit(score)

    def return_focus(self) -> None:
        """Hand the keyboard back to the window before a focused part of the panel hides.

        Qt would otherwise pass the focus on to the next field in the tab order — the
        learning rate — and the next stage key would be typed into it.
        """
        focused = QApplication.focusWidget()
        if focused is None or not (focused is self or self.isAncestorOf(focused)):
            return
        window = self.window()
        home = window.centralWidget() if isinstance(window, QMainWindow) else window
        (home or window).setFocus(Qt.FocusReason.OtherFocusReason)

    def cancel(self) -> None:
        self.stage = None
        self.return_focus()
        self.hide()
