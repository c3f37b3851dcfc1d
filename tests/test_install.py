"""Installing: which Pythons are accepted, what the lock files hold, what this venv holds."""

from __future__ import annotations

import os
import platform
import re
import shutil
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
FIND_PYTHON = ROOT / "packaging" / "find-python"
LOCKS = ROOT / "requirements"
sys.path.insert(0, str(ROOT / "packaging"))

import build_bundle  # noqa: E402
import setup_venv  # noqa: E402


class Pin:
    """One entry of a lock file: ``name==version ; marker`` and its hashes."""

    def __init__(self, block: str) -> None:
        first = block.split("\\\n")[0].split("#")[0].strip().rstrip("\\").strip()
        requirement = Requirement(first)
        (spec,) = requirement.specifier
        self.name = canonicalize_name(requirement.name)
        self.operator, self.version = spec.operator, spec.version
        self.marker: Marker | None = requirement.marker
        self.hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)

    def applies_here(self) -> bool:
        return self.marker is None or self.marker.evaluate()

    def applies_on(self, system: str, machine: str, python: str) -> bool:
        env = {"sys_platform": system, "platform_machine": machine,
               "platform_system": PLATFORM_SYSTEM[system], "python_full_version": python,
               "python_version": python.rsplit(".", 1)[0]}
        return self.marker is None or self.marker.evaluate(env)


PLATFORM_SYSTEM = {"linux": "Linux", "win32": "Windows", "darwin": "Darwin"}
#: Where learners are: each supported OS and CPU, the oldest and newest supported Python.
PLACES = [(system, machine, python)
          for system, machine in (("linux", "x86_64"), ("linux", "aarch64"),
                                  ("win32", "AMD64"), ("darwin", "arm64"))
          for python in ("3.11.7", "3.14.0")]


def pins(lock: str) -> list[Pin]:
    text = (LOCKS / lock).read_text(encoding="utf-8")
    blocks = [block.strip() for block in re.split(r"\n(?=[^\s#])", text)]
    return [Pin(block) for block in blocks if block and not block.startswith("#")]


# --- which Pythons -------------------------------------------------------------------------


def find_python_range() -> tuple[int, int]:
    text = FIND_PYTHON.read_text(encoding="utf-8")
    low, high = re.search(r"LOW=(\d+)\nHIGH=(\d+)", text).groups()  # type: ignore[union-attr]
    return int(low), int(high)


def test_one_supported_range_everywhere() -> None:
    (_, low), (_, high) = setup_venv.supported_range()  # from pyproject's requires-python
    assert find_python_range() == (low, high)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Python 3.{low} to 3.{high}" in readme


def fake_pythons(folder: Path, minors: dict[str, int]) -> None:
    """Stand-ins that answer find-python's question the way a real interpreter would."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, minor in minors.items():
        path = folder / name
        path.write_text(f"#!/bin/sh\necho {minor}\n", encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run_find_python(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """find-python with a PATH of the stand-ins and the text tools it uses, nothing else."""
    tools = folder.parent / "tools"
    tools.mkdir(exist_ok=True)
    for tool in ("sort", "awk", "head", "tail", "cut", "uname"):
        found = shutil.which(tool)
        assert found, tool
        if not (tools / tool).exists():
            (tools / tool).symlink_to(found)
    env = {"PATH": f"{folder}:{tools}", "HOME": str(folder), "PYENV_ROOT": str(folder)}
    return subprocess.run(["/bin/sh", str(FIND_PYTHON), *args], capture_output=True, text=True,
                          env=env, check=False)


@pytest.fixture
def no_system_python(tmp_path: Path) -> Path:
    """A PATH folder whose stand-ins shadow the machine's own python3."""
    folder = tmp_path / "bin"
    fake_pythons(folder, {"python3": 8, "python": 8})
    return folder


def test_find_python_says_what_it_wants_when_none_fits(no_system_python: Path) -> None:
    fake_pythons(no_system_python, {"python3.10": 10, "python3.15": 15})
    done = run_find_python(no_system_python)
    low, high = find_python_range()
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"gui-trainer needs Python 3.{low} to 3.{high} and found none; name one with "
        "make PYTHON=/path/to/python3.12 (or install one)"
    ]


def test_find_python_takes_the_newest_supported(no_system_python: Path) -> None:
    fake_pythons(no_system_python, {"python3.11": 11, "python3.13": 13, "python3.15": 15})
    done = run_find_python(no_system_python)
    assert done.returncode == 0
    assert done.stdout.strip() == str(no_system_python / "python3.13")


def test_find_python_prefers_the_learners_own_python3(tmp_path: Path) -> None:
    folder = tmp_path / "bin"
    fake_pythons(folder, {"python3": 12, "python3.13": 13})
    assert run_find_python(folder).stdout.strip() == str(folder / "python3")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the CPU lock's Linux wheels")
def test_find_python_for_the_cpu_lock_prefers_a_python_it_holds(tmp_path: Path) -> None:
    """A learner whose python3 is 3.13 gets 3.11 for the CPU build on Linux (the lock holds
    its wheel), and their own python3 when nothing the lock holds is installed."""
    folder = tmp_path / "bin"
    fake_pythons(folder, {"python3": 13, "python3.11": 11})
    assert run_find_python(folder, "--cpu-lock").stdout.strip() == str(folder / "python3.11")
    assert run_find_python(folder).stdout.strip() == str(folder / "python3")
    alone = tmp_path / "alone"
    fake_pythons(alone, {"python3": 13})
    assert run_find_python(alone, "--cpu-lock").stdout.strip() == str(alone / "python3")


def test_find_python_all_lists_each_version_once_oldest_first(no_system_python: Path) -> None:
    fake_pythons(no_system_python, {"python3.13": 13, "python3.11": 11, "python3.12": 12})
    # pyenv's copy of 3.12 (PYENV_ROOT is the same folder) is the same version: listed once.
    fake_pythons(no_system_python / "versions" / "3.12.1" / "bin", {"python3": 12})
    lines = run_find_python(no_system_python, "--all").stdout.splitlines()
    assert lines == [f"3.11 {no_system_python / 'python3.11'}",
                     f"3.12 {no_system_python / 'python3.12'}",
                     f"3.13 {no_system_python / 'python3.13'}"]


def test_setup_refuses_an_unsupported_python(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 10, 9, "final", 0))
    assert setup_venv.main(["--venv", str(tmp_path / "venv")]) == 1
    assert "needs Python 3.11 to 3.14" in capsys.readouterr().err
    assert not (tmp_path / "venv").exists()  # nothing was made


def test_setup_rebuilds_whenever_the_venv_would_not_match_the_lock() -> None:
    wanted = {"python": "3.13", "torch": "cpu", "inputs": "new", "project": "p"}
    assert setup_venv.what_to_do(wanted, wanted, True, True) == "nothing"
    assert setup_venv.what_to_do({**wanted, "inputs": "old"}, wanted, True, True) == "rebuild"
    assert setup_venv.what_to_do({**wanted, "python": "3.11"}, wanted, True, True) == "rebuild"
    assert setup_venv.what_to_do({**wanted, "torch": "cuda"}, wanted, True, True) == "rebuild"
    assert setup_venv.what_to_do({}, wanted, True, True) == "rebuild"  # made some other way
    assert setup_venv.what_to_do(wanted, wanted, True, False) == "rebuild"  # python removed
    assert setup_venv.what_to_do({}, wanted, False, False) == "install"  # new
    # Only pyproject.toml changed (a new entry point, say): reinstall the checkout alone.
    assert setup_venv.what_to_do({**wanted, "project": "q"}, wanted, True, True) == "project"
    assert setup_venv.what_to_do({**wanted, "project": "q", "inputs": "old"}, wanted,
                                 True, True) == "rebuild"


def test_setup_never_deletes_a_folder_that_is_not_a_venv(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """make VENV=. must not wipe the checkout: only a folder with pyvenv.cfg is rebuilt."""
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine", encoding="utf-8")
    assert setup_venv.main(["--venv", str(precious)]) == 1
    assert "is not a virtual environment" in capsys.readouterr().err
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_make_skips_a_venv_python_that_does_not_run(tmp_path: Path) -> None:
    """A venv whose base Python was removed leaves a dangling bin/python: make must not pick
    it to run the set-up (find-python's choice is used instead)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(tmp_path / "gone" / "python3")
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "--no-print-directory",
                             f"VENV={venv}", "print-setup-python"],
                            capture_output=True, text=True, check=True)
    chosen = result.stdout.strip()
    assert chosen and "venv/bin/python" not in chosen


def test_the_record_changes_with_the_locks_python_and_variant() -> None:
    cpu, cuda = setup_venv.wanted_stamp("cpu"), setup_venv.wanted_stamp("cuda")
    assert cpu["inputs"] != cuda["inputs"] and (cpu["torch"], cuda["torch"]) == ("cpu", "cuda")
    assert cpu["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"


# --- what the locks hold -------------------------------------------------------------------

ALL_LOCKS = ("cpu.lock", "torch-cpu.lock", "cuda.lock")


@pytest.mark.parametrize("lock", ALL_LOCKS)
def test_every_entry_is_an_exact_version_with_hashes(lock: str) -> None:
    entries = pins(lock)
    assert entries
    for pin in entries:
        assert pin.operator == "==", pin.name
        assert pin.hashes, f"{pin.name} {pin.version} has no hash in {lock}"


def test_the_cpu_variant_holds_no_cuda() -> None:
    names = {pin.name for lock in ("cpu.lock", "torch-cpu.lock") for pin in pins(lock)}
    assert not {n for n in names if n.startswith(("nvidia", "cuda", "triton"))}
    torch = pins("torch-cpu.lock")
    assert all(pin.name == "torch" for pin in torch)
    for place in PLACES:
        (version,) = [pin.version for pin in torch if pin.applies_on(*place)]
        # PyPI's torch is the CPU build except on Linux, where "+cpu" is PyTorch's CPU build.
        assert version == ("2.13.0+cpu" if place[0] == "linux" else "2.13.0"), place


def test_the_cuda_variant_holds_torchs_nvidia_libraries_on_linux_only() -> None:
    nvidia = [pin for pin in pins("cuda.lock") if pin.name.startswith("nvidia")]
    assert len(nvidia) >= 10
    for place in PLACES:
        here = [pin for pin in nvidia if pin.applies_on(*place)]
        assert bool(here) == (place[0] == "linux"), place
    assert [pin.version for pin in pins("cuda.lock") if pin.name == "torch"] == ["2.13.0"]


@pytest.mark.parametrize("variant", ["cpu", "cuda"])
def test_every_place_gets_one_version_of_each_package(variant: str) -> None:
    locked = [pin for lock in setup_venv.lock_files(variant) for pin in pins(lock.name)]
    for place in PLACES:
        names = [pin.name for pin in locked if pin.applies_on(*place)]
        assert len(names) == len(set(names)), place
        assert {"torch", "pyside6-essentials", "numpy", "pytest"} <= set(names), place


@pytest.mark.parametrize("variant", ["cpu", "cuda"])
def test_the_locks_satisfy_the_projects_own_requirements(variant: str) -> None:
    locked = [pin for lock in setup_venv.lock_files(variant) for pin in pins(lock.name)]
    wanted = [Requirement(line) for line in metadata.requires("gui-trainer") or []]
    dev = (LOCKS / "dev.in").read_text(encoding="utf-8").splitlines()
    wanted += [Requirement(line) for line in dev if line and not line.startswith("#")]
    for requirement in wanted:
        versions = [p.version for p in locked if p.name == canonicalize_name(requirement.name)]
        assert versions, f"{requirement.name} is not in the {variant} lock"
        for version in versions:
            assert requirement.specifier.contains(Version(version), prereleases=True), (
                f"{requirement} but the {variant} lock has {version}")


def installed_variant() -> str:
    stamp = setup_venv.read_stamp(Path(sys.prefix))
    if not stamp:
        pytest.skip("this interpreter's environment was not made by packaging/setup_venv.py")
    return stamp["torch"]


def test_everything_installed_here_is_locked_at_that_version() -> None:
    variant = installed_variant()
    locked = {
        pin.name: pin.version
        for lock in setup_venv.lock_files(variant) for pin in pins(lock.name)
        if pin.applies_here()
    }
    made_by_venv = {"pip"}  # the venv's own installer, not the project's
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in made_by_venv or name == "gui-trainer":
            continue
        assert locked.get(name) == dist.version, f"{name} {dist.version} is not locked so"
    installed = {canonicalize_name(d.metadata["Name"]) for d in metadata.distributions()}
    missing = set(locked) - installed
    assert not missing, f"locked but not installed: {sorted(missing)}"


# --- the bundle names its platform ---------------------------------------------------------


def test_bundle_names_say_which_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert build_bundle.platform_tag() == "macos-arm64"
    assert build_bundle.executable(Path("b")) == Path("b/gui-trainer")
    monkeypatch.setattr(platform, "machine", lambda: "AMD64")
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    monkeypatch.setattr(sys, "platform", "win32")
    assert build_bundle.platform_tag() == "windows-amd64"
    assert build_bundle.executable(Path("b")) == Path("b/gui-trainer.exe")


def test_make_names_no_fixed_interpreter() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "python3.11" not in makefile
    assert os.access(FIND_PYTHON, os.X_OK)
