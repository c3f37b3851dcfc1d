"""The experiments and predict mode on a network: measured over every tensor, by PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from gui_trainer.core import TrainingSession
from gui_trainer.core.experiments import BY_KEY, EXPERIMENTS, findings, fresh_and_used, grad_size
from gui_trainer.core.formatting import short
from gui_trainer.core.predict import (
    fresh_grad_norms,
    score_largest,
    score_loss_falls,
    weight_names,
)


def run(name: str, key: str) -> tuple[TrainingSession, list]:  # type: ignore[type-arg]
    from gui_trainer.core.experiments import run_experiment, scenario_for
    from gui_trainer.core.scenarios import SCENARIOS

    session = TrainingSession(scenario=scenario_for(BY_KEY[key], SCENARIOS[name]))
    return session, run_experiment(session, BY_KEY[key])


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.key)
def test_every_experiment_reports_on_a_network_without_one_neuron_words(experiment) -> None:  # type: ignore[no-untyped-def]
    _, records = run("moons", experiment.key)
    text = findings(experiment, records)
    assert "weight.grad" not in text and "the weight " not in text
    assert text.endswith(experiment.moral)
    assert "weight.grad" not in experiment.intro_for(False)


def test_skipping_zero_grad_on_a_network_sums_the_fresh_gradients() -> None:
    _, records = run("moons", "skip_zero_grad")
    rows = fresh_and_used(records)
    assert len(rows) == 6
    # With six backwards and no Zero Grad, .grad is the sum of the fresh gradients.
    total = None
    for record in records:
        if record.stage == "backward":
            fresh = np.concatenate([
                (t.grad.reshape(-1) - (0 if b.grad is None else b.grad.reshape(-1)))
                for t, b in zip(record.after.tensors, record.before.tensors, strict=True)])
            total = fresh if total is None else total + fresh
    assert total is not None
    np.testing.assert_allclose(rows[-1][2], np.linalg.norm(total), rtol=1e-5)
    # float32 norms, summed in float64
    assert rows[-1][2] == pytest.approx(grad_size(records[-1].before), rel=1e-6)
    text = findings(BY_KEY["skip_zero_grad"], records)
    assert short(rows[-1][2], 4) in text and short(rows[-1][1], 4) in text
    # moons trains with Adam, which hides the sum's size: the findings say so.
    assert records[-1].optimizer == "adam" and "try this again with SGD" in text


def test_skipping_backward_on_a_network_moves_nothing() -> None:
    _, records = run("moons", "skip_backward")
    text = findings(BY_KEY["skip_backward"], records)
    assert "None" in text and "no parameter moved" in text
    assert records[0].before.same_values(records[-1].after)


def test_skipping_step_on_a_network_keeps_every_tensor() -> None:
    _, records = run("curve", "skip_step")
    text = findings(BY_KEY["skip_step"], records)
    assert "did not change" in text
    assert short(grad_size(records[-1].after), 4) in text


def test_zero_grad_before_step_on_a_network_leaves_nothing_to_follow() -> None:
    _, records = run("digits", "zero_grad_before_step")
    text = findings(BY_KEY["zero_grad_before_step"], records)
    assert "made every .grad None" in text and "no parameter moved" in text


def test_the_largest_gradient_question_is_scored_by_the_gradients_pytorch_made() -> None:
    session = TrainingSession(scenario="moons")
    for stage in ("zero_grad", "forward", "loss"):
        session.run(stage)
    record = session.run("backward")
    norms = {name: float(dict(session.model.named_parameters())[name].grad.norm())  # type: ignore[union-attr]
             for name in weight_names(record.after)}
    assert fresh_grad_norms(record) == pytest.approx(norms, rel=1e-6)
    largest = max(norms, key=lambda n: norms[n])
    assert score_largest(largest, record).correct
    other = next(name for name in norms if name != largest)
    wrong = score_largest(other, record)
    assert not wrong.correct and largest in wrong.message


def test_the_loss_question_is_scored_by_the_losses_pytorch_measured() -> None:
    for lr, falls in ((0.05, True), (50.0, False)):
        session = TrainingSession(scenario="curve", optimizer="sgd", lr=lr)
        for stage in ("zero_grad", "forward", "loss", "backward"):
            session.run(stage)
        before = session.full_batch_loss()
        record = session.run("step")
        after = session.full_batch_loss()
        assert record.full_batch_loss == before
        assert (after < before) == falls
        assert score_loss_falls(falls, record, after).correct
        assert not score_loss_falls(not falls, record, after).correct


def test_a_step_that_moved_nothing_says_so() -> None:
    session = TrainingSession(scenario="moons", mode="free")
    for stage in ("zero_grad", "forward", "loss"):
        session.run(stage)
    before = session.full_batch_loss()
    record = session.run("step")  # every .grad is None: nothing to follow
    score = score_loss_falls(True, record, session.full_batch_loss())
    assert not score.correct and "moved nothing" in score.message
    assert f"stayed {short(before)}" in score.message and "too large" not in score.message


def test_skip_step_stopped_before_any_backward_says_so() -> None:
    session = TrainingSession(scenario="curve")
    from gui_trainer.core.experiments import start_experiment

    start_experiment(session, BY_KEY["skip_step"])
    records = [session.run(stage) for stage in ("zero_grad", "forward", "loss")]
    assert findings(BY_KEY["skip_step"], records).startswith(
        "Only 3 of 12 stages ran. What they showed: Backward has not run yet.")
