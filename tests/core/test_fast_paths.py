"""The stage runners' shortcuts give exactly what the long way gives.

Each shortcut skips work whose answer is already at hand: a copy of the parameters that no
tensor has changed since, a second backward for the gradient backward is about to store
anyway, a forward for the full-batch loss the Loss stage just computed.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from gui_trainer.core import TrainingSession
from gui_trainer.core.records import ParamValues


def _arrays(values: ParamValues) -> list[object]:
    return [(t.value.tolist(), None if t.grad is None else t.grad.tolist())
            for t in values.tensors]


def test_a_copy_is_reused_only_while_no_tensor_changed() -> None:
    session = TrainingSession(mode="free")
    first = session.params()
    assert session.params() is first  # nothing changed: the same immutable copy
    for stage in ("forward", "loss", "backward"):
        session.run(stage)
        now = session.params()
        assert _arrays(now) == [(p.detach().numpy().tolist(),
                                 None if p.grad is None else p.grad.numpy().tolist())
                                for p in session.model.parameters()]
    session.run("backward")  # the graph is freed: an error, nothing changes
    session.run("forward")
    session.run("loss")
    session.run("backward")  # adds into .grad in place: the copy must see it
    assert session.params().weight_grad == session.weight.grad.item()  # type: ignore[union-attr]
    session.run("step")
    assert session.params().weight == session.weight.item()
    session.jump_to(2)  # a jump puts other tensors in: never the stale copy
    assert session.params().weight_grad is None
    assert session.params().weight == session.weight.item()


def test_the_fresh_gradient_read_from_grad_is_autograds() -> None:
    session = TrainingSession()
    for _ in range(3):
        session.run_epoch()
    model = copy.deepcopy(session.model)
    for stage in ("zero_grad", "forward", "loss"):
        session.run(stage)
    loss = session.loss_fn(model(session.inputs), session.targets)
    expected = torch.autograd.grad(loss, list(model.parameters()))
    record = session.run("backward")
    assert record.fresh_grads == (expected[0].item(), expected[1].item())


def test_the_loss_over_all_rows_is_the_measured_one_at_every_step() -> None:
    """The history's loss (and accuracy) before each step equal a separate forward over all
    the data with the weights of that moment, bit for bit."""
    for name in ("delivery", "moons", "curve"):
        session = TrainingSession(scenario=name)
        records = [r for _ in range(4) for r in session.run_epoch()]
        model = copy.deepcopy(session.model)
        for record in (r for r in records if r.stage == "step"):
            with torch.no_grad():
                for param, tensor in zip(model.parameters(), record.before.tensors,
                                         strict=True):
                    param.copy_(torch.from_numpy(np.array(tensor.value)))
                outputs = model(session.inputs)
                assert record.full_batch_loss == session.loss_fn(outputs,
                                                                 session.targets).item()
                if record.full_batch_accuracy is not None:
                    assert record.full_batch_accuracy == (
                        outputs.argmax(1) == session.targets).float().mean().item()
