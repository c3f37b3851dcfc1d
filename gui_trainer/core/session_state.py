"""What the session's parts share: the real objects and the loop state, declared once.

``TrainingSession`` is composed of the stage runners (``runners.py``) and rewind
(``rewind.py``); both read and write these attributes, which the session's ``__init__`` sets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from gui_trainer.core.history import History
from gui_trainer.core.loop_state import LoopState
from gui_trainer.core.param_trail import ParameterTrail
from gui_trainer.core.settings import Settings

if TYPE_CHECKING:
    from gui_trainer.core.scenarios import Scenario


class SessionState:
    scenario: Scenario
    model: nn.Module
    #: ``model.named_parameters()`` once: walking the modules costs more than the copies.
    _named_params: tuple[tuple[str, nn.Parameter], ...]
    _named_buffers: tuple[tuple[str, torch.Tensor], ...]
    #: Every training row in order (the full batch's rows).
    _all_rows: tuple[int, ...]
    _every_row_seen: tuple[int, ...]
    _accuracy_cache: tuple[torch.Tensor, tuple[int, ...], float] | None
    _one_neuron: bool
    inputs: torch.Tensor
    targets: torch.Tensor
    loss_fn: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    trail: ParameterTrail | None
    #: The script's variables: each replaced only by its own stage.
    outputs: torch.Tensor | None
    loss: torch.Tensor | None
    #: The outputs the current loss was computed from (may be older than ``outputs``).
    _loss_outputs: torch.Tensor | None
    _loop: LoopState
    _settings: Settings
    #: The DataLoader the batches come from, the scheduler (None when off), and the
    #: held-out validation rows (None without a split).
    loader: DataLoader[tuple[torch.Tensor, ...]]
    scheduler: Any
    val_inputs: torch.Tensor | None
    val_targets: torch.Tensor | None

    def _parameters(self) -> list[nn.Parameter]:
        """``model.parameters()`` without walking the modules (the stages ask often)."""
        return [p for _, p in self._named_params]
