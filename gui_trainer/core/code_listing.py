"""The training script the simulator runs, as a learner would write it, with live values.

The listing is a complete program: copied whole and run by plain Python (with only torch
installed) it trains the same model from the same seed for the epochs done so far and prints
weights equal, bit for bit, to the session's — as long as the run kept one set of settings in
guided loop order. When it did not, the script says so in a comment at the top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from torch import nn

from gui_trainer.core import optimizers, schedulers
from gui_trainer.core.data_code import data_lines
from gui_trainer.core.formatting import short
from gui_trainer.core.records import StageRecord
from gui_trainer.core.schedulers import every_step
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import CODE, STAGES, Stage
from gui_trainer.core.train_modes import stochastic


@dataclass(frozen=True)
class CodeListing:
    lines: tuple[str, ...]
    #: Line index (0-based) of each stage's call inside the loop.
    stage_lines: dict[Stage, int]
    #: Live values shown beside a line, by line index.
    notes: dict[int, str]
    highlighted: int | None
    #: Running the script reproduces the session's weights exactly.
    reproducible: bool

    def text(self) -> str:
        """The script with the live values as comments: valid Python, ready to run."""
        width = max(len(line) for line in self.lines) + 2
        rows = [
            (line.ljust(width) + f"# {self.notes[i]}") if i in self.notes else line
            for i, line in enumerate(self.lines)
        ]
        return "\n".join(rows) + "\n"


def _values(values: tuple[float, ...] | None, limit: int = 8) -> str:
    if values is None:
        return "None"
    shown = ", ".join(short(v, 4) for v in values[:limit])
    return "[" + shown + (f", … {len(values)} numbers]" if len(values) > limit else "]")


def stage_note(record: StageRecord) -> str:
    """What the line just did, in numbers."""
    if record.ok and record.stage in OPTIONAL_NOTES:
        return OPTIONAL_NOTES[record.stage](record)
    if not record.ok:
        return "error: " + (record.error or record.explanation).splitlines()[0][:60]
    after = record.after
    if not after.one_neuron:
        return _tensor_note(record)
    grads = f"weight.grad = {short(after.weight_grad)}, bias.grad = {short(after.bias_grad)}"
    return {
        "zero_grad": grads,
        "forward": f"outputs = {_values(record.outputs)}",
        "loss": f"loss = {short(record.loss)}",
        "backward": grads,
        "step": f"weight = {short(after.weight)}, bias = {short(after.bias)}",
    }[record.stage]


OPTIONAL_NOTES = {
    "clip": lambda r: f"total norm {short(r.clip_total_norm)} before clipping",
    "evaluate": lambda r: f"val_loss = {short(r.val_loss)}" + (
        "" if r.val_accuracy is None else f", accuracy {r.val_accuracy:.0%}"),
    "schedule": lambda r: f"lr {short(r.lr_before)} → {short(r.optimizer_lr)}",
}


def _tensor_note(record: StageRecord) -> str:
    after = record.after
    norms = [t.grad_norm for t in after.tensors]
    grads = ("every .grad is None" if all(n is None for n in norms) else
             "grad norm " + ", ".join(f"{t.name} {short(t.grad_norm)}" for t in after.tensors[:3])
             + ("…" if len(after.tensors) > 3 else ""))
    accuracy = "" if record.accuracy is None else f", accuracy {record.accuracy:.0%}"
    return {
        "zero_grad": grads,
        "forward": f"outputs = {_values(record.outputs, 4)}",
        "loss": f"loss = {short(record.loss)}{accuracy}",
        "backward": grads,
        "step": "|Δp|/|p| " + ", ".join(
            f"{name} {short(ratio)}" for name, ratio in
            list(record.before.update_ratios(after).items())[:3]),
    }[record.stage]


def model_lines(model: nn.Module) -> list[str]:
    """The model as built, written as ``nn.Sequential(...)`` code a learner can copy."""
    layers = []
    for layer in model.children():
        if isinstance(layer, nn.Linear):
            layers.append(f"nn.Linear({layer.in_features}, {layer.out_features})")
        elif isinstance(layer, nn.BatchNorm1d):
            layers.append(f"nn.BatchNorm1d({layer.num_features})")
        elif isinstance(layer, nn.Dropout):
            layers.append(f"nn.Dropout({layer.p!r})")
        else:
            layers.append(f"nn.{type(layer).__name__}()")
    if len(layers) == 1:
        return [f"model = nn.Sequential({layers[0]})"]
    return ["model = nn.Sequential(", *(f"    {layer}," for layer in layers), ")"]


def evaluate_lines(model_eval: bool, no_grad: bool) -> list[str]:
    """The evaluation block; without ``model.eval()`` or ``torch.no_grad()`` when an
    experiment turned one off (a comment says so)."""
    measure = "val_loss = loss_function(model(val_inputs), val_targets)"
    lines = (["model.eval()  # dropout off, BatchNorm on its running averages"] if model_eval
             else ["# no model.eval(): dropout and BatchNorm stay in train mode"])
    lines += (["with torch.no_grad():  # no graph: nothing to backward", "    " + measure]
              if no_grad else
              [measure + "  # no torch.no_grad(): autograd records a graph"])
    return lines + (["model.train()"] if model_eval else [])


def scored(outputs: str, softmax: bool) -> str:
    """What the loss is computed on: the outputs, or (the mistake) their softmax."""
    return f"torch.softmax({outputs}, dim=1)" if softmax else outputs


def eval_lines(model: nn.Module | bool, lines: list[str]) -> list[str]:
    """``lines`` that measure, in eval mode when the model has dropout or BatchNorm (as the
    app measures: without it they would draw masks and move the running averages)."""
    if not (model if isinstance(model, bool) else stochastic(model)):
        return lines
    return ["model.eval()  # measure: dropout off, BatchNorm on its running averages",
            *lines, "model.train()"]


#: Settings whose change after the first step makes a run differ from one loop written once
#: (switching the optimizer, even back and forth, starts its state afresh).
LOOP_SETTINGS = frozenset({"lr", "optimizer_name", "optimizer", "micro_batches", "batch_size",
                           "shuffle", "drop_last", "clip_max_norm", "scheduler",
                           "evaluate_model_eval", "evaluate_no_grad", "softmax_before_loss"})


def reproducible(session: TrainingSession) -> bool:
    """Every step of this run had today's settings, in guided loop order."""
    timeline = session.timeline
    first_step = timeline.first_step_from(timeline.run_start(), session.position)
    if first_step is None:
        return True
    changed = LOOP_SETTINGS.intersection(timeline.settings_changed(first_step, session.position))
    return (not changed and not session.history.column("free_mode").any()
            and not session.off_script)


def import_lines(data: list[str]) -> list[str]:
    """The script's imports: torch, and NumPy if the data lines use it."""
    return [*(["import numpy as np"] if any("np." in line for line in data) else []),
            "import torch", "from torch import nn", ""]


def setup_lines(session: TrainingSession, data: list[str]) -> list[str]:
    """The data, the seed, the model as built, and the loss function."""
    seed = f"torch.manual_seed({session.seed})  # the app's seed: the same starting weights"
    lines = [seed, *data] if session.one_neuron else [*data, "", seed]
    loss = "nn.MSELoss()" if session.scenario.task == "regression" else "nn.CrossEntropyLoss()"
    return [*lines, *model_lines(session.model), f"loss_function = {loss}"]


def data_names(data: list[str]) -> tuple[str, str]:
    """What the data lines call the inputs and targets (the seed's are its own words)."""
    return (("distances", "times") if any(line.startswith("distances =") for line in data)
            else ("inputs", "targets"))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def uses_loader(session: TrainingSession) -> bool:
    """Whether the loop is written with a DataLoader: mini-batches or shuffling, or an
    optional stage (clipping, a scheduler, evaluation), which real loops write that way."""
    settings = session.settings
    return (settings.batch_size is not None or settings.shuffle or session.has_validation
            or settings.clip_max_norm is not None or settings.scheduler is not None)


def loader_lines(session: TrainingSession, names: tuple[str, str]) -> list[str]:
    """The DataLoader as the session builds it, its generator seeded as the app's."""
    settings = session.settings
    inputs, targets = names
    size = settings.batch_size or len(session.inputs)
    extra = (", shuffle=True" if settings.shuffle else "") + (
        ", drop_last=True" if settings.drop_last else "")
    return ["loader = DataLoader(TensorDataset(" + inputs + ", " + targets + "), "
            f"batch_size={size}{extra},",
            f"                    generator=torch.Generator().manual_seed({session.seed}))"]


def _place(lines: list[str], at: dict[Stage, int], indent: str,
           stages: list[tuple[Stage, str]]) -> None:
    """Append each stage's line, noting where it is."""
    for stage, code in stages:
        at[stage] = len(lines)
        lines.append(indent + code)


def _loader_loop(session: TrainingSession, zero_grad: str, names: tuple[str, str]
                 ) -> tuple[list[str], dict[Stage, int], int]:
    """``for x, y in loader:`` stopped after the app's number of steps: the lines, where each
    stage is, and the line that counts the steps."""
    out = scored("outputs", session.settings.softmax_before_loss)
    parts = session.micro_batches
    epoch_batches = len(session.epoch_batches)
    steps = session.steps
    lines = [f"num_steps = {steps}  # the steps done in the app so far "
             f"({plural(session.epoch, 'epoch')} of "
             f"{plural(session.iterations_per_epoch, 'step')}"
             + (f", then {steps - session.epoch * session.iterations_per_epoch})"
                if steps != session.epoch * session.iterations_per_epoch else ")"),
             "step = 0", "",
             "while step < num_steps:  # one pass over the loader per epoch"]
    count_line = len(lines) - 1
    at: dict[Stage, int] = {}
    settings = session.settings
    scheduler = settings.scheduler_name
    watch_train = scheduler == "ReduceLROnPlateau" and not session.has_validation
    before_step: list[tuple[Stage | None, str]] = []
    if settings.clip_max_norm is not None:
        before_step.append(("clip", "torch.nn.utils.clip_grad_norm_(model.parameters(), "
                                    f"max_norm={settings.clip_max_norm!r})"))
    if watch_train:
        measure = eval_lines(session.model, [
            "with torch.no_grad():  # what ReduceLROnPlateau watches",
            f"    watched = loss_function(model({names[0]}), {names[1]}).item()"])
        before_step += [(None, line) for line in measure]
    after_step: list[tuple[Stage | None, str]] = []
    if every_step(scheduler):
        after_step.append(("schedule", "scheduler.step()"))
    finish = ["        step += 1", "        if step == num_steps:", "            break"]

    def place(indent: str, items: list[tuple[Stage | None, str]]) -> None:
        for stage, code in items:
            if stage is not None:
                at[stage] = len(lines)
            lines.append(indent + code)

    def epoch_end() -> None:
        """What runs once an epoch is complete: evaluation, an epoch's scheduler step."""
        block: list[tuple[Stage | None, str]] = []
        if session.has_validation:
            evaluation = evaluate_lines(settings.evaluate_model_eval, settings.evaluate_no_grad)
            measured = next(i for i, line in enumerate(evaluation)
                            if "no_grad" in line or "val_loss" in line)
            block += [("evaluate" if i == measured else None, line)
                      for i, line in enumerate(evaluation)]
        if scheduler is not None and not every_step(scheduler):
            metric = ("val_loss.item()" if session.has_validation else "watched") \
                if scheduler == "ReduceLROnPlateau" else ""
            block.append(("schedule", f"scheduler.step({metric})"))
        if block:
            lines.append("    else:  # the loop was not stopped: the epoch is complete")
            place("        ", block)

    if parts == 1 or epoch_batches == 1:
        lines.append("    for x, y in loader:")
        at["zero_grad"] = len(lines)
        lines.append("        " + zero_grad)
        if parts == 1:
            _place(lines, at, "        ", [("forward", "outputs = model(x)"),
                                            ("loss", f"loss = loss_function({out}, y)"),
                                            ("backward", "loss.backward()")])
        else:
            size = len(session.epoch_batches[0]) // parts
            lines.append(f"        for start in range(0, len(x), {size}):"
                         f"  # {parts} micro-batches of {size}")
            _place(lines, at, "            ", [
                ("forward", f"outputs = model(x[start:start + {size}])"),
                ("loss", f"loss = loss_function({out}, y[start:start + {size}]) / {parts}"),
                ("backward", "loss.backward()")])
        place("        ", before_step)
        at["step"] = len(lines)
        lines.append("        optimizer.step()")
        place("        ", after_step)
        lines += finish
        epoch_end()
        return lines, at, count_line
    lines.append(f"    for i, (x, y) in enumerate(loader):  # a step every {parts} batches")
    lines.append(f"        if i % {parts} == 0:")
    at["zero_grad"] = len(lines)
    lines.append("            " + zero_grad)
    _place(lines, at, "        ", [("forward", "outputs = model(x)"),
                                    ("loss", f"loss = loss_function({out}, y) / {parts}"),
                                    ("backward", "loss.backward()")])
    lines.append(f"        if (i + 1) % {parts} == 0:")
    place("            ", before_step)
    at["step"] = len(lines)
    lines.append("            optimizer.step()")
    place("            ", after_step)
    lines += ["    " + line for line in finish]
    epoch_end()
    return lines, at, count_line


def code_listing(session: TrainingSession, latest: Mapping[Stage, StageRecord],
                 last: Stage | None) -> CodeListing:
    """The script, with each stage's line annotated by the latest time it ran."""
    zero_grad = CODE["zero_grad"] if session.set_to_none else \
        "optimizer.zero_grad(set_to_none=False)"
    exact = reproducible(session)
    data = data_lines(session.scenario)
    head = import_lines(data)
    if not exact:
        head += [
            "# This run changed its settings or ran stages out of order on the way, so this",
            "# script (today's settings, in loop order) will not end at the app's weights.",
            "",
        ]
    names = data_names(data)
    head += [
        *setup_lines(session, data),
        "optimizer = " + optimizers.code(session.settings.optimizer_name,
                                         session.settings.optimizer_options, repr(session.lr)),
    ]
    if uses_loader(session):
        head.insert(head.index("from torch import nn") + 1,
                    "from torch.utils.data import DataLoader, TensorDataset")
        scheduler = session.settings.scheduler
        lines = [*head, *([schedulers.code(*scheduler)] if scheduler else []),
                 *loader_lines(session, names), ""]
        loop, at, count_line = _loader_loop(session, zero_grad, names)
        stage_lines = {stage: len(lines) + line for stage, line in at.items()}
        epoch_line = len(lines) + count_line
        lines += loop
        return _finish(session, lines, stage_lines, epoch_line, latest, last, exact)
    head += [
        f"num_epochs = {session.epoch}  # the epochs done in the app so far",
        "",
        "for epoch in range(num_epochs):",
    ]
    lines = list(head)
    epoch_line = len(lines) - 1
    stage_lines = {}
    parts = session.micro_batches
    size = len(session.inputs) // parts
    for stage in STAGES:
        if stage == "forward" and parts > 1:
            lines.append(f"    for start in range(0, {len(session.inputs)}, {size}):"
                         f"  # {parts} micro-batches of {size}")
        indent = "        " if parts > 1 and stage in ("forward", "loss", "backward") else "    "
        stage_lines[stage] = len(lines)
        lines.append(indent + _stage_code(stage, zero_grad, parts, size, names,
                                          session.settings.softmax_before_loss))
    return _finish(session, lines, stage_lines, epoch_line, latest, last, exact)


def _finish(session: TrainingSession, lines: list[str], stage_lines: dict[Stage, int],
            epoch_line: int, latest: Mapping[Stage, StageRecord], last: Stage | None,
            exact: bool) -> CodeListing:
    """The closing print, and the notes of the latest records beside their lines."""
    if session.one_neuron:
        lines += ["", 'print("weight:", model[0].weight.item(), "bias:", model[0].bias.item())']
    else:
        lines += ["", *eval_lines(session.model, [
            "with torch.no_grad():",
            '    print("loss over all the data:", loss_function(model(inputs), targets).item())'])]
    notes = {epoch_line: f"epoch = {session.epoch}" + (
        f", step {session.iteration} of {session.iterations_per_epoch} next"
        if session.iterations_per_epoch > 1 else "")}
    for stage, record in latest.items():
        if stage in stage_lines:  # an optional stage run while it was off has no line
            notes[stage_lines[stage]] = stage_note(record)
    highlighted = stage_lines.get(last) if last is not None else None
    return CodeListing(tuple(lines), stage_lines, notes, highlighted, exact)


def _stage_code(stage: Stage, zero_grad: str, parts: int, size: int,
                names: tuple[str, str], softmax: bool = False) -> str:
    if stage == "zero_grad":
        return zero_grad
    if stage not in ("forward", "loss"):
        return CODE[stage]
    inputs, targets = names
    chunk = "" if parts == 1 else f"[start:start + {size}]"
    if stage == "forward":
        return f"outputs = model({inputs}{chunk})"
    scale = "" if parts == 1 else f" / {parts}"
    return f"loss = loss_function({scored('outputs', softmax)}, {targets}{chunk}){scale}"
