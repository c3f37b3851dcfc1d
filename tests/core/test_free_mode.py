"""Free mode: any order, PyTorch's real behaviour, the session never raises."""

import pytest
import torch

from gui_trainer.core import TrainingSession

from .plain import PlainScript, grad_or_none


def run_both(stages: list[str]) -> tuple[TrainingSession, PlainScript]:
    session, script = TrainingSession(mode="free"), PlainScript()
    for stage in stages:
        session.run(stage)
        script.run(stage)
    return session, script


def assert_same(session: TrainingSession, script: PlainScript) -> None:
    assert session.weight.item() == script.weight.item()
    assert session.bias.item() == script.bias.item()
    assert grad_or_none(session.weight) == grad_or_none(script.weight)
    assert grad_or_none(session.bias) == grad_or_none(script.bias)


def test_skipped_zero_grad_accumulates_gradients_like_pytorch() -> None:
    loop = ["forward", "loss", "backward", "step"]
    session, script = run_both(["zero_grad", *loop, *loop, *loop])
    assert_same(session, script)
    # The third backward adds to two earlier gradients.
    record = session.run("forward")
    session.run("loss")
    summed = session.run("backward")
    assert "ADDED" in summed.explanation
    assert summed.formula_grads is not None and summed.before.weight_grad is not None
    assert summed.after.weight_grad == pytest.approx(
        summed.before.weight_grad + summed.formula_grads[0], rel=1e-5
    )
    assert record.ok


def test_step_with_no_gradients_changes_nothing() -> None:
    session = TrainingSession(mode="free")
    record = session.run("step")
    assert record.ok
    assert record.after == record.before
    assert record.after.weight_grad is None
    assert "None" in record.explanation


def test_loss_before_any_forward_has_nothing_to_measure() -> None:
    session = TrainingSession(mode="free")
    record = session.run("loss")
    assert not record.ran and session.loss is None
    assert "Forward" in record.explanation


def test_backward_with_no_loss_changes_nothing() -> None:
    session = TrainingSession(mode="free")
    session.run("forward")
    record = session.run("backward")
    assert not record.ran
    assert record.after.weight_grad is None


def test_second_backward_hits_pytorchs_own_error_and_session_stays_usable() -> None:
    session = TrainingSession(mode="free")
    for stage in ["forward", "loss", "backward"]:
        session.run(stage)
    script = PlainScript()
    for stage in ["forward", "loss", "backward"]:
        script.run(stage)
    with pytest.raises(RuntimeError) as raised:
        script.backward()
    record = session.run("backward")
    assert record.error == f"RuntimeError: {raised.value}"
    assert "freed" in record.explanation
    assert record.after == record.before
    # Still usable: a new forward and loss build a fresh graph.
    for stage in ["zero_grad", "forward", "loss", "backward", "step"]:
        assert session.run(stage).ok


def test_forward_replaces_outputs_but_keeps_the_last_loss() -> None:
    session = TrainingSession(mode="free")
    session.run("forward")
    session.run("loss")
    old_loss = session.loss
    session.run("forward")
    session.run("step")  # no grads: nothing moves, outputs unchanged in value
    session.run("forward")
    assert session.loss is old_loss
    assert session.outputs is not None


def test_backward_after_a_skipped_loss_uses_the_earlier_loss_like_the_script() -> None:
    stages = ["forward", "loss", "forward", "backward"]
    session, script = run_both(stages)
    assert_same(session, script)
    record_session = TrainingSession(mode="free")
    for stage in stages[:-1]:
        record_session.run(stage)
    record = record_session.run("backward")
    assert record.ok and "earlier outputs" in record.explanation


def test_backward_after_a_step_uses_the_graph_built_before_it_like_the_script() -> None:
    stages = ["forward", "loss", "backward", "forward", "loss", "step", "backward"]
    session, script = run_both(stages)
    assert_same(session, script)


def test_zero_grad_with_set_to_none_false_fills_zeros() -> None:
    session = TrainingSession(mode="free", set_to_none=False)
    for stage in ["forward", "loss", "backward", "zero_grad"]:
        record = session.run(stage)
    assert record.after.weight_grad == 0.0 and record.after.bias_grad == 0.0
    assert session.weight.grad is not None
    assert torch.all(session.weight.grad == 0)


def test_zero_grad_default_sets_none_as_pytorch_2_does() -> None:
    session = TrainingSession(mode="free")
    for stage in ["forward", "loss", "backward", "zero_grad"]:
        record = session.run(stage)
    assert record.before.weight_grad is not None
    assert record.after.weight_grad is None and session.weight.grad is None


def test_free_mode_never_raises_for_any_order() -> None:
    import itertools

    stages = ["zero_grad", "forward", "loss", "backward", "step"]
    for order in itertools.product(stages, repeat=3):
        session = TrainingSession(mode="free")
        for stage in order:
            session.run(stage)
