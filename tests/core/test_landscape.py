"""The loss landscape: the grid, the path and the next step are PyTorch's own numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gui_trainer.core import TrainingSession
from gui_trainer.core.along_step import along_gradient
from gui_trainer.core.landscape import (
    capture_landscape,
    earlier_paths,
    loss_grid,
    minimum,
    next_update,
    run_start,
    trajectory,
)
from gui_trainer.core.settings import OptimizerName


def trained(optimizer: OptimizerName = "sgd", epochs: int = 5) -> TrainingSession:
    session = TrainingSession(optimizer=optimizer)
    for _ in range(epochs):
        session.run_epoch()
    for stage in ("zero_grad", "forward", "loss", "backward"):
        session.run(stage)
    return session


def test_the_grid_is_plain_pytorchs_loss_at_every_point_and_touches_nothing() -> None:
    session = trained()
    before = (session.params(), session.position, session.outputs.grad_fn,  # type: ignore[union-attr]
              {k: v.clone() for k, v in session.optimizer.state_dict()["state"].items()})
    xs, ys = np.linspace(-5.0, 15.0, 23), np.linspace(-20.0, 30.0, 17)
    grid = loss_grid(session, xs, ys)
    model, loss_fn = nn.Linear(1, 1), nn.MSELoss()
    expected = np.zeros_like(grid)
    with torch.no_grad():
        for i, weight in enumerate(xs):
            for j, bias in enumerate(ys):
                model.weight.fill_(weight)
                model.bias.fill_(bias)
                expected[i, j] = loss_fn(model(session.inputs), session.targets).item()
    np.testing.assert_array_equal(grid, expected)  # bit for bit
    assert session.params() == before[0] and session.position == before[1]
    assert session.outputs.grad_fn is before[2]  # type: ignore[union-attr]
    assert session.optimizer.state_dict()["state"].keys() == before[3].keys()


def test_the_path_is_where_plain_sgd_goes_step_by_step() -> None:
    session = TrainingSession()
    for _ in range(6):
        session.run_epoch()
    torch.manual_seed(0)
    model, loss_fn = nn.Linear(1, 1), nn.MSELoss()
    first = run_start(session)
    with torch.no_grad():
        model.weight.fill_(first[0])
        model.bias.fill_(first[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=session.lr)
    points = []
    for _ in range(6):
        optimizer.zero_grad()
        loss_fn(model(session.inputs), session.targets).backward()
        optimizer.step()
        points.append((model.weight.item(), model.bias.item()))
    np.testing.assert_array_equal(trajectory(session), np.asarray(points))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_next_update_is_the_change_the_step_then_makes(optimizer: OptimizerName) -> None:
    session = trained(optimizer)
    predicted = next_update(session)
    before = session.params()
    state_before = len(session.optimizer.state)
    assert predicted is not None and len(session.optimizer.state) == state_before
    session.run("step")
    after = session.params()
    change = tuple(float(np.float32(a) - np.float32(b)) for a, b in
                   ((after.weight, before.weight), (after.bias, before.bias)))
    assert predicted == change  # the copy's step is the step, bit for bit


def test_the_loss_along_minus_grad_lands_where_sgds_step_does() -> None:
    session = trained("sgd")
    ts = [0.0, session.lr]
    losses = along_gradient(session, ts)
    assert losses[0] == pytest.approx(session.full_batch_loss(), rel=1e-7)
    session.run("step")
    assert losses[1] == pytest.approx(session.full_batch_loss(), rel=1e-5)


def test_the_minimum_is_the_lowest_point_of_the_surface() -> None:
    session = TrainingSession()
    weight, bias = minimum(session)
    around = loss_grid(session, [weight - 0.01, weight, weight + 0.01],
                       [bias - 0.01, bias, bias + 0.01])
    assert around[1, 1] == around.min()


def test_a_start_chosen_on_the_map_is_an_undoable_new_run() -> None:
    session = trained()
    steps = len(session.history)
    session.start_from(10.0, -5.0)
    assert session.start == (10.0, -5.0) and session.params().weight == 10.0
    assert len(earlier_paths(session)) == 1 and run_start(session) == (10.0, -5.0)
    session.run_epoch()
    assert trajectory(session).shape == (1, 2)
    ratio = session.tensor_history("update_ratio", "0.weight")[0]
    assert ratio == pytest.approx(abs(session.params().weight - 10.0) / 10.0, rel=1e-6)
    for _ in range(6):
        session.undo()
    assert session.start is None and len(session.history) == steps
    session.redo()
    assert session.params().weight == 10.0
    with pytest.raises(ValueError, match="start's weight"):
        session.start_from(float("nan"), 0.0)
    assert session.params().weight == 10.0  # a refused start changes nothing
    with pytest.raises(TypeError):
        TrainingSession(scenario="moons").start_from(1.0, 2.0)


def test_a_network_has_no_exact_map() -> None:
    session = TrainingSession(scenario="curve")
    with pytest.raises(ValueError, match="two parameters"):
        loss_grid(session, [0.0], [0.0])
    with pytest.raises(ValueError, match="two parameters"):
        capture_landscape(session)


def test_a_networks_directions_are_filter_normalised_and_its_slice_is_centred_here() -> None:
    from gui_trainer.core.slices import filter_normalized_directions, slice_grid, slice_job

    session = TrainingSession(scenario="moons")
    session.run_epoch()
    first, second = filter_normalized_directions(session, seed=3)
    for name, param in session.model.named_parameters():
        for direction in (first, second):
            if param.ndim == 1:
                assert not direction[name].any()  # biases held still
            else:
                torch.testing.assert_close(direction[name].norm(dim=1),
                                           param.detach().norm(dim=1))
    assert not torch.equal(first["0.weight"], second["0.weight"])
    before = session.params()
    job = slice_job(session, points=5, reach=0.5)
    assert job.model is not session.model  # the worker's own copy
    grid = slice_grid(job)
    assert grid is not None and grid.shape == (5, 5) and list(job.alphas) == [
        -0.5, -0.25, 0.0, 0.25, 0.5]
    assert grid[2, 2] == pytest.approx(session.full_batch_loss(), rel=1e-6)
    assert session.params() == before
    stopped = slice_grid(job, lambda done, _total: done < 2)
    assert stopped is None  # cancelled after its second row
