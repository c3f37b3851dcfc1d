"""Text that changes at every click without making the window lay itself out again.

A click changed the height of the stage report and of the graph's caption (one line, then
three), and ``setHtml`` on the math and code panels took their scroll bars away and back:
each was a relayout of the window and a repaint of whatever moved, the plots included
(4 repaint passes a click, measured with an event timer on ``QApplication.notify``).
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTextEdit, QWidget

from gui_trainer.qt.rich_label import RichLabel

#: Texts a label remembers the height of: more than one turn of the loop's stages.
REMEMBERED = 8


class SteadyHeightMixin:
    """A word-wrapped label as tall as the tallest of its last ``REMEMBERED`` texts (at the
    width it has now), so text that changes at every click keeps its height."""

    def _steady_heights(self) -> deque[tuple[int, int]]:
        heights: deque[tuple[int, int]] | None = getattr(self, "_heights", None)
        if heights is None:
            heights = deque(maxlen=REMEMBERED)
            self._heights = heights
        return heights

    def heightForWidth(self, width: int) -> int:
        own: int = super().heightForWidth(width)  # type: ignore[misc]
        return max([own, *(h for w, h in self._steady_heights() if w == width)])

    def setText(self, text: str) -> None:
        super().setText(text)  # type: ignore[misc]
        label = self  # a QLabel (the class this is mixed into)
        assert isinstance(label, QLabel)
        width = label.width()
        self._steady_heights().append((width, QLabel.heightForWidth(label, width)))


class SteadyLabel(SteadyHeightMixin, QLabel):
    """A wrapped QLabel that keeps its height while its text changes from click to click."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)


class SteadyRichLabel(SteadyHeightMixin, RichLabel):
    """A RichLabel that keeps its height while its text changes from click to click."""


def replace_html(edit: QTextEdit, text: str) -> None:
    """``edit.setHtml(text)`` with its shown scroll bars kept in place meanwhile.

    ``setHtml`` empties the document first: a scroll bar no longer needed was hidden, the
    text laid out at the wider width, then shown again and the text laid out once more.
    """
    vertical, horizontal = edit.verticalScrollBarPolicy(), edit.horizontalScrollBarPolicy()
    if edit.verticalScrollBar().isVisible():
        edit.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
    if edit.horizontalScrollBar().isVisible():
        edit.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
    edit.setHtml(text)
    edit.setVerticalScrollBarPolicy(vertical)
    edit.setHorizontalScrollBarPolicy(horizontal)
