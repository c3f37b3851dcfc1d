"""The training script the simulator runs, as a learner would write it, with live values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gui_trainer.core.formatting import short
from gui_trainer.core.records import StageRecord
from gui_trainer.core.stages import CODE, STAGES, Stage

OPTIMIZER_CODE = {"sgd": "torch.optim.SGD", "adam": "torch.optim.Adam"}


@dataclass(frozen=True)
class CodeListing:
    lines: tuple[str, ...]
    #: Line index (0-based) of each stage's call inside the loop.
    stage_lines: dict[Stage, int]
    #: Live values shown beside a line, by line index.
    notes: dict[int, str]
    highlighted: int | None


def _values(values: tuple[float, ...] | None) -> str:
    return "None" if values is None else "[" + ", ".join(short(v, 4) for v in values) + "]"


def stage_note(record: StageRecord) -> str:
    """What the line just did, in numbers."""
    if not record.ok:
        return "error: " + (record.error or record.explanation).splitlines()[0][:60]
    after = record.after
    grads = f"weight.grad = {short(after.weight_grad)}, bias.grad = {short(after.bias_grad)}"
    return {
        "zero_grad": grads,
        "forward": f"outputs = {_values(record.outputs)}",
        "loss": f"loss = {short(record.loss)}",
        "backward": grads,
        "step": f"weight = {short(after.weight)}, bias = {short(after.bias)}",
    }[record.stage]


def code_listing(
    inputs: tuple[float, ...],
    targets: tuple[float, ...],
    lr: float,
    optimizer: str,
    set_to_none: bool,
    epoch: int,
    latest: Mapping[Stage, StageRecord],
    last: Stage | None,
) -> CodeListing:
    """The script, with each stage's line annotated by the latest time it ran."""
    zero_grad = CODE["zero_grad"] if set_to_none else "optimizer.zero_grad(set_to_none=False)"
    head = [
        "import torch",
        "from torch import nn",
        "",
        f"distances = torch.tensor([{', '.join(f'[{short(x)}]' for x in inputs)}])",
        f"times = torch.tensor([{', '.join(f'[{short(y)}]' for y in targets)}])",
        "model = nn.Sequential(nn.Linear(1, 1))",
        "loss_function = nn.MSELoss()",
        f"optimizer = {OPTIMIZER_CODE[optimizer]}(model.parameters(), lr={short(lr)})",
        "",
        "for epoch in range(num_epochs):",
    ]
    lines = list(head)
    stage_lines: dict[Stage, int] = {}
    for stage in STAGES:
        stage_lines[stage] = len(lines)
        lines.append("    " + (zero_grad if stage == "zero_grad" else CODE[stage]))
    notes = {len(head) - 1: f"epoch = {epoch}"}
    for stage, record in latest.items():
        notes[stage_lines[stage]] = stage_note(record)
    highlighted = None if last is None else stage_lines[last]
    return CodeListing(tuple(lines), stage_lines, notes, highlighted)
