"""Where each box and arrow of the autograd graph goes: a layered layout by grandalf.

The layout is Sugiyama's (graphviz's "dot"): nodes in layers, few crossings, long edges
bent around the boxes in between. It is computed on the graph as backward walks it (the
root first), so each node sits right above the operation that uses it, and then turned
upside down: parameters and data at the top, the loss at the bottom, arrows running down
the way the forward pass computes. Qt-free: the view hands in the box sizes and draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from gui_trainer.core.autograd_graph import GraphSnapshot

Point = tuple[float, float]


@dataclass(frozen=True)
class GraphLayout:
    #: The centre of each node's box.
    centres: Mapping[str, Point]
    #: Each edge (source key, target key) as a polyline from source to target centre.
    routes: Mapping[tuple[str, str], tuple[Point, ...]]


class _Box:
    """grandalf's "view" of a vertex: its size in, its position out."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy: Point = (0.0, 0.0)


class _Path:
    def __init__(self) -> None:
        self.points: list[Point] = []

    def setpath(self, points: list[Point]) -> None:
        self.points = list(points)


#: Layouts worked out, by the graph's shape (keys, box sizes, edges, gaps): a graph of the
#: same shape comes back every epoch (after Forward, after Loss), and laying it out again
#: costs ~4 ms. Up to ``LAYOUTS_KEPT`` shapes are kept.
_LAYOUTS: dict[object, GraphLayout] = {}
LAYOUTS_KEPT = 32


def lay_out(snapshot: GraphSnapshot, sizes: Mapping[str, tuple[float, float]],
            gap_x: float, gap_y: float) -> GraphLayout:
    """Place every node of ``snapshot``; ``sizes`` gives each key's (width, height).

    Only the nodes' keys, their sizes and the edges decide where they go: a graph of the
    same shape gets the layout worked out before (the same object: nobody may change it).
    """
    keys = tuple(node.key for node in snapshot.nodes)
    shape = (keys, tuple(sizes[key] for key in keys), snapshot.edges, gap_x, gap_y)
    layout = _LAYOUTS.get(shape)
    if layout is None:
        if len(_LAYOUTS) >= LAYOUTS_KEPT:
            del _LAYOUTS[next(iter(_LAYOUTS))]  # the oldest
        layout = _LAYOUTS[shape] = _lay_out(snapshot, sizes, gap_x, gap_y)
    return layout


def _lay_out(snapshot: GraphSnapshot, sizes: Mapping[str, tuple[float, float]],
             gap_x: float, gap_y: float) -> GraphLayout:
    if snapshot.empty:
        return GraphLayout({}, {})
    vertices = {node.key: Vertex(node.key) for node in snapshot.nodes}
    for key, vertex in vertices.items():
        vertex.view = _Box(*sizes[key])
    # Backward's direction: from the root towards parameters and data.
    edges = {}
    for edge in snapshot.edges:
        reversed_edge = Edge(vertices[edge.target], vertices[edge.source])
        reversed_edge.view = _Path()
        edges[(edge.source, edge.target)] = reversed_edge
    graph = Graph(list(vertices.values()), list(edges.values()))
    for component in graph.C:
        layout = SugiyamaLayout(component)
        layout.xspace, layout.yspace = gap_x, gap_y
        roots = [v for v in component.sV if not v.e_in()]
        layout.init_all(roots=roots, inverted_edges=[])
        layout.draw()
    # Components side by side (the graph has one; an unused input would make another).
    centres: dict[str, Point] = {}
    offset = 0.0
    for component in graph.C:
        left = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        right = max(v.view.xy[0] + v.view.w / 2 for v in component.sV)
        for v in component.sV:
            x, y = v.view.xy
            centres[v.data] = (x - left + offset, -y)
        offset += right - left + gap_x
    routes: dict[tuple[str, str], tuple[Point, ...]] = {}
    for (source, target), edge in edges.items():
        middle = edge.view.points[1:-1]
        dx = centres[target][0] - vertices[target].view.xy[0]
        bends = tuple((x + dx, -y) for x, y in reversed(middle))
        routes[(source, target)] = (centres[source], *bends, centres[target])
    top = min(y - sizes[key][1] / 2 for key, (_, y) in centres.items())
    return GraphLayout(  # shared by every graph of this shape: read-only
        MappingProxyType({key: (x, y - top) for key, (x, y) in centres.items()}),
        MappingProxyType({key: tuple((x, y - top) for x, y in points)
                          for key, points in routes.items()}),
    )
