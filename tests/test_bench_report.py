"""``make bench``'s README section: written from its own JSON, and only from it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # the harness puts benchmarks/ first, for its own imports
    return module


def test_the_readme_shows_the_figures_of_the_last_run(bench: ModuleType) -> None:
    """The section between the markers is what ``render`` makes of results.json: no figure
    in it was typed or edited by hand."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(bench.BEGIN)[1].split(bench.END)[0].strip()
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    assert shown == bench.render(results).strip()


def test_counts_are_said_in_the_singular_and_the_plural(bench: ModuleType) -> None:
    assert bench.count(1, "growth") == "1 growth"
    assert bench.count(31, "growth") == "31 growths"
    assert bench.count(1_200, "growth") == "1,200 growths"


def test_render_says_why_it_cannot_and_leaves_the_readme(
        bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.BEGIN}\nold\n{bench.END}\n", encoding="utf-8")
    results = tmp_path / "results.json"
    monkeypatch.setattr(bench, "README", readme)
    monkeypatch.setattr(bench, "RESULTS", results)
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    for broken in (None, "{not json", '{"machine": "x"}'):  # missing, corrupt, incomplete
        if broken is not None:
            results.write_text(broken, encoding="utf-8")
        assert bench.render_again() == 1
        assert "cannot render results.json" in capsys.readouterr().err
        assert readme.read_text(encoding="utf-8").endswith(f"{bench.BEGIN}\nold\n{bench.END}\n")
