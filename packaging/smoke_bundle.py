"""Run the built bundle with --smoke offscreen; fail on a non-zero exit or a timeout.

    python packaging/smoke_bundle.py [PATH/TO/gui-trainer]
    python packaging/smoke_bundle.py --build-if-missing     (what `make bundle-test` runs)

Without a path it tests dist/'s bundle for this platform; with ``--build-if-missing`` it
builds that first when there is none. The bundle's ``--version`` must name this platform.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from build_bundle import DIST, NAME, executable

from gui_trainer.build_info import platform_name

TIMEOUT_S = 300


def main(argv: list[str]) -> int:
    args = argv[1:]
    build = "--build-if-missing" in args
    paths = [a for a in args if a != "--build-if-missing"]
    if len(paths) > 1:
        print("usage: smoke_bundle.py [--build-if-missing] [PATH/TO/gui-trainer]",
              file=sys.stderr)
        return 2
    exe = Path(paths[0]) if paths else executable(DIST / NAME)
    if build and not exe.exists():
        built = subprocess.run([sys.executable, str(Path(__file__).with_name("build_bundle.py"))])
        if built.returncode != 0:
            return built.returncode
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        done = subprocess.run([str(exe), "--smoke"], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"bundle-test: FAILED: no answer within {TIMEOUT_S} s", file=sys.stderr)
        return 1
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "smoke: ok" not in done.stdout or version.returncode != 0:
        print(f"bundle-test: FAILED (exit {done.returncode})", file=sys.stderr)
        return 1
    says = " ".join(version.stdout.split())
    expected = f"PyInstaller bundle: {platform_name()}, Python "
    if expected not in says or "unknown" in says:
        print(f"bundle-test: FAILED: --version says {says!r}, not {expected!r}", file=sys.stderr)
        return 1
    print(f"bundle-test: ok ({says})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
