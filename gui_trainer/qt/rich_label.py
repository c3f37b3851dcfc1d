"""A label whose rich text is drawn from the theme's colours, and redrawn when they change."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QWidget

from gui_trainer.qt.theme import Colours, colours

Render = Callable[[Colours], str]


def _nothing(_colours: Colours) -> str:
    return ""


def coloured(text: str, colour: str, *, bold: bool = False) -> str:
    """``text`` escaped, in ``colour`` (for a :data:`Render` function)."""
    weight = "; font-weight:bold" if bold else ""
    return f"<span style='color:{colour}{weight}'>{html.escape(text)}</span>"


class RichLabel(QLabel):
    """Shows ``render(colours())``; a theme switch re-renders it, so no colour goes stale.

    A stylesheet colour or a palette fixed at construction would keep the old theme's
    colours after a switch; rendering from the theme at draw time cannot.
    """

    def __init__(self, parent: QWidget | None = None, render: Render = _nothing) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self._render = render
        self.refresh()

    def show_content(self, render: Render) -> None:
        self._render = render
        self.refresh()

    def show_plain(self, text: str) -> None:
        self.show_content(lambda _c: html.escape(text))

    def show_coloured(self, text: str, role: str) -> None:
        """``text`` in one of the theme's text colours (``"good"``, ``"bad"``, ``"muted"``)."""
        self.show_content(lambda c: coloured(text, getattr(c, role)))

    def refresh(self) -> None:
        text = self._render(colours())
        if text != self.text():
            self.setText(text)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.refresh()
