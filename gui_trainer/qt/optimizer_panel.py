"""Inside the optimizer after a Step: what it keeps per parameter, and how it made the update.

For each parameter tensor: ``optimizer.state[p]`` as PyTorch holds it (momentum_buffer;
exp_avg, exp_avg_sq, step; square_avg; sum…), the quantities the rule derives from it (Adam's
m̂ and v̂), and the update ledger — the change split into the rule's terms, their sum, and
the change PyTorch really made, with the verdict that they agree. Large tensors show their
first few elements; the verdict covers every element.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from gui_trainer.core.formatting import short
from gui_trainer.core.optimizer_state import StepLedger, TensorLedger
from gui_trainer.core.records import StageRecord
from gui_trainer.qt.rich_label import coloured
from gui_trainer.qt.steady_text import replace_html
from gui_trainer.qt.theme import Colours, colours

START_TEXT = ("<p>Run <b>Step</b> to see what the optimizer keeps for each parameter "
              "(<code>optimizer.state[p]</code>) and how it made the update, term by term.</p>")
PAUSED_TEXT = ("<p><b>Auto-train is running as fast as it can.</b> The optimizer's state is "
               "shown again as soon as the run pauses or ends.</p>")
#: Elements of each tensor written out (the verdict covers all of them).
SHOWN_ELEMENTS = 3
#: What an empty state means, by optimizer.
EMPTY_STATE = {
    "SGD": "empty: SGD without momentum keeps nothing between steps",
}


def numbers(array: np.ndarray, count: int) -> str:
    flat = np.asarray(array, dtype=np.float64).reshape(-1)
    shown = ", ".join(short(float(v)) for v in flat[:count])
    return shown if flat.size <= count else f"{shown}, …"


def hyper_text(ledger: StepLedger) -> str:
    parts = [f"lr = {short(ledger.lr)}"]
    for key, value in ledger.hyperparameters.items():
        parts.append(f"{key} = {value}" if isinstance(value, bool) else f"{key} = {short(value)}")
    return " · ".join(parts)


def tensor_html(tensor: TensorLedger, ledger: StepLedger, theme: Colours) -> str:
    size = tensor.change.size
    count = min(size, SHOWN_ELEMENTS)
    which = ("its one element" if size == 1 else
             f"elements 0–{count - 1} of {size:,}" if size > count else f"all {size} elements")
    rows: list[tuple[str, str, str]] = []
    if not tensor.state:
        note = EMPTY_STATE.get(ledger.optimizer, "empty")
        rows.append(("optimizer.state[p]", note, ""))
    for key, value in tensor.state.items():
        rows.append((f"state['{key}']", numbers(value, count), ""))
    for key, value in tensor.derived.items():
        rows.append((key, numbers(value, count), ""))
    for term in tensor.terms:
        rows.append((term.label, numbers(term.values, count), "term"))
    if tensor.terms:
        rows.append(("sum of the terms", numbers(tensor.total, count), "sum"))
    rows.append(("real change: p after − p before", numbers(tensor.change, count), "sum"))
    body = "".join(
        f"<tr><td>{'&nbsp;&nbsp;' if kind == 'term' else ''}"
        f"{'<b>' if kind == 'sum' else ''}{html.escape(label)}{'</b>' if kind == 'sum' else ''}"
        f"</td><td style='font-family: monospace'>&nbsp;{html.escape(value)}</td></tr>"
        for label, value, kind in rows)
    if not tensor.terms:
        verdict = coloured("no .grad: PyTorch skipped this parameter, which did not move",
                           theme.muted)
    elif tensor.agrees:
        verdict = coloured(f"✓ the terms add up to PyTorch's change for every element "
                           f"(largest gap {tensor.worst_gap:.1e}; {ledger.tolerance_text})",
                           theme.good)
    else:
        verdict = coloured(f"✗ the terms miss PyTorch's change by up to "
                           f"{tensor.worst_gap:.3g} ({ledger.tolerance_text})", theme.bad)
    return (f"<p><b><code>{html.escape(tensor.name)}</code></b> — {which}</p>"
            f"<table cellspacing='2'>{body}</table><p>{verdict}</p>")


def ledger_html(record: StageRecord, ledger: StepLedger, theme: Colours) -> str:
    head = (f"<p><b><code>optimizer.step()</code> → step {record.epoch}, "
            f"torch.optim.{html.escape(ledger.optimizer)}</b><br>"
            f"{html.escape(hyper_text(ledger))}</p>")
    return head + "".join(tensor_html(t, ledger, theme) for t in ledger.tensors)


class OptimizerPanel(QWidget):
    """The last Step's optimizer state and update ledger (drawn only while in view)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("optimizer_panel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.view = QTextBrowser(self)
        self.view.setObjectName("optimizer_state")
        layout.addWidget(self.view)
        self.record: StageRecord | None = None
        self.paused = False
        self._stale = True
        self._render()

    def show_record(self, record: StageRecord | None) -> None:
        """Show this Step's state (None: no step since the start, a reset or a rewind)."""
        if record is not None and (record.stage != "step" or record.optimizer_state is None):
            return
        if record is self.record:
            return
        self.record = record
        self._stale = True
        if self.isVisible():
            self._render()

    def set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self._stale = True
            self._render()

    def showEvent(self, event: QEvent) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if self._stale:
            self._render()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._render()

    def text(self) -> str:
        return self.view.toPlainText()

    def _render(self) -> None:
        self._stale = False
        record = self.record
        if self.paused:
            replace_html(self.view, PAUSED_TEXT)
        elif record is None or record.optimizer_state is None:
            replace_html(self.view, START_TEXT)
        else:
            replace_html(self.view, ledger_html(record, record.optimizer_state.ledger, colours()))
