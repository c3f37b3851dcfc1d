"""A network's landscape: the kept path, its plane, and the loss along −grad, checked
against plain PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gui_trainer.core import TrainingSession
from gui_trainer.core.along_step import along_gradient, capture_along
from gui_trainer.core.param_trail import ParameterTrail
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.slices import (
    NetworkLandscapeState,
    path_plane,
    plane_caption,
    slice_grid,
)
from gui_trainer.core.view_state import capture


def plain_path(steps: int, scenario: str = "moons") -> list[np.ndarray]:
    """The weights after each step of a plain loop with the scenario's model and Adam."""
    chosen = SCENARIOS[scenario]
    model = chosen.build_model(chosen.seed)
    loss_fn = chosen.loss_fn()
    inputs = torch.from_numpy(chosen.data.inputs.copy())
    targets = torch.from_numpy(chosen.data.targets.copy())
    optimizer = torch.optim.Adam(model.parameters(), lr=chosen.lr)
    path = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
        path.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy())
    return path


def test_the_trail_keeps_the_weights_plain_pytorch_reaches() -> None:
    session = TrainingSession(scenario="moons")
    for _ in range(12):
        session.run_epoch()
    assert session.trail is not None
    steps, vectors = session.trail.points(session.history)
    assert list(steps) == list(range(1, 13))
    expected = plain_path(12)
    np.testing.assert_array_equal(vectors, np.stack(expected))


def test_a_long_run_keeps_a_bounded_evenly_spaced_sample() -> None:
    session = TrainingSession(scenario="moons")
    assert session.trail is not None
    session.trail.limit = 8  # what a large model or a long run reaches
    for _ in range(40):
        session.run_epoch()
    steps, vectors = session.trail.points(session.history)
    assert len(steps) <= 8 and list(steps) == [8, 16, 24, 32, 40]
    expected = plain_path(40)
    for step, vector in zip(steps, vectors, strict=True):
        np.testing.assert_array_equal(vector, expected[step - 1])
    assert session.trail.nbytes == vectors.nbytes


def test_the_budget_per_run_bounds_a_large_models_trail() -> None:
    trail = ParameterTrail(10_000_000)
    assert trail.limit == 2  # a vector this big is kept at the start and now only
    assert ParameterTrail(354).limit == 256


def test_the_trail_follows_undo_redo_and_new_runs() -> None:
    session = TrainingSession(scenario="moons")
    for _ in range(6):
        session.run_epoch()
    trail = session.trail
    assert trail is not None
    kept = trail.points(session.history)[1].copy()
    for _ in range(12):  # back two and a half epochs
        session.undo()
    steps, _ = trail.points(session.history)
    assert list(steps) == [1, 2, 3]
    session.redo()
    session.jump_to(len(session.timeline))
    np.testing.assert_array_equal(trail.points(session.history)[1], kept)
    for _ in range(5):
        session.undo()
    session.lr = 0.05  # a new action: the undone steps are gone for good
    session.run_epoch()
    steps, vectors = trail.points(session.history)
    assert list(steps) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(vectors[:5], kept[:5])
    assert not np.array_equal(vectors[5], kept[5])  # another rate: another sixth step
    session.reset()
    session.run_epoch()
    earlier = session.history.earlier_runs()
    assert len(trail.points(session.history)[0]) == 1
    np.testing.assert_array_equal(trail.points(session.history, earlier[0].run)[1], vectors)


def test_the_path_plane_holds_the_paths_two_main_directions() -> None:
    session = TrainingSession(scenario="moons")
    for _ in range(30):
        session.run_epoch()
    session.reset()
    for _ in range(20):
        session.run_epoch()
    plane = path_plane(session, points=5)
    now = np.concatenate([p.detach().reshape(-1).numpy() for p in session.model.parameters()])
    start = session.start_vector().astype(np.float64)
    expected_path = np.stack([start, *plain_path(20)]).astype(np.float64) - now
    # The SVD of the path minus the weights now (not centred: the plane goes through now).
    _, singular, rows = np.linalg.svd(expected_path, full_matrices=False)
    first = np.concatenate([d.reshape(-1).numpy() for d in plane.job.directions[0].values()])
    second = np.concatenate([d.reshape(-1).numpy() for d in plane.job.directions[1].values()])
    assert abs(first @ rows[0]) == pytest.approx(1.0, abs=1e-5)
    assert abs(second @ rows[1]) == pytest.approx(1.0, abs=1e-5)
    assert plane.explained == pytest.approx(tuple(singular[:2] ** 2 / (singular**2).sum()))
    projected = np.column_stack([expected_path @ first, expected_path @ second])
    np.testing.assert_allclose(plane.path[:-1], projected, atol=1e-5)
    assert tuple(plane.path[-1]) == (0.0, 0.0) and plane.steps[-1] == 20
    assert (plane.path[0] < 0).all()  # the start down and left, now at the origin
    assert len(plane.earlier) == 1 and len(plane.earlier[0].points) == 31
    assert plane.job.alphas[0] < plane.path[:, 0].min() and plane.job.alphas[-1] > 0
    theirs = plane.earlier[0].points  # the earlier run is on the map too
    assert plane.job.alphas[0] < theirs[:, 0].min() < theirs[:, 0].max() < plane.job.alphas[-1]
    assert plane.job.betas[0] < theirs[:, 1].min() < theirs[:, 1].max() < plane.job.betas[-1]
    np.testing.assert_allclose(theirs[1:], np.stack(plain_path(30)[:30]).astype(np.float64)
                               @ np.column_stack([first, second]) - now @ np.column_stack(
                                   [first, second]), atol=1e-4)
    grid = slice_grid(plane.job)
    assert grid is not None and grid.shape == (5, 5)
    caption = plane_caption(plane)
    assert f"{plane.explained[0]:.0%}" in caption and f"other {now.size - 2}" in caption
    assert "Earlier runs" in caption


def test_the_plane_on_the_grid_is_the_real_loss_there() -> None:
    session = TrainingSession(scenario="curve")
    for _ in range(15):
        session.run_epoch()
    plane = path_plane(session, points=3)
    plane.job.alphas[:] = [0.0, plane.path[0, 0], 1.0]
    plane.job.betas[:] = [0.0, plane.path[0, 1], 1.0]
    grid = slice_grid(plane.job)
    assert grid is not None
    assert grid[0, 0] == pytest.approx(session.full_batch_loss(), rel=1e-6)
    # The start's shadow: the start minus what lies off the plane.
    first, second = plane.job.directions
    with torch.no_grad():
        for name, param in session.model.named_parameters():
            param.add_(plane.path[0, 0] * first[name] + plane.path[0, 1] * second[name])
    assert grid[1, 1] == pytest.approx(session.full_batch_loss(), rel=1e-5)


def test_no_plane_before_the_path_has_two_directions() -> None:
    session = TrainingSession(scenario="moons")
    with pytest.raises(ValueError, match="two steps"):
        path_plane(session)
    session.run_epoch()
    with pytest.raises(ValueError, match="two steps"):
        path_plane(session)
    with pytest.raises(ValueError, match="networks"):
        path_plane(TrainingSession())


@pytest.mark.parametrize("scenario", ["moons", "curve"])
def test_along_minus_grad_a_plain_sgd_step_lands_at_lr(scenario: str) -> None:
    session = TrainingSession(scenario=scenario, optimizer="sgd", lr=0.1)
    for _ in range(3):
        session.run_epoch()
    for stage in ("zero_grad", "forward", "loss", "backward"):
        session.run(stage)
    along = capture_along(session)
    assert along is not None
    assert along.step_t == pytest.approx(0.1, rel=1e-5) and along.off_line < 1e-5
    losses = along_gradient(session, [0.0, 0.1])
    assert losses[0] == pytest.approx(session.full_batch_loss(), rel=1e-6)
    session.run("step")
    assert losses[1] == pytest.approx(session.full_batch_loss(), rel=1e-5)
    assert along.step_loss == pytest.approx(session.full_batch_loss(), rel=1e-6)


def test_adams_step_lands_off_the_minus_grad_line_and_the_plot_reaches_it() -> None:
    session = TrainingSession(scenario="moons")  # Adam
    for _ in range(3):
        session.run_epoch()
    params = [p.detach().clone() for p in session.model.parameters()]
    along = capture_along(session)
    assert along is not None and along.off_line > 0.05
    assert along.t.min() <= 0.0 <= along.t.max() and along.t.max() >= along.step_t
    assert all(torch.equal(a, b) for a, b in zip(params, session.model.parameters(),
                                                    strict=True))  # nothing moved
    for stage in ("zero_grad", "forward", "loss", "backward"):
        session.run(stage)
    along = capture_along(session)
    assert along is not None
    session.run("step")
    assert along.step_loss == pytest.approx(session.full_batch_loss(), rel=1e-6)


def test_a_networks_capture_can_leave_the_costly_curve_out() -> None:
    session = TrainingSession(scenario="moons")
    session.run_epoch()
    view = capture(session, {}, None, landscape=True)
    assert isinstance(view.landscape, NetworkLandscapeState)
    assert view.landscape.along is not None and view.landscape.steps == 1
    fast = capture(session, {}, None, landscape=True, along=False)
    assert isinstance(fast.landscape, NetworkLandscapeState)
    assert fast.landscape.along is None and fast.landscape.along_left_out


def test_the_trail_survives_jumps_across_checkpoints_and_restarts() -> None:
    session = TrainingSession(scenario="moons")
    for _ in range(30):  # 150 actions: past the first checkpoint
        session.run_epoch()
    session.reset()
    for _ in range(30):
        session.run_epoch()
    trail = session.trail
    assert trail is not None
    earlier_run = session.history.earlier_runs()[0].run
    now = trail.points(session.history)
    before = trail.points(session.history, earlier_run)
    session.jump_to(100)  # back into the first run, replayed from a checkpoint
    steps, _ = trail.points(session.history)
    assert list(steps) == list(range(1, 21))
    session.jump_to(len(session.timeline))  # redo it all
    for (steps, vectors), (kept_steps, kept) in ((trail.points(session.history), now),
                                                 (trail.points(session.history, earlier_run),
                                                  before)):
        np.testing.assert_array_equal(steps, kept_steps)
        np.testing.assert_array_equal(vectors, kept)


def test_after_an_undo_the_trail_has_the_steps_a_fresh_run_would_keep() -> None:
    session = TrainingSession(scenario="moons")
    assert session.trail is not None
    session.trail.limit = 8
    for _ in range(40):
        session.run_epoch()
    session.jump_to(30)  # step 6: the stride was 8, so none of 1…6 was kept
    steps, vectors = session.trail.points(session.history)
    assert list(steps) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(vectors, np.stack(plain_path(6)))
    path_plane(session)  # six steps: a plane


def test_a_diverged_earlier_run_does_not_shrink_this_runs_plane() -> None:
    session = TrainingSession(scenario="curve", optimizer="sgd", lr=1.0)
    for _ in range(12):
        session.run_epoch()
    session.reset()
    session.lr = 0.01
    for _ in range(20):
        session.run_epoch()
    plane = path_plane(session, points=5)
    extent = plane.path.max(axis=0) - plane.path.min(axis=0)
    grid = np.asarray([plane.job.alphas[-1] - plane.job.alphas[0],
                       plane.job.betas[-1] - plane.job.betas[0]])
    assert (grid < 10 * extent).all()


def test_a_diverged_path_has_no_plane_and_says_why() -> None:
    session = TrainingSession(scenario="curve", optimizer="sgd", lr=5.0)
    for _ in range(40):
        session.run_epoch()
    with pytest.raises(ValueError, match="diverged"):
        path_plane(session)


def test_a_parameter_without_grad_counts_as_zero_along_minus_grad() -> None:
    session = TrainingSession(scenario="curve", optimizer="sgd", lr=0.1)
    for stage in ("zero_grad", "forward", "loss", "backward"):
        session.run(stage)
    first = next(session.model.parameters())
    first.grad = None  # as for a frozen or unused parameter
    along = capture_along(session)
    assert along is not None and along.off_line < 1e-5
    session.run("step")  # SGD skips it: the landing is still on the line
    assert along.step_loss == pytest.approx(session.full_batch_loss(), rel=1e-6)
