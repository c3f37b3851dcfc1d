"""Clip, Evaluate and Schedule: each the real PyTorch call, against a plain PyTorch loop."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gui_trainer.core import schedulers
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import STAGES


def plain_loop(session: TrainingSession, epochs: int, clip: float | None = None,
               scheduler: tuple[str, dict[str, Any]] | None = None,
               ) -> tuple[torch.nn.Module, list[float], list[float], list[float]]:
    """A script: loader, optimizer, scheduler; clip before each step; evaluate and an epoch's
    scheduler step at each epoch's end (OneCycleLR after every step). Returns the model, the
    lr each step used, the clip norms and the validation losses."""
    model = copy.deepcopy(session.model)
    generator = torch.Generator()
    generator.manual_seed(session.seed)
    settings = session.settings
    loader = DataLoader(TensorDataset(session.inputs, session.targets),
                        batch_size=settings.batch_size or len(session.inputs),
                        shuffle=settings.shuffle, generator=generator)
    make: Any = type(session.optimizer)
    optimizer: torch.optim.Optimizer = make(model.parameters(), lr=session.lr)
    sched = None
    if scheduler is not None:
        sched = getattr(torch.optim.lr_scheduler, scheduler[0])(optimizer, **scheduler[1])
    rates, norms, val_losses = [], [], []
    loss_fn = session.loss_fn
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            if clip is not None:
                norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
            with torch.no_grad():
                watched = loss_fn(model(session.inputs), session.targets).item()
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if sched is not None and scheduler is not None and scheduler[0] == "OneCycleLR":
                sched.step()
        val_loss = None
        if session.val_inputs is not None:
            model.eval()
            with torch.no_grad():
                val_loss = loss_fn(model(session.val_inputs), session.val_targets).item()
            model.train()
            val_losses.append(val_loss)
        if sched is not None and scheduler is not None and scheduler[0] != "OneCycleLR":
            if scheduler[0] == "ReduceLROnPlateau":
                sched.step(val_loss if val_loss is not None else watched)
            else:
                sched.step()
    return model, rates, norms, val_losses


def same_parameters(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def records_of(session: TrainingSession, epochs: int) -> list[Any]:
    records = []
    for _ in range(epochs):
        records += session.run_epoch()
    return records


# -- clipping ---------------------------------------------------------------------------------
def test_clip_runs_between_backward_and_step_as_clip_grad_norm_does() -> None:
    session = TrainingSession(scenario="moons", optimizer="sgd", lr=0.5, clip_max_norm=0.21)
    model, _, norms, _ = plain_loop(session, 4, clip=0.21)
    records = records_of(session, 4)
    assert [r.stage for r in records[:6]] == ["zero_grad", "forward", "loss", "backward",
                                             "clip", "step"]
    clips = [r for r in records if r.stage == "clip"]
    assert [r.clip_total_norm for r in clips] == norms
    assert any(n > 0.21 for n in norms) and any(n < 0.21 for n in norms)  # clipped or not
    first = clips[0]
    total = np.sqrt(sum(float(np.sum(t.grad ** 2)) for t in first.after.tensors))
    assert first.clip_total_norm > 0.21  # the first is clipped: its norm is max_norm after
    assert total == pytest.approx(0.21, rel=1e-5)
    assert same_parameters(session.model, model)


def test_clipping_off_is_the_five_stages_and_a_bad_norm_changes_nothing() -> None:
    session = TrainingSession(scenario="moons", mode="free")
    record = session.run("clip")
    assert not record.ran and "clip_max_norm is None" in record.explanation
    session.clip_max_norm = 1.0
    for bad in ("abc", 0, -1.0, float("nan"), True):
        with pytest.raises(ValueError, match="clip_max_norm"):
            session.clip_max_norm = bad  # type: ignore[assignment]
    assert session.clip_max_norm == 1.0
    session.undo()
    assert session.clip_max_norm is None


# -- evaluation -------------------------------------------------------------------------------
def test_evaluate_measures_the_held_out_rows_without_a_graph_or_a_change() -> None:
    session = TrainingSession(scenario="overfit")
    model, _, _, val_losses = plain_loop(session, 6)
    records = records_of(session, 6)
    evaluations = [r for r in records if r.stage == "evaluate"]
    assert [r.val_loss for r in evaluations] == val_losses
    assert [r.stage for r in records[:6]] == [*STAGES, "evaluate"]
    for record in evaluations:
        assert record.val_grad_fn is None  # torch.no_grad(): no graph recorded
        for before, after in zip(record.before.tensors, record.after.tensors, strict=True):
            assert np.array_equal(before.value, after.value)
            assert np.array_equal(before.grad, after.grad)
    assert session.model.training  # model.train() again
    assert same_parameters(session.model, model)
    table = session.history.validation()
    assert table["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table["loss"].tolist() == val_losses


def test_overfitting_shows_on_the_held_out_loss() -> None:
    """Measured, not assumed: the training loss keeps falling while the validation loss,
    after its best epoch, climbs well above that best."""
    session = TrainingSession(scenario="overfit")
    records_of(session, 600)
    train = session.history.column("loss")
    val = session.history.validation()["loss"]
    best = int(np.argmin(val))
    assert train[-1] < train[best] / 2
    assert val[-1] > 1.5 * val[best]


def test_evaluate_without_a_split_says_so_and_undo_drops_its_row() -> None:
    session = TrainingSession(scenario="curve", mode="free")
    assert session.val_inputs is None and session.val_targets is None
    record = session.run("evaluate")
    assert not record.ran and "no validation split" in record.explanation
    overfit = TrainingSession(scenario="overfit")
    records_of(overfit, 2)
    assert len(overfit.history.validation()) == 2
    overfit.undo()
    assert len(overfit.history.validation()) == 1


# -- schedulers -------------------------------------------------------------------------------
SCHEDULES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("StepLR", {"step_size": 2, "gamma": 0.5}, {}),
    ("ExponentialLR", {"gamma": 0.8}, {}),
    ("CosineAnnealingLR", {"T_max": 5}, {}),
    ("OneCycleLR", {"max_lr": 0.05, "total_steps": 30}, {"batch_size": 50}),
    ("ReduceLROnPlateau", {"patience": 0, "factor": 0.5, "threshold": 0.5},
     {"scenario": "overfit"}),
    ("ReduceLROnPlateau", {"patience": 0, "factor": 0.5, "threshold": 0.2}, {}),
]


@pytest.mark.parametrize(("name", "keywords", "extra"), SCHEDULES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULES)])
def test_each_scheduler_gives_plain_pytorchs_rates_and_weights(
        name: str, keywords: dict[str, Any], extra: dict[str, Any]) -> None:
    scenario = extra.pop("scenario", "moons")
    session = TrainingSession(scenario=scenario, optimizer="sgd", lr=0.05, **extra)
    session.set_scheduler(name, **keywords)  # type: ignore[arg-type]
    assert type(session.scheduler).__name__ == name
    epochs = 6
    model, rates, _, _ = plain_loop(session, epochs, scheduler=(name, keywords))
    records_of(session, epochs)
    assert session.history.column("lr").tolist() == rates
    assert len(set(rates)) > 1  # the schedule moved the rate
    assert same_parameters(session.model, model)


def test_the_preview_is_the_schedule_training_follows() -> None:
    session = TrainingSession(scenario="curve", optimizer="sgd")
    session.set_scheduler("CosineAnnealingLR", T_max=8, eta_min=0.001)
    preview = schedulers.preview("CosineAnnealingLR", (("T_max", 8), ("eta_min", 0.001)),
                                 session.lr, 10)
    records_of(session, 10)
    assert session.history.column("lr").tolist() == preview[:10].tolist()


def test_a_scheduler_is_undoable_checked_and_survives_a_jump() -> None:
    session = TrainingSession(scenario="moons", batch_size=40)
    session.set_scheduler("OneCycleLR", total_steps=50)
    for _ in range(7):
        session.run_iteration()
    middle = session.position
    for _ in range(6):
        session.run_iteration()
    later = session.history.column("lr").tolist()
    params = [p.detach().clone() for p in session.model.parameters()]
    session.jump_to(middle)
    for _ in range(6):
        session.run_iteration()
    assert session.history.column("lr").tolist() == later
    assert all(torch.equal(a, b) for a, b in zip(session.model.parameters(), params,
                                                 strict=True))
    before = session.settings
    for name, keywords, message in [
            ("CyclicLR", {}, "unknown scheduler"), ("StepLR", {"step_size": 0}, "step_size"),
            ("StepLR", {"gamma": "abc"}, "gamma must be a number"),
            ("ExponentialLR", {"T_max": 3}, "ExponentialLR takes gamma here")]:
        with pytest.raises(ValueError, match=message):
            session.set_scheduler(name, **keywords)  # type: ignore[arg-type]
    # Adagrad has neither momentum nor betas for OneCycleLR to cycle: PyTorch refuses.
    with pytest.raises(ValueError, match="momentum"):
        session.set_optimizer("adagrad")
    assert session.settings == before
    session.set_scheduler(None)
    assert session.scheduler is None
    session.undo()
    assert type(session.scheduler).__name__ == "OneCycleLR"


def test_onecycle_moves_the_optimizers_momentum_and_the_ledger_follows() -> None:
    """OneCycleLR cycles Adam's beta1 too: the step's update ledger reads the betas the step
    really used, and still adds up to PyTorch's change."""
    session = TrainingSession(scenario="moons")
    session.set_scheduler("OneCycleLR", total_steps=20)
    for _ in range(5):
        records = session.run_iteration()
        step = next(r for r in records if r.stage == "step")
        assert step.optimizer_state is not None and step.optimizer_state.ledger.agrees
    assert session.optimizer.param_groups[0]["betas"][0] != 0.9


def test_turning_a_stage_off_while_it_is_next_moves_the_loop_on() -> None:
    session = TrainingSession(scenario="curve", scheduler=("StepLR", {"step_size": 2}))
    for stage in STAGES:
        session.run(stage)
    assert session.next_stage == "schedule"
    session.set_scheduler(None)
    assert session.next_stage == "zero_grad"
    session.clip_max_norm = 1.0
    for stage in ("zero_grad", "forward", "loss", "backward"):
        session.run(stage)
    assert session.next_stage == "clip"
    session.clip_max_norm = None
    assert session.next_stage == "step"
    # Back to guided mode after a step: the stages still due come first.
    session.set_scheduler("StepLR", step_size=2)
    session.run("step")
    assert session.next_stage == "schedule"
    session.mode = "free"
    session.mode = "guided"
    assert session.next_stage == "schedule"


def test_a_stage_out_of_order_or_raising_makes_the_listing_say_it_will_differ() -> None:
    from gui_trainer.core.code_listing import code_listing

    free = TrainingSession(scenario="curve", mode="free",
                           scheduler=("ExponentialLR", {"gamma": 0.5}))
    free.run("schedule")  # before any step: the rate moves, no script line says so
    free.mode = "guided"
    free.run_iteration()
    assert not code_listing(free, {}, None).reproducible
    past_the_end = TrainingSession(scenario="curve", optimizer="sgd",
                                   scheduler=("OneCycleLR", {"total_steps": 3}))
    for _ in range(5):
        records = past_the_end.run_iteration()
    failed = [r for r in records if r.stage == "schedule"][-1]
    assert failed.error is not None and "Tried to step" in failed.error
    assert "the scheduler counted the call" in failed.explanation
    assert not code_listing(past_the_end, {}, None).reproducible
    # undoing the stray stage makes the run an ordinary loop again
    clean = TrainingSession(scenario="curve", mode="free",
                            scheduler=("ExponentialLR", {"gamma": 0.5}))
    clean.run("schedule")
    clean.undo()
    clean.mode = "guided"
    clean.run_iteration()
    assert code_listing(clean, {}, None).reproducible


def test_a_steps_worked_math_uses_the_rate_the_schedule_gave_it() -> None:
    from gui_trainer.core.worked_math import worked_math

    session = TrainingSession(optimizer="sgd", scheduler=("StepLR", {"step_size": 1,
                                                                     "gamma": 0.5}))
    session.run_iteration()
    session.run_iteration()
    step = next(r for r in session.run_iteration() if r.stage == "step")
    assert step.lr == 0.0025 and session.lr == 0.01
    assert " 0.0025 × " in worked_math(step).lines[1]
    assert worked_math(step).agrees is not False


def test_a_scheduler_pytorch_cannot_build_is_refused_with_a_message() -> None:
    session = TrainingSession(scenario="overfit")
    with pytest.raises(ValueError, match="PyTorch cannot make OneCycleLR"):
        session.set_scheduler("OneCycleLR", pct_start=0.01)
    assert session.scheduler is None
