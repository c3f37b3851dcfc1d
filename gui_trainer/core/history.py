"""Per-step history in preallocated, growable NumPy arrays.

A Python list of tensors per step would cost ~1 kB a step and make plotting a long run slow;
one float64 row per step costs 48 bytes and hands pyqtgraph contiguous arrays directly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gui_trainer.core.records import ParamValues

COLUMNS = ("epoch", "loss", "weight", "bias", "weight_grad", "bias_grad")
Array = npt.NDArray[np.float64]


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else value


class History:
    """One row per completed optimizer step; missing values (no loss, no grad) are NaN."""

    def __init__(self, capacity: int = 1024) -> None:
        self._data: Array = np.empty((capacity, len(COLUMNS)), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, epoch: int, loss: float | None, params: ParamValues) -> None:
        """Record one step: ``params`` holds the values after the step and the grads it used."""
        if self._size == len(self._data):
            grown = np.empty((2 * len(self._data), len(COLUMNS)), dtype=np.float64)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size] = (
            epoch,
            _nan_if_none(loss),
            params.weight,
            params.bias,
            _nan_if_none(params.weight_grad),
            _nan_if_none(params.bias_grad),
        )
        self._size += 1

    def column(self, name: str) -> Array:
        """A read-only view of one column (no copy)."""
        view = self._data[: self._size, COLUMNS.index(name)]
        view.flags.writeable = False
        return view

    def truncate(self, size: int) -> None:
        """Forget every row from ``size`` on (used by rewind)."""
        if not 0 <= size <= self._size:
            raise ValueError(f"cannot truncate a history of {self._size} rows to {size}")
        self._size = size

    def clear(self) -> None:
        self._size = 0

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)
