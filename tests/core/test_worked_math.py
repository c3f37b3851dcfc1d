"""The worked math shows the numbers PyTorch produced; parsed back, they equal the tensors."""

import re

import pytest
import torch

from gui_trainer.core import STAGES, TrainingSession
from gui_trainer.core.formatting import full
from gui_trainer.core.worked_math import worked_math

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def last_number(line: str) -> float:
    return float(NUMBER.findall(line)[-1])


def session_after(stages: list[str], **kwargs: object) -> TrainingSession:
    session = TrainingSession(**kwargs)  # type: ignore[arg-type]
    for stage in stages:
        session.run(stage)
    return session


def test_forward_lines_carry_pytorchs_outputs_exactly() -> None:
    session = TrainingSession()
    session.run("zero_grad")
    math = worked_math(session.run("forward"), full)
    rows = [line for line in math.lines if re.match(r"output\[\d\]", line)]
    assert len(rows) == 4
    assert session.outputs is not None
    for i, row in enumerate(rows):
        assert last_number(row) == session.outputs[i, 0].item()
        assert f"{full(session.weight.item())} × " in row
        assert row.endswith(f"+ {full(session.bias.item())} = {full(session.outputs[i, 0].item())}")


def test_loss_lines_carry_per_sample_errors_and_the_mean() -> None:
    session = session_after(["zero_grad", "forward"])
    math = worked_math(session.run("loss"), full)
    assert session.outputs is not None
    per_sample = torch.nn.functional.mse_loss(session.outputs, session.targets, reduction="none")
    squares = [line for line in math.lines if line.startswith("(")]
    assert [last_number(line) for line in squares] == per_sample.flatten().tolist()
    assert session.loss is not None
    assert last_number(math.lines[-1]) == session.loss.item()


def test_backward_check_line_agrees_with_autograd() -> None:
    session = session_after(["zero_grad", "forward", "loss"])
    record = session.run("backward")
    math = worked_math(record, full)
    assert math.agrees is True
    assert record.formula_grads is not None
    assert session.weight.grad is not None and session.bias.grad is not None
    for formula, grad in zip(record.formula_grads,
                             (session.weight.grad.item(), session.bias.grad.item()), strict=True):
        assert abs(formula - grad) <= 1e-6 * max(1.0, abs(grad))
    assert f"autograd {full(session.weight.grad.item())}" in math.checks[0]
    assert f"autograd {full(session.bias.grad.item())}" in math.checks[1]
    assert all("✓" in line for line in math.checks)


def test_backward_with_accumulated_gradients_shows_old_plus_new() -> None:
    session = TrainingSession(mode="free")
    for stage in ["forward", "loss", "backward", "forward", "loss"]:
        session.run(stage)
    record = session.run("backward")
    math = worked_math(record, full)
    assert "(old)" in math.checks[0] and "(new)" in math.checks[0]
    assert math.agrees is True
    assert session.weight.grad is not None
    assert f"= {full(session.weight.grad.item())}" in math.checks[0]


def test_step_lines_show_old_minus_lr_times_grad_equals_pytorchs_new() -> None:
    session = session_after(["zero_grad", "forward", "loss", "backward"])
    old_w, grad_w = session.weight.item(), session.weight.grad.item()  # type: ignore[union-attr]
    math = worked_math(session.run("step"), full)
    weight_line = next(line for line in math.lines if line.startswith("weight:"))
    assert weight_line.startswith(f"weight: {full(old_w)} − 0.01 × ")
    assert full(grad_w).lstrip("-") in weight_line
    assert last_number(weight_line) == session.weight.item()
    assert session.weight.item() == pytest.approx(old_w - 0.01 * grad_w, rel=1e-6)


def test_zero_grad_shows_before_and_after_as_pytorch_holds_them() -> None:
    session = session_after(["zero_grad", "forward", "loss", "backward", "step"])
    grad = session.weight.grad.item()  # type: ignore[union-attr]
    math = worked_math(session.run("zero_grad"), full)
    assert math.title == "optimizer.zero_grad(set_to_none=True)"
    assert math.lines[0] == f"weight.grad: {full(grad)} → None"
    zeros = session_after(["forward", "loss", "backward"], mode="free", set_to_none=False)
    math = worked_math(zeros.run("zero_grad"), full)
    assert math.lines[0].endswith("→ 0.0")


def test_failed_stage_explains_instead_of_computing() -> None:
    session = TrainingSession(mode="free")
    math = worked_math(session.run("loss"))
    assert "nothing was computed" in math.title


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_worked_math_in_a_full_loop(stage: str) -> None:
    session = TrainingSession()
    for earlier in STAGES[: STAGES.index(stage)]:
        session.run(earlier)
    math = worked_math(session.run(stage))
    assert math.title and math.lines
