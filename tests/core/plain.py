"""A plain PyTorch script, written as a learner would, to check the session against."""

from __future__ import annotations

import torch
from torch import nn

from gui_trainer.core.session import DEFAULT_INPUTS, DEFAULT_SEED, DEFAULT_TARGETS


class PlainScript:
    """The same model, data and optimizer as a default session, driven by hand."""

    def __init__(self, lr: float = 0.01, seed: int = DEFAULT_SEED, momentum: float = 0.0,
                 set_to_none: bool = True, clip_max_norm: float | None = None,
                 step_lr: tuple[int, float] | None = None,
                 batch_size: int | None = None) -> None:
        torch.manual_seed(seed)
        self.model = nn.Sequential(nn.Linear(1, 1))
        self.distances = torch.tensor(DEFAULT_INPUTS)
        self.times = torch.tensor(DEFAULT_TARGETS)
        self.loss_function = nn.MSELoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)
        self.set_to_none = set_to_none
        self.clip_max_norm = clip_max_norm
        self.scheduler = (None if step_lr is None else torch.optim.lr_scheduler.StepLR(
            self.optimizer, step_size=step_lr[0], gamma=step_lr[1]))
        #: Batches in the stored order (no shuffle): the rows the next forward takes.
        self.batch_size = batch_size or len(self.distances)
        self.first_row = 0
        self.outputs: torch.Tensor | None = None
        self.rows = slice(0, len(self.distances))
        self.loss: torch.Tensor | None = None

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=self.set_to_none)

    def forward(self) -> None:
        self.rows = slice(self.first_row, self.first_row + self.batch_size)
        self.outputs = self.model(self.distances[self.rows])

    def compute_loss(self) -> None:
        assert self.outputs is not None
        self.loss = self.loss_function(self.outputs, self.times[self.rows])

    def backward(self) -> None:
        assert self.loss is not None
        self.loss.backward()

    def step(self) -> None:
        self.optimizer.step()
        self.first_row = (self.first_row + self.batch_size) % len(self.distances)

    def clip(self) -> None:
        assert self.clip_max_norm is not None
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_max_norm)

    def schedule(self) -> None:
        assert self.scheduler is not None
        self.scheduler.step()

    def run(self, stage: str) -> None:
        {"zero_grad": self.zero_grad, "forward": self.forward, "loss": self.compute_loss,
         "backward": self.backward, "step": self.step, "clip": self.clip,
         "schedule": self.schedule}[stage]()

    @property
    def weight(self) -> torch.Tensor:
        return self.model[0].weight  # type: ignore[return-value]

    @property
    def bias(self) -> torch.Tensor:
        return self.model[0].bias  # type: ignore[return-value]


def grad_or_none(tensor: torch.Tensor) -> float | None:
    return None if tensor.grad is None else float(tensor.grad.item())
