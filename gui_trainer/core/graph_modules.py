"""Which ``nn.Module`` recorded each node of the autograd graph, and the graph by module.

A network with three hidden layers records some two dozen nodes; drawn one by one they no
longer fit beside the other panels. Drawn as one box per module (``Linear (0)``, ``ReLU (1)``,
..., the loss function) the graph reads like the model's definition, and the boxes still
light up in the order backward reaches them.

PyTorch's ``grad_fn`` nodes do not say which module made them, so the modules are matched
from the graph's own structure and the model's: each parameter's leaf names its module
(``0.weight`` → ``0``), and in an ``nn.Sequential`` each child records exactly one node on
the chain from the inputs to the outputs. Where the graph does not have that shape (a model
this cannot read), no node is assigned and the graph is drawn node by node, as recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from torch import nn

from gui_trainer.core.autograd_graph import GraphEdge, GraphNode, GraphSnapshot, ModuleInfo
from gui_trainer.core.formatting import short

LOSS_MODULE = "loss_fn"


def module_title(name: str, module: nn.Module) -> str:
    kind = type(module).__name__
    if isinstance(module, nn.Linear):
        return f"{kind} ({name}): {module.in_features} → {module.out_features}"
    if isinstance(module, nn.BatchNorm1d):
        return f"{kind} ({name}): {module.num_features} units"
    if isinstance(module, nn.Dropout):
        return f"{kind} ({name}): p = {module.p:g}"
    return f"{kind} ({name})"


def assign_modules(snapshot: GraphSnapshot, model: nn.Module,
                   loss_fn: nn.Module) -> GraphSnapshot:
    """The snapshot with each node's ``module`` set, or unchanged if the shape is unknown."""
    if snapshot.empty or not isinstance(model, nn.Sequential):
        return snapshot
    by_key = {node.key: node for node in snapshot.nodes}
    sources: dict[str, list[str]] = {}
    for edge in snapshot.edges:
        sources.setdefault(edge.target, []).append(edge.source)
    owner: dict[str, str] = {}
    # The nodes between the root "loss" and "outputs" are the loss function's.
    if "outputs" not in by_key:
        return snapshot
    if snapshot.nodes[0].key == "loss":
        pending = list(sources.get("loss", []))
        while pending:
            key = pending.pop()
            if key == "outputs" or key in owner or by_key[key].kind != "op":
                continue
            owner[key] = LOSS_MODULE
            pending.extend(sources.get(key, []))
    chain_end = sources.get("outputs", [])
    children = list(model.named_children())
    current = chain_end[0] if len(chain_end) == 1 else None
    for name, child in reversed(children):
        if current is None or by_key[current].kind != "op":
            return snapshot  # the chain is shorter than the model: not a shape this reads
        owner[current] = name
        feeding = sources.get(current, [])
        params = {f"{name}.{p}" for p, _ in child.named_parameters()}
        found: set[str] = set()
        following: list[str] = []
        for key in feeding:
            node = by_key[key]
            leaf = _leaf_behind(key, by_key, sources)
            # The one neuron's leaves are named "weight" and "bias", as the seed text says.
            param = leaf.removeprefix("AccumulateGrad:") if leaf else ""
            param = param if "." in param else f"{name}.{param}"
            if leaf is not None and param in params:
                found.add(param)
                owner[key] = name
                owner[leaf] = name
            elif node.kind == "op":
                following.append(key)
        if found != params:
            return snapshot
        current = following[0] if len(following) == 1 else None
    if current is not None:
        return snapshot  # more operations than modules: not a shape this reads
    nodes = tuple(dataclasses.replace(node, module=owner.get(node.key, ""))
                  for node in snapshot.nodes)
    modules = [ModuleInfo(name, module_title(name, child)) for name, child in children]
    if LOSS_MODULE in owner.values():
        modules.append(ModuleInfo(LOSS_MODULE, f"{type(loss_fn).__name__} (the loss)"))
    return dataclasses.replace(snapshot, nodes=nodes, modules=tuple(modules))


def _leaf_behind(key: str, by_key: dict[str, GraphNode],
                 sources: dict[str, list[str]]) -> str | None:
    """The leaf at ``key``, or behind a one-input op there (the weight's transpose)."""
    node = by_key[key]
    if node.kind == "leaf":
        return key
    feeding = sources.get(key, [])
    if node.kind == "op" and len(feeding) == 1 and by_key[feeding[0]].kind == "leaf":
        return feeding[0]
    return None


def by_module(snapshot: GraphSnapshot) -> GraphSnapshot:
    """One box per module in place of its nodes; data and named tensors stay as they are.

    A module's box counts as freed once every node in it that saved values has been freed,
    and it comes in backward order where the first of its nodes did.
    """
    if not snapshot.modules:
        return snapshot
    members: dict[str, list[GraphNode]] = {}
    for node in snapshot.nodes:
        if node.module:
            members.setdefault(node.module, []).append(node)
    titles = {info.name: info.title for info in snapshot.modules}
    nodes: list[GraphNode] = []
    placed: set[str] = set()
    for node in snapshot.nodes:
        if not node.module:
            nodes.append(node)
        elif node.module not in placed:
            placed.add(node.module)
            nodes.append(_module_node(node.module, titles[node.module], members[node.module]))

    def box(key: str) -> str:
        module = next((n.module for n in snapshot.nodes if n.key == key), "")
        return f"module:{module}" if module else key

    edges: list[GraphEdge] = []
    for edge in snapshot.edges:
        merged = GraphEdge(box(edge.source), box(edge.target))
        if merged.source != merged.target and merged not in edges:
            edges.append(merged)
    order: list[str] = []
    for key in snapshot.backward_order:
        if box(key) not in order:
            order.append(box(key))
    return dataclasses.replace(snapshot, nodes=tuple(nodes), edges=tuple(edges),
                               backward_order=tuple(order))


def _module_node(name: str, title: str, members: Sequence[GraphNode]) -> GraphNode:
    ops = [node.name for node in members if node.kind == "op"]
    leaves = [node for node in members if node.kind == "leaf"]
    parts = [" + ".join(ops)]
    for leaf in leaves:
        param = leaf.key.removeprefix("AccumulateGrad:")
        which = param.rsplit(".", 1)[-1]
        # A tensor's gradient is shown by its norm; the one neuron's scalars as they are.
        shown = f"‖{which}.grad‖" if "." in param else f"{which}.grad"
        parts.append(f"{shown} = {short(leaf.grad)}")
    saving = [node for node in members if node.saves_values]
    listed = "\n".join(f"  {node.name}: {node.label}" for node in members)
    return GraphNode(
        key=f"module:{name}", name=title, label="\n".join(parts), kind="module",
        freed=bool(saving) and all(node.freed for node in saving),
        saves_values=bool(saving), module=name,
        contents=f"What PyTorch recorded for this module:\n{listed}",
    )
