"""The five stages drawn as the cycle they are; click a box to run that stage."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui_trainer.core.explanations import Audience, stage_code
from gui_trainer.core.records import StageRecord
from gui_trainer.core.stages import LABELS, STAGE_KEYS, STAGES, Stage
from gui_trainer.core.view_state import SessionView
from gui_trainer.qt.theme import colours, qcolor


def _edge_point(centre: QPointF, towards: QPointF, half: QSizeF) -> QPointF:
    """Where the line from ``centre`` to ``towards`` leaves a box of half-size ``half``."""
    dx, dy = towards.x() - centre.x(), towards.y() - centre.y()
    scale = min(half.width() / abs(dx) if dx else math.inf,
                half.height() / abs(dy) if dy else math.inf)
    return QPointF(centre.x() + dx * scale, centre.y() + dy * scale)


class LoopDiagram(QWidget):
    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loop_diagram")
        self.stage_actions = actions
        self.last: StageRecord | None = None
        self.next: Stage = STAGES[0]
        self.epoch = 0
        self.centre = "epoch 0"
        #: The boxes drawn: the five, and the optional stages while they are on.
        self.stages: tuple[Stage, ...] = STAGES
        self._size = QSizeF(0, 0)
        self.setMinimumSize(200, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setToolTip("Click a stage to run it.")
        #: Whose names the code in the tooltips uses (the seed's distances and times, or not).
        self.reader: Audience = "one_neuron"

    def sizeHint(self) -> QSize:
        return QSize(380, 320)

    def show_state(self, state: SessionView, last: StageRecord | None) -> None:
        self.last, self.next, self.epoch = last, state.next_stage, state.epoch
        self.stages = state.stages_on
        #: "epoch 2" with the full batch; "epoch 2 · step 4 of 7" with mini-batches.
        self.centre = f"epoch {state.epoch}" + (
            f"\nstep {state.iteration} of {state.iterations_per_epoch}"
            if state.iterations_per_epoch > 1 else "")
        self.update()

    def box_size(self) -> QSizeF:
        return QSizeF(min(150.0, self.width() * 0.34), min(54.0, self.height() * 0.18))

    def box_rects(self) -> dict[Stage, QRectF]:
        """The boxes round an ellipse; with more stages on the ring, smaller boxes until no
        two overlap (a few tries, each 10 % smaller)."""
        size = self.box_size()
        rects: dict[Stage, QRectF] = {}
        for _ in range(12):
            rects = self._ring(size)
            boxes = list(rects.values())
            if not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]):
                break
            size = size * 0.9
        self._size = size
        return rects

    def _ring(self, size: QSizeF) -> dict[Stage, QRectF]:
        centre = QPointF(self.width() / 2, self.height() / 2)
        rx = max(10.0, self.width() / 2 - size.width() / 2 - 6)
        ry = max(10.0, self.height() / 2 - size.height() / 2 - 6)
        rects = {}
        stages = self.stages
        for i, stage in enumerate(stages):
            angle = math.radians(-90 + i * 360 / len(stages))
            c = QPointF(centre.x() + rx * math.cos(angle), centre.y() + ry * math.sin(angle))
            rects[stage] = QRectF(c.x() - size.width() / 2, c.y() - size.height() / 2,
                                  size.width(), size.height())
        return rects

    def stage_at(self, pos: QPointF) -> Stage | None:
        return next((s for s, r in self.box_rects().items() if r.contains(pos)), None)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        stage = self.stage_at(event.position())
        if stage is not None and self.stage_actions[stage].isEnabled():
            self.stage_actions[stage].trigger()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        stage = self.stage_at(event.position())
        cursor = Qt.CursorShape.PointingHandCursor if stage else Qt.CursorShape.ArrowCursor
        self.setCursor(cursor)
        if stage is not None:
            self.setToolTip(f"{LABELS[stage]}: {stage_code(stage, self.reader)}")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        rects = self.box_rects()
        half = self._size / 2
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 2))
        stages = self.stages
        for i, stage in enumerate(stages):
            a = rects[stage].center()
            b = rects[stages[(i + 1) % len(stages)]].center()
            self._arrow(painter, _edge_point(a, b, half), _edge_point(b, a, half))
        painter.setPen(text_colour)
        centre_font = QFont(self.font())
        centre_font.setPointSizeF(self.font().pointSizeF() * 1.1)
        painter.setFont(centre_font)
        painter.drawText(QRectF(0, 0, self.width(), self.height()),
                         Qt.AlignmentFlag.AlignCenter, self.centre)
        for stage, rect in rects.items():
            self._box(painter, stage, rect, palette, text_colour)
        painter.end()

    def _box(self, painter: QPainter, stage: Stage, rect: QRectF, palette: QPalette,
             text_colour: QColor) -> None:
        theme = colours()
        fill = palette.color(QPalette.ColorRole.Base)
        border, width = palette.color(QPalette.ColorRole.Mid), 1.5
        if stage == self.next:
            border, width = qcolor(theme.accent), 3.5
        if self.last is not None and stage == self.last.stage:
            ok = self.last.ok
            fill = qcolor(theme.good_fill if ok else theme.bad_fill)
            border, width = qcolor(theme.good if ok else theme.bad), 3.5
        painter.setPen(QPen(border, width))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 8, 8)
        painter.setPen(text_colour)
        bold = QFont(self.font())
        bold.setBold(stage == self.next)
        text = f"{STAGE_KEYS[stage]}. {LABELS[stage]}"
        # A narrow dock: shrink the label to fit its box rather than cut it off.
        room = (rect.width() - 8) / max(1.0, QFontMetricsF(bold).horizontalAdvance(text))
        if room < 1.0:
            bold.setPointSizeF(max(6.0, bold.pointSizeF() * room))
        painter.setFont(bold)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    @staticmethod
    def _arrow(painter: QPainter, start: QPointF, end: QPointF) -> None:
        painter.drawLine(start, end)
        angle = math.atan2(end.y() - start.y(), end.x() - start.x())
        size, spread = 9.0, 0.45
        head = QPolygonF([
            end,
            *(QPointF(end.x() - size * math.cos(angle + side * spread),
                      end.y() - size * math.sin(angle + side * spread)) for side in (-1, 1)),
        ])
        painter.setBrush(painter.pen().color())
        painter.drawPolygon(head)


