"""Which collected files the bundle leaves out: things the app never loads.

Measured on this project (see the README's bundle section):
- safe to drop: torch's ``test/`` folder, torch's ``bin/`` except ``torch_shm_manager``
  (``import torch`` fails without it), ``torch/lib/*_test.so``, Qt translations (the app is
  English only), the Qt plugins for image formats and services the app never uses, and the
  GTK platform theme (the app styles itself with Fusion), and the X11/xcb/GL/font
  libraries every desktop has (see HOST_LIBRARY_PREFIXES);
- harmful to drop: ``torch._dynamo`` / ``torch._inductor`` (Adam imports them lazily) and
  ``torch.distributed`` (``import torch`` needs it) — these stay.
"""

from __future__ import annotations

from pathlib import PurePosixPath as Path

#: Libraries every Linux desktop provides, in versions that must match its X server and
#: graphics driver. PyInstaller collects them when the build machine happens to have them,
#: which would make the bundle depend on where it was built; the host's copies are used
#: instead (the README lists the packages for a bare machine).
HOST_LIBRARY_PREFIXES = (
    "libX11", "libXau", "libXdmcp", "libXext", "libXrender", "libxcb", "libxkbcommon",
    "libfontconfig", "libfreetype", "libGL", "libEGL", "libOpenGL", "libdbus-1",
)

UNUSED_QT_PLUGIN_DIRS = ("imageformats", "tls", "networkinformation", "qmltooling",
                         "sqldrivers", "multimedia", "position", "sensors", "webview")


def keep_entry(dest: str) -> bool:
    """True if the bundle should contain the file that lands at ``dest``."""
    parts = Path(dest.replace("\\", "/")).parts
    name = parts[-1] if parts else ""
    if parts[:2] == ("torch", "test"):
        return False
    if parts[:2] == ("torch", "bin") and name != "torch_shm_manager":
        return False
    if parts[:2] == ("torch", "lib") and Path(name).stem.endswith("_test"):
        return False
    if "translations" in parts and any(p.startswith("PySide6") for p in parts):
        return False
    if len(parts) == 1 and name.startswith(HOST_LIBRARY_PREFIXES):
        return False
    if name == "libqgtk3.so":  # GTK platform theme: needs GTK, and the app uses Fusion
        return False
    if "plugins" in parts:
        index = parts.index("plugins")
        if len(parts) > index + 1 and parts[index + 1] in UNUSED_QT_PLUGIN_DIRS:
            # Keep SVG (the icon): libqsvg.so on Linux, libqsvg.dylib on macOS, qsvg.dll.
            return name.removeprefix("lib").startswith("qsvg")
    return True
