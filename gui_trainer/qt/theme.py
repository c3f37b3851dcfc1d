"""Light and dark themes: the one place that owns every colour the app draws with.

The widgets use the Fusion style with a palette per theme (the same look on every desktop).
Everything else that needs a colour — plots, the loop diagram, the autograd graph, the rich
text of the banner, worked math and code — asks :func:`colours` at the moment it draws, and
redraws when the application's palette changes (``QEvent.ApplicationPaletteChange``), so a
switch of theme, by the learner or by the desktop, reaches every text on screen.

Text colours are chosen for a contrast of at least 4.5:1 (WCAG AA) against the theme's window
and base colours; ``tests/qt/test_theme.py`` measures it on the rendered widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QWidget,
)

ThemeChoice = Literal["system", "light", "dark"]
Theme = Literal["light", "dark"]
THEME_CHOICES: tuple[ThemeChoice, ...] = ("system", "light", "dark")


@dataclass(frozen=True)
class Colours:
    """Every colour of one theme, by what it means (never by where it is used)."""

    # Text on the window or base background (each ≥ 4.5:1 against both).
    good: str
    bad: str
    accent: str  # the stage that comes next; links
    muted: str  # comments beside code
    disabled_text: str  # a stage that cannot run now (still legible)
    # The stage buttons (their stylesheet cannot follow the palette by itself).
    button: str
    button_text: str
    button_border: str
    # Fills behind text (translucent; the text on them keeps the palette's colour).
    good_fill: str
    bad_fill: str
    highlight_fill: str
    # Plots.
    plot_background: str
    plot_foreground: str
    data: str
    model: str
    weight: str
    bias: str
    loss: str
    residual: str
    #: Earlier runs on the loss plot, cycled: distinct from each other and from ``loss``.
    earlier_runs: tuple[str, ...]
    # The autograd graph's boxes, by kind of node.
    node_op: str
    node_leaf: str
    node_data: str
    node_tensor: str
    node_module: str
    node_visited: str
    freed_border: str


LIGHT = Colours(
    good="#1f7a35", bad="#b3261e", accent="#1a5fd0", muted="#57606a", disabled_text="#646b73",
    button="#efefef", button_text="#000000", button_border="#a0a4aa",
    good_fill="rgba(46, 158, 72, 45)", bad_fill="rgba(214, 69, 69, 45)",
    highlight_fill="rgba(46, 158, 72, 70)",
    plot_background="#ffffff", plot_foreground="#30343b",
    data="#d9730d", model="#1a5fd0", weight="#1a5fd0", bias="#a8327a", loss="#1f7a35",
    residual="#7a7f87",
    earlier_runs=("#7f3fbf", "#d9730d", "#0f8a8a", "#b3261e", "#6b7d00", "#8c564b",
                  "#c2185b", "#3949ab"),
    node_op="rgba(45, 127, 249, 60)", node_leaf="rgba(46, 158, 72, 60)",
    node_data="rgba(140, 140, 140, 50)", node_tensor="rgba(232, 135, 30, 60)",
    node_module="rgba(130, 90, 200, 55)",
    node_visited="rgba(214, 160, 30, 150)", freed_border="#8a8f96",
)

DARK = Colours(
    good="#5cc878", bad="#ff7b7b", accent="#6aa7ff", muted="#9aa1ab", disabled_text="#8b919a",
    button="#2d3138", button_text="#e3e5e8", button_border="#6b717a",
    good_fill="rgba(92, 200, 120, 50)", bad_fill="rgba(255, 123, 123, 50)",
    highlight_fill="rgba(92, 200, 120, 60)",
    plot_background="#15181d", plot_foreground="#c9ccd1",
    data="#f0a04b", model="#6aa7ff", weight="#6aa7ff", bias="#e57ab8", loss="#5cc878",
    residual="#8b919a",
    earlier_runs=("#b48cff", "#f0a04b", "#4fd1c5", "#ff7b7b", "#c5d86d", "#d7a38f",
                  "#f48fb1", "#8c9eff"),
    node_op="rgba(106, 167, 255, 70)", node_leaf="rgba(92, 200, 120, 70)",
    node_data="rgba(160, 160, 160, 60)", node_tensor="rgba(240, 160, 75, 70)",
    node_module="rgba(170, 135, 240, 70)",
    node_visited="rgba(214, 160, 30, 140)", freed_border="#8b919a",
)

THEMES: dict[Theme, Colours] = {"light": LIGHT, "dark": DARK}


def qcolor(css: str) -> QColor:
    """A QColor from ``#rrggbb`` or ``rgba(r, g, b, a)`` (the forms used above)."""
    if css.startswith("rgba("):
        r, g, b, a = (int(part) for part in css[5:-1].split(","))
        return QColor(r, g, b, a)
    return QColor(css)


def current_theme() -> Theme:
    """The theme the application's palette is in now (dark when its window colour is dark)."""
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return "dark" if window.lightness() < 128 else "light"


def colours() -> Colours:
    """The colours of the theme in force: ask at draw time, never cache across a switch."""
    return THEMES[current_theme()]


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return bool(hints.colorScheme() == Qt.ColorScheme.Dark)


def resolve(choice: ThemeChoice) -> Theme:
    if choice == "system":
        return "dark" if system_is_dark() else "light"
    return choice


def dark_palette() -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    values = {
        role.Window: "#23262b", role.WindowText: "#e3e5e8", role.Base: "#1b1e22",
        role.AlternateBase: "#262a30", role.ToolTipBase: "#2d3138", role.ToolTipText: "#e3e5e8",
        role.Text: "#e3e5e8", role.Button: "#2d3138", role.ButtonText: "#e3e5e8",
        role.BrightText: "#ff6b6b", role.Highlight: "#2d7ff9", role.HighlightedText: "#ffffff",
        role.Link: "#6aa7ff", role.Mid: "#5a606a", role.Dark: "#15181d", role.Light: "#3a3f47",
        role.PlaceholderText: "#8b919a",
    }
    for colour_role, value in values.items():
        palette.setColor(colour_role, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, colour_role, QColor("#80868f"))
    return palette


def light_palette(app: QApplication) -> QPalette:
    palette = app.style().standardPalette()
    palette.setColor(QPalette.ColorRole.Link, QColor(LIGHT.accent))
    return palette


class OutlinedIndicators(QProxyStyle):
    """Fusion, with an outline on check boxes and radio buttons in the text's colour.

    Fusion outlines them in the window colour darkened, which on the dark palette left an
    unticked box or an unchosen radio button (Mode: Free) all but invisible.
    """

    INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox,
                  QStyle.PrimitiveElement.PE_IndicatorRadioButton)

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,
                      painter: QPainter, widget: QWidget | None = None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in self.INDICATORS:
            return
        outline = QColor(option.palette.color(QPalette.ColorRole.WindowText))
        outline.setAlpha(150)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(outline, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        box = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(box)
        else:
            painter.drawRoundedRect(box, 2, 2)
        painter.restore()


def apply_palette(app: QApplication, theme: Theme) -> None:
    # Setting the style again would reset the palette to the style's own (light) first, and
    # views would redraw once in the wrong theme.
    if not isinstance(app.style(), OutlinedIndicators):
        app.setStyle(OutlinedIndicators())
    app.setPalette(dark_palette() if theme == "dark" else light_palette(app))
