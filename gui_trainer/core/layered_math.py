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
    linear = sum(1 for t in record.after.tensors if t.name.endswith(".weight")
                 and len(t.shape) == 2)
    title = {
        "zero_grad": f"{record.label}: the .grad of {tensors} parameter tensors",
        "forward": f"{record.label}: the data through {linear} linear "
                   f"layer{'s' if linear > 1 else ''}",
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
        layer_lines, checks, agrees = _forward_layers(record, number)
        lines += layer_lines
    elif record.stage == "loss":
        losses = record.sample_losses or ()
        kind = ("cross-entropy of softmax(output): −log softmax(softmax(output))[target]"
                if record.softmax_loss_reference is not None else
                "cross-entropy: −log softmax(output)[target]" if record.task == "classification"
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


#: A running average worked out again in float32 (PyTorch sums the batch in its own order)
#: agrees to about this, relative to the numbers' size.
RUNNING_TOLERANCE = 1e-5


def _forward_layers(record: StageRecord, number: Format
                    ) -> tuple[list[str], list[str], bool | None]:
    """One line per layer in the model's order; dropout's masks and BatchNorm's running
    averages with their checks (the averages worked out again from the batch's numbers)."""
    weights = {t.name.removesuffix(".weight"): t for t in record.after.tensors
               if t.name.endswith(".weight")}
    masks = {m.name: m for m in record.dropout_masks}
    stats = {s.name: s for s in record.batch_stats}
    before = {t.name: t.value for t in record.buffers_before}
    after = {t.name: t.value for t in record.buffers_after}
    lines: list[str] = []
    checks: list[str] = []
    results: list[bool] = []
    for name in sorted({*weights, *masks}, key=int):
        if name in masks:
            mask = masks[name]
            kept = int(mask.kept.sum())
            lines.append(f"{name}: Dropout(p={mask.p:g}): kept {kept} of {mask.kept.size} "
                         f"({mask.kept_share:.0%}), × 1/(1 − p) = {number(1 / (1 - mask.p))}; "
                         "the rest 0")
            results.append(mask.agrees)
            checks.append(f"{'✓' if mask.agrees else '✗'} layer {name}: output = input × "
                          f"mask / (1 − p) on every element")
            continue
        weight = weights[name]
        if len(weight.shape) == 2:
            lines.append(f"{name}: Linear {weight.shape[1]} → {weight.shape[0]}, "
                         "z = a · Wᵀ + b")
            continue
        lines.append(f"{name}: BatchNorm1d({weight.shape[0]}), z = γ·(a − batch mean)/"
                     "√(batch var + eps) + β")
        count = f"{name}.num_batches_tracked"
        if count in before and count in after:
            lines.append(f"  num_batches_tracked {int(before[count])} → {int(after[count])}")
        batch = stats.get(name)
        for buffer, measured in (("running_mean", None if batch is None else batch.mean),
                                 ("running_var", None if batch is None else batch.var)):
            key = f"{name}.{buffer}"
            if key not in before or key not in after:
                continue
            old, new = before[key].astype(np.float64), after[key].astype(np.float64)
            lines.append(f"  {buffer} ‖·‖ {number(float(np.linalg.norm(old)))} → "
                         f"{number(float(np.linalg.norm(new)))}")
            if measured is None or batch is None:
                continue
            m = np.float32(batch.momentum)
            expected = (np.float32(1) - m) * before[key] + m * measured
            worst = float(np.max(np.abs(expected.astype(np.float64) - new)))
            scale = max(float(np.max(np.abs(new))), 1e-12)
            if not (math.isfinite(worst) and math.isfinite(scale)):
                checks.append(f"– layer {name}: {buffer} not checked: it holds NaN or inf")
                continue
            ok = worst <= RUNNING_TOLERANCE * scale
            results.append(ok)
            what = "batch mean" if buffer == "running_mean" else "batch variance (÷ n − 1)"
            checks.append(f"{'✓' if ok else '✗'} layer {name}: {buffer} = (1 − "
                          f"{batch.momentum:g}) × old + {batch.momentum:g} × {what}: at most "
                          f"{worst:.2g} apart (allowed {RUNNING_TOLERANCE:g} × {scale:.3g})")
    return lines, checks, (all(results) if results else None)


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
