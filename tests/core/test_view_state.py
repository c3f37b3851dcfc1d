"""The captured view: the session's numbers at one moment, unchanged by what runs after."""

from __future__ import annotations

import numpy as np
import pytest

from gui_trainer.core import TrainingSession
from gui_trainer.core.code_listing import code_listing
from gui_trainer.core.view_state import capture


@pytest.mark.parametrize("name", ["delivery", "curve", "moons", "digits"])
def test_a_view_holds_the_sessions_numbers_and_keeps_them(name: str) -> None:
    session = TrainingSession(scenario=name)
    for _ in range(3):
        session.run_epoch()
    for stage in ("zero_grad", "forward", "loss", "backward"):
        session.run(stage)
    view = capture(session, {}, session.last_stage)
    lazy = capture(session, {}, session.last_stage)  # its lazy numbers are asked for later
    then = (session.full_batch_loss(), session.activation_stats())
    grid = session.inputs.numpy()[:7] * 1.5
    assert view.epoch == session.epoch and view.next_stage == "step"
    assert view.loss == session.loss.item()  # type: ignore[union-attr]
    assert view.params == session.params()
    assert view.graph == session.autograd_graph()
    assert view.listing == code_listing(session, {}, "backward")
    assert view.position == session.position and view.timeline_length == len(session.timeline)
    np.testing.assert_array_equal(view.outputs, session.outputs.detach().numpy())  # type: ignore[union-attr]
    np.testing.assert_array_equal(view.predict_array(grid), session.predict_array(grid))
    assert (view.full_batch_loss, view.activations) == then
    for tensor in view.param_names:
        for kind in ("grad_norm", "update_ratio"):
            np.testing.assert_array_equal(view.tensor_history(kind, tensor),
                                          session.tensor_history(kind, tensor))
    kept = (view.predict_array(grid), view.params, view.outputs.copy())  # type: ignore[union-attr]

    session.run("step")  # the session moves on; the views do not
    session.run("zero_grad")
    session.run("forward")
    now = (session.full_batch_loss(), session.activation_stats())
    assert not np.array_equal(session.predict_array(grid), kept[0])
    assert now[0] != then[0] and (now[1] != then[1] or session.one_neuron)
    np.testing.assert_array_equal(view.predict_array(grid), kept[0])
    assert (lazy.full_batch_loss, lazy.activations) == then
    assert view.params == kept[1] and view.next_stage == "step"
    np.testing.assert_array_equal(view.outputs, kept[2])
