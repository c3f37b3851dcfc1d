"""Run scripts as a learner would: plain Python in a fresh process (torch imported once)."""

from __future__ import annotations

import json
import subprocess
import sys

#: Each script runs in a namespace of its own, as ``python script.py`` would run it.
DRIVER = """
import contextlib, io, json, sys
outputs = []
request = json.load(sys.stdin)
for script in request["scripts"]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        namespace = {"__name__": "__main__"}
        exec(compile(script, "<script>", "exec"), namespace)
    outputs.append(buffer.getvalue())
    model = namespace.get("model")
    if request["parameters"] and model is not None:  # every parameter, exactly
        outputs[-1] += json.dumps({n: p.detach().flatten().tolist()
                                   for n, p in model.named_parameters()})
    if request["state"]:  # what the script leaves behind, exactly
        import torch
        dump = lambda t: None if t is None else torch.as_tensor(t).detach().flatten().tolist()
        optimizer = namespace["optimizer"]
        outputs[-1] += "\\nSTATE " + json.dumps({
            "params": {n: dump(p) for n, p in model.named_parameters()},
            "grads": {n: dump(p.grad) for n, p in model.named_parameters()},
            "buffers": {n: dump(b) for n, b in model.named_buffers()},
            "training": model.training,
            "loss": dump(namespace.get("loss")), "outputs": dump(namespace.get("outputs")),
            "optimizer": {str(k): {key: dump(v) for key, v in state.items()}
                          for k, state in optimizer.state_dict()["state"].items()},
            "lr": [group["lr"] for group in optimizer.param_groups]})
print(json.dumps(outputs))
"""


def run_scripts(scripts: list[str], *, parameters: bool = False,
                state: bool = False) -> list[str]:
    """What each script printed; fails the test if one raises.

    With ``parameters``, each output ends with the script's ``model`` parameters as JSON
    (see :func:`printed_parameters`); with ``state``, with a line ``STATE {...}``: its
    parameters, grads, ``loss``, ``outputs`` and optimizer state (see :func:`left_state`).
    """
    request = json.dumps({"scripts": scripts, "parameters": parameters, "state": state})
    result = subprocess.run([sys.executable, "-c", DRIVER], input=request,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    outputs: list[str] = json.loads(result.stdout.splitlines()[-1])
    return outputs


def printed_weights(output: str) -> tuple[float, float]:
    """The listing ends with print("weight:", w, "bias:", b)."""
    words = output.split()
    assert words[0] == "weight:" and words[2] == "bias:", output
    return float(words[1]), float(words[3])


def printed_parameters(output: str) -> dict[str, list[float]]:
    """Every parameter the script's ``model`` ended with, by name (the driver appends them)."""
    parameters: dict[str, list[float]] = json.loads(output[output.index("{"):])
    return parameters


def left_state(output: str) -> dict[str, object]:
    """The ``STATE`` line a script's output ends with (see :func:`run_scripts`)."""
    line = output.rstrip().splitlines()[-1]
    assert line.startswith("STATE "), output[-500:]
    state: dict[str, object] = json.loads(line[len("STATE "):])
    return state
