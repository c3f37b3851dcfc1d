"""The training loop as PyTorch code, the line just run highlighted, live values beside it."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton, QTextBrowser, QVBoxLayout, QWidget

from gui_trainer.core.code_listing import CodeListing
from gui_trainer.qt.steady_text import replace_html
from gui_trainer.qt.theme import Colours, colours

PAUSED_NOTE = ("Auto-train is running as fast as it can: the values beside the code are "
               "paused and catch up when the run pauses or ends.")


def listing_html(listing: CodeListing, theme: Colours, paused: bool) -> str:
    width = max(len(line) for line in listing.lines) + 2
    rows = []
    if paused:
        rows.append(f"<div style='color:{theme.muted}'># {html.escape(PAUSED_NOTE)}</div>")
    for index, line in enumerate(listing.lines):
        text = html.escape(line.ljust(width)).replace(" ", "&nbsp;")
        note = listing.notes.get(index)
        if note:
            text += f"<span style='color:{theme.muted}'># {html.escape(note)}</span>"
        current = index == listing.highlighted
        anchor = "<a name='current'></a>" if current else ""
        style = (f"background-color: {theme.highlight_fill}; font-weight: bold;"
                 if current else "")
        rows.append(f"<div style='{style}'>{anchor}{text or '&nbsp;'}</div>")
    return f"<div style='font-family: monospace'>{''.join(rows)}</div>"


class CodePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser(self)
        self.text.setObjectName("code_panel")
        self.text.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        copy = QPushButton("Copy Script", self)
        copy.setObjectName("code_copy")
        copy.setToolTip("Copy the whole script: it runs as it is, with only torch installed.")
        copy.clicked.connect(self.copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.text, 1)
        layout.addWidget(copy)
        self.listing: CodeListing | None = None
        self.paused = False

    def refresh(self, listing: CodeListing, paused: bool = False) -> None:
        """Show ``listing``; ``paused`` keeps the notes while a fast run goes."""
        if paused and self.listing is not None:
            if not self.paused:
                self.paused = True
                self._render()
            return
        if listing == self.listing and paused == self.paused:
            return
        self.listing, self.paused = listing, paused
        self._render()

    def copy(self) -> None:
        if self.listing is not None:
            QGuiApplication.clipboard().setText(self.listing.text())

    def _render(self) -> None:
        if self.listing is None:
            return
        replace_html(self.text, listing_html(self.listing, colours(), self.paused))
        if self.listing.highlighted is not None:
            self.text.scrollToAnchor("current")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._render()
