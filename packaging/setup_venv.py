"""Create or refresh the project's virtual environment from the lock files.

    python packaging/setup_venv.py --venv .venv --torch cpu   (what every make target runs first)

Every package comes from ``requirements/<torch>.lock`` (exact versions and hashes, nothing
resolved at install time), then the checkout is installed editable. The venv is rebuilt from
scratch when its Python, its torch variant or the locks differ from what it was made with, so
it always holds exactly the locked set; when nothing changed it returns at once.

Variants (``--torch``):

* ``cpu`` (the default): PyTorch's CPU build. On Linux it comes from PyTorch's CPU package index
  (``--cpu-index``), installed on its own with ``requirements/torch-cpu.lock``; elsewhere PyPI's
  torch is already the CPU build.
* ``cuda``: PyPI's torch, which on Linux is the CUDA build with its NVIDIA libraries (GBs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
VARIANTS = ("cpu", "cuda")
STAMP = ".gui-trainer-installed.json"


def supported_range() -> tuple[tuple[int, int], tuple[int, int]]:
    """(lowest, highest) supported Python minor versions, from pyproject's requires-python."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'requires-python = ">=3\.(\d+),<3\.(\d+)"', text)
    if not found:
        raise SystemExit("setup_venv: pyproject.toml has no requires-python of the form >=3.X,<3.Y")
    return (3, int(found.group(1))), (3, int(found.group(2)) - 1)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def base_interpreter() -> str:
    """The interpreter venvs are made from: the base one even when this runs inside a venv."""
    return getattr(sys, "_base_executable", None) or sys.executable


def lock_files(torch: str) -> list[Path]:
    """The locks a variant installs, in order. The CPU build's torch is a lock of its own."""
    if torch == "cuda":
        return [REQUIREMENTS / "cuda.lock"]
    return [REQUIREMENTS / "cpu.lock", REQUIREMENTS / "torch-cpu.lock"]


def wanted_stamp(torch: str) -> dict[str, str]:
    digest = hashlib.sha256()
    for path in lock_files(torch):
        digest.update(path.read_bytes())
    return {
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "torch": torch,
        "inputs": digest.hexdigest(),
        # The checkout's own metadata (entry points, version): a change reinstalls only it.
        "project": hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest(),
    }


def read_stamp(venv: Path) -> dict[str, str]:
    try:
        data = json.loads((venv / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pip(venv: Path, *args: str) -> None:
    subprocess.run(
        [str(venv_python(venv)), "-m", "pip", "--disable-pip-version-check", *args], check=True
    )


def reachable(url: str, timeout_s: float = 10.0) -> bool:
    """Whether a package index answers at all (pip would retry a dead one for minutes)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def install(venv: Path, torch: str, cpu_index: str) -> None:
    """Every locked package, without resolving anything (``--no-deps``), then the checkout."""
    first, *rest = lock_files(torch)
    pip(venv, "install", "--quiet", "--require-hashes", "--no-deps", "-r", str(first))
    for lock in rest:  # the CPU build of torch, from PyTorch's index where there is one
        index = []
        if cpu_index and reachable(cpu_index):
            index = ["--extra-index-url", cpu_index]
        elif cpu_index:
            print(f"setup: {cpu_index} is out of reach; torch from pip's other sources")
        pip(venv, "install", "--quiet", "--require-hashes", "--no-deps", "--retries", "1",
            "--timeout", "20", *index, "-r", str(lock))
    install_project(venv)


def install_project(venv: Path) -> None:
    pip(venv, "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(ROOT))
    # Proof that the lock is complete: every installed package's dependencies are installed.
    pip(venv, "check")


def is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def what_to_do(have: dict[str, str], wanted: dict[str, str], venv_exists: bool,
               python_exists: bool) -> str:
    """"nothing" when the venv holds exactly the wanted set; "install" when there is no venv;
    "project" when only pyproject.toml changed (reinstall the checkout alone); else "rebuild":
    another Python, torch variant or lock (pip would leave packages a new lock dropped), or no
    record of what it holds (a venv made some other way)."""
    if have == wanted and python_exists:
        return "nothing"
    if not venv_exists:
        return "install"
    same_packages = {k: v for k, v in have.items() if k != "project"} == {
        k: v for k, v in wanted.items() if k != "project"}
    return "project" if same_packages and python_exists else "rebuild"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    parser.add_argument("--torch", choices=VARIANTS, default="cpu")
    parser.add_argument("--cpu-index", default="", help="PyTorch's CPU package index ('' for none)")
    args = parser.parse_args(argv)
    low, high = supported_range()
    here = sys.version_info[:2]
    if not low <= here <= high:
        print(f"gui-trainer needs Python {low[0]}.{low[1]} to {high[0]}.{high[1]}; "
              f"{sys.executable} is {here[0]}.{here[1]} (make PYTHON=/path/to/python3.12)",
              file=sys.stderr)
        return 1
    venv: Path = args.venv
    wanted = wanted_stamp(args.torch)
    have = read_stamp(venv)
    action = what_to_do(have, wanted, venv.exists(), venv_python(venv).exists())
    if action == "nothing":
        return 0
    if action == "project":
        install_project(venv)
        (venv / STAMP).write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
        return 0
    if action == "rebuild":
        if not is_venv(venv):
            print(f"setup: {venv} exists and is not a virtual environment (no pyvenv.cfg); "
                  "it is left alone. Choose another VENV= or move it away.", file=sys.stderr)
            return 1
        if Path(sys.prefix).resolve() == venv.resolve():
            # Running from the venv about to be deleted (Windows cannot delete a running
            # python.exe): hand over to the base interpreter.
            return subprocess.run([base_interpreter(), __file__, *(argv or sys.argv[1:])],
                                  check=False).returncode
        print(f"setup: rebuilding {venv} (Python {wanted['python']}, torch {args.torch}, "
              "the lock files as they are now)")
        shutil.rmtree(venv)
    if not venv_python(venv).exists():
        subprocess.run([base_interpreter(), "-m", "venv", str(venv)], check=True)
    try:
        install(venv, args.torch, args.cpu_index)
    except subprocess.CalledProcessError:
        (venv / STAMP).unlink(missing_ok=True)
        hint = ""
        if args.torch == "cpu" and sys.platform.startswith("linux"):
            hint = (" On Linux the CPU build of torch comes from TORCH_CPU_INDEX; where that is"
                    " out of reach, make TORCH=cuda takes PyPI's CUDA build (several GB).")
        print(f"setup: installing {venv} from the lock failed (see above).{hint}",
              file=sys.stderr)
        return 1
    (venv / STAMP).write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
