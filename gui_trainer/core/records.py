"""Immutable records of what one stage did: the contract between the core and any view."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gui_trainer.core.stages import LABELS, Stage

Values = tuple[float, ...]


@dataclass(frozen=True)
class ParamValues:
    """Weight, bias and their ``.grad`` as plain floats; ``None`` where PyTorch holds None."""

    weight: float
    bias: float
    weight_grad: float | None
    bias_grad: float | None

    def grads(self) -> tuple[float | None, float | None]:
        return (self.weight_grad, self.bias_grad)


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
    #: ``session.outputs`` after the stage (None until a forward).
    outputs: Values | None
    #: ``session.loss`` after the stage (None until a loss).
    loss: float | None
    #: The outputs the current loss was computed from (may be older than ``outputs``).
    loss_outputs: Values | None
    #: Per-sample squared errors, from PyTorch's MSE with ``reduction="none"`` (loss stage).
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
    #: Completed optimizer steps after this stage.
    epoch: int

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
