"""Read the autograd graph PyTorch really holds, for drawing.

Nothing here is invented: the op nodes are the ``grad_fn`` objects found by walking
``next_functions`` from the loss (or the outputs), named by their own class names
(``AddmmBackward0``, ``MseLossBackward0``, ...). The plain-language labels only explain them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from gui_trainer.core.session import TrainingSession

NodeKind = Literal["op", "leaf", "data", "tensor", "module"]

PLAIN_LABELS = {
    "AddmmBackward0": "linear layer: inputs × weightᵀ + bias",
    "TBackward0": "transpose: weight → weightᵀ",
    "MseLossBackward0": "mean squared error",
    "DivBackward0": "÷ number of micro-batches (loss scaling)",
    "MmBackward0": "matrix multiply",
    "AddBackward0": "addition",
    "MulBackward0": "multiplication",
    "ReluBackward0": "ReLU: max(0, x), element by element",
    "TanhBackward0": "tanh, element by element",
    "SigmoidBackward0": "sigmoid: 1 / (1 + e⁻ˣ), element by element",
    "LogSoftmaxBackward0": "log-softmax: the logits as log-probabilities",
    "NllLossBackward0": "cross-entropy: −log-probability of the right class, averaged",
}


@dataclass(frozen=True)
class GraphNode:
    key: str
    #: PyTorch's own name for op and leaf nodes; the variable's name for data and tensors.
    name: str
    label: str
    kind: NodeKind
    #: For a leaf: the parameter's ``.grad`` now (None where PyTorch holds None).
    grad: float | None = None
    #: True once a backward has gone through this node and PyTorch freed its saved values.
    freed: bool = False
    #: False for nodes that keep no tensors for backward (nothing to free).
    saves_values: bool = False
    #: The ``nn.Module`` that recorded this node: its name in ``model.named_children()``,
    #: ``"loss_fn"`` for the loss function's operations, "" for data and named tensors.
    module: str = ""
    #: For a module's box: the nodes drawn inside it, one per line.
    contents: str = ""


@dataclass(frozen=True)
class GraphEdge:
    """Drawn in the forward direction: ``source`` feeds ``target``."""

    source: str
    target: str


@dataclass(frozen=True)
class ModuleInfo:
    """A module as the graph names it when its nodes are drawn as one box."""

    name: str
    #: The box's title, e.g. "Linear (0): 2 → 16" or "ReLU (1)".
    title: str


@dataclass(frozen=True)
class GraphSnapshot:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    #: Node keys in the order backward visits them, the root first.
    backward_order: tuple[str, ...]
    #: The modules that recorded the nodes, in forward order; empty where they are unknown.
    modules: tuple[ModuleInfo, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.nodes

    @property
    def autograd_names(self) -> list[str]:
        """PyTorch's names of the op and leaf nodes, in backward order."""
        by_key = {node.key: node for node in self.nodes}
        return [by_key[k].name for k in self.backward_order if by_key[k].kind in ("op", "leaf")]

    @property
    def freed(self) -> bool:
        saving = [node for node in self.nodes if node.saves_values]
        return bool(saving) and all(node.freed for node in saving)

    def node(self, key: str) -> GraphNode:
        return next(node for node in self.nodes if node.key == key)


def walk(root: Any) -> Iterator[tuple[Any, int, Any | None]]:
    """Yield (node, input slot, parent) breadth-first from ``root``; each node once.

    A ``None`` node is an input that needs no gradient (data such as inputs or targets).
    """
    seen: set[int] = set()
    queue: list[tuple[Any, int, Any | None]] = [(root, 0, None)]
    while queue:
        node, slot, parent = queue.pop(0)
        if node is not None:
            if id(node) in seen:
                continue
            seen.add(id(node))
            queue.extend((child, i, node) for i, (child, _) in enumerate(node.next_functions))
        yield node, slot, parent


def saved_values_freed(node: Any) -> bool | None:
    """Ask PyTorch whether backward has freed this node's saved tensors.

    PyTorch raises its "backward through the graph a second time" error when a freed saved
    tensor is read, so reading each ``_saved_*`` attribute is the honest test. Returns None
    for a node that saves no tensors (an AccumulateGrad leaf, a transpose).
    """
    names = [name for name in dir(node) if name.startswith("_saved_")]
    for name in names:
        try:
            getattr(node, name)
        except RuntimeError:
            return True
    return False if names else None


def _data_name(parent: Any, one_neuron: bool) -> tuple[str, str]:
    """Name the input of ``parent`` that needs no gradient, by what that operation takes."""
    kind = type(parent).__name__
    if kind.startswith("MseLoss"):
        if one_neuron:
            return "times", "targets: the real delivery times (no gradient needed)"
        return "targets", "targets: the values to predict (no gradient needed)"
    if kind.startswith("NllLoss"):
        return "targets", "targets: the right class of each sample (no gradient needed)"
    if kind.startswith(("Addmm", "Mm")):
        return ("distances" if one_neuron else "inputs"), "inputs: the data (no gradient needed)"
    return "constant", "a fixed number (no gradient needed)"


def _leaf(session: TrainingSession, param: Any) -> tuple[str, str, float | None]:
    """A parameter's name, its label, and its ``.grad`` (the number, or the norm)."""
    name = next((n for n, p in session.model.named_parameters() if p is param), "parameter")
    grad = None if param.grad is None else param.grad.detach()
    if session.one_neuron:
        which = name.rsplit(".", 1)[-1]  # "weight" or "bias", as the seed document says
        value = None if grad is None else float(grad.reshape(-1)[0])
        return which, f"{which}: stores ∂loss/∂{which} in {which}.grad", value
    shape = "×".join(str(d) for d in param.shape)
    value = None if grad is None else float(grad.norm())
    return name, f"{name} ({shape}): stores ∂loss/∂{name} in its .grad (shown: its norm)", value


def read_graph(session: TrainingSession) -> GraphSnapshot:
    """The graph behind the loss (if it measures the current outputs) or behind the outputs."""
    if session.loss is not None and session.loss_measures_current_outputs:
        root_tensor, root_name = session.loss, "loss"
    elif session.outputs is not None:
        root_tensor, root_name = session.outputs, "outputs"
    else:
        return GraphSnapshot((), (), ())
    root_label = ("loss: one number, how wrong the model is" if root_name == "loss"
                  else "outputs: the model's predictions")
    nodes: list[GraphNode] = [GraphNode(root_name, root_name, root_label, "tensor")]
    edges: list[GraphEdge] = []
    order: list[str] = [root_name]
    keys: dict[int, str] = {}
    for node, slot, parent in walk(root_tensor.grad_fn):
        parent_key = keys[id(parent)] if parent is not None else root_name
        if node is None:
            name, label = _data_name(parent, session.one_neuron)
            key = f"{name}@{parent_key}.{slot}"
            nodes.append(GraphNode(key, name, label, "data"))
            edges.append(GraphEdge(key, parent_key))
            continue
        name = type(node).__name__
        key = f"{name}#{len(keys)}"
        if name == "AccumulateGrad":
            which, label, grad = _leaf(session, node.variable)
            key = f"{name}:{which}"
            nodes.append(GraphNode(key, name, label, "leaf", grad=grad))
            keys[id(node)] = key
        else:
            label = PLAIN_LABELS.get(name, "an operation PyTorch recorded")
            freed = saved_values_freed(node)
            nodes.append(GraphNode(key, name, label, "op", freed=bool(freed),
                                   saves_values=freed is not None))
        keys[id(node)] = key
        outputs = session.outputs
        if root_name == "loss" and outputs is not None and node is outputs.grad_fn:
            # The outputs tensor sits between the linear layer and the loss, as in the text.
            nodes.append(GraphNode("outputs", "outputs", "outputs: the model's predictions",
                                   "tensor"))
            edges.extend([GraphEdge(key, "outputs"), GraphEdge("outputs", parent_key)])
        else:
            edges.append(GraphEdge(key, parent_key))
        order.append(key)
    return GraphSnapshot(tuple(nodes), tuple(edges), tuple(order))
