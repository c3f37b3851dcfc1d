"""The graph by module and its layered layout: each box where the forward pass puts it."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from torch import nn

from gui_trainer.core import TrainingSession
from gui_trainer.core.autograd_graph import GraphSnapshot
from gui_trainer.core.graph_layout import lay_out
from gui_trainer.core.graph_modules import LOSS_MODULE, assign_modules, by_module

SCENARIOS = ["delivery", "curve", "moons", "spiral", "digits"]


def graph_after(name: str, stages: tuple[str, ...]) -> tuple[TrainingSession, GraphSnapshot]:
    session = TrainingSession(scenario=name)
    for stage in stages:
        session.run(stage)
    return session, session.autograd_graph()


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_operation_and_parameter_is_given_the_module_that_recorded_it(name: str) -> None:
    session, graph = graph_after(name, ("zero_grad", "forward", "loss"))
    children = [child for child, _ in session.model.named_children()]
    assert [info.name for info in graph.modules] == [*children, LOSS_MODULE]
    for node in graph.nodes:
        if node.kind == "leaf":
            parameter = node.key.removeprefix("AccumulateGrad:")
            # The one neuron's leaves are "weight" and "bias": its only module is "0".
            assert node.module == (parameter.split(".")[0] if "." in parameter else "0")
        elif node.kind == "op":
            assert node.module in [*children, LOSS_MODULE]
        else:
            assert node.module == ""  # data, the outputs and the loss belong to no module
    loss_ops = {node.name for node in graph.nodes if node.module == LOSS_MODULE}
    assert loss_ops == ({"MseLossBackward0"} if session.scenario.task == "regression"
                        else {"LogSoftmaxBackward0", "NllLossBackward0"})
    activation = {"relu": "ReluBackward0", "tanh": "TanhBackward0"}
    for child_name, child in session.model.named_children():
        ops = sorted(n.name for n in graph.nodes if n.module == child_name and n.kind == "op")
        if isinstance(child, nn.Linear):
            assert ops == ["AddmmBackward0", "TBackward0"]
        else:
            assert ops == [activation[type(child).__name__.lower()]]


@pytest.mark.parametrize("name", ["moons", "digits"])
def test_by_module_draws_the_model_as_a_chain_lit_from_the_loss_back(name: str) -> None:
    session, graph = graph_after(name, ("zero_grad", "forward", "loss", "backward"))
    grouped = by_module(graph)
    children = [f"module:{child}" for child, _ in session.model.named_children()]
    boxes = [node.key for node in grouped.nodes if node.kind == "module"]
    assert sorted(boxes) == sorted([*children, f"module:{LOSS_MODULE}"])
    chain = [(e.source, e.target) for e in grouped.edges if e.source in children]
    assert chain == [(a, b) for a, b in itertools.pairwise([*children, "outputs"])][::-1]
    # Backward reaches the loss function first and the first layer last.
    assert grouped.backward_order == ("loss", f"module:{LOSS_MODULE}", *reversed(children))
    assert grouped.freed and all(node.freed for node in grouped.nodes if node.saves_values)
    first = grouped.node("module:0")
    assert f"{float(session.model[0].weight.grad.norm()):.6g}" in first.label  # type: ignore[index]
    assert "AddmmBackward0" in first.contents and "TBackward0" in first.contents


@pytest.mark.parametrize(("graph_of", "model_of"), [("delivery", "curve"), ("curve", "delivery")])
def test_a_graph_the_model_does_not_explain_is_drawn_node_by_node(
    graph_of: str, model_of: str
) -> None:
    """Fewer or more recorded operations than the model's modules: nothing is guessed."""
    _, graph = graph_after(graph_of, ("zero_grad", "forward", "loss"))
    other = TrainingSession(scenario=model_of)
    unknown = assign_modules(without_modules(graph), other.model, other.loss_fn)
    assert unknown.modules == () and all(node.module == "" for node in unknown.nodes)
    assert by_module(unknown) == unknown


def test_a_model_that_is_not_a_sequential_is_drawn_node_by_node() -> None:
    session, graph = graph_after("delivery", ("zero_grad", "forward", "loss"))
    unknown = assign_modules(without_modules(graph), nn.Linear(1, 1), session.loss_fn)
    assert unknown.modules == ()


def without_modules(graph: GraphSnapshot) -> GraphSnapshot:
    nodes = tuple(dataclasses.replace(node, module="") for node in graph.nodes)
    return dataclasses.replace(graph, nodes=nodes, modules=())


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("grouped", [False, True])
def test_the_layout_runs_every_arrow_downwards_and_no_boxes_overlap(
    name: str, grouped: bool
) -> None:
    _, graph = graph_after(name, ("zero_grad", "forward", "loss"))
    shown = by_module(graph) if grouped else graph
    sizes = {node.key: (150.0 + 10 * (i % 3), 60.0) for i, node in enumerate(shown.nodes)}
    layout = lay_out(shown, sizes, 16.0, 30.0)
    assert set(layout.centres) == {node.key for node in shown.nodes}
    for edge in shown.edges:
        route = layout.routes[(edge.source, edge.target)]
        assert route[0] == layout.centres[edge.source]
        assert route[-1] == layout.centres[edge.target]
        ys = [y for _, y in route]
        assert ys == sorted(ys) and ys[0] < ys[-1]  # forward runs down the page
    boxes = [(layout.centres[k], sizes[k]) for k in sizes]
    for ((x1, y1), (w1, h1)), ((x2, y2), (w2, h2)) in itertools.combinations(boxes, 2):
        apart_x = abs(x1 - x2) >= (w1 + w2) / 2 + 16.0 - 1e-6
        apart_y = abs(y1 - y2) >= (h1 + h2) / 2 + 30.0 - 1e-6
        assert apart_x or apart_y
    assert min(y - sizes[k][1] / 2 for k, (_, y) in layout.centres.items()) == 0.0
    root = shown.backward_order[0]
    assert layout.centres[root][1] == max(y for _, y in layout.centres.values())
