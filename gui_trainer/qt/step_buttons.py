"""The stage buttons, laid out as the loop, marking the stage just run and the next one.

The five are always there; Clip, Evaluate and Schedule appear in their places while the
settings turn them on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from gui_trainer.core.records import StageRecord
from gui_trainer.core.stages import LOOP_ORDER, OPTIONAL_STAGES, Stage
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.theme import Colours, colours


def style_sheet(theme: Colours) -> str:
    """The buttons' look: the next stage in the accent colour, the last one green or red.

    The stage just run keeps the full text colour when it cannot be clicked again (guided
    mode): its name is news, and disabled grey on the green read at 3.2:1 in the dark theme.

    Only the theme's colours, no palette(...) references: at the moment the palette
    changes, a stylesheet would still resolve those from the old palette. Every state has
    the same border width and font weight: a wider border and bold text on the next stage
    made the buttons change size at each click, and the window laid itself out again.
    """
    return f"""
QToolButton {{
    padding: 7px 9px; border: 3px solid {theme.button_border}; border-radius: 8px;
    background: {theme.button}; color: {theme.button_text}; font-size: 12pt;
    font-weight: bold; min-width: 64px;
}}
QToolButton:hover {{ border-color: {theme.accent}; }}
QToolButton:disabled {{ color: {theme.disabled_text}; }}
QToolButton[state="next"] {{ border: 3px solid {theme.accent}; }}
QToolButton[crowded="true"] {{ font-size: 10pt; padding: 6px 3px; min-width: 48px; }}
QToolButton[state="done"] {{ border: 3px solid {theme.good}; background: {theme.good_fill}; }}
QToolButton[state="error"] {{ border: 3px solid {theme.bad}; background: {theme.bad_fill}; }}
QToolButton[state="done"]:disabled, QToolButton[state="error"]:disabled {{
    color: {theme.button_text};
}}
QLabel[role="arrow"] {{ font-size: 18pt; color: {theme.disabled_text}; }}
"""


class StepButtons(QWidget):
    """One QToolButton per stage, each showing its shared QAction (label, key, tooltip)."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.restyle()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.buttons: dict[Stage, QToolButton] = {}
        #: The arrow before each stage's button (hidden with an optional stage's button).
        self.arrows: dict[Stage, QLabel] = {}
        for stage in LOOP_ORDER:
            if self.buttons:
                self.arrows[stage] = self._label("→")
                layout.addWidget(self.arrows[stage])
            button = QToolButton(self)
            button.setDefaultAction(actions[stage])
            button.setObjectName(f"stage_button_{stage}")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.buttons[stage] = button
            layout.addWidget(button)
        for stage in OPTIONAL_STAGES:  # shown by show_state while on
            self.buttons[stage].hide()
            self.arrows[stage].hide()
        back = self._label("↺")
        back.setToolTip("After Step the loop starts again at Zero Grad: the next epoch.")
        layout.addWidget(back)

    def restyle(self) -> None:
        """A stylesheet resolves its colours once: set it again for the theme in force.

        Qt sends no palette-change event to a widget with a stylesheet, so the window calls
        this after every theme switch.
        """
        self.setStyleSheet(style_sheet(colours()))
        for button in getattr(self, "buttons", {}).values():
            button.style().unpolish(button)
            button.style().polish(button)

    def _label(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setProperty("role", "arrow")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    def state(self, stage: Stage) -> str:
        return str(self.buttons[stage].property("state") or "")

    def show_state(self, view: SessionView, last: StageRecord | None) -> None:
        """Mark the stage just run (green, or red if it failed) and the next stage (blue);
        show the optional stages' buttons while they are on."""
        crowded = len(view.stages_on) > 5  # eight buttons fit a small screen in a smaller font
        for stage, button in self.buttons.items():
            shown = stage in view.stages_on
            if button.isVisibleTo(self) != shown:
                button.setVisible(shown)
                if stage in self.arrows:
                    self.arrows[stage].setVisible(shown)
            if bool(button.property("crowded")) != crowded:
                button.setProperty("crowded", crowded)
                button.style().unpolish(button)
                button.style().polish(button)
            state = ""
            if stage == view.next_stage:
                state = "next"
            if last is not None and stage == last.stage:
                state = "done" if last.ok else "error"
            if button.property("state") != state:
                button.setProperty("state", state)
                button.style().unpolish(button)
                button.style().polish(button)
