"""Where everything sits in the main window, and how it adapts to the screen.

The window composes its parts; this module lays them out: the side column, the plots in
the middle, the docks around them, and — on a small screen, or a large one at 200 % — the
docks as tabs and the plots one at a time, so nothing is squeezed into a sliver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QLayout,
    QScrollArea,
    QSplitter,
    QTabBar,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.qt.preferences import LAYOUT_VERSION

if TYPE_CHECKING:
    from gui_trainer.qt.main_window import MainWindow

#: The size the window opens at when the screen has room for it.
PREFERRED_SIZE = QSize(1600, 1000)
#: Below this available size the docks are stacked as tabs so each plot keeps a usable size.
COMPACT_BELOW = QSize(1400, 900)
#: Below this available width the loss and gradient plots stack instead of sitting side by side.
NARROW_BELOW = 1000
#: Below this available size even stacked plots would be slivers: each plot becomes a tab.
TINY_BELOW = QSize(900, 650)


def build(window: MainWindow) -> None:
    """The side column, the plots in the middle, and the docks around them."""
    side = QWidget(window)
    side_layout = QVBoxLayout(side)
    # Most used first: on a short screen the settings are the part that scrolls.
    side_layout.addWidget(window.readout)
    side_layout.addWidget(window.auto_panel)
    side_layout.addWidget(window.settings)
    side_layout.addWidget(window.model_editor)
    side_layout.addStretch(1)
    # Scrolls on a short screen instead of forcing the window taller than it.
    side_scroll = QScrollArea(window)
    side_scroll.setObjectName("side_scroll")
    side_scroll.setWidget(side)
    side_scroll.setWidgetResizable(True)
    side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    # Never cut off: a column squeezed below its contents scrolls sideways too.
    side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    side_scroll.setMinimumWidth(side.minimumSizeHint().width() + 16)
    window.side = side_scroll

    window.lower_plots = QSplitter(Qt.Orientation.Horizontal, window)
    window.lower_plots.addWidget(window.loss_plot)
    window.lower_plots.addWidget(window.grad_plot)
    window.plot_splitter = QSplitter(Qt.Orientation.Vertical, window)
    window.plot_splitter.setObjectName("plot_splitter")
    window.lower_plots.setObjectName("lower_plots")
    window.plot_splitter.addWidget(window.fit_plot)
    window.plot_splitter.addWidget(window.lower_plots)


    central = QWidget(window)
    central.setObjectName("central")
    # The window itself takes the keyboard at start, so 1–5 and Space run stages
    # instead of landing in the learning-rate field.
    central.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    layout = QVBoxLayout(central)
    # The stages and the timeline span the whole window, above the docks.
    for name, widget in (("stages", window.step_buttons), ("timeline", window.timeline_bar)):
        bar = QToolBar(name.capitalize(), window)
        bar.setObjectName(f"toolbar_{name}")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setVisible(False)
        bar.addWidget(widget)
        if name == "timeline":
            window.addToolBarBreak()
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    layout.addWidget(window.report)
    layout.addWidget(window.predict_panel)
    layout.addWidget(window.plot_splitter, 1)
    window.central_layout = layout
    window.setCentralWidget(central)
    window.central = central
    window.docks = {}
    window.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    right = Qt.DockWidgetArea.RightDockWidgetArea
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    # The side columns run the full height; the bottom row sits under the plots only.
    window.setCorner(Qt.Corner.BottomRightCorner, right)
    window.setCorner(Qt.Corner.BottomLeftCorner, left)
    _dock(window, "controls", "Values and settings", window.side, left)
    _dock(window, "math", "Worked math", window.math_panel, right)
    _dock(window, "graph", "Graph (autograd)", window.graph_panel, right)
    _dock(window, "loop", "The loop", window.loop_diagram, bottom)
    _dock(window, "code", "Code", window.code_panel, bottom)
    _dock(window, "skipping", "If a stage is skipped", window.skipping, bottom)
    _dock(window, "experiment", "Experiment", window.experiment_panel, bottom)
    _dock(window, "layers", "Layers (tensor by tensor)", window.lazy_layers.stand_in, right)
    _dock(window, "landscape", "Landscape", window.lazy_landscape.stand_in, right)
    _dock(window, "optimizer", "Optimizer state", window.optimizer_panel, right)
    window.splitDockWidget(window.docks["loop"], window.docks["code"], Qt.Orientation.Horizontal)
    window.tabifyDockWidget(window.docks["code"], window.docks["skipping"])
    window.tabifyDockWidget(window.docks["code"], window.docks["experiment"])
    window.tabifyDockWidget(window.docks["graph"], window.docks["layers"])
    window.tabifyDockWidget(window.docks["graph"], window.docks["landscape"])
    window.tabifyDockWidget(window.docks["graph"], window.docks["optimizer"])
    window.docks["graph"].raise_()
    window.docks["code"].raise_()
    # Made when first shown (before the frame below draws them).
    window.lazy_layers.attach(window.docks["layers"])
    window.lazy_landscape.attach(window.docks["landscape"])
    # Drawn only while in view (it runs a forward for the activation statistics).
    window.docks["layers"].visibilityChanged.connect(window.panel_shown)
    window.docks["landscape"].visibilityChanged.connect(window.panel_shown)


def _dock(window: MainWindow, name: str, title: str, widget: QWidget,
          area: Qt.DockWidgetArea) -> None:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{name}")
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    window.docks[name] = dock


def fit_to_screen(window: MainWindow) -> None:
    """Open at the preferred size or the screen's available size, whichever is smaller.

    On a small screen (or a large one at 200 % scale) the docks become tabs in two
    groups on the right, so the plots keep a usable size instead of being squeezed.
    """
    screen = window.screen() or QGuiApplication.primaryScreen()
    available = screen.availableGeometry()
    window.compact = (available.width() < COMPACT_BELOW.width()
                    or available.height() < COMPACT_BELOW.height())
    if window.compact:
        stack_docks(window)
        if available.width() < NARROW_BELOW:  # too narrow for two plots side by side
            window.lower_plots.setOrientation(Qt.Orientation.Vertical)
        if (available.width() < TINY_BELOW.width()
                or available.height() < TINY_BELOW.height()):
            plots_as_tabs(window)
    # The minimum of the layout as arranged now (a stale one, from before the docks were
    # stacked, would keep the window taller than the screen).
    cast(QLayout, window.layout()).activate()
    # Leave room for the window manager's frame (title bar and borders).
    width = min(PREFERRED_SIZE.width(), available.width() - 16)
    height = min(PREFERRED_SIZE.height(), available.height() - 40)
    window.resize(max(width, 320), max(height, 240))
    window.move(available.topLeft())
    if window.compact:
        window.resizeDocks([window.docks["controls"]], [340], Qt.Orientation.Horizontal)
        window.resizeDocks([window.docks["controls"], window.docks["loop"]], [420, 200],
                         Qt.Orientation.Vertical)
    else:
        # Side columns by share of the width; the plots keep the rest.
        window.resizeDocks([window.docks["controls"], window.docks["math"]],
                         [window.width() * 20 // 100, window.width() * 32 // 100],
                         Qt.Orientation.Horizontal)
        window.resizeDocks([window.docks["math"], window.docks["graph"]], [40, 60],
                         Qt.Orientation.Vertical)
        window.resizeDocks([window.docks["loop"], window.docks["code"]], [40, 60],
                         Qt.Orientation.Horizontal)
        window.resizeDocks([window.docks["loop"]], [window.height() // 4],
                         Qt.Orientation.Vertical)


def stack_docks(window: MainWindow) -> None:
    """Two groups of tabbed docks on the right: the values and settings in front above,
    the loop diagram below; the plots get the rest of the width."""
    right = Qt.DockWidgetArea.RightDockWidgetArea
    groups = (("controls", "math", "code", "graph", "layers", "landscape"),
              ("loop", "skipping", "experiment", "optimizer"))
    for names in groups:
        window.addDockWidget(right, window.docks[names[0]])
    window.splitDockWidget(window.docks["controls"], window.docks["loop"],
                         Qt.Orientation.Vertical)
    for names in groups:
        for name in names[1:]:
            window.tabifyDockWidget(window.docks[names[0]], window.docks[name])
    for names in groups:
        window.docks[names[0]].raise_()


def plots_as_tabs(window: MainWindow) -> None:
    """One plot at a time, each as large as the centre allows (a very small screen)."""
    tabs = QTabWidget(window)
    tabs.setObjectName("plot_tabs")
    tabs.setDocumentMode(True)
    for plot, title in ((window.fit_plot, "Data fit"), (window.loss_plot, "Loss history"),
                        (window.grad_plot, "Gradients")):
        tabs.addTab(plot, title)
    window.central_layout.replaceWidget(window.plot_splitter, tabs)
    window.plot_splitter.hide()
    window.plot_tabs = tabs


def unelide_dock_tabs(window: MainWindow) -> None:
    """Whole names on the tabs of stacked docks ("C…" says nothing); arrows scroll."""
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window:  # the dock areas' tab bars, not the plots' tabs
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)


def dock_tab_groups(window: MainWindow) -> set[frozenset[str]]:
    """The titles of each group of tabbed docks as laid out now."""
    groups = set()
    for dock in window.docks.values():
        others = window.tabifiedDockWidgets(dock)
        if others and not dock.isFloating():
            groups.add(frozenset(d.windowTitle() for d in (dock, *others)))
    return groups


def hide_stray_tab_bars(window: MainWindow) -> None:
    """Hide the dock tab bars no group uses any more.

    Regrouping the docks (the compact layout, Reset Layout) leaves Qt's earlier tab bars on
    the window, visible: on a small screen their tabs peeked out over the plots.
    """
    groups = dock_tab_groups(window)
    for bar in window.findChildren(QTabBar):
        if bar.parent() is window and bar.isVisible():
            titles = frozenset(bar.tabText(i) for i in range(bar.count()))
            if titles not in groups:
                bar.hide()


def reset_layout(window: MainWindow) -> None:
    window.restoreState(window.default_state, LAYOUT_VERSION)
    for dock in window.docks.values():
        dock.show()
    window.plot_splitter.restoreState(window.default_splitters[0])
    window.lower_plots.restoreState(window.default_splitters[1])
    unelide_dock_tabs(window)
    hide_stray_tab_bars(window)
    window.statusBar().showMessage("Layout reset.")
