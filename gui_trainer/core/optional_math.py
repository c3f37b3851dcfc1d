"""The worked arithmetic of Clip, Evaluate and Schedule, from the numbers PyTorch reported.

Clip is checked element by element: every gradient after is the one before times the factor
``clip_grad_norm_`` used, ``max_norm / (total_norm + 1e-6)`` capped at 1 (PyTorch's formula),
within float32 rounding.
"""

from __future__ import annotations

import numpy as np

from gui_trainer.core.records import StageRecord
from gui_trainer.core.worked_math import Format, WorkedMath

#: clip_grad_norm_ adds this to the norm before dividing (torch.nn.utils.clip_grad).
CLIP_EPS = 1e-6
#: Relative tolerance of the factor check: float32 products, rounded once.
CLIP_TOLERANCE = 1e-6


def optional_math(record: StageRecord, number: Format) -> WorkedMath:
    if record.stage == "clip":
        return _clip(record, number)
    if record.stage == "evaluate":
        return _evaluate(record, number)
    return _schedule(record, number)


def _clip(record: StageRecord, number: Format) -> WorkedMath:
    total, max_norm = record.clip_total_norm, record.clip_max_norm
    assert total is not None and max_norm is not None
    factor = min(1.0, max_norm / (total + CLIP_EPS))
    lines = [
        "total_norm = √(Σ over every gradient element of grad²) = "
        f"{number(total)}",
        f"factor = max_norm / (total_norm + 1e-6) = {number(max_norm)} / "
        f"({number(total)} + 1e-6) = {number(max_norm / (total + CLIP_EPS))}"
        + ("" if factor < 1 else ", capped at 1: nothing changes"),
    ]
    checks, agrees = [], True
    for before, after in zip(record.before.tensors, record.after.tensors, strict=True):
        if before.grad is None or after.grad is None:
            lines.append(f"{before.name}: .grad is None, nothing to clip")
            continue
        expected = before.grad.astype(np.float64) * factor
        gap = np.abs(after.grad - expected)
        ok = bool(np.all(gap <= CLIP_TOLERANCE * np.abs(expected) + 1e-30))
        agrees = agrees and ok
        first = float(before.grad.reshape(-1)[0])
        lines.append(f"{before.name}: grad[0] {number(first)} × {number(factor)} = "
                     f"{number(float(after.grad.reshape(-1)[0]))}")
        checks.append(f"{'✓' if ok else '✗'} {before.name}: every element is grad × factor "
                      f"(within {CLIP_TOLERANCE:g} relative)")
    return WorkedMath(f"{record.label}: the gradients' length capped at max_norm",
                      tuple(lines), tuple(checks), agrees)


def _evaluate(record: StageRecord, number: Format) -> WorkedMath:
    model_eval = record.val_loss_reference is None
    no_grad = record.val_graph_nodes == 0
    opening = ", ".join([*(["model.eval()"] if model_eval else []),
                         *(["with torch.no_grad():"] if no_grad else [])])
    lines = [opening or "(no model.eval(), no torch.no_grad(): as in training)",
             f"    val_loss = loss_function(model(val_inputs), val_targets) = "
             f"{number(record.val_loss)}"]
    if record.val_accuracy is not None:
        lines.append(f"    accuracy = share of held-out rows classed right = "
                     f"{record.val_accuracy:.1%}")
    if not model_eval:
        lines.append(f"in train mode: with model.eval() these weights measure "
                     f"{number(record.val_loss_reference)}")
    lines.append(f"val_loss.grad_fn = {record.val_grad_fn}: "
                 + ("no graph was recorded" if record.val_grad_fn is None else
                    f"a graph of {record.val_graph_nodes} nodes was recorded, for nothing"))
    if model_eval:
        lines.append("model.train(): training behaviour back on; weights and .grad unchanged")
    return WorkedMath(f"{record.label}: the loss on rows never trained on", tuple(lines))


def _schedule(record: StageRecord, number: Format) -> WorkedMath:
    lines = [f"optimizer.param_groups[0]['lr']: {number(record.lr_before)} → "
             f"{number(record.optimizer_lr)}"]
    if record.lr_before and record.optimizer_lr is not None:
        lines.append(f"ratio new / old = {number(record.optimizer_lr / record.lr_before)}")
    lines.append(record.explanation)
    return WorkedMath(f"{record.label}: the learning rate for the next steps", tuple(lines))
