"""Light and dark themes: follow the system's colour scheme, or the learner's choice.

The widgets use the Fusion style with a palette per theme (the same look on every desktop);
the plots get matching background and axis colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ThemeChoice = Literal["system", "light", "dark"]
THEME_CHOICES: tuple[ThemeChoice, ...] = ("system", "light", "dark")


@dataclass(frozen=True)
class PlotColours:
    background: str
    foreground: str


PLOT_COLOURS = {
    "light": PlotColours(background="#ffffff", foreground="#30343b"),
    "dark": PlotColours(background="#15181d", foreground="#c9ccd1"),
}


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return bool(hints.colorScheme() == Qt.ColorScheme.Dark)


def resolve(choice: ThemeChoice) -> Literal["light", "dark"]:
    if choice == "system":
        return "dark" if system_is_dark() else "light"
    return choice


def dark_palette() -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: "#23262b", role.WindowText: "#e3e5e8", role.Base: "#1b1e22",
        role.AlternateBase: "#262a30", role.ToolTipBase: "#2d3138", role.ToolTipText: "#e3e5e8",
        role.Text: "#e3e5e8", role.Button: "#2d3138", role.ButtonText: "#e3e5e8",
        role.BrightText: "#ff6b6b", role.Highlight: "#2d7ff9", role.HighlightedText: "#ffffff",
        role.Link: "#6aa7ff", role.Mid: "#5a606a", role.Dark: "#15181d", role.Light: "#3a3f47",
        role.PlaceholderText: "#8b919a",
    }
    for colour_role, value in colours.items():
        palette.setColor(colour_role, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, colour_role, QColor("#6b717a"))
    return palette


def apply_palette(app: QApplication, theme: Literal["light", "dark"]) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())
