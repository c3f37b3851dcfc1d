"""Rewind restores every tensor exactly; replay gives the same numbers; memory stays bounded."""

from __future__ import annotations

import dataclasses
import itertools
import random
from typing import Any

import numpy as np
import pytest
import torch

from gui_trainer.core import STAGES, TrainingSession
from gui_trainer.core.timeline import CHECKPOINT_EVERY


def state(session: TrainingSession) -> dict[str, Any]:
    """Everything a learner can see or the next stage depends on, copied."""
    def grad(p: torch.Tensor) -> torch.Tensor | None:
        return None if p.grad is None else p.grad.clone()

    return {
        "weight": session.weight.detach().clone(),
        "bias": session.bias.detach().clone(),
        "weight.grad": grad(session.weight),
        "bias.grad": grad(session.bias),
        "optimizer": {k: {n: v.clone() if torch.is_tensor(v) else v for n, v in s.items()}
                      for k, s in enumerate(session.optimizer.state.values())},
        "lr": session.lr,
        "outputs": None if session.outputs is None else session.outputs.detach().clone(),
        "loss": None if session.loss is None else session.loss.detach().clone(),
        "epoch": session.epoch,
        "next": session.next_stage,
        "history": {c: session.history.column(c).copy()
                    for c in ("loss", "weight", "bias", "weight_grad")},
    }


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor):
            assert x is not None and y is not None, key
            assert torch.equal(x, y), key  # bit for bit
        elif key == "history":
            for column in x:
                np.testing.assert_array_equal(x[column], y[column])
        elif key == "optimizer":
            assert x.keys() == y.keys()
            for k in x:
                for name in x[k]:
                    v, w = x[k][name], y[k][name]
                    assert torch.equal(v, w) if torch.is_tensor(v) else v == w
        else:
            assert x == y, key


def mixed_session(optimizer: str = "sgd") -> tuple[TrainingSession, list[dict[str, Any]]]:
    """50 stages in free mode, order mistakes and a setting change included."""
    session = TrainingSession(mode="free", optimizer=optimizer)  # type: ignore[arg-type]
    rng = random.Random(7)
    states = [state(session)]
    for i in range(50):
        if i == 20:
            session.lr = 0.05
            states.append(state(session))
        stage = STAGES[i % 5] if i % 7 else rng.choice(STAGES)
        session.run(stage)
        states.append(state(session))
    return session, states


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_rewind_to_stage_17_restores_every_tensor(optimizer: str) -> None:
    session, states = mixed_session(optimizer)
    session.jump_to(17)
    assert_same(state(session), states[17])


def test_every_position_restores_exactly_and_replay_is_identical() -> None:
    session, states = mixed_session()
    for position in [0, 1, 5, 17, 33, 50, 51, 3]:
        session.jump_to(position)
        assert_same(state(session), states[position])
    # Running forward again from stage 17 gives the same numbers as the first time.
    session.jump_to(17)
    for position in range(17, len(states) - 1):
        session.redo()
        assert_same(state(session), states[position + 1])


def test_undo_redo_round_trip_and_a_new_action_drops_the_redo_tail() -> None:
    session = TrainingSession()
    records = [session.run(stage) for stage in STAGES]
    after_loop = state(session)
    for _ in range(5):
        session.undo()
    assert session.position == 0 and session.weight.grad is None
    assert not session.can_undo and session.can_redo
    replayed = [session.redo() for _ in range(5)]
    assert_same(state(session), after_loop)
    assert [r.after for r in replayed if r] == [r.after for r in records]
    session.undo()
    session.undo()
    session.run("backward")
    assert not session.can_redo
    assert len(session.timeline) == 4


def test_undo_returns_the_record_of_the_stage_now_last() -> None:
    session = TrainingSession()
    for stage in STAGES[:3]:
        session.run(stage)
    record = session.undo()
    assert record is not None and record.stage == "forward"


def test_rewinding_across_a_restart_brings_the_old_run_back() -> None:
    session = TrainingSession()
    for _ in range(3):
        session.run_epoch()
    before = state(session)
    session.reset()
    assert len(session.history) == 0
    assert len(session.history.earlier_runs()) == 1
    session.undo()
    assert_same(state(session), before)


def test_memory_stays_bounded_on_long_runs() -> None:
    session = TrainingSession()
    for _ in range(2000):
        session.run_epoch()
    stages = 2000 * len(STAGES)
    assert session.timeline.checkpoint_count <= stages // CHECKPOINT_EVERY + 2
    assert session.timeline.nbytes <= 2 * stages  # one byte a stage, doubling growth
    assert session.history.nbytes <= 2 * 2000 * 128  # one packed row a step
    session.jump_to(stages // 2 + 3)
    assert session.epoch == 1000


def test_old_checkpoints_are_thinned_and_a_jump_there_is_exact() -> None:
    """Far back, one checkpoint every SPARSE_EVERY actions; a jump there replays up to that
    many actions without records and lands exactly where a replay with records lands."""
    from gui_trainer.core.timeline import RECENT_CHECKPOINTS, SPARSE_EVERY
    from tests.core.test_quiet_runs import state_of

    def seed() -> TrainingSession:  # the seed: cheap enough to replay thousands of stages
        return TrainingSession(lr=0.001, optimizer_options={"momentum": 0.9})

    session = seed()
    for _ in range(3_000):  # 15,000 actions: past the recent checkpoints' 8,192
        session.run_iteration_quietly()
    positions = session.timeline._checkpoint_positions
    old, recent = positions[:-RECENT_CHECKPOINTS], positions[-RECENT_CHECKPOINTS:]
    assert old[0] == 0 and len(old) > 3
    assert all(b - a >= SPARSE_EVERY for a, b in itertools.pairwise(old))
    assert all(b - a == CHECKPOINT_EVERY for a, b in itertools.pairwise(recent))
    for target in (1_000, 3 * SPARSE_EVERY - 1, 4_321):
        record = session.jump_to(target)
        assert session.last_jump_replayed < SPARSE_EVERY + CHECKPOINT_EVERY
        reference = seed()  # every action from the start, each with its record
        for index in range(target):
            stage = session.timeline.action(index).stage
            assert stage is not None
            expected = reference.run(stage)
        reference.timeline.truncate_after_position()
        assert state_of(session)["model"] == state_of(reference)["model"]
        # (the timeline beyond the target is the session's redo; the reference has none)
        assert {k: v for k, v in state_of(session).items() if k not in ("codes", "checkpoints")
                } == {k: v for k, v in state_of(reference).items()
                      if k not in ("codes", "checkpoints")}
        assert state_of(session)["codes"][:target] == state_of(reference)["codes"]
        assert record is not None
        assert record.explanation == expected.explanation and record.after == expected.after


def test_a_replay_that_meets_an_error_replays_with_records() -> None:
    """Backward twice raises (the graph is freed): a jump past it replays it as it ran."""
    session = TrainingSession(mode="free")
    for stage in ("forward", "loss", "backward", "backward", "step", "zero_grad"):
        session.run(stage)
    failed = session.run("backward")
    assert failed.error is not None
    session.run("forward")
    before = state(session)
    session.jump_to(2)
    record = session.jump_to(len(session.timeline))
    assert record is not None and record.stage == "forward"
    assert_same(state(session), before)


def test_jump_outside_the_timeline_is_refused() -> None:
    session = TrainingSession()
    session.run("zero_grad")
    with pytest.raises(ValueError, match="outside"):
        session.jump_to(5)
    with pytest.raises(ValueError):
        session.jump_to(-1)
    assert session.position == 1


def test_rewind_after_divergence_reaches_finite_numbers() -> None:
    session = TrainingSession(lr=1.0)
    while True:
        record = session.run_epoch()[2]
        if not record.loss_is_finite:
            break
    losses = session.history.column("loss").copy()
    target = session.position_before_divergence()
    assert target is not None and target < session.position
    session.jump_to(target)
    # The best moment before the blow-up: the weights that had the lowest loss of the run.
    assert session.full_batch_loss() == np.nanmin(np.where(np.isfinite(losses), losses, np.nan))
    assert session.epoch == int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan)))


def test_rewind_before_divergence_finds_the_lowest_loss_after_some_progress() -> None:
    session = TrainingSession(lr=0.01)
    for _ in range(20):
        session.run_epoch()
    session.lr = 1.0
    while session.run_epoch()[2].loss_is_finite:
        pass
    best = float(np.min(session.history.column("loss")))
    target = session.position_before_divergence()
    assert target is not None
    session.jump_to(target)
    assert session.full_batch_loss() == best
    assert session.epoch >= 20


def test_a_divergence_undone_and_replaced_is_forgotten() -> None:
    session = TrainingSession(lr=1.0)
    while session.run_epoch()[2].loss_is_finite:
        pass
    assert session.position_before_divergence() is not None
    target = session.position_before_divergence()
    assert target is not None
    session.jump_to(target)
    assert session.position_before_divergence() is None  # the overflow lies in the redo tail
    session.lr = 0.01  # a new action drops the redo tail
    for _ in range(5):
        session.run_epoch()
    assert session.position_before_divergence() is None
    assert not session.can_redo


@pytest.mark.parametrize("pattern", [
    ["forward", "loss"],  # free mode with no backward: the graph is never freed
    ["zero_grad", "forward", "loss", "backward", "forward", "step", "loss"],  # stale graphs
])
def test_checkpoints_never_wait_for_a_backward(pattern: list[str]) -> None:
    """An undo replays at most the checkpoint spacing, whatever the graph is doing."""
    session = TrainingSession(mode="free")
    while len(session.timeline) < 20 * CHECKPOINT_EVERY:
        for stage in pattern:
            session.run(stage)
    assert session.timeline.checkpoint_count >= 19
    reference = state(session)
    for position in (len(session.timeline) - 1, len(session.timeline) // 2, 7):
        session.jump_to(position)
        assert session.last_jump_replayed <= CHECKPOINT_EVERY + len(pattern)
    session.jump_to(len(session.timeline))
    assert_same(state(session), reference)
    # and the live graph is a real one: backward through it works (or fails) as it did
    fresh = TrainingSession(mode="free")
    while len(fresh.timeline) < 20 * CHECKPOINT_EVERY:
        for stage in pattern:
            fresh.run(stage)
    a, b = session.run("backward"), fresh.run("backward")
    assert (a.error is None) == (b.error is None)
    assert a.after == b.after


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_checkpoint_costs_hundreds_of_bytes_and_holds_no_graph(optimizer: str) -> None:
    """Checkpoints dominated a long run's memory (4-7 KB each, graphs included)."""
    import gc
    import tracemalloc

    session = TrainingSession(optimizer=optimizer)  # type: ignore[arg-type]
    for _ in range(50):
        session.run_epoch()
    session.run("zero_grad")
    session.run("forward")
    session.run("loss")  # a live graph at the moment of the checkpoint
    gc.collect()
    tracemalloc.start()
    snapshots = [session._capture() for _ in range(100)]
    gc.collect()
    size, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size / len(snapshots) < 1_000
    loop = snapshots[0].loop
    for field in dataclasses.fields(loop):  # nothing that keeps a graph alive
        value = getattr(loop, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            assert not (isinstance(item, torch.Tensor) and item.grad_fn is not None)
