"""Immutable records of what one stage did: the contract between the core and any view."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from gui_trainer.core.stages import LABELS, Stage

if TYPE_CHECKING:
    from gui_trainer.core.optimizer_state import StepState
    from gui_trainer.core.train_modes import BatchStats, DropoutMask

Values = tuple[float, ...]


# Summaries in float64: a diverging run's numbers near 1e20 square past float32's range,
# and the norm of a finite tensor came out as inf (with an overflow warning). Functions of
# arrays, so the history can take them from the tensors' own memory (no copy) and still
# hold the very numbers a record's copies give.
def grad_norm_of(grad: npt.NDArray[np.float32] | None) -> float | None:
    """‖grad‖ (None for a ``.grad`` that is None)."""
    return None if grad is None else float(np.linalg.norm(grad.astype(np.float64)))


def update_ratio(before: npt.NDArray[np.float32], after: npt.NDArray[np.float32]) -> float:
    """|Δp| / |p| from ``before`` to ``after``: a step's size, relative."""
    size = float(np.linalg.norm(before.astype(np.float64)))
    change = float(np.linalg.norm(after.astype(np.float64) - before))
    return change / size if size > 0 else float("inf") if change else 0.0


@dataclass(frozen=True, eq=False)
class TensorValues:
    """One named parameter tensor and its ``.grad``, copied out as read-only NumPy arrays."""

    name: str
    value: npt.NDArray[np.float32]
    #: ``None`` where PyTorch holds None (never backpropagated, or zero_grad set it to None).
    grad: npt.NDArray[np.float32] | None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    # Summaries in float64: a diverging run's numbers near 1e20 square past float32's range,
    # and the norm of a finite tensor came out as inf (with an overflow warning).
    @property
    def norm(self) -> float:
        return float(np.linalg.norm(self.value.astype(np.float64)))

    @property
    def mean(self) -> float:
        return float(self.value.astype(np.float64).mean())

    @property
    def std(self) -> float:
        return float(self.value.astype(np.float64).std())

    @property
    def grad_norm(self) -> float | None:
        return grad_norm_of(self.grad)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TensorValues):
            return NotImplemented
        same_grad = (self.grad is None and other.grad is None) or (
            self.grad is not None and other.grad is not None
            and np.array_equal(self.grad, other.grad))
        return (self.name == other.name and np.array_equal(self.value, other.value)
                and same_grad)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ParamValues:
    """Every parameter of the model and its ``.grad``, by ``model.named_parameters()`` name.

    ``weight``, ``bias`` and their grads are the one-neuron model's two numbers (the seed
    scenario's, which every view shows element by element); other models have no single
    weight, and asking for one raises ``TypeError``.
    """

    tensors: tuple[TensorValues, ...]

    def __getitem__(self, name: str) -> TensorValues:
        for tensor in self.tensors:
            if tensor.name == name:
                return tensor
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tensors)

    @cached_property
    def one_neuron(self) -> bool:
        return (len(self.tensors) == 2 and self.tensors[0].value.size == 1
                and self.tensors[1].value.size == 1)

    def _number(self, index: int, grad: bool) -> float | None:
        if not self.one_neuron:
            raise TypeError("weight and bias name the one-neuron model's two numbers; this "
                            f"model has {len(self.tensors)} tensors ({', '.join(self.names)})")
        array = self.tensors[index].grad if grad else self.tensors[index].value
        return None if array is None else float(array.reshape(-1)[0])

    @property
    def weight(self) -> float:
        return cast(float, self._number(0, grad=False))

    @property
    def bias(self) -> float:
        return cast(float, self._number(1, grad=False))

    @property
    def weight_grad(self) -> float | None:
        return self._number(0, grad=True)

    @property
    def bias_grad(self) -> float | None:
        return self._number(1, grad=True)

    def grads(self) -> tuple[float | None, float | None]:
        return (self.weight_grad, self.bias_grad)

    def has_grads(self) -> bool:
        """Some parameter holds a ``.grad`` (even a zero one)."""
        return any(t.grad is not None for t in self.tensors)

    def nonzero_grads(self) -> bool:
        return any(t.grad is not None and bool(np.any(t.grad)) for t in self.tensors)

    def same_values(self, other: ParamValues) -> bool:
        # Element by element, as == on the numbers: -0.0 equals 0.0 and NaN nothing.
        return all(bool((a.value == b.value).all())
                   for a, b in zip(self.tensors, other.tensors, strict=True))

    def update_ratios(self, later: ParamValues) -> dict[str, float]:
        """|Δp| / |p| per tensor from these values to ``later`` (a step's size, relative)."""
        return {a.name: update_ratio(a.value, b.value)
                for a, b in zip(self.tensors, later.tensors, strict=True)}


@dataclass(frozen=True)
class StageRecord:
    """What one call of :meth:`TrainingSession.run` did, in plain numbers.

    Every number was read back from the tensors PyTorch produced; nothing here is
    recomputed by hand except ``formula_grads``, which exists to be compared with autograd.
    """

    stage: Stage
    #: Serial number of this stage in the session (1 for the first stage run).
    index: int
    mode: str
    #: False when there was nothing to call (e.g. backward with no loss yet).
    ran: bool
    #: PyTorch's own exception text ("RuntimeError: ...") when the call raised.
    error: str | None
    #: One or two plain sentences saying what happened and why.
    explanation: str
    before: ParamValues
    after: ParamValues
    #: Which samples this stage worked on (a micro-batch, or all of them).
    rows: tuple[int, ...]
    inputs: Values
    targets: Values
    #: ``session.outputs`` after the stage, flattened row by row (None until a forward).
    outputs: Values | None
    #: ``session.loss`` after the stage (None until a loss).
    loss: float | None
    #: The outputs the current loss was computed from (may be older than ``outputs``).
    loss_outputs: Values | None
    #: Per-sample losses, from PyTorch's loss with ``reduction="none"`` (loss stage): the
    #: squared errors for regression, each sample's cross-entropy for classification.
    sample_losses: Values | None
    #: The chain-rule formula's gradients (weight, bias), computed with torch ops (backward).
    formula_grads: tuple[float, float] | None
    #: The formula's per-sample terms (output − target, (output − target) × input) (backward).
    formula_terms: tuple[Values, Values] | None
    #: Autograd's gradient of this loss alone, before backward added it to .grad (backward).
    fresh_grads: tuple[float, float] | None
    #: With micro-batches, after the last one: autograd's full-batch gradient, for comparison.
    full_batch_grads: tuple[float, float] | None
    #: Step: the loss over all the data just before the step (what the loss plot shows).
    full_batch_loss: float | None
    micro_batches: int
    lr: float
    optimizer: str
    set_to_none: bool
    #: Completed epochs (passes over the data) after this stage.
    epoch: int
    #: "regression" or "classification" (the scenario's task).
    task: str = "regression"
    #: Classification: the share of ``loss_outputs`` whose highest logit is the target class.
    accuracy: float | None = None
    #: Classification, step: the accuracy over all the data just before the step.
    full_batch_accuracy: float | None = None
    #: Step: the optimizer's state after it and the update ledger (``.ledger``).
    optimizer_state: StepState | None = None
    #: The optimizer's hyperparameters that differ from PyTorch's defaults (besides lr).
    optimizer_options: tuple[tuple[str, float | bool], ...] = ()
    #: Completed optimizer steps after this stage (= ``epoch`` with the full batch).
    steps: int = 0
    #: Forward, loss, backward: which micro-batch of the step this stage worked on.
    chunk: int = 0
    #: The optimizer's learning rate after this stage (a scheduler moves it from ``lr``).
    optimizer_lr: float | None = None
    #: Clip: the gradients' total norm before clipping, and the max_norm in force.
    clip_total_norm: float | None = None
    clip_max_norm: float | None = None
    #: Schedule: the learning rate before ``scheduler.step()`` (``optimizer_lr`` is after).
    lr_before: float | None = None
    #: Evaluate: the validation loss and accuracy, and the loss's ``grad_fn`` (its class
    #: name; None under ``torch.no_grad()``: no graph was recorded).
    val_loss: float | None = None
    val_accuracy: float | None = None
    val_grad_fn: str | None = None
    #: Evaluate without ``model.eval()``: the validation loss a correct Evaluate would
    #: have measured (eval mode, taken first). None otherwise.
    val_loss_reference: float | None = None
    #: Evaluate: the nodes of the graph autograd recorded for the loss (0 under no_grad).
    val_graph_nodes: int = 0
    #: Loss with softmax before CrossEntropyLoss: the loss of the same outputs without the
    #: extra softmax (what a correct loss would be), before any micro-batch scaling (``loss``
    #: is divided by ``micro_batches``). None otherwise.
    softmax_loss_reference: float | None = None
    #: Schedule with ReduceLROnPlateau: the loss it was given to watch.
    schedule_metric: float | None = None
    #: The warnings PyTorch gave during the stage ("UserWarning: Detected call of …").
    warnings: tuple[str, ...] = ()
    #: Forward: each dropout layer's mask, as the layer drew it.
    dropout_masks: tuple[DropoutMask, ...] = ()
    #: Forward: each BatchNorm layer's batch mean and variance (its running averages' pull).
    batch_stats: tuple[BatchStats, ...] = ()
    #: The model's buffers (BatchNorm's running_mean, running_var, num_batches_tracked)
    #: before and after the stage, by ``named_buffers`` name; empty for a model without.
    buffers_before: tuple[TensorValues, ...] = ()
    buffers_after: tuple[TensorValues, ...] = ()

    @property
    def plain_sgd(self) -> bool:
        """SGD with no momentum and no weight decay: new = old − lr × grad, exactly."""
        return self.optimizer == "sgd" and not any(
            value for key, value in self.optimizer_options if key in ("momentum", "weight_decay"))

    @property
    def ok(self) -> bool:
        """The PyTorch call ran and did not raise."""
        return self.ran and self.error is None

    @property
    def label(self) -> str:
        return LABELS[self.stage]

    @property
    def loss_is_finite(self) -> bool:
        return self.loss is None or math.isfinite(self.loss)
