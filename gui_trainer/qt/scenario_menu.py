"""Scenario ▸ the built-in scenarios, Back, and File ▸ Open Data… for a learner's CSV.

Choosing a scenario starts a new session through the controller; the session before it is
kept exactly as it was, and Scenario ▸ Back returns to it. A file that cannot be used is
refused with the loader's own message (it names the line and column) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QWidget,
)

from gui_trainer.core.csv_data import read_header
from gui_trainer.core.scenarios import SCENARIOS, Scenario, load_csv
from gui_trainer.qt.controller import SessionController


class ScenarioMenu(QMenu):
    """One checkable action per built-in scenario, and Back to the one before.

    The scenarios' actions are made on first use (:meth:`populate`; the window calls it once
    its first frame is painted, and the menu before it opens): their titles come from the
    scenarios themselves, and making every one of them reads the digits file and draws the
    data sets, a fifth of a second nobody needs to wait for before the window appears.
    """

    def __init__(self, controller: SessionController, before_switch: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__("&Scenario", parent)
        self.controller = controller
        self.before_switch = before_switch
        self.group = QActionGroup(self)
        self._actions: dict[str, QAction] = {}
        self._separator = self.addSeparator()
        self.back = self.addAction("Back to the Previous Scenario")
        self.back.setObjectName("scenario_back")
        self.back.triggered.connect(self.switch_back)
        self.aboutToShow.connect(self.populate)
        controller.scenario_changed.connect(self.sync)
        self.sync()

    @property
    def actions_by_name(self) -> dict[str, QAction]:
        """The built-in scenarios' actions by scenario name (made now if not yet)."""
        self.populate()
        return self._actions

    def populate(self) -> None:
        if self._actions:
            return
        for name, scenario in SCENARIOS.items():
            action = QAction(scenario.title, self)
            action.setObjectName(f"scenario_{name}")
            action.setCheckable(True)
            action.setStatusTip(scenario.description)
            action.setToolTip(scenario.description)
            action.triggered.connect(lambda _=False, n=name: self.open(SCENARIOS[n]))
            self.group.addAction(action)
            self.insertAction(self._separator, action)
            self._actions[name] = action
        self.sync()

    def open(self, scenario: Scenario) -> None:
        self.before_switch()
        self.controller.open_scenario(scenario)

    def switch_back(self) -> None:
        self.before_switch()
        self.controller.switch_back()

    def sync(self) -> None:
        """Tick the scenario shown now (none for a learner's file); name Back's target."""
        name = self.controller.session.scenario.name
        for key, action in self._actions.items():
            action.setChecked(key == name)
        if name not in self._actions and self.group.checkedAction() is not None:
            self.group.setExclusive(False)
            self.group.checkedAction().setChecked(False)
            self.group.setExclusive(True)
        previous = self.controller.previous
        self.back.setEnabled(previous is not None)
        self.back.setText("Back to the Previous Scenario" if previous is None else
                          f"Back to {previous.scenario.title}")


class OpenDataDialog(QDialog):
    """Which column is the target, and whether it is a number or a class."""

    def __init__(self, path: Path, columns: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Open {path.name}")
        form = QFormLayout(self)
        form.addRow(QLabel("Every other column is an input.", self))
        self.target = QComboBox(self)
        self.target.setObjectName("data_target")
        self.target.addItems(columns)
        self.target.setCurrentIndex(len(columns) - 1)
        form.addRow("Target column:", self.target)
        self.task = QComboBox(self)
        self.task.setObjectName("data_task")
        self.task.addItem("Decide from the target", None)
        self.task.addItem("Regression (a number)", "regression")
        self.task.addItem("Classification (a class)", "classification")
        form.addRow("Task:", self.task)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def open_data(parent: QWidget, path: str | None = None,
              choose: Callable[[OpenDataDialog], bool] | None = None) -> Scenario | None:
    """Ask for a CSV file and its target; the scenario, or None (cancelled or refused).

    ``path`` and ``choose`` stand in for the file dialog and the target dialog (tests).
    """
    if path is None:
        path, _filter = QFileDialog.getOpenFileName(
            parent, "Open Data", "", "CSV files (*.csv);;All files (*)")
        if not path:
            return None
    try:
        columns = read_header(path)
        dialog = OpenDataDialog(Path(path), columns, parent)
        accepted = choose(dialog) if choose is not None else \
            dialog.exec() == QDialog.DialogCode.Accepted
        if not accepted:
            return None
        return load_csv(path, target=dialog.target.currentText(),
                        task=dialog.task.currentData())
    except ValueError as exc:
        box = QMessageBox(QMessageBox.Icon.Warning, "This file cannot be used",
                          f"{exc}\n\nNothing was changed.", QMessageBox.StandardButton.Ok,
                          parent)
        box.setObjectName("open_data_refused")
        box.exec()
        return None
