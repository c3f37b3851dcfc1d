"""The window's menus: every action in one place, in the order a learner looks for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QActionGroup

from gui_trainer.core.experiments import EXPERIMENTS
from gui_trainer.core.stages import LOOP_ORDER
from gui_trainer.qt.exports import Exports
from gui_trainer.qt.scenario_menu import ScenarioMenu

if TYPE_CHECKING:
    from gui_trainer.qt.main_window import MainWindow


def build(window: MainWindow) -> None:
    """File, Edit, Scenario, View, Run, Experiments and Help, with their actions."""
    actions = window.actions_by_name
    window.scenario_menu = ScenarioMenu(window.controller, window.before_switch, window)
    file_menu = window.menuBar().addMenu("&File")
    window.files.build_menu(file_menu)
    file_menu.addSeparator()
    open_data_action = file_menu.addAction("Open Data…")
    open_data_action.setObjectName("open_data")
    open_data_action.setStatusTip("Train on your own CSV file: a header row, numeric "
                                  "columns, one of them the target")
    open_data_action.triggered.connect(window.open_data)
    file_menu.addSeparator()
    window.exports = Exports(window)
    window.exports.build_menu(file_menu)
    file_menu.addSeparator()
    file_menu.addAction(actions["reset"])
    file_menu.addSeparator()
    file_menu.addAction(actions["quit"])
    edit_menu = window.menuBar().addMenu("&Edit")
    for name in ("undo", "redo", "rewind_divergence"):
        edit_menu.addAction(actions[name])
    edit_menu.addSeparator()
    edit_menu.addAction(actions["clear_runs"])
    window.edit_back = edit_menu.addAction("Back to the Previous Scenario")
    window.edit_back.setObjectName("edit_scenario_back")
    window.edit_back.setEnabled(False)  # until a switch (named after each one)
    window.edit_back.triggered.connect(window.scenario_menu.switch_back)
    window.menuBar().addMenu(window.scenario_menu)
    window.view_menu = window.menuBar().addMenu("&View")
    run_menu = window.menuBar().addMenu("&Run")
    for stage in LOOP_ORDER:  # the optional ones show while they are on
        run_menu.addAction(actions[stage])
    run_menu.addAction(actions["next_stage"])
    run_menu.addSeparator()
    for name in ("train_start", "train_pause", "train_stop"):
        run_menu.addAction(actions[name])
    run_menu.addSeparator()
    run_menu.addAction(actions["predict"])
    experiments_menu = window.menuBar().addMenu("E&xperiments")
    window.experiment_actions = {}
    for experiment in EXPERIMENTS:
        action = experiments_menu.addAction(experiment.title)
        action.setObjectName(f"experiment_{experiment.key}")
        action.setStatusTip(experiment.intro)
        action.triggered.connect(lambda _=False, e=experiment: window.start_experiment(e))
        window.experiment_actions[experiment.key] = action
    for dock in window.docks.values():
        window.view_menu.addAction(dock.toggleViewAction())
    window.view_menu.addSeparator()
    themes = QActionGroup(window)
    for name in ("theme_system", "theme_light", "theme_dark"):
        themes.addAction(actions[name])
        window.view_menu.addAction(actions[name])
    window.view_menu.addSeparator()
    window.view_menu.addAction(actions["reset_layout"])
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(actions["shortcuts"])
    help_menu.addAction(actions["about"])
    # Window-wide shortcuts even for actions that are only in a menu.
    window.addActions(list(actions.values()))
