"""Build the one-folder PyInstaller bundle from a clean state, pack it, check the budget.

    python packaging/build_bundle.py          (what `make bundle` runs)

Prints the unpacked and packed sizes and exits non-zero above the budget, so a dependency
that suddenly drags in hundreds of megabytes fails the build instead of reaching learners.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
NAME = "gui-trainer"
BUDGET_UNPACKED_MB = 760
BUDGET_ARCHIVE_MB = 250
MB = 1024 * 1024


def platform_tag() -> str:
    """``linux-x86_64``, ``windows-amd64``, ``macos-arm64``: where a bundle runs (it runs only
    on the OS and CPU it was built on)."""
    system = {"darwin": "macos"}.get(sys.platform, platform.system().lower() or sys.platform)
    return f"{system}-{platform.machine().lower()}"


def executable(bundle: Path) -> Path:
    return bundle / (f"{NAME}.exe" if sys.platform == "win32" else NAME)


def pack(bundle: Path) -> Path:
    """A .zip on Windows (what its Explorer opens), a .tar.gz elsewhere (keeps exec bits)."""
    fmt = "zip" if sys.platform == "win32" else "gztar"
    base = DIST / f"{NAME}-{platform_tag()}"
    return Path(shutil.make_archive(str(base), fmt, root_dir=DIST, base_dir=bundle.name))


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main() -> int:
    started = time.monotonic()
    for folder in (DIST, BUILD):
        shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(DIST), "--workpath", str(BUILD),
         str(ROOT / "packaging" / "gui_trainer.spec")],
        check=True, cwd=ROOT,
    )
    bundle = DIST / NAME
    archive = pack(bundle)
    unpacked, packed = folder_size(bundle), archive.stat().st_size
    print(f"bundle:  {bundle.relative_to(ROOT)}  {unpacked / MB:.0f} MB unpacked "
          f"(budget {BUDGET_UNPACKED_MB} MB)")
    print(f"archive: {archive.relative_to(ROOT)}  {packed / MB:.0f} MB "
          f"(budget {BUDGET_ARCHIVE_MB} MB)")
    print(f"built in {time.monotonic() - started:.0f} s")
    over = []
    if unpacked > BUDGET_UNPACKED_MB * MB:
        over.append(f"unpacked {unpacked / MB:.0f} MB > {BUDGET_UNPACKED_MB} MB")
    if packed > BUDGET_ARCHIVE_MB * MB:
        over.append(f"archive {packed / MB:.0f} MB > {BUDGET_ARCHIVE_MB} MB")
    if over:
        print("bundle: OVER BUDGET: " + "; ".join(over), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
