"""Undo, redo and a slider over every action of the session: jump to any earlier stage."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.controller import SessionController

#: Dragging the slider asks for a jump at most this often (each jump replays a little).
JUMP_DELAY_MS = 40


class TimelineBar(QWidget):
    def __init__(self, controller: SessionController, actions: dict[str, QAction],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("Timeline:", self))
        for name in ("undo", "redo", "rewind_divergence"):
            button = QToolButton(self)
            button.setDefaultAction(actions[name])
            button.setObjectName(f"button_{name}")
            layout.addWidget(button)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("timeline_slider")
        self.slider.setToolTip("Drag to any earlier moment of this session; Undo/Redo step by one.")
        self.slider.setRange(0, 0)
        layout.addWidget(self.slider, 1)
        self.label = QLabel(self)
        self.label.setObjectName("timeline_label")
        self.label.setMinimumWidth(260)
        layout.addWidget(self.label)
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.timeout.connect(self._jump)
        self.slider.valueChanged.connect(self._on_slider)
        self._syncing = False

    def refresh(self, state: SessionView) -> None:
        length, position = state.timeline_length, state.position
        self._syncing = True
        self.slider.setRange(0, length)
        self.slider.setValue(position)
        self._syncing = False
        last = state.last_action or "the start"
        self.label.setText(f"{position} / {length} · {last} · epoch {state.epoch}")

    def cancel(self) -> None:
        """Drop a jump the slider still waits to ask for."""
        self._pending.stop()

    def _on_slider(self, _value: int) -> None:
        if not self._syncing:
            self._pending.start(JUMP_DELAY_MS)

    def _jump(self) -> None:
        self.controller.jump_to(self.slider.value())
