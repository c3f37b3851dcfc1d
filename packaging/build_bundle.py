"""Build the one-folder PyInstaller bundle from a clean state, pack it, check the budget.

    python packaging/build_bundle.py          (what `make bundle` runs)

Prints the unpacked and packed sizes and exits non-zero above the budget, so a dependency
that suddenly drags in hundreds of megabytes fails the build instead of reaching learners.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
NAME = "gui-trainer"
BUDGET_UNPACKED_MB = 760
BUDGET_ARCHIVE_MB = 250
MB = 1024 * 1024


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
    archive = DIST / f"{NAME}-linux-x86_64.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=NAME)
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
