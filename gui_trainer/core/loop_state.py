"""Where the session is in its loop: one typed value that rewind copies and puts back."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from gui_trainer.core.batches import EpochBatches
from gui_trainer.core.stages import STAGES, Stage


@dataclass(slots=True)
class LoopState:
    """Everything about the loop's progress except the tensors' own numbers and graphs.

    A checkpoint keeps a shallow copy (every field is immutable or a tuple of tensors that
    nothing writes to), so taking one costs a few hundred nanoseconds.
    """

    #: Which samples ``outputs`` holds predictions for, and which the loss measured.
    outputs_rows: tuple[int, ...]
    loss_rows: tuple[int, ...]
    #: The one-neuron model's gradient from the last backward alone (weight, bias).
    last_fresh: tuple[float, float] | None = None
    #: The parameters a live graph was made with, kept once a step changed them (else None).
    #: Per parameter: its value then, or None where no step has written it since.
    outputs_params: tuple[torch.Tensor | None, ...] | None = None
    loss_outputs_params: tuple[torch.Tensor | None, ...] | None = None
    #: What the loss was divided by when it was computed (its micro-batch count).
    loss_scale: int = 1
    #: Whether the loss was computed on softmax(outputs) (the experiment's mistake).
    loss_softmax: bool = False
    #: Completed epochs (passes over the training rows) and optimizer steps, and stages
    #: run, since the start or the last reset. With the full batch, one step is one epoch.
    epoch: int = 0
    steps: int = 0
    stage_count: int = 0
    #: The micro-batch the next forward uses (0 when not accumulating).
    chunk: int = 0
    #: The micro-batch ``outputs`` and the loss were computed on.
    outputs_chunk: int = 0
    loss_chunk: int = 0
    last_stage: Stage | None = None
    next_stage: Stage = field(default=STAGES[0])
    #: This epoch's batches as the DataLoader drew them, and the first batch of the group
    #: the next step uses (micro-batching takes ``micro_batches`` batches per step).
    batches: EpochBatches = ()
    position: int = 0
    #: The loader's generator state right after drawing ``batches`` (None without shuffle):
    #: a jump puts it back, so the following epochs are drawn as they were.
    sampler_state: torch.Tensor | None = None
    #: The optional stages guided mode still expects before the next Zero Grad (Evaluate at
    #: an epoch's end, Schedule when the scheduler is due), in order.
    pending: tuple[Stage, ...] = ()
    #: Whether the last step completed an epoch.
    epoch_ended: bool = False
    #: The last validation loss measured (ReduceLROnPlateau watches it).
    last_val_loss: float | None = None
    #: An optional stage ran out of the loop's order or raised since the start: a script of
    #: the usual loop would not end where the session is.
    off_script: bool = False
    #: With dropout: torch's global generator state the next train-mode forward draws its
    #: masks from, and the states the forwards of ``outputs`` and of the loss's outputs
    #: started from (a graph made again draws the same masks). None without dropout.
    dropout_rng: torch.Tensor | None = None
    outputs_rng: torch.Tensor | None = None
    loss_rng: torch.Tensor | None = None

    @classmethod
    def fresh(cls, samples: int, batches: EpochBatches = (),
              sampler_state: torch.Tensor | None = None,
              dropout_rng: torch.Tensor | None = None) -> LoopState:
        rows = tuple(range(samples))
        return cls(outputs_rows=rows, loss_rows=rows, batches=batches or (rows,),
                   sampler_state=sampler_state, dropout_rng=dropout_rng,
                   outputs_rng=dropout_rng, loss_rng=dropout_rng)

    def copy(self) -> LoopState:
        return replace(self)
