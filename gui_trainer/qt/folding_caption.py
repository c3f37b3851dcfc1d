"""A wrapped caption that folds to its first sentence where space is short.

A caption that says what a picture can and cannot show must stay one click away, but in a
small dock its full text took the room the picture needed.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

MORE, LESS = "more", "less"


def first_sentence(text: str) -> str:
    """Up to the first full stop or colon followed by a space (or all of it)."""
    match = re.search(r"[.:](\s|$)", text)
    return text if match is None else text[: match.start() + 1]


class FoldingCaption(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.linkActivated.connect(self._toggle)
        self._full = ""
        #: Short of space: fold long captions unless the learner opened this one.
        self.short = False
        self._opened = False
        self._foldable = False
        self.setText(text)

    def setText(self, text: str) -> None:
        """A message, shown whole (a refusal's reason must not hide behind a link)."""
        self._full = text
        self._foldable = False
        self._show()

    def set_caption(self, text: str) -> None:
        """A caption: folded to its first sentence while space is short."""
        self._full = text
        self._foldable = True
        self._opened = False
        self._show()

    def text(self) -> str:
        """The whole caption, folded or not."""
        return self._full

    @property
    def folded(self) -> bool:
        return (self._foldable and self.short and not self._opened
                and first_sentence(self._full) != self._full)

    def set_short(self, short: bool) -> None:
        if short != self.short:
            self.short = short
            self._show()

    def _toggle(self, link: str) -> None:
        self._opened = link == MORE
        self._show()

    def _show(self) -> None:
        full = html.escape(self._full, quote=False)
        if self.folded:
            shown = (f"{html.escape(first_sentence(self._full), quote=False)} "
                     f"<a href='{MORE}'>What this can and cannot show…</a>")
        elif self._foldable and self.short and self._opened:
            shown = f"{full} <a href='{LESS}'>Less</a>"
        else:
            shown = full
        super().setText(shown)
