"""The drawn graph is the real autograd graph: same node names as walking grad_fn ourselves."""

from typing import Any, Literal

import pytest

from gui_trainer.core import TrainingSession


def grad_fn_names(root: Any) -> list[str]:
    """An independent breadth-first walk of next_functions, as PyTorch's docs describe it."""
    names, seen, queue = [], set(), [root]
    while queue:
        node = queue.pop(0)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node).__name__)
        queue.extend(child for child, _ in node.next_functions)
    return names


def run(stages: list[str]) -> TrainingSession:
    session = TrainingSession()
    for stage in stages:
        session.run(stage)
    return session


def test_no_graph_before_forward() -> None:
    assert run(["zero_grad"]).autograd_graph().empty


def test_after_forward_the_graph_is_the_outputs_grad_fn_graph() -> None:
    session = run(["zero_grad", "forward"])
    graph = session.autograd_graph()
    assert session.outputs is not None
    assert graph.autograd_names == grad_fn_names(session.outputs.grad_fn)
    assert "AddmmBackward0" in graph.autograd_names
    assert graph.autograd_names.count("AccumulateGrad") == 2
    assert {node.name for node in graph.nodes if node.kind == "data"} == {"distances"}
    assert not graph.freed


def test_after_loss_the_graph_adds_mse_and_targets() -> None:
    session = run(["zero_grad", "forward", "loss"])
    graph = session.autograd_graph()
    assert session.loss is not None
    assert graph.autograd_names == grad_fn_names(session.loss.grad_fn)
    assert graph.autograd_names[0] == "MseLossBackward0"
    assert {node.name for node in graph.nodes if node.kind == "data"} == {"distances", "times"}
    assert all(node.grad is None for node in graph.nodes if node.kind == "leaf")


def test_after_backward_leaves_hold_the_gradients_and_the_graph_is_freed() -> None:
    session = run(["zero_grad", "forward", "loss", "backward"])
    graph = session.autograd_graph()
    assert session.loss is not None
    assert graph.autograd_names == grad_fn_names(session.loss.grad_fn)
    assert graph.node("AccumulateGrad:weight").grad == session.weight.grad.item()  # type: ignore[union-attr]
    assert graph.node("AccumulateGrad:bias").grad == session.bias.grad.item()  # type: ignore[union-attr]
    assert graph.backward_order[0] == "loss"
    assert graph.freed


def test_after_step_the_graph_is_marked_freed_and_zero_grad_clears_leaves() -> None:
    session = run(["zero_grad", "forward", "loss", "backward", "step"])
    assert session.autograd_graph().freed
    session.run("zero_grad")
    graph = session.autograd_graph()
    assert all(node.grad is None for node in graph.nodes if node.kind == "leaf")


def test_a_new_forward_draws_a_new_live_graph() -> None:
    session = run(["zero_grad", "forward", "loss", "backward", "step", "zero_grad", "forward"])
    graph = session.autograd_graph()
    assert not graph.freed
    assert graph.autograd_names[0] == "AddmmBackward0"


@pytest.mark.parametrize("name", ["curve", "spiral"])
def test_a_layered_models_graph_names_every_parameter_and_its_operations(name: str) -> None:
    session = TrainingSession(scenario=name)
    for stage in ("zero_grad", "forward", "loss"):
        session.run(stage)
    graph = session.autograd_graph()
    leaves = {n.key.split(":", 1)[1]: n for n in graph.nodes if n.kind == "leaf"}
    assert set(leaves) == {n for n, _ in session.model.named_parameters()}
    assert all(n.grad is None for n in leaves.values())  # before backward
    ops = set(graph.autograd_names)
    activation = "TanhBackward0" if name == "curve" else "ReluBackward0"
    loss = "MseLossBackward0" if name == "curve" else "NllLossBackward0"
    assert {activation, loss, "AddmmBackward0"} <= ops
    data = {n.name for n in graph.nodes if n.kind == "data"}
    # Class labels are integers: autograd records no input slot for them in NllLoss.
    assert data == ({"inputs", "targets"} if name == "curve" else {"inputs"})
    session.run("backward")
    after = session.autograd_graph()
    for node in after.nodes:
        if node.kind == "leaf":
            param = dict(session.model.named_parameters())[node.key.split(":", 1)[1]]
            assert param.grad is not None
            assert node.grad == pytest.approx(float(param.grad.norm()))
    assert after.freed


@pytest.mark.parametrize("mode", ["guided", "free"])
def test_the_graph_handed_out_again_is_always_the_one_pytorch_holds_now(
        mode: Literal["guided", "free"]) -> None:
    """autograd_graph() reuses its last reading while nothing it reads changed: after every
    stage (in free mode in any order: a Step after a Forward with no Backward, a second
    Backward through a freed graph), undo and redo it equals a fresh reading."""
    from gui_trainer.core.autograd_graph import read_graph
    from gui_trainer.core.graph_modules import assign_modules

    session = TrainingSession(mode=mode)
    order = (["zero_grad", "forward", "loss", "backward", "step"] * 3 if mode == "guided" else
             ["forward", "loss", "backward", "step", "forward", "step", "loss", "backward",
              "backward", "zero_grad", "forward", "forward", "loss", "step", "backward"])
    seen = 0
    for stage in [*order, "undo", "undo", "redo"]:
        before = session.autograd_graph()
        if stage == "undo":
            session.undo()
        elif stage == "redo":
            session.redo()
        else:
            session.run(stage)
        graph = session.autograd_graph()
        assert graph == assign_modules(read_graph(session), session.model, session.loss_fn)
        assert session.autograd_graph() is graph  # asked again: the same reading
        seen += graph != before
    assert seen >= len(order) // 2  # the graph did change along the way
