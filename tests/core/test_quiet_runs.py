"""A quiet iteration (auto-train at full speed, no records) leaves the session exactly as the
same iteration run with records does: tensors, history, timeline, checkpoints, loop state.

Only what a record shows is skipped; a stage worth a record (an error, a warning, a loss that
is not finite) is put back and run again with one, so its record is the one a click makes.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch

from gui_trainer.core import TrainingSession
from gui_trainer.core.models import ModelSpec
from gui_trainer.core.scenarios import SCENARIOS

MODEL = ModelSpec(hidden_layers=2, width=8, activation="tanh", dropout=0.25, batch_norm=True)

#: Sessions covering every path of the runners: the one neuron (plain, micro-batches, free
#: mode, momentum), mini-batches with shuffle, a validation split with a scheduler and clip,
#: Adam, and a model with dropout and BatchNorm.
CASES: dict[str, Callable[[], TrainingSession]] = {
    "seed": lambda: TrainingSession(),
    "seed micro-batches": lambda: TrainingSession(micro_batches=2, lr=0.05),
    "seed free mode, momentum": lambda: TrainingSession(
        mode="free", optimizer_options={"momentum": 0.9}, set_to_none=False),
    "moons shuffled batches": lambda: TrainingSession(scenario="moons", batch_size=32,
                                                      shuffle=True),
    "overfit adam, clip, schedule": lambda: TrainingSession(
        scenario="overfit", optimizer="adam", clip_max_norm=0.5,
        scheduler=("StepLR", {"step_size": 3, "gamma": 0.5})),
    "curve dropout + batchnorm, batches": lambda: TrainingSession(
        scenario=SCENARIOS["curve"].with_model(MODEL), batch_size=16, shuffle=True),
    "delivery accumulation": lambda: TrainingSession(scenario="delivery", batch_size=2,
                                                     micro_batches=2),
}


def state_of(session: TrainingSession) -> dict[str, Any]:
    """Everything the session holds that a run changes, in comparable form."""
    history = session.history
    timeline = session.timeline
    return {
        "history": history.all_rows().tobytes(),
        "validation": history._val[:history._val_size].tobytes(),
        "codes": timeline._codes[:len(timeline)].tobytes(),
        "position": timeline.position,
        "checkpoints": list(timeline._checkpoint_positions),
        "non_finite": list(timeline._non_finite),
        "model": {k: v.tolist() for k, v in session.model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.tolist()
                  for p in session.model.parameters()],
        "optimizer": repr(session.optimizer.state_dict()),
        "scheduler": None if session.scheduler is None else repr(
            session.scheduler.state_dict()),
        "loop": comparable(session._loop),
        "outputs": None if session.outputs is None else session.outputs.tolist(),
        "loss": None if session.loss is None else session.loss.item(),
        "trail": None if session.trail is None else repr(vars(session.trail)),
    }


def comparable(loop: object) -> dict[str, Any]:
    out = {}
    for field in dataclasses.fields(loop):  # type: ignore[arg-type]
        value = getattr(loop, field.name)
        out[field.name] = repr(value) if not isinstance(value, torch.Tensor) else value.tolist()
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_quiet_iterations_leave_what_iterations_with_records_leave(case: str) -> None:
    loud, quiet = CASES[case](), CASES[case]()
    for _ in range(60):  # past a checkpoint (one every 128 actions)
        records = loud.run_iteration()
        assert quiet.run_iteration_quietly() == []
        assert records[-1].ok
        assert state_of(quiet) == state_of(loud)
    # and the timeline of the quiet one takes it back anywhere, as the loud one's does
    for position in (0, 7, 129, len(loud.timeline) - 3):
        loud.jump_to(position)
        quiet.jump_to(position)
        assert state_of(quiet) == state_of(loud)


def test_a_quiet_iteration_from_the_middle_of_one_finishes_it() -> None:
    loud, quiet = TrainingSession(), TrainingSession()
    for session in (loud, quiet):
        session.run("zero_grad")
        session.run("forward")
    loud.run_iteration()
    assert quiet.run_iteration_quietly() == []
    assert state_of(quiet) == state_of(loud)


def test_a_diverging_loss_gets_the_record_a_click_gets_and_stops_there() -> None:
    loud, quiet = TrainingSession(lr=2.0), TrainingSession(lr=2.0)
    for _ in range(500):
        records = loud.run_iteration()
        if not records[-1].loss_is_finite:
            break
    else:
        pytest.fail("lr 2.0 did not diverge")
    loud_end = next(r for r in records if not r.loss_is_finite)
    quiet_records: list[Any] = []
    while not quiet_records:
        quiet_records = quiet.run_iteration_quietly()
    assert len(quiet_records) == 1
    assert quiet_records[0].stage == loud_end.stage == "loss"
    assert quiet_records[0].explanation == loud_end.explanation
    # the loud iteration went on to backward and step: bring it to the same place
    loud.jump_to(quiet.position)
    loud.timeline.truncate_after_position()  # as the next action would
    assert state_of(quiet) == state_of(loud)
    # an iteration asked for after it stops at once, with a record of its first stage
    again = quiet.run_iteration_quietly()
    assert len(again) == 1 and not again[0].loss_is_finite


def test_an_error_is_put_back_and_run_with_its_record() -> None:
    """A batch of one row through BatchNorm: PyTorch refuses it in the Forward (after
    counting it in num_batches_tracked); the quiet run undoes that and records the error."""
    scenario = SCENARIOS["curve"].with_model(ModelSpec(1, 4, "tanh", batch_norm=True))
    rows = len(scenario.data.inputs)
    batch = next(size for size in range(2, rows) if rows % size == 1)
    loud = TrainingSession(scenario=scenario, batch_size=batch)
    quiet = TrainingSession(scenario=scenario, batch_size=batch)
    while True:
        records = loud.run_iteration()
        if records[-1].error is not None:
            break
    quiet_records: list[Any] = []
    while not quiet_records:
        quiet_records = quiet.run_iteration_quietly()
    assert quiet_records[-1].error == records[-1].error
    assert quiet_records[-1].explanation == records[-1].explanation
    assert state_of(quiet) == state_of(loud)


def test_a_warning_is_put_back_and_run_with_its_record(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain_step = torch.optim.SGD.step

    def warning_step(self: torch.optim.SGD, closure: Any = None) -> Any:
        warnings.warn("a step that warns", UserWarning, stacklevel=2)
        return plain_step(self, closure)

    # on the class: a jump makes the optimizer anew
    monkeypatch.setattr(torch.optim.SGD, "step", warning_step)
    loud, quiet = TrainingSession(), TrainingSession()
    records = loud.run_iteration()
    quiet_records = quiet.run_iteration_quietly()
    assert [r.stage for r in quiet_records] == ["step"]
    assert "a step that warns" in quiet_records[0].explanation
    assert quiet_records[0].explanation == records[-1].explanation
    assert state_of(quiet) == state_of(loud)
