"""The worked math of the stage just run, with the session's own numbers, and its explanation."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.explanations import Audience, explanation
from gui_trainer.core.formatting import full, short
from gui_trainer.core.layer_math import Backprop
from gui_trainer.core.records import StageRecord
from gui_trainer.core.worked_math import WorkedMath, worked_math
from gui_trainer.qt.rich_label import coloured
from gui_trainer.qt.steady_text import replace_html
from gui_trainer.qt.theme import Colours, colours

START_TEXT = (
    "<p>Run a stage to see its arithmetic here, written out with this model's own numbers.</p>"
)


PAUSED_TEXT = (
    "<p><b>Auto-train is running as fast as it can.</b> The worked math is paused so the "
    "training is not slowed down; it shows the last stage of the run as soon as the run "
    "pauses or ends. (At a slower speed it follows every stage.)</p>"
)


def math_html(math: WorkedMath, theme: Colours) -> str:
    rows = "".join(f"{html.escape(line)}<br>" if line else "<br>" for line in math.lines)
    # The verdicts wrap (they are sentences); the arithmetic keeps its columns and scrolls.
    checks = "".join(
        f"<p style='font-family: monospace'>"
        f"{coloured(line, theme.good if '✓' in line else theme.bad)}</p>"
        for line in math.checks)
    return (
        f"<p><b><code>{html.escape(math.title)}</code></b></p>"
        f"<p style='font-family: monospace; white-space: pre'>{rows}</p>{checks}"
    )


def inline_code(text: str) -> str:
    """Escape ``text`` and show its `backtick` spans as code, as the resource files write them."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def explanation_html(record: StageRecord, reader: Audience = "one_neuron") -> str:
    info = explanation(record.stage, reader)
    parts = [f"<h3>{inline_code(info.title)}</h3>"]
    for name, text in info.sections.items():
        parts.append(f"<p><b>{html.escape(name)}.</b> {inline_code(text)}</p>")
    return "".join(parts)


class MathPanel(QWidget):
    """Rich text (it scales with the font, so it stays sharp at 200%); full precision on demand."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record: StageRecord | None = None
        #: Backward by hand for one sample of the session now (set by the window; layered
        #: models only: the one neuron's math is written number by number).
        self.walk_for: Callable[[int], Backprop | None] = lambda _sample: None
        #: Whom the stage texts are for (the one neuron, or a network's task).
        self.reader: Audience = "one_neuron"
        #: True while a fast auto-train runs: the panel says so instead of going stale.
        self.paused = False
        self.text = QTextBrowser(self)
        self.text.setObjectName("math_text")
        self.text.setOpenLinks(False)
        self.text.setHtml(START_TEXT)
        self.full = QCheckBox("Full precision", self)
        self.full.setObjectName("math_full_precision")
        self.full.setToolTip("Show every number exactly as PyTorch holds it (as a Python float).")
        self.full.toggled.connect(self._render)
        copy = QPushButton("Copy", self)
        copy.setObjectName("math_copy")
        copy.setToolTip("Copy the worked math with full-precision numbers.")
        copy.clicked.connect(self.copy)
        self.sample = QSpinBox(self)
        self.sample.setObjectName("math_sample")
        self.sample.setPrefix("chain rule for sample ")
        self.sample.setKeyboardTracking(False)  # a typed number counts on Enter or leaving
        self.sample.setToolTip("Which sample's backward to work out by hand, layer by layer "
                               "(the first is sample 0).")
        self.sample.valueChanged.connect(self._render)
        self.sample.hide()
        bar = QHBoxLayout()
        bar.addWidget(self.full)
        bar.addWidget(self.sample)
        bar.addStretch(1)
        bar.addWidget(copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.text)

    def set_samples(self, count: int) -> None:
        """How many samples the chain rule can be worked for (0: the one neuron, no walk)."""
        self.sample.blockSignals(True)
        self.sample.setRange(0, max(count - 1, 0))
        self.sample.setValue(0)
        self.sample.blockSignals(False)
        self.sample.setVisible(count > 0)

    def show_record(self, record: StageRecord | None) -> None:
        self.record = record
        self._render()

    def set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self._render()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._render()

    def current_math(self) -> WorkedMath | None:
        if self.record is None:
            return None
        return worked_math(self.record, full if self.full.isChecked() else short, self._walk())

    def _walk(self) -> Backprop | None:
        if self.record is None or self.record.stage != "backward":
            return None
        return self.walk_for(self.sample.value())

    def full_text(self) -> str | None:
        """The worked math of the shown stage in full precision, as plain text."""
        if self.record is None:
            return None
        return worked_math(self.record, full, self._walk()).as_text()

    def copy(self) -> None:
        text = self.full_text()
        if text is not None:
            QGuiApplication.clipboard().setText(text)

    def _render(self) -> None:
        if self.paused:
            replace_html(self.text, PAUSED_TEXT)
            return
        math = self.current_math()
        if math is None or self.record is None:
            replace_html(self.text, START_TEXT)
            return
        explained = explanation_html(self.record, self.reader)
        replace_html(self.text, math_html(math, colours()) + "<hr>" + explained)
