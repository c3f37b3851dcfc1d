"""Auto-train and the experiments as generators: what they run, and when and why they end."""

from __future__ import annotations

import pytest
import torch

from gui_trainer.core import TrainingSession
from gui_trainer.core.experiments import BY_KEY, run_experiment, scenario_for, start_experiment
from gui_trainer.core.formatting import short
from gui_trainer.core.runs import Pace, Progress, Run, RunEnd, auto_train, experiment_run
from tests.core.test_quiet_runs import state_of


def drain(run: Run) -> tuple[list[Progress], RunEnd | None]:
    progress: list[Progress] = []
    while True:
        try:
            progress.append(next(run))
        except StopIteration as finished:
            return progress, finished.value


@pytest.mark.parametrize("scenario", ["delivery", "moons"])
def test_auto_train_runs_the_loop_for_its_epochs_exactly_as_epoch_by_epoch(scenario: str) -> None:
    session, reference = TrainingSession(scenario=scenario), TrainingSession(scenario=scenario)
    progress, returned = drain(auto_train(session, 4))
    for _ in range(4):
        reference.run_epoch()
    assert returned is None
    assert [p.record and p.record.stage for p in progress] == [
        "zero_grad", "forward", "loss", "backward", "step"] * 4
    assert [p.done for p in progress if p.boundary] == [1, 2, 3, 4]
    assert all(p.end is None for p in progress[:-1])
    end = progress[-1].end
    assert end is not None and end.reason == "target" and "4 epochs" in end.message
    for mine, theirs in zip(session.model.parameters(), reference.model.parameters(),
                            strict=True):
        assert torch.equal(mine, theirs)


def test_auto_train_with_mini_batches_counts_epochs_not_steps() -> None:
    session = TrainingSession(scenario="moons", batch_size=50, shuffle=True)
    reference = TrainingSession(scenario="moons", batch_size=50, shuffle=True)
    progress, _ = drain(auto_train(session, 2))
    for _ in range(2):
        reference.run_epoch()
    assert session.epoch == 2 and session.steps == 8
    assert [p.done for p in progress if p.boundary] == [0, 0, 0, 1, 1, 1, 1, 2]
    end = progress[-1].end
    assert end is not None and "2 epochs" in end.message
    # The message's loss is the last step's, over all the rows.
    assert f"loss {short(float(session.history.column('loss')[-1]))}" in end.message
    for mine, theirs in zip(session.model.parameters(), reference.model.parameters(),
                            strict=True):
        assert torch.equal(mine, theirs)


def test_a_resumed_run_counts_the_epochs_already_done() -> None:
    session = TrainingSession()
    progress, _ = drain(auto_train(session, 5, done=3))
    assert progress[-1].done == 5 and session.epoch == 2


def test_a_run_whose_epochs_are_done_ends_without_running_anything() -> None:
    session = TrainingSession()
    progress, end = drain(auto_train(session, 3, done=3))
    assert progress == [] and end is not None and end.reason == "target"
    assert session.position == 0


def test_a_nan_loss_ends_auto_train_at_once_and_says_why() -> None:
    session = TrainingSession()
    session.lr = 1.0
    progress, _ = drain(auto_train(session, 10_000))
    end = progress[-1].end
    assert end is not None and end.reason == "diverged"
    last = progress[-1].record
    assert last is not None and not last.loss_is_finite
    assert "lr = 1" in end.message and progress[-1].done < 10_000


QUIET_CASES = [("delivery", {}), ("moons", {"batch_size": 50, "shuffle": True}),
               ("overfit", {"scheduler": ("StepLR", {"step_size": 2})}),
               # several steps an epoch, and an Evaluate after the last one
               ("overfit", {"batch_size": 4}),
               ("moons", {"batch_size": 50, "scheduler": ("StepLR", {"step_size": 2})})]


@pytest.mark.parametrize(("scenario", "settings"), QUIET_CASES)
def test_a_quiet_run_ends_as_the_run_with_records_on_its_last_iteration_s_records(
        scenario: str, settings: dict[str, object]) -> None:
    loud = TrainingSession(scenario=scenario, **settings)  # type: ignore[arg-type]
    quiet = TrainingSession(scenario=scenario, **settings)  # type: ignore[arg-type]
    loud_progress, _ = drain(auto_train(loud, 6))
    quiet_progress, _ = drain(auto_train(quiet, 6, pace=Pace(quiet=True)))
    assert state_of(quiet) == state_of(loud)
    assert quiet_progress[-1].end == loud_progress[-1].end
    # quiet iterations before; the last iteration stage by stage, each with its record
    tail = [p.record for p in quiet_progress if p.record is not None]
    assert tail and all(p.record is None for p in quiet_progress[:-len(tail)])
    assert [r.stage for r in tail] == [p.record.stage for p in loud_progress[-len(tail):]
                                       if p.record is not None]
    assert tail[-1].index == loud_progress[-1].record.index  # type: ignore[union-attr]
    # epochs counted as they complete: the quiet ones bring the run to its last epoch
    quiet_done = [p.done for p in quiet_progress if p.record is None]
    assert quiet_done == sorted(quiet_done) and quiet_done[-1] == 5


def test_a_quiet_run_stops_where_the_loss_diverges_with_the_loss_stage_s_record() -> None:
    loud, quiet = TrainingSession(lr=1.0), TrainingSession(lr=1.0)
    loud_progress, _ = drain(auto_train(loud, 10_000))
    pace = Pace(quiet=True)
    quiet_progress, _ = drain(auto_train(quiet, 10_000, pace=pace))
    assert quiet_progress[-1].end == loud_progress[-1].end
    assert quiet_progress[-1].end is not None and quiet_progress[-1].end.reason == "diverged"
    record = quiet_progress[-1].record
    assert record is not None and record.stage == "loss" and not record.loss_is_finite
    assert state_of(quiet) == state_of(loud)


def test_a_closed_run_runs_nothing_more() -> None:
    session = TrainingSession()
    run = auto_train(session, 100)
    next(run)
    next(run)
    run.close()
    assert session.position == 2
    with pytest.raises(StopIteration):
        next(run)


@pytest.mark.parametrize("key", sorted(BY_KEY))
def test_an_experiment_runs_its_stages_in_order_errors_included(key: str) -> None:
    experiment = BY_KEY[key]
    scenario = scenario_for(experiment, TrainingSession().scenario)
    session, reference = (TrainingSession(scenario=scenario), TrainingSession(scenario=scenario))
    start_experiment(session, experiment)
    progress, returned = drain(experiment_run(session, experiment))
    expected = run_experiment(reference, experiment)
    assert returned is None
    records = [p.record for p in progress if p.record is not None]
    assert [r.stage for r in records] == list(experiment.stages)
    assert [r.error for r in records] == [r.error for r in expected]
    assert [p.done for p in progress] == list(range(1, len(experiment.stages) + 1))
    assert progress[-1].end == RunEnd("target", "")
    assert all(torch.equal(a, b) for a, b in zip(session.model.state_dict().values(),
                                                 reference.model.state_dict().values(),
                                                 strict=True))


def test_an_experiment_refused_part_way_ends_with_the_refusal() -> None:
    experiment = BY_KEY["skip_backward"]  # guided mode refuses Step right after Loss
    session = TrainingSession()
    start_experiment(session, experiment)  # free mode
    run = experiment_run(session, experiment)
    next(run)
    session.mode = "guided"  # the learner switches part way
    position = session.position
    progress, end = drain(run)
    refused = experiment.stages[1 + len(progress)]
    assert end is not None and end.reason == "refused"
    assert end.message == session.refusal(refused)
    assert session.position == position + len(progress)  # nothing ran after the refusal
