"""Render resources/icons/gui-trainer.svg to the PNG sizes desktops and PyInstaller want.

Run after editing the SVG: ``.venv/bin/python packaging/render_icons.py``. The PNGs are
committed so that neither the app nor the bundle build needs an SVG renderer at build time.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(size: int, renderer: QSvgRenderer) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "gui-trainer.svg"))
    if not renderer.isValid():
        print("render_icons: the SVG did not load", file=sys.stderr)
        return 1
    for size in SIZES:
        render(size, renderer).save(str(ICONS / f"gui-trainer-{size}.png"))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
