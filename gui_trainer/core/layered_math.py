"""The worked math of a stage for a layered model: per tensor, with the live shapes.

The one neuron's arithmetic is written number by number (``worked_math.py``); a network has
hundreds of numbers, so each line here is one tensor: its shape, its norm, what the stage did
to it, and — for SGD's step — the update rule checked element by element on the record's own
arrays. Backward adds the chain rule layer by layer for one sample (``layer_math.py``).
"""

from __future__ import annotations

import math

import numpy as np

from gui_trainer.core.formatting import short
from gui_trainer.core.layer_math import Backprop
from gui_trainer.core.records import StageRecord
from gui_trainer.core.worked_math import Format, WorkedMath, ledger_checks, step_rule

#: new = old − lr × grad in float32, rounded once or twice (a fused multiply-add or not):
#: PyTorch's result and NumPy's differ by at most one unit in the last place.
STEP_TOLERANCE_ULP = 1


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def layered_math(record: StageRecord, number: Format = short,
                 walk: Backprop | None = None) -> WorkedMath:
    """The worked math of ``record``; ``walk`` is backward by hand for one sample."""
    tensors = len(record.after.tensors)
    title = {
        "zero_grad": f"{record.label}: the .grad of {tensors} parameter tensors",
        "forward": f"{record.label}: the data through {tensors // 2} linear "
                   f"layer{'s' if tensors > 2 else ''}",
        "loss": f"{record.label}: one number for all the outputs",
        "backward": f"{record.label}: a gradient for each of {tensors} parameter tensors",
        "step": f"{record.label}: {tensors} parameter tensors updated",
    }[record.stage]
    lines: list[str] = []
    checks: list[str] = []
    agrees: bool | None = None
    after, before = record.after, record.before
    if record.stage == "zero_grad":
        how = "None" if record.set_to_none else "zeros"
        lines += [f"{t.name} ({_shape(t.shape)}): ‖grad‖ {number(b.grad_norm)} → {how}"
                  for b, t in zip(before.tensors, after.tensors, strict=True)]
    elif record.stage == "forward":
        rows = len(record.rows)
        width = len(record.outputs or ()) // max(rows, 1)
        lines.append(f"outputs = model(inputs): {rows} samples in, {rows}×{width} numbers out")
        layers = [t for t in after.tensors if t.name.endswith(".weight")]
        lines += [f"{t.name.removesuffix('.weight')}: Linear {t.shape[1]} → {t.shape[0]}, "
                  f"z = a · Wᵀ + b" for t in layers]
    elif record.stage == "loss":
        losses = record.sample_losses or ()
        kind = ("cross-entropy: −log softmax(output)[target]" if record.task == "classification"
                else "squared error: (output − target)²")
        lines.append(f"per sample, {kind}: "
                     + ", ".join(number(v) for v in losses[:4]) + ("…" if len(losses) > 4 else ""))
        scale = f" ÷ {record.micro_batches} micro-batches" if record.micro_batches > 1 else ""
        lines.append(f"loss = mean of {len(losses)} per-sample losses{scale} = "
                     f"{number(record.loss)}")
        if record.accuracy is not None:
            lines.append(f"accuracy of these outputs: {record.accuracy:.1%}")
    elif record.stage == "backward":
        lines += [f"{t.name} ({_shape(t.shape)}): ‖grad‖ {number(b.grad_norm)} → "
                  f"{number(t.grad_norm)}"
                  for b, t in zip(before.tensors, after.tensors, strict=True)]
        if walk is not None:
            lines += ["", "The chain rule by hand, layer by layer (parameters now):",
                      *walk.lines()]
            if not math.isfinite(walk.loss):  # NaN equals nothing: there is nothing to check
                checks.append(f"✗ not checked: this sample's loss is {walk.loss}, so every "
                              "gradient is too")
            else:
                agrees = walk.agrees
                checks.append("✓ by hand and autograd agree" if agrees else
                              "✗ by hand and autograd DISAGREE beyond the tolerance")
    else:
        ratios = before.update_ratios(after)
        lines += [f"{name}: |Δp|/|p| = {number(ratio)}" for name, ratio in ratios.items()]
        if record.plain_sgd and before.has_grads():
            worst = _sgd_difference(record)
            agrees = worst <= STEP_TOLERANCE_ULP
            checks.append(f"{'✓' if agrees else '✗'} new = old − lr × grad, checked on every "
                          f"element: largest "
                          f"difference {worst:g} units in the last place of float32 "
                          f"(tolerance {STEP_TOLERANCE_ULP})")
        else:
            lines.insert(0, step_rule(record.optimizer))
            ledger, agrees = ledger_checks(record)
            checks += ledger
    return WorkedMath(title, tuple(lines), tuple(checks), agrees)


def _sgd_difference(record: StageRecord) -> float:
    """The largest |after − (before − lr·grad)| over all tensors, in float32 ulps."""
    lr = np.float32(record.lr)
    worst = 0.0
    for b, t in zip(record.before.tensors, record.after.tensors, strict=True):
        if b.grad is None:
            continue
        expected = b.value - lr * b.grad
        ulp = np.spacing(np.maximum(np.abs(expected), np.abs(t.value)))
        worst = max(worst, float(np.max(np.abs(t.value - expected) / ulp)))
    return worst
