"""Tensors packed into one bytes object, for checkpoints that cost bytes, not kilobytes.

A checkpoint used to hold a dict of tensors, a deep copy of the optimizer's state dict and
references to the graph's tensors: about 6 KB each, most of it object overhead. Here the
numbers go into one ``bytes`` and the shapes into a layout that checkpoints share while it
does not change (interned), so a checkpoint of the one-neuron model is a few hundred bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

#: (shape, dtype name) of each packed tensor, in order.
Layout = tuple[tuple[tuple[int, ...], str], ...]


@dataclass(frozen=True, slots=True)
class Packed:
    layout: Layout
    blob: bytes


class Packer:
    """Packs lists of tensors; equal layouts (and other hashable parts) are stored once."""

    def __init__(self) -> None:
        self._interned: dict[Any, Any] = {}

    def intern(self, value: Any) -> Any:
        """The one stored copy of an equal hashable ``value``."""
        return self._interned.setdefault(value, value)

    def pack(self, tensors: list[torch.Tensor]) -> Packed:
        arrays = [t.detach().cpu().numpy() for t in tensors]
        layout = tuple((tuple(a.shape), a.dtype.str) for a in arrays)
        blob = b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)
        return Packed(self.intern(layout), blob)


def unpack(packed: Packed) -> list[torch.Tensor]:
    """Fresh tensors (their own memory) equal bit for bit to those packed."""
    tensors, offset = [], 0
    for shape, dtype_name in packed.layout:
        dtype = np.dtype(dtype_name)
        count = int(np.prod(shape, dtype=np.int64))
        array = np.frombuffer(packed.blob, dtype=dtype, count=count, offset=offset)
        tensors.append(torch.from_numpy(array.reshape(shape).copy()))
        offset += count * dtype.itemsize
    return tensors


def freeze(value: Any) -> Any:
    """A hashable copy of plain nested data (dicts, lists, tuples, numbers, strings)."""
    if isinstance(value, dict):
        return ("__dict__", tuple((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(freeze(v) for v in value))
    return value


def thaw(value: Any) -> Any:
    """The plain data :func:`freeze` was given (fresh containers, safe to modify)."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "__dict__":
        return {k: thaw(v) for k, v in value[1]}
    if isinstance(value, tuple) and len(value) == 2 and value[0] in ("list", "tuple"):
        items = [thaw(v) for v in value[1]]
        return items if value[0] == "list" else tuple(items)
    return value
