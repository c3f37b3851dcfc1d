"""Run scripts as a learner would: plain Python in a fresh process (torch imported once)."""

from __future__ import annotations

import json
import subprocess
import sys

#: Each script runs in a namespace of its own, as ``python script.py`` would run it.
DRIVER = """
import contextlib, io, json, sys
outputs = []
for script in json.load(sys.stdin):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(script, "<script>", "exec"), {"__name__": "__main__"})
    outputs.append(buffer.getvalue())
print(json.dumps(outputs))
"""


def run_scripts(scripts: list[str]) -> list[str]:
    """What each script printed; fails the test if one raises."""
    result = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(scripts),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    outputs: list[str] = json.loads(result.stdout.splitlines()[-1])
    return outputs


def printed_weights(output: str) -> tuple[float, float]:
    """The listing ends with print("weight:", w, "bias:", b)."""
    words = output.split()
    assert words[0] == "weight:" and words[2] == "bias:", output
    return float(words[1]), float(words[3])
