"""Each experiment's numbers equal plain PyTorch doing the same sequence."""

import numpy as np
import pytest

from gui_trainer.core import TrainingSession
from gui_trainer.core.experiments import BY_KEY, EXPERIMENTS, run_experiment
from gui_trainer.core.predict import parse_weight_guess, score_sign, score_weight

from .plain import PlainScript, grad_or_none


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.key)
def test_experiment_matches_plain_pytorch(experiment) -> None:  # type: ignore[no-untyped-def]
    session = TrainingSession()
    session.run_epoch()  # the learner's earlier work, which the experiment restarts from
    records = run_experiment(session, experiment)
    assert session.mode == "free"
    script = PlainScript()
    for stage, record in zip(experiment.stages, records, strict=True):
        try:
            script.run(stage)
            error = None
        except RuntimeError as exc:
            error = f"RuntimeError: {exc}"
        assert record.error == error
        assert record.after.weight == script.weight.item()
        assert record.after.bias == script.bias.item()
        assert record.after.weight_grad == grad_or_none(script.weight)
        assert record.after.bias_grad == grad_or_none(script.bias)
    assert len(session.history.earlier_runs()) == 1  # the earlier run is kept


def test_skipping_zero_grad_accumulates_the_fresh_gradients() -> None:
    session = TrainingSession()
    run_experiment(session, BY_KEY["skip_zero_grad"])
    fresh = session.history.column("weight_grad_fresh")
    summed = session.history.column("weight_grad")
    np.testing.assert_allclose(summed, np.cumsum(fresh), rtol=1e-5)
    assert abs(summed[-1]) > abs(fresh[-1])


def test_skip_backward_and_skip_step_leave_the_weights_alone() -> None:
    for key in ("skip_backward", "skip_step", "zero_grad_before_step"):
        session = TrainingSession()
        start = session.params()
        records = run_experiment(session, BY_KEY[key])
        assert (session.weight.item(), session.bias.item()) == (start.weight, start.bias), key
        assert records[-1].ok


def test_backward_twice_reports_pytorchs_error() -> None:
    records = run_experiment(TrainingSession(), BY_KEY["backward_twice"])
    assert records[-1].error is not None and "second time" in records[-1].error


def test_predicting_the_sign_of_the_gradient() -> None:
    session = TrainingSession()
    for stage in ["zero_grad", "forward", "loss"]:
        session.run(stage)
    record = session.run("backward")
    assert record.fresh_grads is not None and record.fresh_grads[0] < 0
    assert score_sign(False, record).correct
    wrong = score_sign(True, record)
    assert not wrong.correct and "negative" in wrong.message


def test_predicting_the_new_weight() -> None:
    session = TrainingSession()
    for stage in ["zero_grad", "forward", "loss", "backward"]:
        session.run(stage)
    record = session.run("step")
    assert score_weight(record.after.weight, record).correct
    assert not score_weight(record.after.weight + 1.0, record).correct
    assert "off by" in score_weight(0.0, record).message
    with pytest.raises(ValueError, match="not a number"):
        parse_weight_guess("abc")
    with pytest.raises(ValueError):
        parse_weight_guess("inf")
