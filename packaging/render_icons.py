"""Render resources/icons/gui-trainer.svg to the PNG sizes desktops and PyInstaller want.

Run after editing the SVG: ``.venv/bin/python packaging/render_icons.py``. The PNGs and the
Windows ``.ico`` are committed so that neither the app nor the bundle build needs an SVG
renderer (or Pillow, which PyInstaller would want to convert a PNG) at build time.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
#: The sizes Windows picks from in an .ico (256 is the largest the format holds).
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, b"PNG")
    return bytes(buffer.data().data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .ico holding PNG images (the format Windows reads since Vista): a 6-byte header,
    one 16-byte directory entry per image, then the images; 256 is written as 0."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, data in sorted(pngs.items()):
        side = size % 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


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
    pngs = {}
    for size in SIZES:
        pngs[size] = png_bytes(render(size, renderer))
        (ICONS / f"gui-trainer-{size}.png").write_bytes(pngs[size])
    ico = ico_bytes({size: pngs[size] for size in ICO_SIZES})
    (ICONS / "gui-trainer.ico").write_bytes(ico)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
