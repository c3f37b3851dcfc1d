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

from gui_trainer.core.predict import (
    Score,
    parse_weight_guess,
    questions,
    score_largest,
    score_loss_falls,
    score_sign,
    score_weight,
    weight_names,
)
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
        #: A network's answers (its layers' weights, or lower / not lower), made per question.
        self.choices: list[QRadioButton] = []
        self._answer = answer
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
        one = self.controller.session.one_neuron
        self.question.setText(f"<b>Before {LABELS[stage]}:</b> {questions(one)[stage]}")
        for widget in (self.positive, self.negative):
            widget.setVisible(one and stage == "backward")
            widget.setAutoExclusive(False)
            widget.setChecked(False)
            widget.setAutoExclusive(True)
        self.weight.setVisible(one and stage == "step")
        self.weight.clear()
        self._make_choices([] if one else
                           list(weight_names(self.controller.session.params()))
                           if stage == "backward" else ["lower", "not lower"])
        self.reveal_button.show()
        self.result.show_plain("")
        self.show()
        if one and stage == "step":
            give_focus(self.weight)  # asked to type a number: the digits are the answer

    def _make_choices(self, labels: list[str]) -> None:
        for button in self.choices:
            self._answer.removeWidget(button)
            button.deleteLater()
        self.choices = []
        for index, label in enumerate(labels):
            button = QRadioButton(label, self)
            button.setObjectName(f"predict_choice_{index}")
            self._answer.insertWidget(index, button)
            self.choices.append(button)

    def _chosen(self) -> str | None:
        return next((b.text() for b in self.choices if b.isChecked()), None)

    def reveal(self) -> None:
        """Check the guess; a missing or bad guess is refused and nothing runs."""
        stage = self.stage
        if stage is None:
            return
        one = self.controller.session.one_neuron
        chosen = self._chosen()
        if not one and chosen is None:
            self.result.show_plain("Pick an answer first.")
            return
        if one and stage == "backward":
            if not (self.positive.isChecked() or self.negative.isChecked()):
                self.result.show_plain("Pick positive or negative first.")
                return
            guess_positive = self.positive.isChecked()
        elif one:
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
        if not one:
            score = (score_largest(str(chosen), record) if stage == "backward" else
                     score_loss_falls(chosen == "lower", record,
                                      self.controller.session.full_batch_loss()))
        else:
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
