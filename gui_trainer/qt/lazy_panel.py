"""A dock whose panel is made when first shown, or when first asked for.

The Layers and Landscape docks open as tabs behind the Graph: nobody sees them at start, and
their plots cost a tenth of a second to build, which the window's first frame need not wait
for. Until the panel is made the dock holds an empty stand-in with the panel's own size hints
(measured; a test keeps them true), so the docks are laid out as they would be with the panel
in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QDockWidget, QWidget

Panel = TypeVar("Panel", bound=QWidget)


class StandIn(QWidget):
    """Empty, with the size hints of the panel it stands in for."""

    def __init__(self, minimum: QSize, preferred: QSize) -> None:
        super().__init__()
        self.setObjectName("lazy_stand_in")
        self._minimum, self._preferred = minimum, preferred

    def minimumSizeHint(self) -> QSize:
        return self._minimum

    def sizeHint(self) -> QSize:
        return self._preferred


class LazyPanel(Generic[Panel]):
    """``make()``'s panel in ``dock``, made the first time the dock is shown or :meth:`get`
    is called; :attr:`panel` is None until then."""

    def __init__(self, make: Callable[[], Panel], minimum: QSize, preferred: QSize) -> None:
        self._make = make
        self.panel: Panel | None = None
        #: What the dock holds until the panel is made.
        self.stand_in = StandIn(minimum, preferred)
        self.dock: QDockWidget | None = None

    def attach(self, dock: QDockWidget) -> None:
        """``dock`` holds the stand-in now (window_layout put it there) and the panel as soon
        as the dock is shown. Connect this before anything that draws the shown panel."""
        self.dock = dock
        dock.visibilityChanged.connect(self._visibility_changed)

    def _visibility_changed(self, visible: bool) -> None:
        if visible:
            self.get()

    def get(self) -> Panel:
        """The panel, made now if it was not yet."""
        if self.panel is None:
            panel = self._make()
            self.panel = panel
            if self.dock is not None:
                self.dock.setWidget(panel)
                # Shown at once, not on the layout's queued call: the frame drawn for the
                # dock being shown checks that the panel is visible.
                panel.setVisible(self.dock.isVisible())
            self.stand_in.deleteLater()
        return self.panel
