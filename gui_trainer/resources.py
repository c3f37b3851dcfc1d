"""Find the files the app reads at run time, wherever it runs from.

One lookup for three layouts: a PyInstaller bundle (``sys._MEIPASS/resources``), an installed
wheel (``gui_trainer/resources``, put there by the wheel build), and a source checkout
(``resources/`` beside the package).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def candidate_dirs() -> list[Path]:
    dirs = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.append(Path(bundle) / "resources")
    dirs.append(PACKAGE_DIR / "resources")
    dirs.append(PACKAGE_DIR.parent / "resources")
    return dirs


@cache
def resource_dir() -> Path:
    for directory in candidate_dirs():
        if (directory / "explanations").is_dir():
            return directory
    searched = ", ".join(str(d) for d in candidate_dirs())
    raise FileNotFoundError(f"gui_trainer's resources are missing (looked in {searched})")


def resource_path(*parts: str) -> Path:
    """The path of a resource file, e.g. ``resource_path("icons", "gui-trainer.svg")``."""
    path = resource_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource not found: {path}")
    return path
