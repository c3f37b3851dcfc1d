"""The bundle's trimming rules (packaging/trim.py) keep what the app needs."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "packaging"))

from trim import keep_entry


def test_drops_what_the_app_never_loads() -> None:
    for dest in ("torch/test/test_nn.py", "torch/bin/protoc", "torch/lib/libc10_test.so",
                 "PySide6/Qt/translations/qt_de.qm", "libxcb-cursor.so.0", "libX11.so.6",
                 "PySide6/Qt/plugins/imageformats/libqjpeg.so",
                 "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
                 # The same on Windows and macOS.
                 "torch\\lib\\c10_test.dll", "PySide6\\plugins\\imageformats\\qjpeg.dll",
                 "PySide6/Qt/plugins/imageformats/libqjpeg.dylib"):
        assert not keep_entry(dest), dest


def test_keeps_what_torch_and_qt_need() -> None:
    for dest in ("torch/bin/torch_shm_manager", "torch/lib/libtorch_cpu.so",
                 "torch/_dynamo/eval_frame.py", "torch/_inductor/config.py",
                 "torch/distributed/__init__.py", "PySide6/Qt/plugins/platforms/libqxcb.so",
                 "PySide6/Qt/plugins/platforms/libqoffscreen.so",
                 "PySide6/Qt/plugins/imageformats/libqsvg.so", "PySide6/Qt/lib/libQt6XcbQpa.so.6",
                 "resources/explanations/step.md", "libpython3.11.so.1.0",
                 # The same on Windows and macOS.
                 "PySide6\\plugins\\imageformats\\qsvg.dll", "torch\\lib\\torch_cpu.dll",
                 "PySide6/Qt/plugins/imageformats/libqsvg.dylib", "python313.dll"):
        assert keep_entry(dest), dest
