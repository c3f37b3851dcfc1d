"""The reference text's worked numbers, reproduced through the real session."""

import pytest
import torch

from gui_trainer.core import TrainingSession


def set_params(session: TrainingSession, weight: float, bias: float) -> None:
    with torch.no_grad():
        session.weight.fill_(weight)
        session.bias.fill_(bias)


def test_forward_with_weight_5_bias_2_gives_7_12_17_22() -> None:
    session = TrainingSession(mode="free")
    set_params(session, 5.0, 2.0)
    record = session.run("forward")
    assert record.outputs == pytest.approx((7.0, 12.0, 17.0, 22.0), abs=1e-6)
    assert session.outputs is not None
    assert torch.equal(session.outputs, session.model(session.inputs))


def test_loss_against_default_targets_is_0_0277() -> None:
    session = TrainingSession(mode="free")
    set_params(session, 5.0, 2.0)
    session.run("forward")
    record = session.run("loss")
    assert record.loss is not None
    assert round(record.loss, 4) == 0.0277
    assert record.sample_losses == pytest.approx((0.0016, 0.0121, 0.0529, 0.0441), abs=1e-5)


def test_backward_gives_weight_grad_15() -> None:
    session = TrainingSession(targets=[[7.0], [12.0], [17.0], [22.0]], mode="free")
    set_params(session, 5.0, 5.0)  # outputs [10, 15, 20, 25]
    session.run("forward")
    assert session.outputs is not None
    assert session.outputs.flatten().tolist() == [10.0, 15.0, 20.0, 25.0]
    session.run("loss")
    record = session.run("backward")
    assert record.after.weight_grad == pytest.approx(15.0)
    assert record.after.bias_grad == pytest.approx(6.0)  # (2/4) × (3+3+3+3)
    assert record.formula_grads == pytest.approx((15.0, 6.0), abs=1e-6)


def test_step_from_3_with_grad_15_and_lr_0_01_gives_2_85() -> None:
    session = TrainingSession(lr=0.01, mode="free")
    set_params(session, 3.0, 0.0)
    session.weight.grad = torch.full_like(session.weight, 15.0)
    record = session.run("step")
    assert record.before.weight == 3.0
    assert record.after.weight == pytest.approx(2.85, abs=1e-6)
    assert session.weight.item() == pytest.approx(2.85, abs=1e-6)
