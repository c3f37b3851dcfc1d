"""Every text the app draws stays readable in both themes, and after switching between them.

Contrast is measured the WCAG way (≥ 4.5:1 for text): on the pixels Qt really painted where
a widget can be grabbed, and on the colours the drawing code used where it cannot.
"""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QWidget,
)
from pytestqt.qtbot import QtBot

from gui_trainer.core.stages import STAGES
from gui_trainer.qt import theme
from gui_trainer.qt.main_window import MainWindow

AA_TEXT = 4.5


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(fill: QColor, base: QColor) -> QColor:
    """``fill`` (possibly translucent) painted on ``base``."""
    alpha = fill.alphaF()
    return QColor.fromRgbF(*(alpha * f + (1 - alpha) * b for f, b in (
        (fill.redF(), base.redF()), (fill.greenF(), base.greenF()),
        (fill.blueF(), base.blueF()))))


def screen_pixels(widget: QWidget, inset: int = 0) -> Counter[int]:
    """The widget's pixels as the window's backing store holds them now (``inset`` pixels
    in from its edges)."""
    QApplication.processEvents()  # let pending repaints reach the backing store
    window = widget.window()
    corner = widget.mapTo(window, widget.rect().topLeft())
    image = widget.screen().grabWindow(window.winId(), corner.x() + inset, corner.y() + inset,
                                       widget.width() - 2 * inset,
                                       widget.height() - 2 * inset).toImage()
    return Counter(image.pixel(x, y) for x in range(image.width())
                   for y in range(image.height()))


def background_of(widget: QWidget) -> QColor:
    """The commonest colour inside the widget (its border trimmed off: a stage button's
    3-pixel border outnumbered any one shade of its fill)."""
    pixels = screen_pixels(widget, inset=4)
    return QColor(pixels.most_common(1)[0][0])


def rendered_contrast(widget: QWidget, inset: int = 0) -> float:
    """Contrast between a widget's background (its commonest pixel) and its text (the pixel
    farthest from it), as it is on screen now (``inset``: its border left out).

    The pixels come from the window's backing store, not from ``widget.grab()``: grab paints
    the widget afresh, so it would miss a widget that was never repainted after a switch.
    """
    pixels = screen_pixels(widget, inset)
    background = QColor(pixels.most_common(1)[0][0])
    return max(contrast(background, QColor(p)) for p in pixels)


def switch(window: MainWindow, choice: theme.ThemeChoice) -> None:
    window.set_theme(choice)
    QApplication.processEvents()  # the palette change reaches every view as an event
    window.refresh_now()


@pytest.mark.parametrize(("first", "then"), [("light", "dark"), ("dark", "light")])
def test_values_stay_readable_after_a_theme_switch(
    window: MainWindow, qtbot: QtBot, first: theme.ThemeChoice, then: theme.ThemeChoice
) -> None:
    switch(window, first)
    for stage in STAGES[:4]:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    window.frame.flush()
    switch(window, then)
    for key, label in window.readout.values.items():
        assert rendered_contrast(label) >= AA_TEXT, key
    assert rendered_contrast(window.report) >= AA_TEXT
    assert rendered_contrast(window.statusBar()) >= AA_TEXT
    for stage, button in window.step_buttons.buttons.items():  # on screen, not repainted
        assert rendered_contrast(button) >= 3.0, stage  # a disabled label: 3:1 at least
        assert background_of(button).lightness() < 128 if then == "dark" else \
            background_of(button).lightness() > 128, stage
    just_run = window.step_buttons.buttons[STAGES[3]]
    assert not just_run.isEnabled()  # guided: Step comes next
    # The stage that ran reads as text (inside its border: the green outline is no text).
    assert rendered_contrast(just_run, inset=4) >= AA_TEXT


@pytest.mark.parametrize("name", ["light", "dark"])
def test_theme_text_colours_read_on_its_backgrounds(window: MainWindow, name: theme.Theme) -> None:
    switch(window, name)
    colours = theme.colours()
    assert colours is theme.THEMES[name]
    palette = QGuiApplication.palette()
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
        background = palette.color(role)
        for text in ("good", "bad", "accent", "muted"):
            assert contrast(QColor(getattr(colours, text)), background) >= AA_TEXT, (text, role)
    plot_background = QColor(colours.plot_background)
    assert contrast(QColor(colours.plot_foreground), plot_background) >= AA_TEXT
    # Earlier runs: each a colour of its own, and visible on the plot (3:1 for graphics).
    assert len(set(colours.earlier_runs)) == len(colours.earlier_runs)
    assert colours.loss not in colours.earlier_runs
    for colour in colours.earlier_runs:
        assert contrast(QColor(colour), plot_background) >= 3.0, colour


@pytest.mark.parametrize("then", ["dark", "light"])
def test_graph_text_follows_the_theme(window: MainWindow, qtbot: QtBot,
                                      then: theme.ThemeChoice) -> None:
    switch(window, "light" if then == "dark" else "dark")
    for stage in STAGES[:3]:
        qtbot.mouseClick(window.step_buttons.buttons[stage], Qt.MouseButton.LeftButton)
    window.frame.flush()
    switch(window, then)
    view = window.graph_view
    base = view.palette().color(QPalette.ColorRole.Base)
    boxes = [i for i in view.scene().items() if isinstance(i, QGraphicsRectItem)]
    assert boxes
    for box in boxes:
        details = [c for c in box.childItems() if isinstance(c, QGraphicsTextItem)]
        assert len(details) == 1 and details[0].toPlainText(), box.toolTip()  # name + line
        behind = over(box.brush().color(), base)
        for child in box.childItems():
            if isinstance(child, QGraphicsSimpleTextItem):
                colour = child.brush().color()
            elif isinstance(child, QGraphicsTextItem):
                colour = child.defaultTextColor()
            else:
                continue
            assert contrast(colour, behind) >= AA_TEXT, child
            assert child.scale() == 1.0  # readable size: wrapped, never shrunk


def test_system_theme_follows_the_desktop(window: MainWindow,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    window.set_theme("system")
    hints = QGuiApplication.styleHints()
    for dark in (True, False, True):
        monkeypatch.setattr(theme, "system_is_dark", lambda dark=dark: dark)
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
        QApplication.processEvents()
        expected = "dark" if dark else "light"
        assert window.theme == expected
        assert theme.current_theme() == expected
        background: QColor = window.loss_plot.backgroundBrush().color()  # type: ignore[attr-defined]
        assert background == QColor(theme.THEMES[expected].plot_background)
    assert window.actions_by_name["theme_system"].isChecked()


@pytest.mark.parametrize("name", ["light", "dark"])
def test_an_unticked_box_and_an_unchosen_radio_button_show_in_both_themes(
    window: MainWindow, name: theme.Theme
) -> None:
    from PySide6.QtWidgets import QRadioButton, QStyle, QStyleOptionButton

    window.show()
    switch(window, name)
    free = next(b for b in window.findChildren(QRadioButton) if b.text() == "Free")
    box = window.math_panel.full
    assert not free.isChecked() and not box.isChecked()
    for button, element in ((free, QStyle.SubElement.SE_RadioButtonIndicator),
                            (box, QStyle.SubElement.SE_CheckBoxIndicator)):
        option = QStyleOptionButton()
        option.initFrom(button)
        indicator = button.style().subElementRect(element, option, button)
        image = button.grab().toImage()
        page = QColor(image.pixel(button.width() - 2, button.height() // 2))
        marks = [QColor(image.pixel(x, y)) for x in range(indicator.left(), indicator.right())
                 for y in range(indicator.top(), indicator.bottom())]
        # The indicator's outline stands out from the page around it.
        assert max(contrast(page, mark) for mark in marks) >= 1.8, (name, button.text())
