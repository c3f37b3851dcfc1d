"""The autograd graph PyTorch holds now, drawn as nodes and arrows.

Arrows point the way data flows in the forward pass. After a backward the nodes light up in
the order autograd visited them (root first) and each parameter shows the gradient that
arrived in its ``.grad``; once backward has run, PyTorch has freed the graph's saved values
and the drawing says so.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from gui_trainer.core.autograd_graph import GraphNode, GraphSnapshot
from gui_trainer.core.formatting import short
from gui_trainer.core.graph_layout import lay_out
from gui_trainer.core.graph_modules import by_module
from gui_trainer.qt.steady_text import SteadyLabel
from gui_trainer.qt.theme import Colours, colours, qcolor


def kind_fill(theme: Colours, kind: str) -> QColor:
    return qcolor({"op": theme.node_op, "leaf": theme.node_leaf, "data": theme.node_data,
                   "tensor": theme.node_tensor, "module": theme.node_module}[kind])

NODE_W, NODE_H, GAP_X, GAP_Y = 180.0, 76.0, 16.0, 34.0
#: A graph with more nodes than this is drawn one box per module unless the learner asks
#: for every node (the seed's one neuron records nine, a two-hidden-layer MLP about twenty).
GROUP_ABOVE = 12
#: Below this the node texts get too small to read: the view scrolls instead of shrinking.
MIN_SCALE = 0.75
BACKWARD_STEP_MS = 220
#: Box sizes measured are kept (by name, text and font) up to this many.
SIZES_KEPT = 512


class GraphView(QGraphicsView):
    #: After each drawing: the panel's "one box per module" box follows what is drawn.
    drawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("graph_view")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setScene(QGraphicsScene(self))
        self.snapshot = GraphSnapshot((), (), ())
        #: The learner's choice of one box per module; None: by the graph's size.
        self.group_choice: bool | None = None
        self.boxes: dict[str, QGraphicsRectItem] = {}
        #: What each box shows now, and its title and detail items.
        self._nodes: dict[str, GraphNode] = {}
        self._texts: dict[str, tuple[QGraphicsSimpleTextItem, QGraphicsTextItem]] = {}
        #: The boxes' keys and sizes, the arrows, the text colour and font drawn now.
        self._structure: object = None
        self._sizes: dict[tuple[str, str, str, str], tuple[float, float]] = {}
        self.caption = ""
        #: Shown above the view by its owner; a label stays readable at any graph size.
        self.caption_label = SteadyLabel(self)
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
        order = self.shown.backward_order
        self.visited = list(order) if animate_backward and not animate else []
        self._to_visit = list(order) if animate else []
        self._draw()
        if animate:
            self._animation.start(BACKWARD_STEP_MS)

    @property
    def grouped(self) -> bool:
        """Whether the graph is drawn one box per module."""
        if not self.snapshot.modules:
            return False
        if self.group_choice is not None:
            return self.group_choice
        return len(self.snapshot.nodes) > GROUP_ABOVE

    @property
    def shown(self) -> GraphSnapshot:
        """What is drawn: the graph as recorded, or one box per module."""
        return by_module(self.snapshot) if self.grouped else self.snapshot

    def set_grouping(self, choice: bool | None) -> None:
        """Draw one box per module (True), every node (False) or by size (None)."""
        lit = bool(self.visited or self._to_visit)
        self.finish_animation()
        self.group_choice = choice
        self.visited = list(self.shown.backward_order) if lit else []
        self._draw()

    def set_caption(self, text: str) -> None:
        self.caption = text
        self.caption_label.setText(text)

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

    def _draw(self, rebuild: bool = False) -> None:
        """Draw what ``show_graph`` settled; boxes already in place are updated in place.

        A click mostly changes a few numbers of a graph of the same shape (a new ``.grad``,
        "freed"): the boxes, arrows and layout stay and only their texts and colours change.
        The scene is built anew when the boxes' keys, sizes or arrows change, or with
        ``rebuild`` (a new palette or font).
        """
        text_colour = self.palette().windowText().color()
        shown = self.shown
        # Boxes as wide as their name; the line under it wraps instead of shrinking.
        sizes = {node.key: self.box_size(node) for node in shown.nodes}
        structure = (tuple(sizes.items()), shown.edges, text_colour.rgba(),
                     self.font().key())
        if rebuild or structure != self._structure:
            self._build(shown, sizes, text_colour)
            self._structure = structure
        else:
            for node in shown.nodes:
                if self._nodes[node.key] != node:
                    self._update_node(node, text_colour)
        visited = set(self.visited)
        theme = colours()
        for node in shown.nodes:
            box = self.boxes[node.key]
            brush = QBrush(qcolor(theme.node_visited) if node.key in visited
                           else kind_fill(theme, node.kind))
            if box.brush() != brush:
                box.setBrush(brush)
        if self.caption_label.text() != self.caption:
            self.caption_label.setText(self.caption)
        self.drawn.emit()

    def _build(self, shown: GraphSnapshot, sizes: dict[str, tuple[float, float]],
               text_colour: QColor) -> None:
        scene = self.scene()
        scene.clear()
        self.boxes = {}
        self._nodes = {}
        self._texts = {}
        layout = lay_out(shown, sizes, GAP_X, GAP_Y)
        for node in shown.nodes:
            (x, y), (w, h) = layout.centres[node.key], sizes[node.key]
            self._node(scene, node, QRectF(x - w / 2, y - h / 2, w, h), text_colour)
        pen = QPen(text_colour, 1.5)
        for (source, target), points in layout.routes.items():
            # From the bottom of the source's box to the top of the target's.
            first = QPointF(points[0][0], points[0][1] + sizes[source][1] / 2)
            end = QPointF(points[-1][0], points[-1][1] - sizes[target][1] / 2)
            path = QPainterPath(first)
            for x, y in points[1:-1]:
                path.lineTo(x, y)
            path.lineTo(end)
            scene.addPath(path, pen)
            head = scene.addEllipse(end.x() - 4, end.y() - 4, 8, 8, pen, QBrush(text_colour))
            head.setZValue(1)
        self._fit()

    def _node(self, scene: QGraphicsScene, node: GraphNode, rect: QRectF,
              text_colour: QColor) -> None:
        box = scene.addRect(rect, QPen(text_colour, 1.2), QBrush(kind_fill(colours(), node.kind)))
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
        self.boxes[node.key] = box
        self._texts[node.key] = (title, text)
        self._dress(box, node, text_colour)
        self._nodes[node.key] = node

    def _update_node(self, node: GraphNode, text_colour: QColor) -> None:
        """The box of a node with the same key and size, showing ``node`` now."""
        box = self.boxes[node.key]
        title, text = self._texts[node.key]
        if title.text() != node.name:
            title.setText(node.name)
        detail = self.detail(node)
        if text.toPlainText() != detail:
            text.setPlainText(detail)
        self._dress(box, node, text_colour)
        self._nodes[node.key] = node

    @staticmethod
    def _dress(box: QGraphicsRectItem, node: GraphNode, text_colour: QColor) -> None:
        """The border (dashed once freed) and tooltip of a node's box."""
        pen = (QPen(qcolor(colours().freed_border), 1.2, Qt.PenStyle.DashLine) if node.freed
               else QPen(text_colour, 1.2))
        if box.pen() != pen:
            box.setPen(pen)
        tip = node.contents or f"{node.name}\n{node.label}"
        if box.toolTip() != tip:
            box.setToolTip(tip)

    def box_size(self, node: GraphNode) -> tuple[float, float]:
        """As wide as the name (a module's box: its widest line), as tall as the text."""
        key = (node.name, self.detail(node), node.kind, self.font().key())
        size = self._sizes.get(key)
        if size is None:
            if len(self._sizes) >= SIZES_KEPT:
                self._sizes.clear()
            size = self._sizes[key] = self._measure(node)
        return size

    def _measure(self, node: GraphNode) -> tuple[float, float]:
        title = QFontMetricsF(self.title_font())
        text = QFontMetricsF(self.font())
        detail = self.detail(node)
        width = max(NODE_W, 12 + title.horizontalAdvance(node.name))
        if node.kind == "module":
            width = max(width, *(16 + text.horizontalAdvance(line)
                                 for line in detail.splitlines()))
        wrapped = text.boundingRect(QRectF(0, 0, width - 16, 10_000),
                                    Qt.TextFlag.TextWordWrap, detail)
        return width, max(NODE_H, 34 + wrapped.height())

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
            name = node.key.removeprefix("AccumulateGrad:")
            # A tensor's gradient is shown by its norm; the one neuron's numbers as they are.
            shown = f"‖{name}.grad‖" if "." in name else f"{name}.grad"
            detail = f"{shown} = {short(node.grad)}"
        if node.kind == "module" and node.freed:
            return detail + "\n(saved values freed)"
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
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._draw(rebuild=True)  # the boxes and text were drawn in the old look

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
        self.group_box = QCheckBox("One box per module", self)
        self.group_box.setObjectName("graph_group_box")
        self.group_box.setToolTip(
            "Draw the nodes each module recorded (a Linear layer's matrix multiply, its "
            "weight and bias) as one box. Off: every node PyTorch recorded.")
        self.group_box.toggled.connect(self.view.set_grouping)
        self.view.drawn.connect(self._follow_view)
        top = QHBoxLayout()
        top.addWidget(self.view.caption_label, 1)
        top.addWidget(self.group_box, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.view.show_graph(self.view.snapshot)  # "No graph yet", not a blank box

    def _follow_view(self) -> None:
        self.group_box.blockSignals(True)
        self.group_box.setChecked(self.view.grouped)
        self.group_box.setEnabled(bool(self.view.snapshot.modules))
        self.group_box.blockSignals(False)
