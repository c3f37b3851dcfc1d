"""The main window: stage buttons, settings, auto-train, readout, plots and teaching docks."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QKeyEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.experiments import EXPERIMENTS, Experiment, scenario_for
from gui_trainer.core.explanations import skipping_table
from gui_trainer.core.predict import predict_tip, questions
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.slices import path_plane, slice_job
from gui_trainer.core.stages import LABELS, LOOP_ORDER, Stage
from gui_trainer.qt import menus, preferences, window_layout
from gui_trainer.qt.actions import create_actions, stage_status_tip, stage_tooltip
from gui_trainer.qt.auto_train import AutoTrainer, AutoTrainPanel
from gui_trainer.qt.autosave import Autosave
from gui_trainer.qt.code_panel import CodePanel
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.dialogs import show_about, show_shortcuts
from gui_trainer.qt.experiment_panel import ExperimentPanel, ExperimentRunner
from gui_trainer.qt.exports import Exports
from gui_trainer.qt.fields import STAGE_KEYS, DeliberateFocus, is_stage_key
from gui_trainer.qt.first_frame import AfterFirstFrame, import_compiler_in_background
from gui_trainer.qt.fit_views import FitPlot
from gui_trainer.qt.graph_view import GraphPanel
from gui_trainer.qt.landscape_panel import LandscapePanel
from gui_trainer.qt.layers_panel import LayersPanel
from gui_trainer.qt.lazy_panel import LazyPanel
from gui_trainer.qt.loop_diagram import LoopDiagram
from gui_trainer.qt.math_panel import MathPanel
from gui_trainer.qt.model_editor import ModelEditor
from gui_trainer.qt.optimizer_panel import OptimizerPanel
from gui_trainer.qt.plots import PAINT_COST, GradPlot, LossPlot
from gui_trainer.qt.predict_panel import PredictPanel
from gui_trainer.qt.preferences import LAYOUT_VERSION
from gui_trainer.qt.readout import Readout
from gui_trainer.qt.rich_label import coloured
from gui_trainer.qt.scenario_menu import ScenarioMenu, open_data
from gui_trainer.qt.session_files import SessionFiles
from gui_trainer.qt.settings_panel import SettingsPanel
from gui_trainer.qt.steady_text import SteadyRichLabel
from gui_trainer.qt.steady_view import settle
from gui_trainer.qt.step_buttons import StepButtons
from gui_trainer.qt.theme import THEME_CHOICES, Colours, ThemeChoice, apply_palette, resolve
from gui_trainer.qt.throttle import ELSEWHERE_DRAW_SHARE, MAX_DRAW_SHARE, FrameThrottle
from gui_trainer.qt.timeline_bar import TimelineBar

#: The Layers and Landscape panels' minimum and preferred sizes, for the stand-ins that hold
#: their docks' places until they are made (tests/qt/test_lazy_panels.py keeps them true).
LAZY_SIZES = {"layers": (QSize(131, 86), QSize(264, 366)),
              "landscape": (QSize(123, 110), QSize(150, 208))}

#: Qt adds the application's name (gui_trainer) to the title bar itself.
WINDOW_TITLE = "The PyTorch training loop, one stage at a time"


class MainWindow(QMainWindow):
    # Made by window_layout.build: where the parts sit.
    docks: dict[str, QDockWidget]
    side: QScrollArea
    plot_splitter: QSplitter
    lower_plots: QSplitter
    central: QWidget
    central_layout: QVBoxLayout
    # Made by menus.build.
    scenario_menu: ScenarioMenu
    exports: Exports
    view_menu: QMenu
    edit_back: QAction
    experiment_actions: dict[str, QAction]

    def __init__(self, session: TrainingSession | None = None) -> None:
        super().__init__()
        #: Save layout and settings on close (create_window turns it on; bare tests leave it).
        self.remember_settings = False
        self.setWindowTitle(WINDOW_TITLE)
        self.setObjectName("main_window")
        #: Work that waits until the first frame is on screen (``first_frame.py``).
        self.after_first_frame = AfterFirstFrame(self)
        self.controller = SessionController(session, self)
        #: The record of the last stage a person asked for, until a frame shows it.
        self._pending_record: StageRecord | None = None
        self._status_at_arrival = ""
        self.actions_by_name = create_actions(self)
        self.files = SessionFiles(self)
        self.files.update_title()  # "Untitled[*] — …": the file's name once there is one
        self.autosave = Autosave(self)
        self.trainer = AutoTrainer(self.controller, self)
        self.experiments = ExperimentRunner(self.controller, self)

        self.step_buttons = StepButtons(self.actions_by_name, self)
        self.timeline_bar = TimelineBar(self.controller, self.actions_by_name, self)
        self.predict_panel = PredictPanel(self.controller, self)
        self.experiment_panel = ExperimentPanel(self.experiments, self)
        self.report = SteadyRichLabel(self)
        self.report.setObjectName("stage_report")
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report.setMinimumHeight(48)
        self.readout = Readout(self)
        self.settings = SettingsPanel(self.controller, self)
        self.auto_panel = AutoTrainPanel(self.trainer, self.actions_by_name, self)
        self.model_editor = ModelEditor(self.controller, self.before_switch, self)
        self.fit_plot = FitPlot(self)
        self.loss_plot = LossPlot(self)
        self.grad_plot = GradPlot(self)
        # Tabs behind the Graph at start: made when first shown (or asked for).
        self.lazy_layers = LazyPanel(lambda: LayersPanel(self), *LAZY_SIZES["layers"])
        self.lazy_landscape = LazyPanel(self._make_landscape, *LAZY_SIZES["landscape"])
        self.math_panel = MathPanel(self)
        self.math_panel.walk_for = lambda sample: (
            None if self.session.one_neuron else self.session.backprop_by_layer(sample))
        self.optimizer_panel = OptimizerPanel(self)
        self.graph_panel = GraphPanel(self)
        self.graph_view = self.graph_panel.view
        self.code_panel = CodePanel(self)
        self.loop_diagram = LoopDiagram(self.actions_by_name, self)
        self.skipping = QTextBrowser(self)
        self.skipping.setObjectName("skipping_table")
        # The dock's title already names it: the table needs no big heading of its own.
        self.skipping.setMarkdown(re.sub(r"^# .*\n+", "", skipping_table()))

        window_layout.build(self)
        menus.build(self)
        self._connect()
        #: Stage keys reach a text field only when the learner chose that field.
        self.focus_guard = DeliberateFocus(self)
        self.focus_guard.watch(self)
        # Plots paint later in the event loop; their paint time counts toward a frame's cost.
        self.frame = FrameThrottle(self._draw_frame, extra_cost=PAINT_COST.take, parent=self)
        self.trainer.driver.remote_changed.connect(self._training_elsewhere)
        self.trainer.driver.frame_due = self.frame.due
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
        self.default_state = self.saveState(LAYOUT_VERSION)
        self.default_splitters = (self.plot_splitter.saveState(), self.lower_plots.saveState())
        self.refresh_now()
        self.after_first_frame.tasks += [import_compiler_in_background,
                                         self.scenario_menu.populate]

    @property
    def layers_panel(self) -> LayersPanel:
        return self.lazy_layers.get()

    @property
    def landscape_panel(self) -> LandscapePanel:
        return self.lazy_landscape.get()

    def _make_landscape(self) -> LandscapePanel:
        panel = LandscapePanel(self.controller.start_from, lambda: slice_job(self.session),
                               lambda: path_plane(self.session), self)
        panel.needs_redraw.connect(self.frame.request)
        return panel

    @property
    def session(self) -> TrainingSession:
        """The session the window shows now (the controller may swap it for a new scenario)."""
        return self.controller.session

    # -- construction ------------------------------------------------------------------
    def fit_to_screen(self) -> None:
        window_layout.fit_to_screen(self)

    def reset_layout(self) -> None:
        window_layout.reset_layout(self)

    def panel_shown(self, shown: bool) -> None:
        if shown:
            self.refresh_now()

    def _connect(self) -> None:
        actions = self.actions_by_name
        for stage in LOOP_ORDER:
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
        self.controller.stage_run.connect(self._record_arrived)
        # Reveal runs its stage as a click does: drawn at once.
        self.predict_panel.scored.connect(lambda _score: self.frame.flush())
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
        if (self.actions_by_name["predict"].isChecked()
                and stage in questions(self.session.one_neuron)
                and self.session.refusal(stage) is None):
            self.predict_panel.ask(stage)
            self.statusBar().showMessage("Make your guess, then press Reveal.")
            return
        self.predict_panel.cancel()
        self.controller.run_stage(stage)
        # Drawn at once: the throttle paces bursts (auto-train), and after one slow frame
        # (the graph view's first build) it held a click back for a few hundred ms.
        self.frame.flush()

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

    def _predict_toggled(self, on: bool) -> None:
        if not on:
            self.predict_panel.cancel()
        self.statusBar().showMessage(
            "Predict mode: you will be asked to guess before Backward and Step." if on
            else "Predict mode off.")

    def start_experiment(self, experiment: Experiment) -> None:
        self.trainer.stop("Auto-train stopped: an experiment is starting.")
        self.predict_panel.cancel()
        needed = scenario_for(experiment, self.session.scenario)
        if needed is not self.session.scenario:
            # It needs what this model or data lacks (dropout, a validation split, classes):
            # run on the nearest scenario that has it; Scenario ▸ Back returns here.
            self.before_switch()
            self.controller.open_scenario(needed)
        self.experiments.start(experiment)

    def _experiment_started(self, experiment: Experiment) -> None:
        self.timeline_bar.cancel()
        self.docks["experiment"].show()
        self.docks["experiment"].raise_()
        self._update_enabled()

    def open_data(self, path: str | None = None) -> None:
        """File ▸ Open Data…: a learner's CSV as a new scenario (Scenario ▸ Back undoes)."""
        scenario = open_data(self, path)
        if scenario is not None:
            self.before_switch()
            self.controller.open_scenario(scenario)

    def before_switch(self) -> None:
        """A new scenario is coming: nothing may keep driving or asking about the old one."""
        self.timeline_bar.cancel()  # a jump asked for on the old session must not land
        self.experiments.stop("a new scenario was opened.")
        self._stop_everything()
        self.actions_by_name["predict"].setChecked(False)
        self.predict_panel.cancel()

    def _name_back(self) -> None:
        back = self.scenario_menu.back
        self.edit_back.setText(back.text())
        self.edit_back.setEnabled(back.isEnabled())

    def _scenario_changed(self) -> None:
        session = self.session
        self.math_panel.set_samples(0 if session.one_neuron else len(session.inputs))
        self.experiment_panel.clear()
        self.math_panel.show_record(None)
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
        self._pending_record = None  # the stage now last is this one
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

    def _record_arrived(self, record: StageRecord) -> None:
        """A stage a person asked for ran: its record is shown with the next frame.

        Shown at once, the banner, worked math, graph and status line ran ahead of the
        frame's panels when stages came faster than frames (50 a second: the banner said
        Backward while the buttons, values and plots still showed Forward). A click draws
        its frame at once, so it sees no difference.
        """
        self._pending_record = record
        self._status_at_arrival = self.statusBar().currentMessage()

    def _show_pending_record(self) -> None:
        record, self._pending_record = self._pending_record, None
        if record is None or record is not self.controller.last_record:
            return  # nothing new, or something else was shown since (undo, a reset)
        self._show_record(record)
        self.math_panel.show_record(record)
        self._show_graph_for(record)
        if self.statusBar().currentMessage() == self._status_at_arrival:  # nothing newer
            self.statusBar().showMessage(self.controller.stage_message(record))

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
        self._pending_record = None
        self.math_panel.show_record(None)
        self.report.show_plain("Reset to the starting weights. Press Zero Grad to begin the loop.")

    def _on_train_state(self, state: str) -> None:
        self._show_pending_record()  # what ran last, before the run's own words
        if state == "running":
            self.timeline_bar.cancel()
            self.predict_panel.cancel()
            self.statusBar().clearMessage()  # "Auto-train done" of the last run, or "paused"
            self.report.show_plain(
                f"Auto-train is running: {self.trainer.target:,} epochs. Pause (Ctrl+P) or "
                "stop (Esc) it at any time.")
        elif state == "paused":
            self.report.show_plain(
                f"Auto-train paused at epoch {self.trainer.done:,} of {self.trainer.target:,}. "
                "Start (Ctrl+T) resumes it; the panels show where it stopped.")
        self.refresh_now()

    def _on_train_finished(self, message: str) -> None:
        self._show_pending_record()  # the run's last stage, then why it ended
        if self.session.position_before_divergence() is not None:
            message += " Ctrl+B rewinds to just before it diverged."
        self.statusBar().showMessage(message)
        self.report.show_plain(message)
        self.refresh_now()

    def _update_enabled(self) -> None:
        """Apply what the controller says may be clicked now (and why not, in tooltips)."""
        allowed = self.controller.enablement()
        actions = self.actions_by_name
        for stage in LOOP_ORDER:
            refusal = allowed.refusals[stage]
            actions[stage].setEnabled(refusal is None)
            actions[stage].setVisible(stage in allowed.stages_on)
            tip = stage_tooltip(stage, refusal, allowed.reader)
            if actions[stage].toolTip() != tip:
                actions[stage].setToolTip(tip)
                actions[stage].setStatusTip(stage_status_tip(stage, allowed.reader))
        for name in ("next_stage", "train_start", "train_pause", "train_stop", "undo", "redo",
                     "rewind_divergence", "reset", "predict"):
            actions[name].setEnabled(getattr(allowed, name))
        # What predict asks and what the experiments show differ for the one neuron.
        one = allowed.reader == "one_neuron"
        for action, tip in [(actions["predict"], predict_tip(one)), *(
                (self.experiment_actions[e.key], e.intro_for(one)) for e in EXPERIMENTS)]:
            if action.statusTip() != tip:
                action.setStatusTip(tip)
                action.setToolTip(tip)
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
        self._show_pending_record()
        panel = self.lazy_landscape.panel  # None until first shown
        landscape = panel is not None and panel.isVisible()
        # A network's curve along −grad costs a forward per point: not while nobody sees it,
        # nor at full speed (the one neuron's is cheap).
        along = (panel is not None and landscape and panel.along_shown
                 and not (self.trainer.batch_mode and not self.session.one_neuron))
        state = self.controller.capture(landscape=landscape, along=along)
        last = self.controller.last_record
        self.readout.refresh(state)
        self.timeline_bar.refresh(state)
        self.step_buttons.show_state(state, last)
        self.loop_diagram.show_state(state, last)
        self.auto_panel.sync_progress()
        self.fit_plot.refresh(state)
        self.loss_plot.refresh(state)
        self.grad_plot.refresh(state)
        layers = self.lazy_layers.panel
        if layers is not None and layers.isVisible():
            layers.refresh(state)
        if panel is not None and landscape:
            panel.refresh(state)
        # A fast run shows no record one by one: the panels say they are paused, and show
        # the run's last stage as soon as it pauses or ends.
        paused = self.trainer.batch_mode
        if self.math_panel.paused and not paused:
            self.math_panel.set_paused(False)
            self.math_panel.show_record(last)
        self.math_panel.set_paused(paused)
        self.optimizer_panel.set_paused(paused)
        self.optimizer_panel.show_record(self.controller.latest.get("step"))
        self.code_panel.refresh(state.listing, paused)
        if state.graph != self.graph_view.snapshot:  # keeps a running backward animation intact
            self.graph_view.show_graph(state.graph)
        # The plots' ranges worked out now: one paint each, not two.
        for plot in (self.fit_plot, self.loss_plot, self.grad_plot, layers, panel):
            if plot is not None:
                settle(plot)

    def refresh_now(self) -> None:
        """Bring every view up to date immediately (start-up, tests, screenshots)."""
        self._update_enabled()
        self.frame.request()
        self.frame.flush()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._follow_desktop(True)
        self.central.setFocus(Qt.FocusReason.OtherFocusReason)
        window_layout.unelide_dock_tabs(self)
        window_layout.hide_stray_tab_bars(self)
        # The layout's minimum is final only now (docks and tabs settled): fit again.
        available = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        frame = self.frameGeometry().size() - self.size()  # title bar and borders
        width = min(self.width(), available.width() - frame.width())
        height = min(self.height(), available.height() - frame.height())
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)

    def _training_elsewhere(self, elsewhere: bool) -> None:
        """Frames may take most of this thread's time while the training process trains."""
        self.frame.max_share = ELSEWHERE_DRAW_SHARE if elsewhere else MAX_DRAW_SHARE

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.keep_work("closing", everything=True):
            event.ignore()  # the learner chose to stay (or the save failed)
            return
        self.autosave.stop()  # closed on purpose: nothing to recover
        self._stop_everything()
        # Nothing may fire into a closed window.
        self.graph_view.finish_animation()
        if self.trainer.driver.process is not None:
            self.trainer.driver.process.close()
        self.frame.cancel()
        self.timeline_bar.cancel()
        if self.lazy_landscape.panel is not None:
            self.lazy_landscape.panel.shutdown()
        self._follow_desktop(False)
        if self.remember_settings:
            preferences.save(self)
        super().closeEvent(event)
