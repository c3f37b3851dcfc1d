"""Hand a plot item its data only when it differs from what the item shows.

pyqtgraph's ``setData`` and ``setOpts`` always start over: bounds, the view's auto-range,
the item's path, and a repaint of the plot it sits in (axes and grid included) — about as
much as a whole plot costs to draw. Most clicks change one or two plots, yet every frame
handed every item its data. :func:`set_data` and :func:`set_opts` skip the call when the
item was given equal data last time by the same function and nobody has set it since.

Equal means equal values (NaN equal to NaN, the same shape and kind of number) and equal
options. What was handed over is kept as a copy: the caller's arrays may be views of the
history, which an undo rewrites in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg

#: The attribute an item's last hand-over is kept under.
_SHOWN = "_gui_trainer_shown"


def _copy(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return list(value)
    return value


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return False
        if x.dtype.kind == "O" or y.dtype.kind == "O":
            return bool(x.tolist() == y.tolist())
        if x.dtype.kind != y.dtype.kind:
            return False
        nan = x.dtype.kind in "fc"
        return bool(np.array_equal(x, y, equal_nan=nan))
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and type(a) is type(b) and all(
            _same(p, q) for p, q in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _witness(item: Any, keys: tuple[str, ...]) -> tuple[object, ...]:
    """The objects an item holds after a hand-over: another ``setData`` replaces them."""
    if isinstance(item, pg.PlotDataItem):
        return tuple(item.getOriginalDataset())
    if isinstance(item, pg.ScatterPlotItem):
        return (item.data,)
    opts: Mapping[str, object] = getattr(item, "opts", {})
    return tuple(opts.get(key) for key in keys)


def _unchanged(item: Any, call: str, args: tuple[object, ...],
               kwargs: Mapping[str, object]) -> bool:
    shown = getattr(item, _SHOWN, None)
    if shown is None:
        return False
    last_call, last_args, last_kwargs, witness = shown
    return (last_call == call
            and all(a is b for a, b in zip(witness, _witness(item, tuple(kwargs)),
                                           strict=True))
            and len(args) == len(last_args) and all(
                _same(a, b) for a, b in zip(args, last_args, strict=True))
            and last_kwargs.keys() == kwargs.keys()
            and all(_same(value, last_kwargs[key]) for key, value in kwargs.items()))


def _remember(item: Any, call: str, args: tuple[object, ...],
              kwargs: Mapping[str, object]) -> None:
    setattr(item, _SHOWN, (call, tuple(_copy(a) for a in args),
                           {key: _copy(value) for key, value in kwargs.items()},
                           _witness(item, tuple(kwargs))))


def set_data(item: Any, *args: object, **kwargs: object) -> bool:
    """``item.setData(*args, **kwargs)`` unless it would change nothing; True if it ran."""
    if _unchanged(item, "setData", args, kwargs):
        return False
    item.setData(*args, **kwargs)
    _remember(item, "setData", args, kwargs)
    return True


def set_opts(item: Any, **opts: object) -> bool:
    """``item.setOpts(**opts)`` (a bar chart's heights and colours) unless it would change
    nothing; True if it ran."""
    if _unchanged(item, "setOpts", (), opts):
        return False
    item.setOpts(**opts)
    _remember(item, "setOpts", (), opts)
    return True


def forget(item: Any) -> None:
    """The next hand-over to ``item`` runs whatever it holds (its look changed)."""
    if hasattr(item, _SHOWN):
        delattr(item, _SHOWN)
