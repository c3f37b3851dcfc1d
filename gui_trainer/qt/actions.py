"""Every user command declared once; buttons, menus and shortcuts share these QActions."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from gui_trainer.core.explanations import Audience, explanation, stage_code
from gui_trainer.core.stages import LABELS, LOOP_ORDER, STAGE_KEYS, Stage


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str
    shortcut: str | QKeySequence.StandardKey | None
    tip: str


def _plain(text: str) -> str:
    """The resource files mark code with `backticks`; a status bar shows it without them."""
    return text.replace("`", "")


@functools.lru_cache(maxsize=64)  # asked after every change for every stage: a few texts
def stage_tooltip(stage: Stage, refusal: str | None = None,
                  reader: Audience = "one_neuron") -> str:
    """Rich text: the call, its key, what it does — and why it cannot run now, if it cannot."""
    number = STAGE_KEYS[stage]
    summary = re.sub(r"`([^`]+)`", r"<code>\1</code>",
                     html.escape(explanation(stage, reader).summary))
    code = html.escape(stage_code(stage, reader))
    tip = f"<p><code>{code}</code> &nbsp;(key {number})</p><p>{summary}</p>"
    if refusal:
        tip += f"<p><b>Not now:</b> {html.escape(refusal)}</p>"
    return tip


def stage_status_tip(stage: Stage, reader: Audience = "one_neuron") -> str:
    number = STAGE_KEYS[stage]
    return (f"{stage_code(stage, reader)} (key {number}): "
            f"{_plain(explanation(stage, reader).summary)}")


def _stage_specs() -> list[ActionSpec]:
    return [
        ActionSpec(stage, LABELS[stage], STAGE_KEYS[stage], stage_status_tip(stage))
        for stage in LOOP_ORDER
    ]


SPECS: tuple[ActionSpec, ...] = (
    *_stage_specs(),
    ActionSpec("next_stage", "Run Next Stage", "Space", "Run the next stage of the loop (Space)"),
    ActionSpec("open_session", "Open…", QKeySequence.StandardKey.Open,
               "Open a saved session (.gtrain), exactly as it was saved (Ctrl+O)"),
    ActionSpec("save_session", "Save", QKeySequence.StandardKey.Save,
               "Save this session: the data, every action and the weights (Ctrl+S)"),
    ActionSpec("save_session_as", "Save As…", "Ctrl+Shift+S",
               "Save this session to another file (Ctrl+Shift+S)"),
    ActionSpec("reset", "Restart", "Ctrl+R",
               "Back to the starting weights; this run stays on the loss plot (Ctrl+R)"),
    ActionSpec("undo", "Undo", QKeySequence.StandardKey.Undo, "Undo the last stage (Ctrl+Z)"),
    ActionSpec("redo", "Redo", "Ctrl+Shift+Z", "Redo what was undone (Ctrl+Shift+Z)"),
    ActionSpec("rewind_divergence", "Rewind to Before the Divergence", "Ctrl+B",
               "Jump back to just before the loss became inf or NaN (Ctrl+B)"),
    ActionSpec("clear_runs", "Clear Earlier Runs", None,
               "Remove the faded curves of earlier runs from the loss plot"),
    ActionSpec("predict", "Predict Before Backward and Step", None,
               "Guess the sign of the gradient or the new weight, then see PyTorch's answer"),
    ActionSpec("train_start", "Start", "Ctrl+T", "Start or resume auto-train (Ctrl+T)"),
    ActionSpec("train_pause", "Pause", "Ctrl+P", "Pause auto-train; Start resumes it (Ctrl+P)"),
    ActionSpec("train_stop", "Stop", "Esc", "Stop auto-train (Esc)"),
    ActionSpec("quit", "Quit", QKeySequence.StandardKey.Quit, "Close the window (Ctrl+Q)"),
    ActionSpec("reset_layout", "Reset Layout", None, "Put every panel back where it started"),
    ActionSpec("shortcuts", "Keyboard Shortcuts", QKeySequence.StandardKey.HelpContents,
               "List every keyboard shortcut (F1)"),
    ActionSpec("about", "About gui_trainer", None, "Versions of the app and its libraries"),
    ActionSpec("theme_system", "Follow System Theme", None, "Light or dark, as the desktop is"),
    ActionSpec("theme_light", "Light Theme", None, "Always light"),
    ActionSpec("theme_dark", "Dark Theme", None, "Always dark"),
)


#: Each action's own tip, for views that add a reason to it.
TIPS = {spec.name: spec.tip for spec in SPECS}


def create_actions(parent: QObject) -> dict[str, QAction]:
    """One QAction per spec, named ``action_<name>`` so tests and styles can find it."""
    actions: dict[str, QAction] = {}
    for spec in SPECS:
        action = QAction(spec.label, parent)
        action.setObjectName(f"action_{spec.name}")
        if spec.shortcut is not None:
            action.setShortcut(QKeySequence(spec.shortcut))
        action.setToolTip(spec.tip)
        action.setStatusTip(spec.tip)
        actions[spec.name] = action
    for stage in LOOP_ORDER:
        actions[stage].setToolTip(stage_tooltip(stage))
    actions["predict"].setCheckable(True)
    for name in ("theme_system", "theme_light", "theme_dark"):
        actions[name].setCheckable(True)
    # Shorter words on the timeline's buttons; menus keep the full names.
    actions["rewind_divergence"].setIconText("Before divergence")
    actions["undo"].setIconText("⟲ Undo")
    actions["redo"].setIconText("Redo ⟳")
    return actions
