"""Runs one of the order experiments stage by stage, narrating it, with a table of gradients."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.experiments import Experiment, findings, fresh_and_used, settings_for
from gui_trainer.core.formatting import short
from gui_trainer.core.records import StageRecord
from gui_trainer.core.runs import Progress, RunEnd, experiment_run
from gui_trainer.qt.controller import SessionController
from gui_trainer.qt.run_driver import RunDriver

PICK = "Pick an experiment from the Experiments menu."
ONE_NEURON_COLUMNS = ["epoch", "fresh ∂loss/∂weight (this step alone)",
                      "weight.grad used by Step"]
NETWORK_COLUMNS = ["epoch", "‖this backward's gradients‖", "‖.grad sums Step used‖"]
#: Slow enough to follow each stage on every panel.
STAGE_INTERVAL_MS = 450


class ExperimentRunner(QObject):
    """Runs an experiment's stages through the shared run driver, slowly enough to follow."""

    started = Signal(object)
    progressed = Signal(int, int)
    finished = Signal(object)

    def __init__(self, controller: SessionController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.experiment: Experiment | None = None
        self.records: list[StageRecord] = []
        #: Why the experiment stopped before its end ("" when it ran, or runs, in full).
        self.stopped_because = ""
        self._stop_reason = ""
        self.driver = RunDriver(controller, "experiment", self)
        self.driver.set_interval(STAGE_INTERVAL_MS)
        self.driver.progressed.connect(self._progressed)
        self.driver.ended.connect(self._ended)

    @property
    def interval_ms(self) -> int:
        return self.driver.interval_ms

    @interval_ms.setter
    def interval_ms(self, ms: int) -> None:
        # At least 1 ms: at 0 the driver would batch, and each stage is to be shown.
        self.driver.set_interval(max(1, ms))

    @property
    def running(self) -> bool:
        return self.driver.state == "running"

    @property
    def done(self) -> int:
        """Stages of the experiment run so far."""
        return len(self.records)

    def start(self, experiment: Experiment) -> None:
        self.stop()
        self.experiment = experiment
        self.records = []
        self.stopped_because = ""
        self.controller.reset(note=experiment.title)
        self.controller.set_mode("free")
        if experiment.settings:
            pairs = settings_for(experiment, self.controller.session)
            self.controller.change_settings(pairs, f"Set for “{experiment.title}”: " + ", ".join(
                f"{name} {value!r}" if isinstance(value, int | float | bool | None) else name
                for name, value in pairs) + ".")
        self.driver.start(experiment_run(self.controller.session, experiment))
        self.started.emit(experiment)

    def stop(self, reason: str = "") -> None:
        if self.driver.state != "idle":
            self._stop_reason = reason
            self.driver.stop()

    def _progressed(self, progress: Progress) -> None:
        assert progress.record is not None  # an experiment never runs quietly
        self.records.append(progress.record)
        self.progressed.emit(progress.done, progress.total)

    def _ended(self, end: RunEnd | None) -> None:
        reason, self._stop_reason = self._stop_reason, ""
        if end is not None and end.reason == "refused":
            self.stopped_because = end.message
        elif (end is None and self.experiment is not None
              and self.done < len(self.experiment.stages)):
            self.stopped_because = reason or "you stopped it."
        self.finished.emit(self.experiment)

    def findings(self) -> str:
        """What the experiment showed so far, measured from the stages that really ran."""
        return "" if self.experiment is None else findings(self.experiment, self.records)


class ExperimentPanel(QWidget):
    """What the running experiment is about, how far it is, what it showed."""

    def __init__(self, runner: ExperimentRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.text = QLabel(PICK, self)
        self.text.setObjectName("experiment_text")
        self.text.setWordWrap(True)
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("experiment_table")
        self.table.setHorizontalHeaderLabels(ONE_NEURON_COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.hide()
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # The findings scroll, and the table below gives up room to them: a small dock
        # used to cut "What it showed" off.
        scroll = QScrollArea(self)
        scroll.setWidget(self.text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        split = self.split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(scroll)
        split.addWidget(self.table)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        runner.started.connect(self._started)
        runner.progressed.connect(self._progressed)
        runner.finished.connect(self._finished)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Findings beside the table in a wide, short dock (stacked, the findings got a few
        lines and hid "What it showed" below a scroll), one above the other otherwise."""
        super().resizeEvent(event)
        wide = self.width() > 2 * self.height()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != orientation:
            self.split.setOrientation(orientation)

    def clear(self) -> None:
        """Another session is shown: what the last experiment showed was about the old one."""
        if not self.runner.running:
            self.table.hide()
            self.table.setRowCount(0)
            self.text.setText(PICK)

    def _intro(self, experiment: Experiment) -> str:
        text = html.escape(experiment.intro_for(self.runner.controller.session.one_neuron))
        if experiment.needs is not None:  # it may have opened another scenario for this
            scenario = self.runner.controller.session.scenario
            text += (f"<br><i>On {html.escape(scenario.title)}: "
                     f"{html.escape(scenario.model_spec.describe())}.</i>")
        return text

    def _started(self, experiment: Experiment) -> None:
        self.text.setText(f"<b>{html.escape(experiment.title)}</b><br>{self._intro(experiment)}")
        self.table.setVisible(experiment.key == "skip_zero_grad")
        self.table.setRowCount(0)

    def _progressed(self, done: int, total: int) -> None:
        experiment = self.runner.experiment
        if experiment is None:
            return
        self.text.setText(
            f"<b>{html.escape(experiment.title)}</b> — stage {done} of {total}<br>"
            f"{self._intro(experiment)}"
        )
        if experiment.key == "skip_zero_grad":
            self.fill_table()

    def _finished(self, experiment: Experiment | None) -> None:
        if experiment is None:
            return
        reason = self.runner.stopped_because
        ending = "What it showed: " if not reason else f"Stopped early: {reason} "
        self.text.setText(
            f"<b>{html.escape(experiment.title)}</b><br>{self._intro(experiment)}"
            f"<br><br><b>{html.escape(ending)}</b>{html.escape(self.runner.findings())}"
            "<br><i>Ctrl+Z steps back through it; the run before it is on the loss plot.</i>"
        )

    def fill_table(self) -> None:
        session = self.runner.controller.session
        if not session.one_neuron:
            self._fill_network_table()
            return
        self.table.setHorizontalHeaderLabels(ONE_NEURON_COLUMNS)
        history = session.history
        epochs = history.column("epoch")
        fresh = history.column("weight_grad_fresh")
        used = history.column("weight_grad")
        self.table.setRowCount(len(epochs))
        for row, values in enumerate(zip(epochs, fresh, used, strict=True)):
            for column, value in enumerate(values):
                number = float(value)
                text = str(int(number)) if column == 0 else short(
                    None if np.isnan(number) else number)
                self.table.setItem(row, column, QTableWidgetItem(text))

    def _fill_network_table(self) -> None:
        """Per step: the sizes of this backward's own gradients and of the sums Step used."""
        self.table.setHorizontalHeaderLabels(NETWORK_COLUMNS)
        rows = fresh_and_used(self.runner.records)
        self.table.setRowCount(len(rows))
        for row, (epoch, fresh, used, _cosine) in enumerate(rows):
            for column, text in enumerate((str(epoch), short(fresh, 4), short(used, 4))):
                self.table.setItem(row, column, QTableWidgetItem(text))
