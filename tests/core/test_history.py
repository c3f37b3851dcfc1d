import math

import numpy as np
import pytest

from gui_trainer.core.history import History


def add(history: History, epoch: int, loss: float | None = 1.0, lr: float = 0.01) -> None:
    history.append(epoch=epoch, loss=loss, weight=float(epoch), bias=-float(epoch),
                   weight_grad=None, bias_grad=0.5, lr=lr)


def test_history_grows_past_its_capacity_and_keeps_every_row() -> None:
    history = History(capacity=2)
    for i in range(5):
        add(history, i, i / 10)
    assert len(history) == 5
    assert history.column("epoch").tolist() == [0, 1, 2, 3, 4]
    assert history.column("loss")[3] == pytest.approx(0.3)
    assert all(math.isnan(v) for v in history.column("weight_grad"))
    assert np.all(history.column("bias_grad") == 0.5)


def test_columns_are_read_only_views_and_missing_values_are_nan() -> None:
    history = History()
    add(history, 1, None)
    column = history.column("weight")
    with pytest.raises(ValueError):
        column[0] = 9.0
    assert math.isnan(history.column("loss")[0])


def test_a_new_run_keeps_the_earlier_one_for_comparison() -> None:
    history = History()
    for i in range(3):
        add(history, i + 1, lr=0.1)
    history.start_run()
    assert len(history) == 0
    add(history, 1, lr=0.01)
    runs = history.earlier_runs()
    assert len(runs) == 1
    assert "lr 0.1" in runs[0].label and "guided" in runs[0].label
    assert history.column("epoch", run=runs[0].run).tolist() == [1, 2, 3]
    assert history.column("epoch").tolist() == [1]


def test_mark_and_restore_round_trip() -> None:
    history = History()
    add(history, 1)
    mark = history.mark()
    add(history, 2)
    history.start_run()
    add(history, 1)
    history.restore(mark)
    assert history.column("epoch").tolist() == [1]
    assert history.earlier_runs() == []


def test_first_step_is_found_across_scan_slices() -> None:
    from gui_trainer.core import TrainingSession

    session = TrainingSession(mode="free")
    for _ in range(5000):  # more than one 4096-action slice without a step
        session.run("forward")
    assert session.timeline.first_step_from(0, session.position) is None
    session.run("step")
    timeline = session.timeline
    assert timeline.first_step_from(0, session.position) == 5000
    assert timeline.first_step_from(0, session.position) == timeline.step_positions(
        0, session.position)[0]


def test_run_numbers_follow_restarts_undone_and_made_again() -> None:
    """Runs are kept as where each starts (no column): bounds stay right through restores,
    redos and a restart made again on another branch."""
    history = History()
    add(history, 1)
    add(history, 2)
    two_rows = history.mark()
    history.start_run()
    add(history, 1)
    one_more = history.mark()
    history.start_run()
    add(history, 1)
    add(history, 2)
    assert history.run_numbers().tolist() == [0, 0, 1, 2, 2]
    assert [(r.run, r.start, r.stop) for r in history.earlier_runs()] == [(0, 0, 2), (1, 2, 3)]
    history.restore(two_rows)  # undo back into run 0 …
    assert history.earlier_runs() == [] and history.run_numbers().tolist() == [0, 0]
    history.restore(one_more)  # … and redo into run 1
    assert history.run_numbers().tolist() == [0, 0, 1]
    assert history.column("epoch", run=0).tolist() == [1, 2]
    history.restore(two_rows)  # another branch: run 0 goes on, then a restart
    add(history, 3)
    history.start_run()
    add(history, 7)
    assert history.run_numbers().tolist() == [0, 0, 0, 1]
    assert history.column("epoch", run=0).tolist() == [1, 2, 3]
    assert history.column("epoch").tolist() == [7]


def test_float32_columns_hold_pytorchs_numbers_exactly() -> None:
    from gui_trainer.core import TrainingSession

    for scenario in ("delivery", "moons"):
        session = TrainingSession(scenario=scenario)
        steps = [r for _ in range(5) for r in session.run_epoch() if r.stage == "step"]
        history = session.history
        assert history.column("loss").dtype == np.float32
        assert [float(v) for v in history.column("loss")] == [r.full_batch_loss for r in steps]
        if scenario == "delivery":
            assert float(history.column("weight")[-1]) == session.weight.item()
            assert float(history.column("bias_grad")[-1]) == session.bias.grad.item()  # type: ignore[union-attr]
        else:
            assert [float(v) for v in history.column("accuracy")] == [
                r.full_batch_accuracy for r in steps]
            assert history.column("grad_norm:0.weight").dtype == np.float64
