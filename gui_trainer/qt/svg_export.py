"""pyqtgraph's SVG exporter, taught to read the paths this Qt writes.

Qt 6.11 ends a closed path with a separate ``Z`` command; pyqtgraph's coordinate fix-up
splits every token of a path at a comma and fails on it (pyqtgraph issue #3485, open at
0.14.0). The fix-up is wrapped: the ``Z`` tokens are taken out before it runs and put
back, in their places, after. Everything else is pyqtgraph's own (cosmetic pens, which a
plain QSvgGenerator turns into lines pixels wide). ``tests/qt/test_exports.py`` exports a
plot and has Qt draw the SVG back.
"""

from __future__ import annotations

import sys
from typing import Any
from xml.dom.minidom import Element

import pyqtgraph.exporters as pg_exporters

_MODULE = sys.modules[pg_exporters.SVGExporter.__module__]
_ORIGINAL = getattr(_MODULE, "correctCoordinates")  # noqa: B009 - not in its stubs


def _take_out_closes(node: Element) -> list[tuple[Element, list[int]]]:
    """Remove the ``Z`` tokens of every path under ``node``; where each was, by token."""
    closes = []
    for path in node.getElementsByTagName("path"):
        kept: list[str] = []
        marks: list[int] = []
        for token in path.getAttribute("d").split():
            if token in ("Z", "z"):
                marks.append(len(kept))
            else:
                kept.append(token)
        if marks:
            path.setAttribute("d", " ".join(kept))
            closes.append((path, marks))
    return closes


def _correct_coordinates(node: Element, defs: Any, item: Any, options: Any) -> None:
    closes = _take_out_closes(node)
    _ORIGINAL(node, defs, item, options)
    for path, marks in closes:
        tokens = path.getAttribute("d").split()
        for offset, at in enumerate(marks):
            tokens.insert(at + offset, "Z")
        path.setAttribute("d", " ".join(tokens))


def svg_bytes(scene: Any) -> bytes:
    """The scene as an SVG document, by pyqtgraph's exporter (cosmetic pens kept thin)."""
    setattr(_MODULE, "correctCoordinates", _correct_coordinates)  # noqa: B010
    try:
        data = pg_exporters.SVGExporter(scene).export(toBytes=True)
    finally:
        setattr(_MODULE, "correctCoordinates", _ORIGINAL)  # noqa: B010
    return bytes(data)
