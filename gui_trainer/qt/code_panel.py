"""The training loop as PyTorch code, the line just run highlighted, live values beside it."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QTextBrowser, QWidget

from gui_trainer.core.code_listing import CodeListing, code_listing
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import Stage

HIGHLIGHT = "background-color: rgba(46, 158, 72, 70); font-weight: bold;"


class CodePanel(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("code_panel")
        self.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        self.latest: dict[Stage, StageRecord] = {}
        self.last: Stage | None = None
        self.listing: CodeListing | None = None

    def show_record(self, record: StageRecord) -> None:
        self.latest[record.stage] = record
        self.last = record.stage

    def clear_records(self) -> None:
        self.latest.clear()
        self.last = None

    def refresh(self, session: TrainingSession) -> None:
        listing = code_listing(
            tuple(session.inputs.flatten().tolist()),
            tuple(session.targets.flatten().tolist()),
            session.lr,
            session.optimizer_name,
            session.set_to_none,
            session.epoch,
            self.latest,
            self.last,
        )
        if listing == self.listing:
            return
        self.listing = listing
        width = max(len(line) for line in listing.lines) + 2
        rows = []
        for index, line in enumerate(listing.lines):
            text = html.escape(line.ljust(width)).replace(" ", "&nbsp;")
            note = listing.notes.get(index)
            if note:
                text += f"<span style='color:#6a737d'># {html.escape(note)}</span>"
            current = index == listing.highlighted
            anchor = "<a name='current'></a>" if current else ""
            style = HIGHLIGHT if current else ""
            rows.append(f"<div style='{style}'>{anchor}{text or '&nbsp;'}</div>")
        self.setHtml(f"<div style='font-family: monospace'>{''.join(rows)}</div>")
        if listing.highlighted is not None:
            self.scrollToAnchor("current")
