"""Batches from a real DataLoader: the session's loop against a plain PyTorch loop."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gui_trainer.core.history import History
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import STAGES


def plain_run(session: TrainingSession, epochs: int, batch_size: int | None, shuffle: bool,
              drop_last: bool = False, micro_batches: int = 1,
              ) -> tuple[torch.nn.Module, list[list[list[int]]]]:
    """What a script writes: ``for epoch: for x, y in loader:`` with its own seeded loader,
    gradient accumulation over ``micro_batches`` batches; returns the model and the batches'
    rows (found by matching each batch's inputs to the data's rows)."""
    model = copy.deepcopy(session.model)
    inputs, targets = session.inputs, session.targets
    generator = torch.Generator()
    generator.manual_seed(session.seed)
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=batch_size or len(inputs),
                        shuffle=shuffle, drop_last=drop_last, generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=session.lr)
    seen: list[list[list[int]]] = []
    for _ in range(epochs):
        epoch_rows: list[list[int]] = []
        for i, (x, y) in enumerate(loader):
            if i % micro_batches == 0:
                optimizer.zero_grad()
            epoch_rows.append(rows_of(inputs, targets, x, y))
            loss = session.loss_fn(model(x), y) / micro_batches
            loss.backward()
            if (i + 1) % micro_batches == 0:
                optimizer.step()
        seen.append(epoch_rows)
    return model, seen


def rows_of(inputs: torch.Tensor, targets: torch.Tensor, x: torch.Tensor,
            y: torch.Tensor) -> list[int]:
    """The row index of each sample in a batch (the data's rows are distinct)."""
    rows = []
    for sample, target in zip(x, y, strict=True):
        match = [i for i in range(len(inputs))
                 if torch.equal(inputs[i], sample) and torch.equal(targets[i], target)]
        assert len(match) == 1
        rows.append(match[0])
    return rows


def forward_rows_by_epoch(session: TrainingSession, epochs: int) -> list[list[list[int]]]:
    seen: list[list[list[int]]] = []
    for _ in range(epochs):
        rows: list[list[int]] = []
        for record in session.run_epoch():
            if record.stage == "forward":
                rows.append(list(record.rows))
        seen.append(rows)
    return seen


@pytest.mark.parametrize(("batch_size", "shuffle", "drop_last"), [
    (None, False, False), (None, True, False), (64, True, False), (64, False, True),
    (1, True, False), (45, True, True)])
def test_the_loop_draws_the_loaders_batches_and_lands_bit_for_bit(
        batch_size: int | None, shuffle: bool, drop_last: bool) -> None:
    session = TrainingSession(scenario="moons", optimizer="sgd", batch_size=batch_size,
                              shuffle=shuffle, drop_last=drop_last)
    epochs = 2 if batch_size == 1 else 3
    model, plain_rows = plain_run(session, epochs, batch_size, shuffle, drop_last)
    assert forward_rows_by_epoch(session, epochs) == plain_rows
    for ours, theirs in zip(session.model.parameters(), model.parameters(), strict=True):
        assert torch.equal(ours, theirs)
    assert isinstance(session.loader, DataLoader)
    assert session.loader.batch_size == (batch_size or len(session.inputs))
    assert session.epoch == epochs
    assert session.steps == epochs * len(session.loader)


def test_one_epoch_visits_every_row_once_and_the_seed_fixes_the_order() -> None:
    first = TrainingSession(scenario="moons", batch_size=32, shuffle=True)
    second = TrainingSession(scenario="moons", batch_size=32, shuffle=True)
    assert first.epoch_batches == second.epoch_batches
    rows = [row for batch in first.epoch_batches for row in batch]
    assert sorted(rows) == list(range(len(first.inputs)))
    assert rows != sorted(rows)  # shuffled
    other_seed = TrainingSession(scenario="moons", batch_size=32, shuffle=True, seed=1)
    assert other_seed.epoch_batches != first.epoch_batches
    first.run_epoch()
    assert first.epoch_batches != second.epoch_batches  # a new order each epoch


def test_accumulating_k_loader_batches_per_step_is_the_plain_loop() -> None:
    session = TrainingSession(scenario="moons", optimizer="sgd", batch_size=25, shuffle=True,
                              micro_batches=4)
    model, plain_rows = plain_run(session, 2, 25, True, micro_batches=4)
    assert forward_rows_by_epoch(session, 2) == plain_rows
    for ours, theirs in zip(session.model.parameters(), model.parameters(), strict=True):
        assert torch.equal(ours, theirs)
    assert session.iterations_per_epoch == 2 and session.steps == 4


def test_the_full_batch_split_stays_as_it_was() -> None:
    """Micro-batches of the full batch: the batch split into k equal parts (today's rows)."""
    session = TrainingSession(micro_batches=2)
    records = session.run_epoch()
    forwards = [r.rows for r in records if r.stage == "forward"]
    assert forwards == [(0, 1), (2, 3)]
    assert session.epoch == session.steps == 1


def test_iteration_and_epoch_count_as_a_learner_reads_them() -> None:
    session = TrainingSession(scenario="moons", batch_size=50)
    assert (session.epoch, session.iteration, session.iterations_per_epoch) == (0, 1, 4)
    session.run_iteration()
    assert (session.epoch, session.iteration, session.steps) == (0, 2, 1)
    for _ in range(3):
        session.run_iteration()
    assert (session.epoch, session.iteration, session.steps) == (1, 1, 4)
    history: History = session.history
    assert history.column("epoch").tolist() == [1, 1, 1, 1]
    assert history.column("step").tolist() == [1, 2, 3, 4]
    # The per-iteration loss is the batch's; the full-data loss is beside it.
    batch_losses = history.column("batch_loss")
    assert not (batch_losses == history.column("loss")).all()


def test_batch_settings_are_undoable_actions_and_bad_values_change_nothing() -> None:
    session = TrainingSession(scenario="moons")
    session.run_epoch()
    before = len(session.timeline)
    session.batch_size = 20
    session.shuffle = True
    assert len(session.timeline) == before + 2
    assert len(session.epoch_batches) == 10
    for bad, message in [(0, "batch_size must be from 1 to 200"), ("abc", "batch_size"),
                         (201, "batch_size must be from 1 to 200"), (2.5, "batch_size")]:
        with pytest.raises((ValueError, TypeError), match=message):
            session.batch_size = bad  # type: ignore[assignment]
    with pytest.raises(ValueError, match="micro-batches must divide the epoch's 10 batches"):
        session.micro_batches = 3
    session.micro_batches = 5
    with pytest.raises(ValueError, match="change micro-batches first"):
        session.batch_size = 30  # 7 batches: 5 does not divide them
    assert (session.batch_size, session.micro_batches) == (20, 5)
    session.undo()
    session.undo()
    session.undo()
    assert (session.batch_size, session.shuffle, session.micro_batches) == (None, False, 1)
    assert session.epoch_batches == (tuple(range(200)),)


def test_a_jump_back_replays_the_same_shuffled_batches() -> None:
    session = TrainingSession(scenario="moons", batch_size=40, shuffle=True)
    for _ in range(7):
        session.run_iteration()
    middle = session.position
    later = []
    for _ in range(9):
        later += [r.rows for r in session.run_iteration() if r.stage == "forward"]
    params = [p.detach().clone() for p in session.model.parameters()]
    session.jump_to(middle)
    again = []
    for _ in range(9):
        again += [r.rows for r in session.run_iteration() if r.stage == "forward"]
    assert again == later
    for ours, before in zip(session.model.parameters(), params, strict=True):
        assert torch.equal(ours, before)


def test_restart_starts_the_loader_afresh() -> None:
    session = TrainingSession(scenario="moons", batch_size=40, shuffle=True)
    first = session.epoch_batches
    session.run_epoch()
    session.reset()
    assert session.epoch_batches == first


def test_a_batch_of_rows_runs_every_stage_in_order() -> None:
    session = TrainingSession(scenario="curve", batch_size=8, shuffle=True)
    records = [session.run(stage) for stage in STAGES]
    batch = session.history.column("batch_loss")
    assert records[1].rows == records[2].rows == records[4].rows
    assert len(records[1].rows) == 8 and len(batch) == 1


def test_a_session_file_keeps_the_batches_and_where_the_epoch_is(tmp_path: Path) -> None:
    session = TrainingSession(scenario="moons", batch_size=16, shuffle=True)
    for _ in range(5):
        session.run_iteration()
    session.batch_size = 40
    for _ in range(3):
        session.run_iteration()
    session.run("zero_grad")
    path = tmp_path / "batches.gtrain"
    session.save(path)
    loaded = TrainingSession.load(path)
    assert (loaded.batch_size, loaded.shuffle, loaded.steps, loaded.epoch) == (40, True, 8, 0)
    assert loaded.epoch_batches == session.epoch_batches
    assert loaded.iteration == session.iteration == 4
    for ours, theirs in zip(loaded.model.parameters(), session.model.parameters(), strict=True):
        assert torch.equal(ours, theirs)
    # and both go on to the same next batches
    assert [r.rows for r in loaded.run_iteration()] == [r.rows for r in session.run_iteration()]
