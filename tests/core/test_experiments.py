"""Each experiment's numbers equal plain PyTorch doing the same sequence."""

import warnings

import numpy as np
import pytest

from gui_trainer.core import TrainingSession
from gui_trainer.core.experiments import (
    BY_KEY,
    EXPERIMENTS,
    findings,
    run_experiment,
    scenario_for,
)
from gui_trainer.core.formatting import short
from gui_trainer.core.predict import parse_weight_guess, score_sign, score_weight

from .plain import PlainScript, grad_or_none

#: The experiments any scenario runs (the seed's one neuron too): the others need dropout,
#: BatchNorm, a validation split or classes (tests/core/test_dropout_batchnorm.py).
ANY_MODEL = [e for e in EXPERIMENTS if e.needs is None]


def session_for(experiment) -> TrainingSession:  # type: ignore[no-untyped-def]
    """A session of the seed's scenario, or of the one the experiment needs."""
    default = TrainingSession()
    needed = scenario_for(experiment, default.scenario)
    return default if needed is default.scenario else TrainingSession(scenario=needed)


@pytest.mark.parametrize("experiment", ANY_MODEL, ids=lambda e: e.key)
def test_experiment_matches_plain_pytorch(experiment) -> None:  # type: ignore[no-untyped-def]
    session = TrainingSession()
    session.run_epoch()  # the learner's earlier work, which the experiment restarts from
    records = run_experiment(session, experiment)
    assert session.mode == "free"
    settings = dict(experiment.settings)
    _, options = settings.get("optimizer", ("sgd", {}))
    scheduler = settings.get("scheduler")
    script = PlainScript(momentum=float(options.get("momentum", 0.0)),
                         set_to_none=settings.get("set_to_none", True),
                         clip_max_norm=settings.get("clip_max_norm"),
                         step_lr=None if scheduler is None else (
                             scheduler[1]["step_size"], scheduler[1]["gamma"]),
                         batch_size=session.batch_size)
    for stage, record in zip(experiment.stages, records, strict=True):
        try:
            with warnings.catch_warnings():  # the scheduler's warning is the lesson
                warnings.simplefilter("ignore")
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


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.key)
def test_earlier_runs_are_named_by_the_experiment_and_numbered(experiment) -> None:  # type: ignore[no-untyped-def]
    session = session_for(experiment)
    session.run_epoch()
    session.reset()
    session.run_epoch()
    run_experiment(session, experiment)
    session.batch_size = None  # a batch of one through BatchNorm fails every forward
    session.reset()
    session.run("zero_grad")
    session.run("forward")  # a run with no step is left out of the list...
    session.reset()
    session.run_epoch()
    session.reset()
    labels = [run.label for run in session.history.earlier_runs()]
    # ...and the numbers have no gap for it.
    assert [label.split(":")[0] for label in labels] == [
        f"run {n}" for n in range(1, len(labels) + 1)]
    has_steps = "step" in experiment.stages
    assert len(labels) == 3 + has_steps
    assert any(experiment.title in label for label in labels) == has_steps
    optimizer = "SGD" if session.scenario.optimizer == "sgd" else "Adam"
    assert all(optimizer in label for label in labels)
    # A label gives the rate the run's last step used: a schedule's last value if it had one.
    assert all(f"lr {session.scenario.lr:g}" in label for label in labels
               if "scheduler" not in dict(experiment.settings) or experiment.title not in label)


def test_skip_zero_grad_findings_are_measured_with_sgd() -> None:
    session = TrainingSession()
    experiment = BY_KEY["skip_zero_grad"]
    text = findings(experiment, run_experiment(session, experiment))
    used = session.history.column("weight_grad")
    assert short(float(used[-1])) in text  # the sum the last step followed
    assert "the steps grew" in text
    assert "fell" in text or "rose" in text
    assert text.endswith(experiment.moral)


def test_skip_zero_grad_findings_with_adam_say_what_happened() -> None:
    """Adam's steps stay near lr: the text must not claim they grew (they did not)."""
    session = TrainingSession(optimizer="adam")
    experiment = BY_KEY["skip_zero_grad"]
    records = run_experiment(session, experiment)
    moves = [abs(r.after.weight - r.before.weight) for r in records if r.stage == "step"]
    assert moves[-1] <= moves[0] * 1.05  # what actually happened with Adam here
    text = findings(experiment, records)
    assert "the steps grew" not in text
    assert "Adam" in text


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.key)
def test_findings_of_a_partial_run_say_how_much_ran(experiment) -> None:  # type: ignore[no-untyped-def]
    session = session_for(experiment)
    ran = min(3, len(experiment.stages) - 1)
    records = run_experiment(session, experiment)[:ran]
    text = findings(experiment, records)
    assert text.startswith(f"Only {ran} of {len(experiment.stages)} stages ran")
    assert experiment.moral not in text


def test_skip_backward_and_skip_step_findings_state_the_unmoved_weight() -> None:
    for key in ("skip_backward", "skip_step", "zero_grad_before_step"):
        session = TrainingSession()
        text = findings(BY_KEY[key], run_experiment(session, BY_KEY[key]))
        assert short(session.weight.item()) in text, key
        assert "moved by" not in text, key


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


def test_momentum_keeps_moving_the_weights_after_zero_grad() -> None:
    session = TrainingSession()
    experiment = BY_KEY["momentum_after_zero_grad"]
    records = run_experiment(session, experiment)
    assert session.optimizer_options["momentum"] == 0.9 and session.set_to_none is False
    last = [r for r in records if r.stage == "step"][-3:]
    assert all(not np.any(t.grad) for r in last for t in r.before.tensors)  # zero gradients…
    moves = [float(np.hypot(r.after.weight - r.before.weight, r.after.bias - r.before.bias))
             for r in last]  # all the parameters together
    assert all(m > 0 for m in moves)  # …and the weight moved all the same,
    assert np.allclose([moves[1] / moves[0], moves[2] / moves[1]], 0.9, rtol=1e-3)  # by μ
    text = findings(experiment, records)
    assert f"moved the parameters by {short(moves[0], 3)}" in text
    assert "each about 0.9 × the one before" in text
    assert "momentum buffer" in text
    # The settings were actions like any other: undo takes them back.
    for _ in range(len(experiment.stages) + len(experiment.settings)):
        session.undo()
    assert session.optimizer_options["momentum"] == 0 and session.set_to_none is True


def test_momentum_findings_on_a_network() -> None:
    session = TrainingSession(scenario="moons")
    experiment = BY_KEY["momentum_after_zero_grad"]
    text = findings(experiment, run_experiment(session, experiment))
    assert "After Zero Grad every .grad was 0" in text and "momentum buffer" in text


def test_scheduler_before_step_captures_pytorchs_warning_and_the_skipped_rate() -> None:
    session = TrainingSession()
    experiment = BY_KEY["schedule_before_step"]
    records = run_experiment(session, experiment)
    first = next(r for r in records if r.stage == "schedule")
    assert first.warnings and "before `optimizer.step()`" in first.warnings[0]
    assert "PyTorch warned: UserWarning: Detected call of" in first.explanation
    steps = [r.lr for r in records if r.stage == "step"]
    assert steps == [0.005, 0.0025, 0.00125]  # the set 0.01 was never used
    text = findings(experiment, records)
    assert "the Steps used 0.005, 0.0025, 0.00125" in text and "second value" in text
    assert "Detected call of `lr_scheduler.step()` before `optimizer.step()`" in text


def test_clip_after_step_changes_gradients_nobody_uses() -> None:
    session = TrainingSession()
    experiment = BY_KEY["clip_after_step"]
    records = run_experiment(session, experiment)
    step, clip = records[-2], records[-1]  # the last pair, as the findings report it
    assert (step.stage, clip.stage) == ("step", "clip")
    used = float(np.hypot(step.before.weight_grad or 0.0, step.before.bias_grad or 0.0))
    assert clip.clip_total_norm == pytest.approx(used, rel=1e-6) and used > 0.01
    # the weights moved by the unclipped gradient: plain SGD, new = old − lr × grad
    assert step.after.weight == pytest.approx(step.before.weight
                                              - step.lr * (step.before.weight_grad or 0.0))
    text = findings(experiment, records)
    assert f"Step read gradients of total size {short(used)}" in text


@pytest.mark.parametrize("scenario", ["delivery", "moons"])
def test_sorted_small_batches_walk_the_data_in_its_stored_order(scenario: str) -> None:
    session = TrainingSession(scenario=scenario, shuffle=True)
    experiment = BY_KEY["sorted_small_batches"]
    records = run_experiment(session, experiment)
    assert not session.shuffle and session.batch_size == max(1, len(session.inputs) // 8)
    forwards = [r.rows for r in records if r.stage == "forward"]
    size = session.batch_size
    rows, per_epoch = len(session.inputs), -(-len(session.inputs) // size)
    assert forwards == [tuple(range((i % per_epoch) * size, min((i % per_epoch + 1) * size,
                                                                   rows))) for i in range(8)]
    text = findings(experiment, records)
    if scenario == "moons":  # 100 of each class, stored class by class
        assert "8 of 8 batches held a single class" in text
    batch = [r.loss for r in records if r.stage == "loss" and r.loss is not None]
    assert f"ran from {short(min(batch))} to {short(max(batch))}" in text
