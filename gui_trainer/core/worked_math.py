"""The worked arithmetic of a stage, written with the numbers PyTorch produced.

Every number comes from a :class:`StageRecord` (read back from tensors). ``number`` decides
how they are written: short for the screen, :func:`formatting.full` for a copy that reads
back exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gui_trainer.core.formatting import short
from gui_trainer.core.layer_math import Backprop
from gui_trainer.core.records import StageRecord

Format = Callable[[float | None], str]

#: How close the hand formula and autograd must be (relative, float32 arithmetic).
CHECK_TOLERANCE = 1e-6


@dataclass(frozen=True)
class WorkedMath:
    title: str
    lines: tuple[str, ...]
    #: For backward: formula and autograd side by side, and whether they agree.
    checks: tuple[str, ...] = ()
    agrees: bool | None = None

    def as_text(self) -> str:
        return "\n".join((self.title, *self.lines, *self.checks))


def _signed(value: float, number: Format) -> str:
    """Wrap negatives in parentheses so "− (−3)" reads right."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def worked_math(record: StageRecord, number: Format = short,
                walk: Backprop | None = None) -> WorkedMath:
    """The stage's arithmetic; a layered model's is per tensor (``walk``: backward by hand)."""
    if record.stage in ("clip", "evaluate", "schedule") and record.ok:
        from gui_trainer.core.optional_math import optional_math

        return optional_math(record, number)
    if not record.after.one_neuron and record.ok:
        from gui_trainer.core.layered_math import layered_math

        return layered_math(record, number, walk)
    if not record.ok:
        title = f"{record.label}: nothing was computed"
        lines = [record.explanation]
        if record.error:
            lines.append(f"PyTorch: {record.error.splitlines()[0]}")
        return WorkedMath(title, tuple(lines))
    builder = {
        "zero_grad": _zero_grad,
        "forward": _forward,
        "loss": _loss,
        "backward": _backward,
        "step": _step,
    }[record.stage]
    return builder(record, number)


def _zero_grad(record: StageRecord, number: Format) -> WorkedMath:
    how = "set_to_none=True" if record.set_to_none else "set_to_none=False"
    before, after = record.before, record.after
    return WorkedMath(
        f"optimizer.zero_grad({how})",
        (
            f"weight.grad: {number(before.weight_grad)} → {number(after.weight_grad)}",
            f"bias.grad:   {number(before.bias_grad)} → {number(after.bias_grad)}",
        ),
    )


def _forward(record: StageRecord, number: Format) -> WorkedMath:
    assert record.outputs is not None
    w, b = record.after.weight, record.after.bias
    lines = ["output[i] = weight × input[i] + bias"]
    if record.micro_batches > 1:
        lines.insert(0, f"micro-batch: samples {', '.join(str(i) for i in record.rows)}")
    for i, x, out in zip(record.rows, record.inputs, record.outputs, strict=True):
        lines.append(f"output[{i}] = {number(w)} × {number(x)} + {number(b)} = {number(out)}")
    return WorkedMath("outputs = model(distances)", tuple(lines))


def _loss(record: StageRecord, number: Format) -> WorkedMath:
    assert record.loss_outputs is not None and record.sample_losses is not None
    n = len(record.targets)
    lines = ["loss = (1/n) × Σ (prediction − target)²", ""]
    for out, target, sq in zip(
        record.loss_outputs, record.targets, record.sample_losses, strict=True
    ):
        lines.append(f"({number(out)} − {number(target)})² = {number(sq)}")
    total = " + ".join(number(sq) for sq in record.sample_losses)
    lines.append("")
    if record.micro_batches > 1:
        k = record.micro_batches
        lines.append(f"loss = ({total}) / {n} / {k} micro-batches = {number(record.loss)}")
        lines.append(f"(÷ {k} so that the {k} accumulated gradients add up to the full batch's)")
    else:
        lines.append(f"loss = ({total}) / {n} = {number(record.loss)}")
    return WorkedMath("loss = loss_function(outputs, times)", tuple(lines))


def _backward(record: StageRecord, number: Format) -> WorkedMath:
    assert record.formula_grads is not None and record.formula_terms is not None
    errors, weighted = record.formula_terms
    n = len(errors) * record.micro_batches
    d_weight, d_bias = record.formula_grads
    lines = [
        "∂loss/∂weight = (2/n) × Σ (output − target) × input",
        f"  = (2/{n}) × ({' + '.join(_signed(v, number) for v in weighted)})",
        f"  = {number(d_weight)}",
        "∂loss/∂bias = (2/n) × Σ (output − target) × 1",
        f"  = (2/{n}) × ({' + '.join(_signed(v, number) for v in errors)})",
        f"  = {number(d_bias)}",
    ]
    checks = []
    agrees = True
    fresh = record.fresh_grads or (float("nan"), float("nan"))
    for name, formula, before, after, added in (
        ("weight", d_weight, record.before.weight_grad, record.after.weight_grad, fresh[0]),
        ("bias", d_bias, record.before.bias_grad, record.after.bias_grad, fresh[1]),
    ):
        assert after is not None
        ok = abs(added - formula) <= CHECK_TOLERANCE * max(1.0, abs(formula))
        agrees = agrees and ok
        mark = "✓ agree" if ok else "✗ differ"
        if before not in (None, 0.0):
            checks.append(
                f"{name}.grad = {number(before)} (old) + {number(added)} (new) = {number(after)}"
                f"   formula {number(formula)} vs autograd {number(added)}  {mark}"
            )
        else:
            checks.append(
                f"{name}.grad: formula {number(formula)}, autograd {number(after)}  {mark}"
            )
    if record.full_batch_grads is not None:
        for name, accumulated, full_batch in (
            ("weight", record.after.weight_grad, record.full_batch_grads[0]),
            ("bias", record.after.bias_grad, record.full_batch_grads[1]),
        ):
            assert accumulated is not None
            ok = abs(accumulated - full_batch) <= CHECK_TOLERANCE * max(1.0, abs(full_batch))
            agrees = agrees and ok
            checks.append(
                f"{name}.grad summed over {record.micro_batches} micro-batches "
                f"{number(accumulated)} vs full batch {number(full_batch)}  "
                + ("✓ equal" if ok else "✗ differ")
            )
    return WorkedMath("loss.backward()", tuple(lines), tuple(checks), agrees)


def _step(record: StageRecord, number: Format) -> WorkedMath:
    lr = record.lr
    rule = "new = old − lr × grad" if record.plain_sgd else step_rule(record.optimizer)
    lines = [rule]
    for name, old, new, grad in (
        ("weight", record.before.weight, record.after.weight, record.before.weight_grad),
        ("bias", record.before.bias, record.after.bias, record.before.bias_grad),
    ):
        if grad is None:
            lines.append(f"{name}: .grad is None → unchanged at {number(new)}")
        elif record.plain_sgd:
            lines.append(
                f"{name}: {number(old)} − {number(lr)} × {_signed(grad, number)} = {number(new)}"
            )
        else:
            lines.append(f"{name}: {number(old)} → {number(new)} (grad {number(grad)})")
    checks, agrees = ledger_checks(record)
    return WorkedMath("optimizer.step()", tuple(lines), checks, agrees)


#: Each optimizer's update in one line (SGD with momentum or weight decay included).
STEP_RULES = {
    "sgd": "SGD: new = old − lr × buffer, buffer = momentum × buffer + (1 − dampening) × "
           "(grad + weight_decay × old)",
    "rmsprop": "RMSprop: new = old − lr × grad / (√v + ε), v the running mean of grad²",
    "adagrad": "Adagrad: new = old − lr × grad / (√sum + ε), sum of every grad² so far",
    "adam": "Adam: new = old − lr × m̂ / (√v̂ + ε), from running averages of the gradients",
    "adamw": "AdamW: new = old − lr × weight_decay × old − lr × m̂ / (√v̂ + ε)",
}


def step_rule(optimizer: str) -> str:
    return STEP_RULES.get(optimizer, f"{optimizer}: see the Optimizer state panel")


def ledger_checks(record: StageRecord) -> tuple[tuple[str, ...], bool | None]:
    """The update ledger's verdict (the Optimizer state panel has the terms)."""
    if record.optimizer_state is None or not record.ok:
        return (), None
    ledger = record.optimizer_state.ledger
    if not any(tensor.terms for tensor in ledger.tensors):
        return (), None
    worst = max(tensor.worst_gap for tensor in ledger.tensors)
    if ledger.agrees:
        return (f"✓ the update's terms add up to PyTorch's change (largest gap {worst:.1e}; "
                "the terms are in the Optimizer state panel)",), True
    return (f"✗ the update's terms miss PyTorch's change by up to {worst:.3g}",), False
