"""Text fields that take only what the learner typed on purpose.

Two rules keep the stage keys (1–5, Space) and the fields out of each other's way:

* A field gets those keys only when the learner put the keyboard there on purpose — clicked
  it, tabbed to it, or was asked to type in it (:func:`give_focus`). Focus that lands in a
  field by accident (a widget beside it disappeared, the app moved it) leaves the keys to the
  stages: :class:`DeliberateFocus` watches every field of the window.
* :class:`CommitLineEdit` applies its text only on Enter or when the learner deliberately
  leaves it (a click elsewhere, Tab); Esc puts back the value in force. A number box does
  the same: Enter takes the number and hands the keys back to the stages, Esc puts back the
  number it held when the learner came in and hands them back too.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QWidget

from gui_trainer.core.stages import STAGE_KEYS as KEY_OF_STAGE
from gui_trainer.core.stages import Stage

#: The keys that drive stages from anywhere in the window, and the stage each asks for
#: (Space: None, the next stage, whichever it is). The actions' shortcuts are these keys.
STAGE_KEYS: dict[Qt.Key, Stage | None] = {
    **{Qt.Key(int(Qt.Key.Key_0) + int(key)): stage for stage, key in KEY_OF_STAGE.items()},
    Qt.Key.Key_Space: None,
}
#: Ways focus arrives that mean "the learner chose this field".
DELIBERATE = frozenset({Qt.FocusReason.MouseFocusReason, Qt.FocusReason.TabFocusReason,
                        Qt.FocusReason.BacktabFocusReason, Qt.FocusReason.ShortcutFocusReason})
PROPERTY = "deliberate_focus"
#: A number box's text when the learner came in: what Esc puts back.
ARRIVAL_TEXT = "text_on_arrival"


def is_deliberate(widget: QWidget) -> bool:
    return bool(widget.property(PROPERTY))


def give_focus(widget: QWidget) -> None:
    """Put the keyboard in ``widget`` because the app asked the learner to type there."""
    widget.setProperty(PROPERTY, True)
    widget.setFocus(Qt.FocusReason.OtherFocusReason)


def release_after_enter(box: QAbstractSpinBox) -> None:
    """Enter took the number (``editingFinished``; also sent on leaving): the keys 1–5 and
    Space go back to the stages, as after a learning rate's Enter."""
    if box.hasFocus():
        box.clearFocus()


def is_stage_key(event: QKeyEvent) -> bool:
    plain = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return Qt.Key(event.key()) in STAGE_KEYS and plain == Qt.KeyboardModifier.NoModifier


class DeliberateFocus(QObject):
    """Event filter for text fields: stage keys pass through unless the field was chosen."""

    def watch(self, root: QWidget) -> None:
        for field in root.findChildren(QLineEdit) + root.findChildren(QAbstractSpinBox):
            field.installEventFilter(self)
        for box in root.findChildren(QAbstractSpinBox):
            box.editingFinished.connect(partial(release_after_enter, box))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(watched, QWidget):
            return False
        kind = event.type()
        if kind == QEvent.Type.FocusIn and isinstance(event, QFocusEvent):
            # Any other arrival keeps the mark: False since the last exit, unless
            # give_focus set it, or the learner is back from another window or a popup.
            if event.reason() in DELIBERATE:
                watched.setProperty(PROPERTY, True)
            if isinstance(watched, QAbstractSpinBox):
                watched.setProperty(ARRIVAL_TEXT, watched.text())
        elif kind == QEvent.Type.FocusOut and isinstance(event, QFocusEvent):
            if event.reason() not in (Qt.FocusReason.ActiveWindowFocusReason,
                                      Qt.FocusReason.PopupFocusReason):
                watched.setProperty(PROPERTY, False)
        elif kind == QEvent.Type.MouseButtonPress:
            watched.setProperty(PROPERTY, True)
        elif (kind == QEvent.Type.KeyPress and isinstance(watched, QAbstractSpinBox)
              and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape
              and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            arrival = watched.property(ARRIVAL_TEXT)
            if isinstance(arrival, str):
                watched.lineEdit().setText(arrival)  # leaving now keeps the number in force
            watched.clearFocus()
            return True
        elif (kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
              and isinstance(event, QKeyEvent) and is_stage_key(event)
              and not is_deliberate(watched)):
            if kind == QEvent.Type.ShortcutOverride:
                event.ignore()  # not overridden: the window's stage shortcut runs
            else:  # no shortcut took it (the stage may not run now): the window says why
                QApplication.sendEvent(watched.window(), event)
            return True
        return False


class CommitLineEdit(QLineEdit):
    """A line edit that asks to commit on Enter or a deliberate exit, and reverts on Esc."""

    commit_requested = Signal()
    revert_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit_requested.emit()
            return
        if event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.revert_requested.emit()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if event.reason() in (Qt.FocusReason.MouseFocusReason, Qt.FocusReason.TabFocusReason,
                              Qt.FocusReason.BacktabFocusReason):
            self.commit_requested.emit()
