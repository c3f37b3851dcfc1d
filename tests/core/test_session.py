"""The session's API: defaults, guided order, settings, reset, history."""

import math

import pytest
import torch
from torch import nn

from gui_trainer.core import STAGES, StageOrderError, TrainingSession

from .plain import PlainScript, grad_or_none


def test_default_session_is_the_reference_scenario() -> None:
    session = TrainingSession()
    assert session.inputs.flatten().tolist() == [1.0, 2.0, 3.0, 4.0]
    assert session.targets.flatten().tolist() == pytest.approx([6.96, 12.11, 16.77, 22.21])
    assert isinstance(session.model, nn.Sequential)
    assert isinstance(session.model[0], nn.Linear)
    assert isinstance(session.loss_fn, nn.MSELoss)
    assert isinstance(session.optimizer, torch.optim.SGD)
    assert session.optimizer.param_groups[0]["lr"] == 0.01
    assert session.outputs is None and session.loss is None
    assert session.mode == "guided"


def test_every_start_is_the_same_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first, second = TrainingSession(), TrainingSession()
    assert torch.rand(1) == expected_next
    assert first.params() == second.params()


def test_a_full_loop_matches_the_plain_script_for_many_epochs() -> None:
    session, script = TrainingSession(), PlainScript()
    for _ in range(30):
        for stage in STAGES:
            session.run(stage)
            script.run(stage)
    assert session.weight.item() == script.weight.item()
    assert session.bias.item() == script.bias.item()
    assert session.epoch == 30
    assert len(session.history) == 30
    assert session.history.column("loss")[-1] == script.loss.item()  # type: ignore[union-attr]


def test_training_reduces_the_loss() -> None:
    session = TrainingSession()
    first = session.run_epoch()[2].loss
    for _ in range(200):
        records = session.run_epoch()
    assert first is not None and records[2].loss is not None
    assert records[2].loss < first / 10


def test_guided_mode_refuses_out_of_order_and_changes_nothing() -> None:
    session = TrainingSession()
    before = session.params()
    with pytest.raises(StageOrderError, match="Zero Grad"):
        session.run("backward")
    assert session.params() == before
    assert session.stage_count == 0
    assert session.refusal("zero_grad") is None
    assert session.refusal("step") is not None
    assert "\n" not in (session.refusal("step") or "")


def test_guided_next_stage_follows_the_loop() -> None:
    session = TrainingSession()
    seen = []
    for _ in range(7):
        seen.append(session.next_stage)
        session.run(session.next_stage)
    assert seen == [*STAGES, "zero_grad", "forward"]


def test_switching_to_guided_restarts_the_loop_at_zero_grad() -> None:
    session = TrainingSession(mode="free")
    session.run("forward")
    session.mode = "guided"
    assert session.next_stage == "zero_grad"


def test_unknown_stage_and_mode_are_rejected() -> None:
    session = TrainingSession()
    with pytest.raises(ValueError, match="unknown stage"):
        session.run("jump")
    with pytest.raises(ValueError, match="unknown mode"):
        TrainingSession(mode="turbo")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "nan", "inf", "1e400", "", None])
def test_bad_learning_rate_is_refused_and_nothing_changes(bad: object) -> None:
    session = TrainingSession()
    with pytest.raises(ValueError):
        session.lr = bad  # type: ignore[assignment]
    assert session.lr == 0.01
    assert session.optimizer.param_groups[0]["lr"] == 0.01


def test_learning_rate_reaches_the_optimizer() -> None:
    session = TrainingSession()
    session.lr = "0.1"
    assert session.optimizer.param_groups[0]["lr"] == 0.1


def test_reset_returns_to_the_starting_state_keeping_settings() -> None:
    session = TrainingSession(mode="free")
    start = session.params()
    session.lr = 0.05
    for _ in range(3):
        session.run_epoch()
    session.reset()
    assert session.params() == start
    assert session.outputs is None and session.loss is None
    assert session.epoch == 0 and len(session.history) == 0
    assert session.lr == 0.05 and session.mode == "free"
    assert session.next_stage == "zero_grad"


def test_adam_optimizer_trains_with_the_real_adam() -> None:
    session = TrainingSession(optimizer="adam", lr=0.1)
    assert isinstance(session.optimizer, torch.optim.Adam)
    for _ in range(5):
        session.run_epoch()
    assert session.epoch == 5
    assert session.optimizer.state[session.weight]["step"].item() == 5


def test_large_learning_rate_diverges_to_a_non_finite_loss() -> None:
    session = TrainingSession(lr=1.0)
    finite = True
    for _ in range(300):
        record = session.run_epoch()[2]
        if not record.loss_is_finite:
            finite = False
            break
    assert not finite
    assert record.loss is not None and not math.isfinite(record.loss)
    assert "overshot" in record.explanation


def test_record_reads_values_back_from_the_tensors() -> None:
    session = TrainingSession()
    for stage in STAGES[:4]:
        record = session.run(stage)
    assert record.after.weight_grad == grad_or_none(session.weight)
    assert record.after.bias_grad == grad_or_none(session.bias)
    assert record.loss == session.loss.item()  # type: ignore[union-attr]
    assert record.outputs == tuple(session.outputs.flatten().tolist())  # type: ignore[union-attr]


def test_records_are_immutable() -> None:
    record = TrainingSession().run("zero_grad")
    with pytest.raises(AttributeError):
        record.stage = "step"  # type: ignore[misc]


@pytest.mark.parametrize("bad", [10**400, "0_1", "\u0661", "5e-324", 1e-13, "1e9", "abc", None])
def test_the_notebook_api_refuses_odd_learning_rates_with_a_value_error(bad: object) -> None:
    session = TrainingSession()
    with pytest.raises(ValueError):
        session.lr = bad  # type: ignore[assignment]
    with pytest.raises(ValueError):
        TrainingSession(lr=bad)  # type: ignore[arg-type]
    assert session.lr == 0.01 and session.position == 0


def test_whole_numbers_and_flags_are_checked_by_type() -> None:
    import numpy as np

    session = TrainingSession()
    session.micro_batches = np.int64(2)  # type: ignore[assignment]  # a numpy integer is fine
    assert session.micro_batches == 2 and type(session.micro_batches) is int
    for bad in (2.0, True, "2"):
        with pytest.raises(TypeError, match="whole number"):
            session.micro_batches = bad  # type: ignore[assignment]
    with pytest.raises(ValueError, match="split 4 samples evenly"):
        session.micro_batches = 3
    for bad_flag in ("False", 0, None):
        with pytest.raises(TypeError, match="True or False"):
            session.set_to_none = bad_flag  # type: ignore[assignment]
    assert session.set_to_none is True
    with pytest.raises(TypeError, match="whole number"):
        session.jump_to(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="whole number"):
        TrainingSession(seed=1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("inputs", "targets", "match"),
    [
        (((1.0, 2.0), (3.0, 4.0)), ((1.0,), (2.0,)), "one column"),  # two features
        (((1.0,), (2.0,)), ((1.0,),), "as many rows"),
        (((1.0,), (float("nan"),)), ((1.0,), (2.0,)), "finite"),
        ((), (), "one column"),
        ((("a",),), ((1.0,),), "rows of numbers"),
    ],
)
def test_data_the_model_cannot_take_is_refused_up_front(
    inputs: object, targets: object, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        TrainingSession(inputs=inputs, targets=targets)  # type: ignore[arg-type]


def test_no_assert_guards_input() -> None:
    """Input checks must hold under ``python -O`` too: none may be an assert."""
    import ast
    import inspect

    from gui_trainer.core import session as module

    tree = ast.parse(inspect.getsource(module))
    asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert asserts == []
