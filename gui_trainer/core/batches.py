"""Batches as real training code draws them: a ``TensorDataset`` and a seeded ``DataLoader``.

The session does not invent its own batching. It builds the ``DataLoader`` a script would
write and, at the start of every epoch, draws that epoch's batches from the loader's own
batch sampler — which advances the loader's generator exactly as ``for x, y in loader:``
does — so the rows of every batch, and their order, are PyTorch's. The batch tensors are the
rows of ``inputs`` and ``targets`` (what the loader's default collate stacks, bit for bit).
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from gui_trainer.core.validation import whole_number

#: One epoch's batches, each a tuple of row indices into the data.
EpochBatches = tuple[tuple[int, ...], ...]


def check_batch_size(value: object, samples: int) -> int | None:
    """None (the full batch) or a whole number of rows from 1 to ``samples``."""
    if value is None:
        return None
    size = whole_number(value, "batch_size")
    if not 1 <= size <= samples:
        raise ValueError(f"batch_size must be from 1 to {samples} (the training rows), or None "
                         f"for the full batch, not {value!r}")
    return size


def make_loader(inputs: torch.Tensor, targets: torch.Tensor, batch_size: int | None,
                shuffle: bool, drop_last: bool, seed: int) -> DataLoader[tuple[torch.Tensor, ...]]:
    """The real loader: ``DataLoader(TensorDataset(inputs, targets), …)`` with a generator
    seeded by the scenario's seed, so the same seed gives the same order."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(TensorDataset(inputs, targets), batch_size=batch_size or len(inputs),
                      shuffle=shuffle, drop_last=drop_last, generator=generator)


def draw_epoch(loader: DataLoader[tuple[torch.Tensor, ...]]) -> EpochBatches:
    """The next epoch's batches, drawn as ``for x, y in loader:`` draws them.

    ``iter(loader)`` is PyTorch's own iterator: making it takes a base seed from the loader's
    generator (for workers); its first batch would then run the batch sampler, whose
    shuffling sampler takes its seed from the same generator — which is what the pass over
    ``batch_sampler`` below does. So the generator moves exactly as in a script's loop.
    """
    iter(loader)
    return tuple(tuple(int(i) for i in batch) for batch in loader.batch_sampler)  # type: ignore[union-attr]


def generator_state(loader: DataLoader[tuple[torch.Tensor, ...]]) -> torch.Tensor | None:
    """The loader's generator state (None when nothing random is drawn: no shuffle)."""
    generator = loader.generator
    if generator is None or not isinstance(loader.sampler, torch.utils.data.RandomSampler):
        return None
    state: torch.Tensor = generator.get_state()
    return state


def batch_counts(samples: int, batch_size: int | None, drop_last: bool) -> int:
    """``len(loader)``: how many batches one epoch has."""
    size = batch_size or samples
    return samples // size if drop_last else -(-samples // size)


def micro_batch_choices(samples: int, batch_size: int | None, drop_last: bool) -> list[int]:
    """The micro-batch counts allowed: with one batch per epoch, those that split it into
    equal parts (the scaling stays exact); with several, those that divide the epoch's
    batches into whole groups (each step accumulates the same number of batches)."""
    batches = batch_counts(samples, batch_size, drop_last)
    if batches == 1:
        rows = min(batch_size or samples, samples)
        return [k for k in range(1, rows + 1) if rows % k == 0]
    return [k for k in range(1, batches + 1) if batches % k == 0]
