"""The main window: stage buttons, settings, auto-train, readout and the three plots."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.experiments import EXPERIMENTS, Experiment
from gui_trainer.core.explanations import skipping_table
from gui_trainer.core.predict import QUESTIONS
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import STAGES, Stage
from gui_trainer.qt import preferences
from gui_trainer.qt.actions import create_actions
from gui_trainer.qt.auto_train import AutoTrainer, AutoTrainPanel
from gui_trainer.qt.code_panel import CodePanel
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.dialogs import show_about, show_shortcuts
from gui_trainer.qt.experiment_panel import ExperimentPanel, ExperimentRunner
from gui_trainer.qt.graph_view import GraphPanel
from gui_trainer.qt.loop_diagram import LoopDiagram
from gui_trainer.qt.math_panel import MathPanel
from gui_trainer.qt.plots import PAINT_COST, FitPlot, GradPlot, LossPlot
from gui_trainer.qt.predict_panel import PredictPanel
from gui_trainer.qt.preferences import LAYOUT_VERSION
from gui_trainer.qt.readout import Readout
from gui_trainer.qt.settings_panel import SettingsPanel
from gui_trainer.qt.step_buttons import StepButtons
from gui_trainer.qt.theme import PLOT_COLOURS, THEME_CHOICES, ThemeChoice, apply_palette, resolve
from gui_trainer.qt.throttle import FrameThrottle
from gui_trainer.qt.timeline_bar import TimelineBar

WINDOW_TITLE = "gui_trainer — the PyTorch training loop, one stage at a time"


class MainWindow(QMainWindow):
    def __init__(self, session: TrainingSession | None = None) -> None:
        super().__init__()
        #: Save layout and settings on close (create_window turns it on; bare tests leave it).
        self.remember_settings = False
        self.setWindowTitle(WINDOW_TITLE)
        self.setObjectName("main_window")
        self.controller = SessionController(session, self)
        self.session = self.controller.session
        self.actions_by_name = create_actions(self)
        self.trainer = AutoTrainer(self.controller, self)
        self.experiments = ExperimentRunner(self.controller, self)

        self.step_buttons = StepButtons(self.actions_by_name, self)
        self.timeline_bar = TimelineBar(self.controller, self.actions_by_name, self)
        self.predict_panel = PredictPanel(self.controller, self)
        self.experiment_panel = ExperimentPanel(self.experiments, self)
        self.report = QLabel(self)
        self.report.setObjectName("stage_report")
        self.report.setWordWrap(True)
        self.report.setTextFormat(Qt.TextFormat.RichText)
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report.setMinimumHeight(48)
        self.readout = Readout(self)
        self.settings = SettingsPanel(self.controller, self)
        self.auto_panel = AutoTrainPanel(self.trainer, self.actions_by_name, self)
        self.fit_plot = FitPlot(self)
        self.loss_plot = LossPlot(self)
        self.grad_plot = GradPlot(self)
        self.math_panel = MathPanel(self)
        self.graph_panel = GraphPanel(self)
        self.graph_view = self.graph_panel.view
        self.code_panel = CodePanel(self)
        self.loop_diagram = LoopDiagram(self.actions_by_name, self)
        self.skipping = QTextBrowser(self)
        self.skipping.setObjectName("skipping_table")
        self.skipping.setMarkdown(skipping_table())

        self._build_layout()
        self._build_menus()
        self._connect()
        # Plots paint later in the event loop; their paint time counts toward a frame's cost.
        self.frame = FrameThrottle(self._draw_frame, extra_cost=PAINT_COST.take, parent=self)
        self.theme_choice: ThemeChoice = "system"
        self.theme: str = ""
        self.set_theme("system")
        QGuiApplication.styleHints().colorSchemeChanged.connect(
            lambda _scheme: self.set_theme(self.theme_choice))
        self.statusBar().showMessage("Press Zero Grad (or key 1, or Space) to begin the loop.")
        self.resize(1600, 1000)
        # The layout as built, for View ▸ Reset Layout.
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._default_splitters = (self.main_splitter.saveState(), self.plot_splitter.saveState())
        self.refresh_now()

    # -- construction ------------------------------------------------------------------
    def _build_layout(self) -> None:
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        # Most used first: on a short screen the settings are the part that scrolls.
        side_layout.addWidget(self.readout)
        side_layout.addWidget(self.auto_panel)
        side_layout.addWidget(self.settings)
        side_layout.addStretch(1)
        # Scrolls on a short screen instead of forcing the window taller than it.
        side_scroll = QScrollArea(self)
        side_scroll.setObjectName("side_scroll")
        side_scroll.setWidget(side)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setMinimumWidth(side.minimumSizeHint().width() + 16)

        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(self.loss_plot)
        lower.addWidget(self.grad_plot)
        self.plot_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.plot_splitter.addWidget(self.fit_plot)
        self.plot_splitter.addWidget(lower)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("main_splitter")
        self.main_splitter.addWidget(side_scroll)
        self.main_splitter.addWidget(self.plot_splitter)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([320, 700])

        central = QWidget(self)
        central.setObjectName("central")
        # The window itself takes the keyboard at start, so 1–5 and Space run stages
        # instead of landing in the learning-rate field.
        central.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(central)
        layout.addWidget(self.step_buttons)
        layout.addWidget(self.timeline_bar)
        layout.addWidget(self.report)
        layout.addWidget(self.predict_panel)
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)
        self.central = central
        self.docks: dict[str, QDockWidget] = {}
        right = Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        # The right column runs the full height; the bottom row sits under the plots only.
        self.setCorner(Qt.Corner.BottomRightCorner, right)
        self._dock("math", "Worked math", self.math_panel, right)
        self._dock("graph", "Computational graph (autograd)", self.graph_panel, right)
        self._dock("loop", "The loop", self.loop_diagram, bottom)
        self._dock("code", "Code", self.code_panel, bottom)
        self._dock("skipping", "If a stage is skipped", self.skipping, bottom)
        self._dock("experiment", "Experiment", self.experiment_panel, bottom)
        self.splitDockWidget(self.docks["loop"], self.docks["code"], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.docks["code"], self.docks["skipping"])
        self.tabifyDockWidget(self.docks["code"], self.docks["experiment"])
        self.docks["code"].raise_()
        self.resizeDocks([self.docks["math"]], [560], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["math"], self.docks["graph"]], [380, 560],
                         Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["loop"]], [240], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["loop"], self.docks["code"]], [330, 700],
                         Qt.Orientation.Horizontal)

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock

    def _build_menus(self) -> None:
        actions = self.actions_by_name
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(actions["reset"])
        file_menu.addAction(actions["reset_layout"])
        file_menu.addSeparator()
        file_menu.addAction(actions["quit"])
        edit_menu = self.menuBar().addMenu("&Edit")
        for name in ("undo", "redo", "rewind_divergence"):
            edit_menu.addAction(actions[name])
        edit_menu.addSeparator()
        edit_menu.addAction(actions["clear_runs"])
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
            lambda: self.loss_plot.clear_earlier_runs(self.session))
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
        self.controller.stage_run.connect(self.code_panel.show_record)
        self.controller.stage_run.connect(self._show_graph_for)
        self.controller.changed.connect(self._on_changed)
        self.controller.was_reset.connect(self._clear_report)
        self.controller.message.connect(self.statusBar().showMessage)
        self.trainer.state_changed.connect(lambda _state: self._update_enabled())
        self.trainer.finished.connect(self._on_train_finished)
        self.controller.settings_changed.connect(self._update_enabled)

    # -- reacting ----------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Auto-train or an experiment is driving the session: hands off the stages."""
        return self.trainer.state == "running" or self.experiments.running

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
        """Light, dark, or whatever the desktop uses; the plots follow."""
        self.theme_choice = choice
        self.actions_by_name[f"theme_{choice}"].setChecked(True)
        theme = resolve(choice)
        self.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_palette(app, theme)
        colours = PLOT_COLOURS[theme]
        for plot in (self.fit_plot, self.loss_plot, self.grad_plot):
            plot.apply_colours(colours)
        self.step_buttons.setStyleSheet(self.step_buttons.styleSheet())  # re-resolve palette()
        self.graph_view.show_graph(self.graph_view.snapshot)
        self.loop_diagram.update()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self.main_splitter.restoreState(self._default_splitters[0])
        self.plot_splitter.restoreState(self._default_splitters[1])
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

    def _stop_everything(self) -> None:
        self.trainer.stop()
        self.experiments.stop()

    def _show_rewound(self, record: StageRecord | None) -> None:
        self.predict_panel.cancel()
        self.math_panel.show_record(record)
        self.code_panel.clear_records()
        if record is None:
            self.report.setText("Rewound to a moment before any stage of this run.")
        else:
            self.code_panel.show_record(record)
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
        colour = "#2e9e48" if record.ok else "#d64545"
        text = (
            f"<b style='color:{colour}'>{html.escape(record.label)}</b> — "
            f"{html.escape(record.explanation)}"
        )
        if record.error:
            text += (
                "<br><span style='font-family:monospace; color:#d64545'>PyTorch said: "
                f"{html.escape(record.error.splitlines()[0])}</span>"
            )
        self.report.setText(text)

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
        self.code_panel.clear_records()
        self.report.setText("Reset to the starting weights. Press Zero Grad to begin the loop.")

    def _on_train_finished(self, message: str) -> None:
        last = self.controller.last_record
        if last is not None:  # fast batches skip the per-stage panels; show where it ended
            self.math_panel.show_record(last)
            self.code_panel.show_record(last)
        if self.session.position_before_divergence() is not None:
            message += " Ctrl+B rewinds to just before it diverged."
        self.statusBar().showMessage(message)
        self.report.setText(html.escape(message))
        self.refresh_now()

    def _update_enabled(self) -> None:
        """Guided mode enables only the next stage; auto-train disables manual stages."""
        busy = self.busy
        actions = self.actions_by_name
        for stage in STAGES:
            allowed = self.session.refusal(stage) is None
            actions[stage].setEnabled(allowed and not busy)
        actions["next_stage"].setEnabled(not busy)
        actions["train_start"].setEnabled(not busy)
        actions["train_pause"].setEnabled(self.trainer.state == "running")
        actions["train_stop"].setEnabled(self.trainer.state != "idle" or self.experiments.running)
        actions["undo"].setEnabled(self.session.can_undo and not busy)
        actions["redo"].setEnabled(self.session.can_redo and not busy)
        actions["rewind_divergence"].setEnabled(
            not busy and self.session.position_before_divergence() is not None)
        actions["reset"].setEnabled(not self.experiments.running)
        self.timeline_bar.slider.setEnabled(not busy)

    def _draw_frame(self) -> None:
        """Redraw every view from the session: at most once a frame, however fast it runs."""
        self.readout.refresh(self.session)
        self.timeline_bar.refresh(self.session)
        self.step_buttons.show_state(self.session, self.controller.last_record)
        self.loop_diagram.show_state(self.session, self.controller.last_record)
        self.auto_panel.sync_progress()
        self.fit_plot.refresh(self.session)
        self.loss_plot.refresh(self.session)
        self.grad_plot.refresh(self.session)
        self.code_panel.refresh(self.session)
        snapshot = self.session.autograd_graph()
        if snapshot != self.graph_view.snapshot:  # keeps a running backward animation intact
            self.graph_view.show_graph(snapshot)


    def refresh_now(self) -> None:
        """Bring every view up to date immediately (start-up, tests, screenshots)."""
        self._update_enabled()
        self.frame.request()
        self.frame.flush()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.central.setFocus(Qt.FocusReason.OtherFocusReason)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop_everything()
        if self.remember_settings:
            preferences.save(self)
        super().closeEvent(event)
