import os
import platform
import subprocess
import sys
from importlib import metadata

from gui_trainer import __version__


def test_version_says_what_it_runs_on() -> None:
    out = subprocess.run([sys.executable, "-m", "gui_trainer", "--version"],
                         capture_output=True, text=True, check=True)
    first, second = out.stdout.strip().splitlines()
    assert first == f"gui-trainer {__version__}"
    python = ".".join(map(str, sys.version_info[:3]))
    assert second.startswith(f"from source: {platform.system()} {platform.machine()}, ")
    assert f"Python {python}, torch {metadata.version('torch')}, " in second
    assert second.endswith(f"PySide6 {metadata.version('PySide6-Essentials')}")


def test_smoke_exits_zero_offscreen() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-m", "gui_trainer", "--smoke"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "smoke: ok" in out.stdout


def test_no_display_prints_a_hint_instead_of_aborting() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "gui_trainer"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert "no display" in out.stderr and "QT_QPA_PLATFORM=offscreen" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
