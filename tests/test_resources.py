"""One resource lookup works from the source tree and from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gui_trainer import resources
from gui_trainer.core.stages import STAGES

ROOT = Path(__file__).resolve().parent.parent


def test_lookup_from_the_source_tree() -> None:
    assert resources.resource_dir() == ROOT / "resources"
    for stage in STAGES:
        assert resources.resource_path("explanations", f"{stage}.md").is_file()
    assert resources.resource_path("icons", "gui-trainer.svg").is_file()


def test_missing_resource_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="resource not found"):
        resources.resource_path("icons", "nope.png")


def test_lookup_from_an_installed_wheel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(wheels.glob("gui_trainer-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "gui_trainer/resources/explanations/backward.md" in names
    assert "gui_trainer/resources/icons/gui-trainer-256.png" in names
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True,
    )
    code = (
        "import gui_trainer, gui_trainer.resources as r;"
        "from gui_trainer.core.explanations import explanation;"
        "print(gui_trainer.__file__); print(r.resource_dir()); print(explanation('step').title)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, check=True).stdout.splitlines()
    assert Path(out[0]).is_relative_to(site)
    assert Path(out[1]) == site / "gui_trainer" / "resources"
    assert out[2].startswith("Step")
