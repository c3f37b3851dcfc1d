"""The model, editable: hidden layers, width, activation, BatchNorm and dropout, and
"Restart with This Model".

The edit applies only on the button: it starts the same data with the new model, from the
scenario's seed (the same seed, the same first weights). The session before it is kept
whole, so Scenario ▸ Back (also in the Edit menu) undoes the change.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from gui_trainer.core.models import ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_WIDTH, ModelSpec
from gui_trainer.qt.controller import SessionController

ACTIVATION_NAMES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
#: The editor's highest dropout: above it almost nothing is left to learn from.
MAX_DROPOUT = 0.9


class ModelEditor(QGroupBox):
    def __init__(self, controller: SessionController, before_switch: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self.setObjectName("model_editor")
        self.controller = controller
        self.before_switch = before_switch
        form = QFormLayout(self)
        self.layers_box = QSpinBox(self)
        self.layers_box.setObjectName("model_layers")
        self.layers_box.setRange(0, MAX_HIDDEN_LAYERS)
        self.layers_box.setToolTip("Hidden layers between the inputs and the output layer "
                               "(0: one linear layer, like the one neuron)")
        form.addRow("Hidden layers:", self.layers_box)
        self.width_box = QSpinBox(self)
        self.width_box.setObjectName("model_width")
        self.width_box.setRange(1, MAX_WIDTH)
        self.width_box.setToolTip("Units in each hidden layer")
        form.addRow("Width:", self.width_box)
        self.activation_box = QComboBox(self)
        self.activation_box.setObjectName("model_activation")
        for name in ACTIVATIONS:
            self.activation_box.addItem(ACTIVATION_NAMES[name], name)
        self.activation_box.setToolTip("The function between layers: without one, stacked linear "
                                   "layers are still one straight line")
        form.addRow("Activation:", self.activation_box)
        self.batch_norm_box = QCheckBox("BatchNorm1d after each hidden Linear", self)
        self.batch_norm_box.setObjectName("model_batch_norm")
        self.batch_norm_box.setToolTip(
            "Standardises each unit by the batch's mean and spread in train mode (and moves "
            "its running averages on every forward); eval mode uses the running averages")
        form.addRow(self.batch_norm_box)
        self.dropout_box = QDoubleSpinBox(self)
        self.dropout_box.setObjectName("model_dropout")
        self.dropout_box.setRange(0.0, MAX_DROPOUT)
        self.dropout_box.setSingleStep(0.05)
        self.dropout_box.setDecimals(2)
        self.dropout_box.setSpecialValueText("off")
        self.dropout_box.setToolTip(
            "nn.Dropout(p) after each hidden activation: in train mode each forward zeroes a "
            "random share p of the outputs and scales the rest by 1/(1 − p); eval mode "
            "passes everything")
        form.addRow("Dropout p:", self.dropout_box)
        self.restart = QPushButton("Restart with This Model", self)
        self.restart.setObjectName("model_restart")
        self.restart.setToolTip("Start this data again with the model above, from the seed "
                                "(Scenario ▸ Back undoes it)")
        self.restart.clicked.connect(self.apply)
        form.addRow(self.restart)
        self.layers_box.valueChanged.connect(self._mark_pending)
        self.width_box.valueChanged.connect(self._mark_pending)
        self.activation_box.currentIndexChanged.connect(self._mark_pending)
        self.batch_norm_box.toggled.connect(self._mark_pending)
        self.dropout_box.valueChanged.connect(self._mark_pending)
        controller.scenario_changed.connect(self.sync)
        self.sync()

    def spec(self) -> ModelSpec:
        hidden = self.layers_box.value()
        return ModelSpec(hidden_layers=hidden, width=self.width_box.value(),
                         activation=self.activation_box.currentData(),
                         dropout=round(self.dropout_box.value(), 2) if hidden else 0.0,
                         batch_norm=self.batch_norm_box.isChecked() and hidden > 0)

    def sync(self) -> None:
        """Show the model the session trains now."""
        spec = self.controller.session.scenario.model_spec
        self.layers_box.setValue(spec.hidden_layers)
        self.width_box.setValue(spec.width)
        self.activation_box.setCurrentIndex(self.activation_box.findData(spec.activation))
        self.batch_norm_box.setChecked(spec.batch_norm)
        self.dropout_box.setValue(spec.dropout)
        self._mark_pending()

    def _mark_pending(self) -> None:
        """Width, activation, BatchNorm and dropout belong to hidden layers; Restart only on a
        change."""
        hidden = self.layers_box.value() > 0
        for field in (self.width_box, self.activation_box, self.batch_norm_box,
                      self.dropout_box):
            field.setEnabled(hidden)
        current = self.controller.session.scenario.model_spec
        self.restart.setEnabled(_differs(self.spec(), current))

    def apply(self) -> None:
        spec = self.spec()
        scenario = self.controller.session.scenario
        if not _differs(spec, scenario.model_spec):
            return
        self.before_switch()
        self.controller.open_scenario(scenario.with_model(spec))


def _differs(a: ModelSpec, b: ModelSpec) -> bool:
    """Width, activation, BatchNorm and dropout do not change a model without hidden
    layers."""
    if a.hidden_layers == 0 and b.hidden_layers == 0:
        return False
    return a != b
