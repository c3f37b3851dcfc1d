"""Run the built bundle with --smoke offscreen; fail on a non-zero exit or a timeout.

    python packaging/smoke_bundle.py dist/gui-trainer/gui-trainer   (what `make bundle-test` runs)
"""

from __future__ import annotations

import os
import subprocess
import sys

TIMEOUT_S = 300


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: smoke_bundle.py PATH/TO/gui-trainer", file=sys.stderr)
        return 2
    exe = argv[1]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        done = subprocess.run([exe, "--smoke"], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"bundle-test: FAILED: no answer within {TIMEOUT_S} s", file=sys.stderr)
        return 1
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "smoke: ok" not in done.stdout or version.returncode != 0:
        print(f"bundle-test: FAILED (exit {done.returncode})", file=sys.stderr)
        return 1
    print(f"bundle-test: ok ({version.stdout.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
