"""The autograd graph PyTorch holds now, drawn as nodes and arrows.

Arrows point the way data flows in the forward pass. After a backward the nodes light up in
the order autograd visited them (root first) and each parameter shows the gradient that
arrived in its ``.grad``; once backward has run, PyTorch has freed the graph's saved values
and the drawing says so.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.autograd_graph import GraphNode, GraphSnapshot
from gui_trainer.core.formatting import short
from gui_trainer.qt.theme import Colours, colours, qcolor


def kind_fill(theme: Colours, kind: str) -> QColor:
    return qcolor({"op": theme.node_op, "leaf": theme.node_leaf, "data": theme.node_data,
                   "tensor": theme.node_tensor}[kind])

NODE_W, NODE_H, GAP_X, GAP_Y = 180.0, 76.0, 16.0, 34.0
#: Below this the node texts get too small to read: the view scrolls instead of shrinking.
MIN_SCALE = 0.75
BACKWARD_STEP_MS = 220


def layer_of(snapshot: GraphSnapshot) -> dict[str, int]:
    """Distance of each node from the root along the edges (root = 0).

    The drawing puts the deepest layer (parameters and data) at the top and the root at the
    bottom, so arrows run downwards the way the forward pass computes.
    """
    targets: dict[str, list[str]] = {}
    for edge in snapshot.edges:
        targets.setdefault(edge.source, []).append(edge.target)
    depth: dict[str, int] = {}

    def visit(key: str) -> int:
        if key not in depth:
            depth[key] = 1 + max((visit(t) for t in targets.get(key, [])), default=-1)
        return depth[key]

    for node in snapshot.nodes:
        visit(node.key)
    return depth


class GraphView(QGraphicsView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graph_view")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setScene(QGraphicsScene(self))
        self.snapshot = GraphSnapshot((), (), ())
        self.boxes: dict[str, QGraphicsRectItem] = {}
        self.caption = ""
        #: Shown above the view by its owner; a label stays readable at any graph size.
        self.caption_label = QLabel(self)
        self.caption_label.setObjectName("graph_caption")
        self.caption_label.setWordWrap(True)
        self.visited: list[str] = []
        self._to_visit: list[str] = []
        self._animation = QTimer(self)
        self._animation.timeout.connect(self._visit_next)

    def show_graph(self, snapshot: GraphSnapshot, animate_backward: bool = False) -> None:
        self._animation.stop()
        self.snapshot = snapshot
        if snapshot.empty:
            self.caption = "No graph yet: Forward records one."
        elif snapshot.freed:
            self.caption = (
                "Freed: backward has used this graph and PyTorch released its saved values. "
                "The next Forward records a new one."
            )
        else:
            self.caption = "Live graph: what PyTorch recorded, ready for backward."
        # Which nodes are lit is settled before drawing: _draw paints self.visited.
        animate = animate_backward and not snapshot.empty
        self.visited = list(snapshot.backward_order) if animate_backward and not animate else []
        self._to_visit = list(snapshot.backward_order) if animate else []
        self._draw()
        if animate:
            self._animation.start(BACKWARD_STEP_MS)

    def set_caption(self, text: str) -> None:
        self.caption = text
        self._draw()

    def finish_animation(self) -> None:
        while self._to_visit:
            self._visit_next()

    def _visit_next(self) -> None:
        if not self._to_visit:
            self._animation.stop()
            return
        key = self._to_visit.pop(0)
        self.visited.append(key)
        box = self.boxes.get(key)
        if box is not None:
            box.setBrush(QBrush(qcolor(colours().node_visited)))
        if not self._to_visit:
            self._animation.stop()

    def _draw(self) -> None:
        scene = self.scene()
        scene.clear()
        self.boxes = {}
        text_colour = self.palette().windowText().color()
        depth = layer_of(self.snapshot)
        deepest = max(depth.values(), default=0)
        layers: dict[int, list[GraphNode]] = {}
        for node in self.snapshot.nodes:
            layers.setdefault(depth[node.key], []).append(node)
        widest = max((len(nodes) for nodes in layers.values()), default=1)
        # Boxes as wide as their name; the line under it wraps instead of shrinking.
        metrics = QFontMetricsF(self.title_font())
        node_w = max([NODE_W, *(12 + metrics.horizontalAdvance(node.name)
                                for node in self.snapshot.nodes)])
        centres: dict[str, QPointF] = {}
        for layer, nodes in layers.items():
            indent = (widest - len(nodes)) * (node_w + GAP_X) / 2
            for column, node in enumerate(nodes):
                x = indent + column * (node_w + GAP_X)
                y = (deepest - layer) * (NODE_H + GAP_Y)
                rect = QRectF(x, y, node_w, NODE_H)
                self.boxes[node.key] = self._node(scene, node, rect, text_colour)
                centres[node.key] = QPointF(x + node_w / 2, y + NODE_H / 2)
        pen = QPen(text_colour, 1.5)
        for edge in self.snapshot.edges:
            a, b = centres[edge.source], centres[edge.target]
            start = QPointF(a.x(), a.y() + NODE_H / 2)
            end = QPointF(b.x(), b.y() - NODE_H / 2)
            scene.addLine(start.x(), start.y(), end.x(), end.y(), pen)
            head = scene.addEllipse(end.x() - 4, end.y() - 4, 8, 8, pen, QBrush(text_colour))
            head.setZValue(1)
        visited = QBrush(qcolor(colours().node_visited))
        for key in self.visited:
            if key in self.boxes:
                self.boxes[key].setBrush(visited)
        self.caption_label.setText(self.caption)
        self._fit()

    def _node(self, scene: QGraphicsScene, node: GraphNode, rect: QRectF,
              text_colour: QColor) -> QGraphicsRectItem:
        theme = colours()
        box = scene.addRect(rect, QPen(text_colour, 1.2), QBrush(kind_fill(theme, node.kind)))
        if node.freed:
            box.setPen(QPen(qcolor(theme.freed_border), 1.2, Qt.PenStyle.DashLine))
        box.setToolTip(f"{node.name}\n{node.label}")
        title = QGraphicsSimpleTextItem(node.name, box)
        title.setFont(self.title_font())
        title.setBrush(text_colour)
        title.setPos(rect.x() + 6, rect.y() + 4)
        # Made without a parent and then attached: a QGraphicsTextItem constructed with its
        # parent was deleted with its Python wrapper, and the line vanished.
        text = QGraphicsTextItem()
        text.setParentItem(box)
        text.setPlainText(self.detail(node))
        text.setFont(self.font())
        text.setDefaultTextColor(text_colour)
        text.setTextWidth(rect.width() - 8)
        text.setPos(rect.x() + 2, rect.y() + 24)
        return box

    def title_font(self) -> QFont:
        bold = QFont(self.font())
        bold.setBold(True)
        bold.setPointSizeF(self.font().pointSizeF() * 1.15)
        return bold

    @staticmethod
    def detail(node: GraphNode) -> str:
        """The line under a node's name: what it holds (a leaf: its .grad now)."""
        detail = node.label
        if node.kind == "leaf":
            detail = f"{node.label.split(':')[0]}.grad = {short(node.grad)}"
        return detail + ("  (freed)" if node.freed else "")

    def _fit(self) -> None:
        """Fit the graph to the view, but never so small that its text cannot be read."""
        rect = self.scene().itemsBoundingRect().adjusted(-10, -10, 10, 10)
        self.setSceneRect(rect)
        if rect.isEmpty():
            return
        view = self.viewport().rect()
        scale = min(view.width() / rect.width(), view.height() / rect.height(), 1.25)
        self.resetTransform()
        self.scale(max(scale, MIN_SCALE), max(scale, MIN_SCALE))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._draw()  # the boxes and text were drawn in the old theme's colours

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class GraphPanel(QWidget):
    """The graph view with its caption above it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = GraphView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.view.caption_label)
        layout.addWidget(self.view, 1)
        self.view.show_graph(self.view.snapshot)  # "No graph yet", not a blank box
