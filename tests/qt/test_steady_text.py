"""Text that changes at every click keeps its place: no relayout of the window per click."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QApplication, QTextEdit, QWidget
from pytestqt.qtbot import QtBot

from gui_trainer.core.stages import STAGES
from gui_trainer.qt.main_window import MainWindow
from gui_trainer.qt.steady_text import SteadyLabel, replace_html


class Resizes(QObject):
    def __init__(self, *widgets: QWidget) -> None:
        super().__init__()
        self.seen: list[str] = []
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QResizeEvent):
            self.seen.append((watched.objectName() or type(watched).__name__)
                             + f" {event.oldSize().toTuple()} -> {event.size().toTuple()}")
        return False


def long_html(word: str) -> str:
    return "<p>" + "<br>".join(f"{word} line {i}" for i in range(60)) + "</p>"


def test_replacing_the_html_keeps_the_scroll_bar_in_place(qtbot: QtBot) -> None:
    edit = QTextEdit()
    qtbot.addWidget(edit)
    edit.resize(300, 200)
    edit.show()
    edit.setHtml(long_html("first"))
    QApplication.processEvents()
    assert edit.verticalScrollBar().isVisible()
    resizes = Resizes(edit.viewport())
    replace_html(edit, long_html("second"))
    QApplication.processEvents()
    assert resizes.seen == []
    assert "second line 59" in edit.toPlainText()
    assert edit.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded
    edit.setHtml(long_html("third"))  # what it replaces: the viewport widens and narrows
    QApplication.processEvents()
    assert resizes.seen


def test_a_steady_label_keeps_the_height_of_its_recent_texts(qtbot: QtBot) -> None:
    label = SteadyLabel()
    qtbot.addWidget(label)
    label.resize(200, 40)
    long_text = "A caption long enough to wrap onto several lines at this width, surely."
    label.setText(long_text)
    tall = label.heightForWidth(200)
    label.setText("Short.")
    assert label.heightForWidth(200) == tall  # the loop's next stage: same height
    for _ in range(10):  # more texts than it remembers: it shrinks again
        label.setText("Short.")
    assert label.heightForWidth(200) < tall


def test_clicking_through_the_loop_moves_no_widget(window: MainWindow, qtbot: QtBot) -> None:
    buttons = window.step_buttons.buttons
    for stage in STAGES:  # the first turn settles every text's height
        qtbot.mouseClick(buttons[stage], Qt.MouseButton.LeftButton)
        window.frame.flush()
        QApplication.processEvents()
    watched = [window.report, window.graph_view.caption_label, *buttons.values(),
               window.math_panel.text.viewport(), window.code_panel.text.viewport()]
    resizes = Resizes(*watched)
    for _ in range(2):
        for stage in STAGES:
            qtbot.mouseClick(buttons[stage], Qt.MouseButton.LeftButton)
            window.frame.flush()
            QApplication.processEvents()
    assert window.session.steps == 3
    assert resizes.seen == []
