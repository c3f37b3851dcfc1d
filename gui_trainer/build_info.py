"""What a copy of gui-trainer runs on, for ``--version`` and bug reports.

Read without importing torch or Qt, so ``--version`` answers at once, and true of a bundle
too: there ``sys.frozen`` is set and the interpreter is the one PyInstaller packed.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from gui_trainer import __version__

#: Friendlier names for what ``platform.system()`` reports.
SYSTEM_NAMES = {"Darwin": "macOS"}


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def how_installed() -> str:
    return "PyInstaller bundle" if getattr(sys, "frozen", False) else "from source"


def platform_name() -> str:
    """``Linux x86_64``, ``Windows AMD64``, ``macOS arm64``: the OS and CPU it runs on."""
    system = platform.system() or sys.platform
    return f"{SYSTEM_NAMES.get(system, system)} {platform.machine() or 'unknown CPU'}"


def version_text() -> str:
    """Two lines: the program's version, then what this copy runs on."""
    python = platform.python_version()
    return (
        f"gui-trainer {__version__}\n"
        f"{how_installed()}: {platform_name()}, Python {python}, "
        f"torch {package_version('torch')}, PySide6 {package_version('PySide6-Essentials')}"
    )
