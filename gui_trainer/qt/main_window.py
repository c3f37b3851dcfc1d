"""The main window: stage buttons, settings, auto-train, readout, plots and teaching docks."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeyEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabBar,
    QTabWidget,
    QTextBrowser,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.experiments import EXPERIMENTS, Experiment
from gui_trainer.core.explanations import skipping_table
from gui_trainer.core.predict import QUESTIONS
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import LABELS, STAGES, Stage
from gui_trainer.qt import preferences
from gui_trainer.qt.actions import TIPS, create_actions, stage_status_tip, stage_tooltip
from gui_trainer.qt.auto_train import AutoTrainer, AutoTrainPanel
from gui_trainer.qt.code_panel import CodePanel
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.dialogs import show_about, show_shortcuts
from gui_trainer.qt.experiment_panel import ExperimentPanel, ExperimentRunner
from gui_trainer.qt.fields import STAGE_KEYS, DeliberateFocus, is_stage_key
from gui_trainer.qt.fit_views import FitPlot
from gui_trainer.qt.graph_view import GraphPanel
from gui_trainer.qt.layers_panel import LayersPanel
from gui_trainer.qt.loop_diagram import LoopDiagram
from gui_trainer.qt.math_panel import MathPanel
from gui_trainer.qt.model_editor import ModelEditor
from gui_trainer.qt.plots import PAINT_COST, GradPlot, LossPlot
from gui_trainer.qt.predict_panel import PredictPanel
from gui_trainer.qt.preferences import LAYOUT_VERSION
from gui_trainer.qt.readout import Readout
from gui_trainer.qt.rich_label import RichLabel, coloured
from gui_trainer.qt.scenario_menu import ScenarioMenu, open_data
from gui_trainer.qt.settings_panel import SettingsPanel
from gui_trainer.qt.step_buttons import StepButtons
from gui_trainer.qt.theme import THEME_CHOICES, Colours, ThemeChoice, apply_palette, resolve
from gui_trainer.qt.throttle import FrameThrottle
from gui_trainer.qt.timeline_bar import TimelineBar

#: Qt adds the application's name (gui_trainer) to the title bar itself.
WINDOW_TITLE = "The PyTorch training loop, one stage at a time"
#: The size the window opens at when the screen has room for it.
PREFERRED_SIZE = QSize(1600, 1000)
#: Below this available size the docks are stacked as tabs so each plot keeps a usable size.
COMPACT_BELOW = QSize(1400, 900)
#: Below this available width the loss and gradient plots stack instead of sitting side by side.
NARROW_BELOW = 1000
#: Below this available size even stacked plots would be slivers: each plot becomes a tab.
TINY_BELOW = QSize(900, 650)


class MainWindow(QMainWindow):
    def __init__(self, session: TrainingSession | None = None) -> None:
        super().__init__()
        #: Save layout and settings on close (create_window turns it on; bare tests leave it).
        self.remember_settings = False
        self.setWindowTitle(WINDOW_TITLE)
        self.setObjectName("main_window")
        self.controller = SessionController(session, self)
        self.actions_by_name = create_actions(self)
        self.trainer = AutoTrainer(self.controller, self)
        self.experiments = ExperimentRunner(self.controller, self)

        self.step_buttons = StepButtons(self.actions_by_name, self)
        self.timeline_bar = TimelineBar(self.controller, self.actions_by_name, self)
        self.predict_panel = PredictPanel(self.controller, self)
        self.experiment_panel = ExperimentPanel(self.experiments, self)
        self.report = RichLabel(self)
        self.report.setObjectName("stage_report")
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report.setMinimumHeight(48)
        self.readout = Readout(self)
        self.settings = SettingsPanel(self.controller, self)
        self.auto_panel = AutoTrainPanel(self.trainer, self.actions_by_name, self)
        self.model_editor = ModelEditor(self.controller, self._before_switch, self)
        self.fit_plot = FitPlot(self)
        self.loss_plot = LossPlot(self)
        self.grad_plot = GradPlot(self)
        self.layers_panel = LayersPanel(self)
        self.math_panel = MathPanel(self)
        self.math_panel.walk_for = lambda: (None if self.session.one_neuron
                                            else self.session.backprop_by_layer(0))
        self.graph_panel = GraphPanel(self)
        self.graph_view = self.graph_panel.view
        self.code_panel = CodePanel(self)
        self.loop_diagram = LoopDiagram(self.actions_by_name, self)
        self.skipping = QTextBrowser(self)
        self.skipping.setObjectName("skipping_table")
        # The dock's title already names it: the table needs no big heading of its own.
        self.skipping.setMarkdown(re.sub(r"^# .*\n+", "", skipping_table()))

        self._build_layout()
        self._build_menus()
        self._connect()
        #: Stage keys reach a text field only when the learner chose that field.
        self.focus_guard = DeliberateFocus(self)
        self.focus_guard.watch(self)
        # Plots paint later in the event loop; their paint time counts toward a frame's cost.
        self.frame = FrameThrottle(self._draw_frame, extra_cost=PAINT_COST.take, parent=self)
        self.theme_choice: ThemeChoice = "system"
        self.theme: str = ""
        self.set_theme("system")
        self._follows_desktop = False
        self._follow_desktop(True)
        self.report.show_plain("Press Zero Grad (key 1, or Space for the next stage) to begin "
                               "the loop. Each click runs the real PyTorch call.")
        self.compact = False
        self.plot_tabs: QTabWidget | None = None
        self.fit_to_screen()
        # The layout as built, for View ▸ Reset Layout.
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._default_splitters = (self.plot_splitter.saveState(), self.lower_plots.saveState())
        self.refresh_now()

    @property
    def session(self) -> TrainingSession:
        """The session the window shows now (the controller may swap it for a new scenario)."""
        return self.controller.session

    # -- construction ------------------------------------------------------------------
    def _build_layout(self) -> None:
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        # Most used first: on a short screen the settings are the part that scrolls.
        side_layout.addWidget(self.readout)
        side_layout.addWidget(self.auto_panel)
        side_layout.addWidget(self.settings)
        side_layout.addWidget(self.model_editor)
        side_layout.addStretch(1)
        # Scrolls on a short screen instead of forcing the window taller than it.
        side_scroll = QScrollArea(self)
        side_scroll.setObjectName("side_scroll")
        side_scroll.setWidget(side)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # Never cut off: a column squeezed below its contents scrolls sideways too.
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        side_scroll.setMinimumWidth(side.minimumSizeHint().width() + 16)
        self.side = side_scroll

        self.lower_plots = QSplitter(Qt.Orientation.Horizontal, self)
        self.lower_plots.addWidget(self.loss_plot)
        self.lower_plots.addWidget(self.grad_plot)
        self.plot_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.plot_splitter.setObjectName("plot_splitter")
        self.lower_plots.setObjectName("lower_plots")
        self.plot_splitter.addWidget(self.fit_plot)
        self.plot_splitter.addWidget(self.lower_plots)


        central = QWidget(self)
        central.setObjectName("central")
        # The window itself takes the keyboard at start, so 1–5 and Space run stages
        # instead of landing in the learning-rate field.
        central.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(central)
        # The stages and the timeline span the whole window, above the docks.
        for name, widget in (("stages", self.step_buttons), ("timeline", self.timeline_bar)):
            bar = QToolBar(name.capitalize(), self)
            bar.setObjectName(f"toolbar_{name}")
            bar.setMovable(False)
            bar.setFloatable(False)
            bar.toggleViewAction().setVisible(False)
            bar.addWidget(widget)
            if name == "timeline":
                self.addToolBarBreak()
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        layout.addWidget(self.report)
        layout.addWidget(self.predict_panel)
        layout.addWidget(self.plot_splitter, 1)
        self.central_layout = layout
        self.setCentralWidget(central)
        self.central = central
        self.docks: dict[str, QDockWidget] = {}
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        # The side columns run the full height; the bottom row sits under the plots only.
        self.setCorner(Qt.Corner.BottomRightCorner, right)
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self._dock("controls", "Values and settings", self.side, left)
        self._dock("math", "Worked math", self.math_panel, right)
        self._dock("graph", "Graph (autograd)", self.graph_panel, right)
        self._dock("loop", "The loop", self.loop_diagram, bottom)
        self._dock("code", "Code", self.code_panel, bottom)
        self._dock("skipping", "If a stage is skipped", self.skipping, bottom)
        self._dock("experiment", "Experiment", self.experiment_panel, bottom)
        self._dock("layers", "Layers (tensor by tensor)", self.layers_panel, right)
        self.splitDockWidget(self.docks["loop"], self.docks["code"], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.docks["code"], self.docks["skipping"])
        self.tabifyDockWidget(self.docks["code"], self.docks["experiment"])
        self.tabifyDockWidget(self.docks["graph"], self.docks["layers"])
        self.docks["graph"].raise_()
        self.docks["code"].raise_()
        # Drawn only while in view (it runs a forward for the activation statistics).
        self.docks["layers"].visibilityChanged.connect(self._layers_shown)

    def _layers_shown(self, shown: bool) -> None:
        if shown:
            self.refresh_now()

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock

    def _build_menus(self) -> None:
        actions = self.actions_by_name
        self.scenario_menu = ScenarioMenu(self.controller, self._before_switch, self)
        file_menu = self.menuBar().addMenu("&File")
        open_data_action = file_menu.addAction("Open Data…")
        open_data_action.setObjectName("open_data")
        open_data_action.setStatusTip("Train on your own CSV file: a header row, numeric "
                                      "columns, one of them the target")
        open_data_action.triggered.connect(self.open_data)
        file_menu.addAction(actions["reset"])
        file_menu.addSeparator()
        file_menu.addAction(actions["quit"])
        edit_menu = self.menuBar().addMenu("&Edit")
        for name in ("undo", "redo", "rewind_divergence"):
            edit_menu.addAction(actions[name])
        edit_menu.addSeparator()
        edit_menu.addAction(actions["clear_runs"])
        self.edit_back = edit_menu.addAction("Back to the Previous Scenario")
        self.edit_back.setObjectName("edit_scenario_back")
        self.edit_back.setEnabled(False)  # until a switch (named after each one)
        self.edit_back.triggered.connect(self.scenario_menu.switch_back)
        self.menuBar().addMenu(self.scenario_menu)
        self.view_menu = self.menuBar().addMenu("&View")
        run_menu = self.menuBar().addMenu("&Run")
        for stage in STAGES:
            run_menu.addAction(actions[stage])
        run_menu.addAction(actions["next_stage"])
        run_menu.addSeparator()
        for name in ("train_start", "train_pause", "train_stop"):
            run_menu.addAction(actions[name])
        run_menu.addSeparator()
        run_menu.addAction(actions["predict"])
        experiments_menu = self.menuBar().addMenu("E&xperiments")
        self.experiment_actions: dict[str, QAction] = {}
        for experiment in EXPERIMENTS:
            action = experiments_menu.addAction(experiment.title)
            action.setObjectName(f"experiment_{experiment.key}")
            action.setStatusTip(experiment.intro)
            action.triggered.connect(lambda _=False, e=experiment: self.start_experiment(e))
            self.experiment_actions[experiment.key] = action
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        themes = QActionGroup(self)
        for name in ("theme_system", "theme_light", "theme_dark"):
            themes.addAction(actions[name])
            self.view_menu.addAction(actions[name])
        self.view_menu.addSeparator()
        self.view_menu.addAction(actions["reset_layout"])
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(actions["shortcuts"])
        help_menu.addAction(actions["about"])
        # Window-wide shortcuts even for actions that are only in a menu.
        self.addActions(list(actions.values()))

    def _connect(self) -> None:
        actions = self.actions_by_name
        for stage in STAGES:
            actions[stage].triggered.connect(lambda _=False, s=stage: self.request_stage(s))
        actions["next_stage"].triggered.connect(
            lambda: self.request_stage(self.session.next_stage))
        actions["reset"].triggered.connect(self._reset)
        actions["undo"].triggered.connect(self.controller.undo)
        actions["redo"].triggered.connect(self.controller.redo)
        actions["rewind_divergence"].triggered.connect(self.controller.rewind_before_divergence)
        actions["clear_runs"].triggered.connect(
            lambda: self.loss_plot.clear_earlier_runs(self.controller.capture()))
        actions["predict"].toggled.connect(self._predict_toggled)
        actions["reset_layout"].triggered.connect(self.reset_layout)
        actions["about"].triggered.connect(lambda: show_about(self))
        actions["shortcuts"].triggered.connect(lambda: show_shortcuts(self, self.actions_by_name))
        for choice in THEME_CHOICES:
            actions[f"theme_{choice}"].triggered.connect(
                lambda _=False, c=choice: self.set_theme(c))
        self.controller.rewound.connect(self._show_rewound)
        self.experiments.started.connect(self._experiment_started)
        self.experiments.finished.connect(lambda _e: self._update_enabled())
        actions["quit"].triggered.connect(self.close)
        actions["train_start"].triggered.connect(self.trainer.start)
        actions["train_pause"].triggered.connect(self.trainer.pause)
        actions["train_stop"].triggered.connect(self._stop_everything)
        self.controller.stage_run.connect(self._show_record)
        self.controller.stage_run.connect(self.math_panel.show_record)
        self.controller.stage_run.connect(self._show_graph_for)
        self.controller.changed.connect(self._on_changed)
        self.controller.was_reset.connect(self._clear_report)
        self.controller.scenario_changed.connect(self._scenario_changed)
        self.controller.scenario_changed.connect(self._name_back)
        self.controller.message.connect(self.statusBar().showMessage)
        self.trainer.state_changed.connect(self._on_train_state)
        self.trainer.finished.connect(self._on_train_finished)
        self.controller.settings_changed.connect(self._update_enabled)

    # -- reacting ----------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Auto-train or an experiment is driving the session: hands off the stages."""
        return self.controller.enablement().busy

    def request_stage(self, stage: Stage) -> None:
        """A person asked for ``stage``: ask for a prediction first if that mode is on."""
        if (self.actions_by_name["predict"].isChecked() and stage in QUESTIONS
                and self.session.refusal(stage) is None):
            self.predict_panel.ask(stage)
            self.statusBar().showMessage("Make your guess, then press Reveal.")
            return
        self.predict_panel.cancel()
        self.controller.run_stage(stage)

    def set_theme(self, choice: ThemeChoice) -> None:
        """Light, dark, or whatever the desktop uses.

        Only the palette changes here: every view that draws with theme colours redraws
        itself on the palette-change event that follows (see ``theme.py``), except the
        stage buttons, whose stylesheet is set again.
        """
        self.theme_choice = choice
        self.actions_by_name[f"theme_{choice}"].setChecked(True)
        theme = resolve(choice)
        self.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_palette(app, theme)
        self.step_buttons.restyle()  # a stylesheet: no palette-change event reaches it

    def _desktop_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        self.set_theme(self.theme_choice)

    def _follow_desktop(self, on: bool) -> None:
        """Follow the desktop's colour scheme while shown; a closed window must not (it
        would still set the application's palette)."""
        if on != self._follows_desktop:
            signal = QGuiApplication.styleHints().colorSchemeChanged
            if on:
                signal.connect(self._desktop_scheme_changed)
            else:
                signal.disconnect(self._desktop_scheme_changed)
            self._follows_desktop = on

    def fit_to_screen(self) -> None:
        """Open at the preferred size or the screen's available size, whichever is smaller.

        On a small screen (or a large one at 200 % scale) the docks become tabs in two
        groups on the right, so the plots keep a usable size instead of being squeezed.
        """
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        self.compact = (available.width() < COMPACT_BELOW.width()
                        or available.height() < COMPACT_BELOW.height())
        if self.compact:
            self.stack_docks()
            if available.width() < NARROW_BELOW:  # too narrow for two plots side by side
                self.lower_plots.setOrientation(Qt.Orientation.Vertical)
            if (available.width() < TINY_BELOW.width()
                    or available.height() < TINY_BELOW.height()):
                self.plots_as_tabs()
        # Leave room for the window manager's frame (title bar and borders).
        width = min(PREFERRED_SIZE.width(), available.width() - 16)
        height = min(PREFERRED_SIZE.height(), available.height() - 40)
        self.resize(max(width, 320), max(height, 240))
        self.move(available.topLeft())
        if self.compact:
            self.resizeDocks([self.docks["controls"]], [340], Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["controls"], self.docks["loop"]], [420, 200],
                             Qt.Orientation.Vertical)
        else:
            # Side columns by share of the width; the plots keep the rest.
            self.resizeDocks([self.docks["controls"], self.docks["math"]],
                             [self.width() * 20 // 100, self.width() * 32 // 100],
                             Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["math"], self.docks["graph"]], [40, 60],
                             Qt.Orientation.Vertical)
            self.resizeDocks([self.docks["loop"], self.docks["code"]], [40, 60],
                             Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["loop"]], [self.height() // 4],
                             Qt.Orientation.Vertical)

    def stack_docks(self) -> None:
        """Two groups of tabbed docks on the right: the values and settings in front above,
        the loop diagram below; the plots get the rest of the width."""
        right = Qt.DockWidgetArea.RightDockWidgetArea
        groups = (("controls", "math", "code", "graph", "layers"),
                  ("loop", "skipping", "experiment"))
        for names in groups:
            self.addDockWidget(right, self.docks[names[0]])
        self.splitDockWidget(self.docks["controls"], self.docks["loop"],
                             Qt.Orientation.Vertical)
        for names in groups:
            for name in names[1:]:
                self.tabifyDockWidget(self.docks[names[0]], self.docks[name])
        for names in groups:
            self.docks[names[0]].raise_()

    def plots_as_tabs(self) -> None:
        """One plot at a time, each as large as the centre allows (a very small screen)."""
        tabs = QTabWidget(self)
        tabs.setObjectName("plot_tabs")
        tabs.setDocumentMode(True)
        for plot, title in ((self.fit_plot, "Data fit"), (self.loss_plot, "Loss history"),
                            (self.grad_plot, "Gradients")):
            tabs.addTab(plot, title)
        self.central_layout.replaceWidget(self.plot_splitter, tabs)
        self.plot_splitter.hide()
        self.plot_tabs = tabs

    def _unelide_dock_tabs(self) -> None:
        """Whole names on the tabs of stacked docks ("C…" says nothing); arrows scroll."""
        for bar in self.findChildren(QTabBar):
            if bar.parent() is self:  # the dock areas' tab bars, not the plots' tabs
                bar.setElideMode(Qt.TextElideMode.ElideNone)
                bar.setUsesScrollButtons(True)

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self.plot_splitter.restoreState(self._default_splitters[0])
        self.lower_plots.restoreState(self._default_splitters[1])
        self._unelide_dock_tabs()
        self.statusBar().showMessage("Layout reset.")

    def _predict_toggled(self, on: bool) -> None:
        if not on:
            self.predict_panel.cancel()
        self.statusBar().showMessage(
            "Predict mode: you will be asked to guess before Backward and Step." if on
            else "Predict mode off.")

    def start_experiment(self, experiment: Experiment) -> None:
        self.trainer.stop("Auto-train stopped: an experiment is starting.")
        self.predict_panel.cancel()
        self.experiments.start(experiment)

    def _experiment_started(self, experiment: Experiment) -> None:
        self.docks["experiment"].show()
        self.docks["experiment"].raise_()
        self._update_enabled()

    def open_data(self, path: str | None = None) -> None:
        """File ▸ Open Data…: a learner's CSV as a new scenario (Scenario ▸ Back undoes)."""
        scenario = open_data(self, path)
        if scenario is not None:
            self._before_switch()
            self.controller.open_scenario(scenario)

    def _before_switch(self) -> None:
        """A new scenario is coming: nothing may keep driving or asking about the old one."""
        self._stop_everything()
        self.actions_by_name["predict"].setChecked(False)
        self.predict_panel.cancel()

    def _name_back(self) -> None:
        back = self.scenario_menu.back
        self.edit_back.setText(back.text())
        self.edit_back.setEnabled(back.isEnabled())

    def _scenario_changed(self) -> None:
        self.math_panel.show_record(None)
        self.experiment_panel.set_available(self.session.one_neuron)
        session = self.session
        where = ("Press Zero Grad (key 1) to begin." if session.stage_count == 0 else
                 f"Back where you left it: epoch {session.epoch}, next "
                 f"{LABELS[session.next_stage]}.")
        self.report.show_plain(f"{session.scenario.title}. {session.scenario.description} "
                               f"{where}")
        self.graph_view.show_graph(self.session.autograd_graph())

    def _stop_everything(self) -> None:
        self.trainer.stop()
        self.experiments.stop()

    def _show_rewound(self, record: StageRecord | None) -> None:
        self.predict_panel.cancel()
        self.math_panel.show_record(record)
        if record is None:
            self.report.show_plain("Rewound to a moment before any stage of this run.")
        else:
            self._show_record(record)
        self.graph_view.show_graph(self.session.autograd_graph())

    def _reset(self) -> None:
        self.trainer.stop("Auto-train stopped by Restart.")
        self.experiments.stop()
        self.controller.reset()

    def _on_changed(self) -> None:
        """What may be clicked updates at once; everything drawn waits for the next frame."""
        self._update_enabled()
        self.frame.request()

    def _show_record(self, record: StageRecord) -> None:
        def render(c: Colours) -> str:
            text = (f"{coloured(record.label, c.good if record.ok else c.bad, bold=True)} — "
                    f"{html.escape(record.explanation)}")
            if record.error:
                text += ("<br><span style='font-family:monospace'>"
                         + coloured("PyTorch said: " + record.error.splitlines()[0], c.bad)
                         + "</span>")
            return text

        self.report.show_content(render)

    def _show_graph_for(self, record: StageRecord) -> None:
        animate = record.stage == "backward" and record.ok
        self.graph_view.show_graph(self.session.autograd_graph(), animate_backward=animate)
        if animate:
            self.graph_view.set_caption(
                "Backward: autograd went from the loss back to the parameters (lit up in the "
                "order it visited them) and the gradients arrived in .grad. The graph's saved "
                "values are now freed."
            )

    def _clear_report(self) -> None:
        self.math_panel.show_record(None)
        self.report.show_plain("Reset to the starting weights. Press Zero Grad to begin the loop.")

    def _on_train_state(self, state: str) -> None:
        if state == "running":
            self.predict_panel.cancel()
            self.report.show_plain(
                f"Auto-train is running: {self.trainer.target:,} epochs. Pause (Ctrl+P) or "
                "stop (Esc) it at any time.")
        elif state == "paused":
            self.report.show_plain(
                f"Auto-train paused at epoch {self.trainer.done:,} of {self.trainer.target:,}. "
                "Start (Ctrl+T) resumes it; the panels show where it stopped.")
        self.refresh_now()

    def _on_train_finished(self, message: str) -> None:
        if self.session.position_before_divergence() is not None:
            message += " Ctrl+B rewinds to just before it diverged."
        self.statusBar().showMessage(message)
        self.report.show_plain(message)
        self.refresh_now()

    def _update_enabled(self) -> None:
        """Apply what the controller says may be clicked now (and why not, in tooltips)."""
        allowed = self.controller.enablement()
        actions = self.actions_by_name
        for stage in STAGES:
            refusal = allowed.refusals[stage]
            actions[stage].setEnabled(refusal is None)
            tip = stage_tooltip(stage, refusal, allowed.reader)
            if actions[stage].toolTip() != tip:
                actions[stage].setToolTip(tip)
                actions[stage].setStatusTip(stage_status_tip(stage, allowed.reader))
        for name in ("next_stage", "train_start", "train_pause", "train_stop", "undo", "redo",
                     "rewind_divergence", "reset", "predict"):
            actions[name].setEnabled(getattr(allowed, name))
        for action, tip in [(actions["predict"], TIPS["predict"]), *(
                (self.experiment_actions[e.key], e.intro) for e in EXPERIMENTS)]:
            if action is not actions["predict"]:
                action.setEnabled(allowed.experiments)
            if action.statusTip() != tip + allowed.only_note:
                action.setStatusTip(tip + allowed.only_note)
                action.setToolTip(tip + allowed.only_note)
        self.predict_panel.reveal_button.setEnabled(allowed.reveal)
        self.timeline_bar.slider.setEnabled(allowed.timeline)
        self.math_panel.reader = self.loop_diagram.reader = allowed.reader

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A stage key whose stage cannot run reaches here (its shortcut is off): say why."""
        if is_stage_key(event):
            stage = STAGE_KEYS[Qt.Key(event.key())]
            reason = self.controller.refusal(stage or self.session.next_stage)
            if reason is not None:
                self.statusBar().showMessage(reason)
            else:  # an allowed stage whose shortcut did not fire (the window was inactive)
                self.actions_by_name[stage or "next_stage"].trigger()
            event.accept()
            return
        super().keyPressEvent(event)

    def _draw_frame(self) -> None:
        """Redraw every view from the session: at most once a frame, however fast it runs."""
        state = self.controller.capture()
        last = self.controller.last_record
        self.readout.refresh(state)
        self.timeline_bar.refresh(state)
        self.step_buttons.show_state(state, last)
        self.loop_diagram.show_state(state, last)
        self.auto_panel.sync_progress()
        self.fit_plot.refresh(state)
        self.loss_plot.refresh(state)
        self.grad_plot.refresh(state)
        if self.layers_panel.isVisible():
            self.layers_panel.refresh(state)
        # A fast run shows no record one by one: the panels say they are paused, and show
        # the run's last stage as soon as it pauses or ends.
        paused = self.trainer.batch_mode
        if self.math_panel.paused and not paused:
            self.math_panel.set_paused(False)
            self.math_panel.show_record(last)
        self.math_panel.set_paused(paused)
        self.code_panel.refresh(state.listing, paused)
        if state.graph != self.graph_view.snapshot:  # keeps a running backward animation intact
            self.graph_view.show_graph(state.graph)

    def refresh_now(self) -> None:
        """Bring every view up to date immediately (start-up, tests, screenshots)."""
        self._update_enabled()
        self.frame.request()
        self.frame.flush()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._follow_desktop(True)
        self.central.setFocus(Qt.FocusReason.OtherFocusReason)
        self._unelide_dock_tabs()
        # The layout's minimum is final only now (docks and tabs settled): fit again.
        available = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        frame = self.frameGeometry().size() - self.size()  # title bar and borders
        width = min(self.width(), available.width() - frame.width())
        height = min(self.height(), available.height() - frame.height())
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop_everything()
        # Nothing may fire into a closed window.
        self.graph_view.finish_animation()
        self.frame.cancel()
        self.timeline_bar.cancel()
        self._follow_desktop(False)
        if self.remember_settings:
            preferences.save(self)
        super().closeEvent(event)
