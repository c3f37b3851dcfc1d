"""Gradient accumulation on purpose: micro-batches add up to the full-batch gradient."""

import pytest
import torch

from gui_trainer.core import TrainingSession

from .plain import PlainScript

#: float32, PyTorch's default: summing in another order differs by about one unit in the last
#: place (1e-7 relative), so "equal" means equal to 1e-6 relative.
REL = 1e-6


def full_batch_grads() -> tuple[float, float]:
    script = PlainScript()
    script.zero_grad()
    script.forward()
    script.compute_loss()
    script.backward()
    return script.weight.grad.item(), script.bias.grad.item()  # type: ignore[union-attr]


@pytest.mark.parametrize("count", [2, 4])
def test_accumulated_micro_batch_gradients_equal_the_full_batch(count: int) -> None:
    session = TrainingSession(micro_batches=count)
    seen = []
    while session.next_stage != "step":
        seen.append(session.next_stage)
        record = session.run(session.next_stage)
    assert seen == ["zero_grad"] + ["forward", "loss", "backward"] * count
    expected = full_batch_grads()
    assert session.weight.grad is not None and session.bias.grad is not None
    assert session.weight.grad.item() == pytest.approx(expected[0], rel=REL)
    assert session.bias.grad.item() == pytest.approx(expected[1], rel=REL)
    assert record.full_batch_grads == pytest.approx(expected, rel=REL)


def test_each_micro_batch_sees_only_its_samples_and_scales_its_loss() -> None:
    session = TrainingSession(micro_batches=2)
    session.run("zero_grad")
    forward = session.run("forward")
    assert forward.rows == (0, 1) and forward.inputs == (1.0, 2.0)
    loss = session.run("loss")
    assert session.outputs is not None
    plain = torch.nn.functional.mse_loss(session.outputs, session.targets[:2])
    assert loss.loss == pytest.approx(plain.item() / 2, rel=1e-6)
    assert "DivBackward0" in session.autograd_graph().autograd_names
    session.run("backward")
    assert session.run("forward").rows == (2, 3)


def test_the_step_after_accumulating_matches_a_full_batch_step() -> None:
    session = TrainingSession(micro_batches=2)
    for _ in range(3):
        session.run_epoch()
    script = PlainScript()
    for _ in range(3):
        for stage in ["zero_grad", "forward", "loss", "backward", "step"]:
            script.run(stage)
    assert session.weight.item() == pytest.approx(script.weight.item(), rel=REL)
    assert session.bias.item() == pytest.approx(script.bias.item(), rel=REL)


def test_fresh_gradient_is_autograds_gradient_of_this_loss_alone() -> None:
    session = TrainingSession(mode="free")
    for stage in ["forward", "loss", "backward", "forward", "loss"]:
        session.run(stage)
    before = session.weight.grad.item()  # type: ignore[union-attr]
    record = session.run("backward")
    assert record.fresh_grads is not None
    assert session.weight.grad.item() == pytest.approx(before + record.fresh_grads[0], rel=1e-6)  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", [0, 3, 5, -1])  # wrong types: TypeError (test_session)
def test_micro_batches_must_split_the_data_evenly(bad: object) -> None:
    session = TrainingSession()
    with pytest.raises(ValueError, match="split 4 samples evenly"):
        session.micro_batches = bad  # type: ignore[assignment]
    assert session.micro_batches == 1
    assert session.valid_micro_batches() == [1, 2, 4]


def test_graph_names_the_divisor_as_a_constant_not_as_data() -> None:
    session = TrainingSession(micro_batches=2)
    for stage in ["zero_grad", "forward", "loss"]:
        session.run(stage)
    data = sorted(node.name for node in session.autograd_graph().nodes if node.kind == "data")
    assert data == ["constant", "distances", "times"]


def test_changing_the_split_between_loss_and_backward_keeps_the_math_right() -> None:
    session = TrainingSession(mode="free", micro_batches=2)
    session.run("forward")
    session.run("loss")  # divided by 2
    session.micro_batches = 1
    record = session.run("backward")
    assert record.formula_grads is not None and record.fresh_grads is not None
    assert record.formula_grads == pytest.approx(record.fresh_grads, rel=1e-5)
    assert session.chunk == 0  # the new split starts at its first micro-batch
