"""One-click experiments: the classic order mistakes, run for real in free mode.

Each experiment restarts from the starting weights (an undoable action: the earlier run stays
on the loss plot) and then runs a fixed sequence of stages. The sequence is the experiment;
the words say what to watch for while it runs, and what it showed is measured from the run's
own records, so it holds whatever optimizer, learning rate or micro-batches are chosen.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gui_trainer.core.formatting import short
from gui_trainer.core.optimizers import ADAPTIVE, TORCH_CLASS
from gui_trainer.core.records import ParamValues, StageRecord
from gui_trainer.core.scenarios import SCENARIOS, Scenario
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import Stage

LOOP_WITHOUT_ZERO_GRAD: tuple[Stage, ...] = ("forward", "loss", "backward", "step")


@dataclass(frozen=True)
class Experiment:
    key: str
    title: str
    #: Shown when it starts: what is about to happen and what to watch.
    intro: str
    stages: tuple[Stage, ...]
    #: Why the order matters, said only after the whole experiment ran; what it *showed* in
    #: this run is measured from its records by :func:`findings`.
    moral: str
    #: The intro for a model with layers, where it differs (no single weight.grad to watch).
    network_intro: str = ""
    #: Settings the experiment needs, (name, value) as ``change_setting`` takes them: applied
    #: after its Restart, each an undoable action like any other change. A value may be a
    #: function of the session (a batch size that suits its data).
    settings: tuple[tuple[str, Any], ...] = ()
    #: What the experiment needs of the data and the model (a validation split, dropout,
    #: BatchNorm, classes), as a function from the scenario open to the one to run it on:
    #: the same scenario when it fits (see :func:`scenario_for`). None: any scenario.
    needs: Callable[[Scenario], Scenario] | None = None

    def intro_for(self, one_neuron: bool) -> str:
        return self.intro if one_neuron or not self.network_intro else self.network_intro


#: The dropout the evaluation experiment adds when the model has none: high, so the noise
#: of a forgotten ``model.eval()`` is plain to see.
EXPERIMENT_DROPOUT = 0.5


def _validation_and_dropout(scenario: Scenario) -> Scenario:
    """a validation split and dropout"""
    base = scenario if (scenario.data.val_inputs is not None
                        and scenario.model_spec.hidden_layers > 0) else SCENARIOS["overfit"]
    if base.model_spec.dropout > 0:
        return base
    return base.with_model(replace(base.model_spec, dropout=EXPERIMENT_DROPOUT))


def _validation(scenario: Scenario) -> Scenario:
    """a validation split"""
    return scenario if scenario.data.val_inputs is not None else SCENARIOS["overfit"]


def _classes(scenario: Scenario) -> Scenario:
    """classes to tell apart (a classifier's CrossEntropyLoss)"""
    return scenario if scenario.task == "classification" else SCENARIOS["moons"]


def _batch_norm(scenario: Scenario) -> Scenario:
    """BatchNorm in the model"""
    base = scenario if scenario.model_spec.hidden_layers > 0 else SCENARIOS["curve"]
    if base.model_spec.batch_norm:
        return base
    return base.with_model(replace(base.model_spec, batch_norm=True))


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        "skip_zero_grad",
        "Skip Zero Grad for several epochs",
        "One Zero Grad, then six loops without it. Watch weight.grad: each backward adds its "
        "fresh gradient to the old sum (the table compares the two).",
        ("zero_grad", *LOOP_WITHOUT_ZERO_GRAD * 6),
        "Without Zero Grad, Step follows the running sum of every gradient since the last "
        "clear, not the gradient of the current weights. That is why each loop starts with it.",
        "One Zero Grad, then six loops without it. Watch the gradient panel: each backward adds "
        "its fresh gradients to the old sums in every layer (the table compares their sizes).",
    ),
    Experiment(
        "skip_backward",
        "Skip Backward",
        "Three loops of Zero Grad, Forward, Loss, Step, with no Backward. Watch .grad and the "
        "weights.",
        ("zero_grad", "forward", "loss", "step") * 3,
        "Step only follows what is in .grad, and only Backward puts it there.",
    ),
    Experiment(
        "skip_step",
        "Skip Step",
        "Three loops of Zero Grad, Forward, Loss, Backward, with no Step. Watch the gradients "
        "and the weights.",
        ("zero_grad", "forward", "loss", "backward") * 3,
        "Backward only computes gradients; Step is the one call that changes the weights.",
    ),
    Experiment(
        "backward_twice",
        "Backward twice on one graph",
        "One loop, with a second Backward straight after the first.",
        ("zero_grad", "forward", "loss", "backward", "backward"),
        "Each Backward needs a graph of its own: a new Forward and Loss record one.",
    ),
    Experiment(
        "zero_grad_before_step",
        "Zero Grad between Backward and Step",
        "One loop, with Zero Grad moved to just before Step.",
        ("zero_grad", "forward", "loss", "backward", "zero_grad", "step"),
        "Zero Grad belongs at the start of the loop, before Backward, never between Backward "
        "and Step.",
    ),
    Experiment(
        "momentum_after_zero_grad",
        "Momentum keeps moving after Zero Grad",
        "SGD with momentum 0.9, and Zero Grad filling .grad with zeros. Two ordinary loops "
        "build up the momentum buffer; then one Zero Grad and three Steps on zero gradients. "
        "Watch the weights, and the Optimizer state dock's carried-over term.",
        ("zero_grad", "forward", "loss", "backward", "step") * 2 + ("zero_grad", "step",
                                                                     "step", "step"),
        "zero_grad clears .grad, not the optimizer's state: the momentum buffer (Adam's running "
        "averages too) keeps moving the weights, shrinking by the momentum factor each step. "
        "Only a new optimizer starts from rest.",
        settings=(("optimizer", ("sgd", {"momentum": 0.9})), ("set_to_none", False)),
    ),
    Experiment(
        "schedule_before_step",
        "scheduler.step() before optimizer.step()",
        "StepLR halving the rate at every call, and Schedule moved before Step in three loops. "
        "Watch the learning rate each Step uses, and PyTorch's warning.",
        ("zero_grad", "forward", "loss", "backward", "schedule", "step") * 3,
        "The scheduler sets the rate for the steps after it: called first, it skips the "
        "schedule's first value, and every step runs one value ahead. Call it after "
        "optimizer.step().",
        settings=(("scheduler", ("StepLR", {"step_size": 1, "gamma": 0.5})),),
    ),
    Experiment(
        "clip_after_step",
        "Clip after Step",
        "Clipping at a tiny max_norm, but Clip moved after Step in two loops. Watch the "
        "gradients' size when Step reads them, and after Clip.",
        ("zero_grad", "forward", "loss", "backward", "step", "clip") * 2,
        "Step reads .grad when it runs; clipping afterwards changes gradients nobody uses (the "
        "next Zero Grad clears them). Clip belongs between Backward and Step.",
        settings=(("clip_max_norm", 0.01),),
    ),
    Experiment(
        "sorted_small_batches",
        "Unshuffled data sorted by target, in small batches",
        "The data in its stored order (sorted by target), no shuffle, an eighth of it per "
        "batch: eight steps, each on a slice of similar targets. Watch the fit panel's ring "
        "walk along the data, and the loss over all the rows.",
        ("zero_grad", "forward", "loss", "backward", "step") * 8,
        "A sorted batch measures only its own slice of the data, so its loss and gradient can "
        "be far from the whole data set's, and the next slice pulls another way. "
        "shuffle=True gives every batch a mix of the data, so each step's gradient is an "
        "honest sample of the whole.",
        settings=(("micro_batches", 1), ("shuffle", False),
                  ("batch_size", lambda session: max(1, len(session.inputs) // 8))),
    ),
    Experiment(
        "eval_without_model_eval",
        "Evaluate without model.eval()",
        "A model with dropout and a validation split. Two ordinary loops, then Evaluate four "
        "times on the same weights, with model.eval() left out. Watch the validation loss on "
        "the loss plot.",
        ("zero_grad", "forward", "loss", "backward", "step") * 2 + ("evaluate",) * 4,
        "model.eval() switches dropout off (and BatchNorm to its running averages): without "
        "it an evaluation measures the model with random units missing, a different number "
        "every time, and never the model you will use. Call model.eval() before measuring "
        "and model.train() after.",
        settings=(("evaluate_model_eval", False), ("evaluate_no_grad", True)),
        needs=_validation_and_dropout,
    ),
    Experiment(
        "eval_without_no_grad",
        "Evaluate without torch.no_grad()",
        "One ordinary loop, then Evaluate twice with torch.no_grad() left out. Watch what "
        "Evaluate says autograd recorded (the loss's grad_fn and the graph's size) and the "
        "Worked math panel.",
        ("zero_grad", "forward", "loss", "backward", "step", "evaluate", "evaluate"),
        "Without torch.no_grad() autograd records a graph for every operation, keeping the "
        "tensors backward would need, for a loss nobody backpropagates: time and memory for "
        "nothing (on a large model, often an out-of-memory error). The numbers are the same.",
        settings=(("evaluate_model_eval", True), ("evaluate_no_grad", False)),
        needs=_validation,
    ),
    Experiment(
        "softmax_before_cross_entropy",
        "Softmax before CrossEntropyLoss",
        "Eight loops where Loss is CrossEntropyLoss(softmax(outputs), targets). Watch the "
        "loss, and what Loss says the same outputs' real cross-entropy is.",
        ("zero_grad", "forward", "loss", "backward", "step") * 8,
        "CrossEntropyLoss expects logits: it applies log-softmax itself. Given probabilities "
        "it softmaxes numbers between 0 and 1, which can differ by at most 1, so the loss can "
        "never get near 0 and its gradients shrink: the model learns slowly, and the loss "
        "printed is not the real one. Feed the raw outputs to the loss.",
        settings=(("micro_batches", 1), ("softmax_before_loss", True)),
        needs=_classes,
    ),
    Experiment(
        "batch_of_one_batch_norm",
        "A batch of one through BatchNorm",
        "A model with BatchNorm, and the loader giving one row per batch. One Zero Grad and "
        "one Forward in train mode. Watch what PyTorch says.",
        ("zero_grad", "forward"),
        "In train mode BatchNorm standardises each unit by the batch's own mean and spread, "
        "and one row has no spread. Use batches of two rows or more (drop_last=True if only "
        "the last batch is short); in eval mode the running averages stand in, so a single "
        "row is fine there.",
        settings=(("micro_batches", 1), ("batch_size", 1)),
        needs=_batch_norm,
    ),
)

BY_KEY = {experiment.key: experiment for experiment in EXPERIMENTS}


def scenario_for(experiment: Experiment, scenario: Scenario) -> Scenario:
    """The scenario to run ``experiment`` on: ``scenario`` itself when it has what the
    experiment needs, else the nearest one that does (the window opens it; Back returns)."""
    return scenario if experiment.needs is None else experiment.needs(scenario)


def _fits(experiment: Experiment, session: TrainingSession) -> None:
    needed = scenario_for(experiment, session.scenario)
    if needed is not session.scenario:
        raise ValueError(f"“{experiment.title}” needs {getattr(experiment.needs, '__doc__', '')}"
                         f": open {needed.title} ({needed.model_spec.describe()}) first")


def start_experiment(session: TrainingSession, experiment: Experiment) -> None:
    """Restart from the starting weights in free mode (both undoable), naming the new run.

    Raises ValueError, changing nothing, if the session lacks what the experiment needs.
    """
    _fits(experiment, session)
    session.reset(note=experiment.title)
    session.mode = "free"
    for name, value in settings_for(experiment, session):
        session.change_setting(name, value)


def settings_for(experiment: Experiment, session: TrainingSession) -> list[tuple[str, Any]]:
    """The experiment's settings with their values for this session (a batch size that
    suits its data)."""
    return [(name, value(session) if callable(value) else value)
            for name, value in experiment.settings]


def run_experiment(session: TrainingSession, experiment: Experiment) -> list[StageRecord]:
    """Run the whole experiment at once (the window runs it stage by stage instead)."""
    start_experiment(session, experiment)
    return [session.run(stage) for stage in experiment.stages]


def findings(experiment: Experiment, records: Sequence[StageRecord]) -> str:
    """What this run of ``experiment`` showed, measured from its records (any settings).

    Every sentence is computed from the numbers PyTorch produced, so it stays true with Adam,
    another learning rate or micro-batches. The moral is added only when every stage ran.
    """
    if not records:
        return "No stage ran, so there is nothing to report."
    one = records[0].before.one_neuron
    measured = (_MEASURES if one else _NETWORK_MEASURES)[experiment.key](list(records))
    if len(records) < len(experiment.stages):
        return (f"Only {len(records)} of {len(experiment.stages)} stages ran. "
                f"What they showed: {measured}")
    return f"{measured} {experiment.moral}"


def _schedule_before_step(records: list[StageRecord]) -> str:
    """The rate each Step used against the rate set, and PyTorch's warning."""
    steps = [r for r in records if r.stage == "step" and r.ok]
    if not steps:
        return "No Step ran yet."
    set_rate = records[0].lr  # before any scheduler call: the rate the learner set
    used = ", ".join(short(r.lr) for r in steps)
    text = f"The rate was set to {short(set_rate)}; the Steps used {used}"
    text += (": the first Step already ran at the schedule's second value." if steps[0].lr !=
             set_rate else ", the first at the set rate.")
    warned = next((w for r in records if r.stage == "schedule" for w in r.warnings), None)
    if warned is not None:
        text += f" PyTorch said so: {warned.split('. ')[0].split(': ', 1)[-1]}."
    return text


def _clip_after_step(records: list[StageRecord]) -> str:
    """The gradients' size when Step read them, and what Clip did after."""
    pairs = [(step, clip) for step, clip in itertools.pairwise(records)
             if step.stage == "step" and step.ok and clip.stage == "clip" and clip.ok]
    if not pairs:
        return "No Clip ran after a Step yet."
    step, clip = pairs[-1]
    used = grad_size(step.before)
    after = grad_size(clip.after)
    return (f"Step read gradients of total size {short(used)}; Clip then found "
            f"{short(clip.clip_total_norm)} and scaled them down to {short(after)} "
            f"(max_norm {short(clip.clip_max_norm)}), after the weights had already moved by "
            f"the unclipped ones.")


def _sorted_small_batches(records: list[StageRecord]) -> str:
    """How alike each batch's targets were, and how the loss over all the rows went."""
    steps = [r for r in records if r.stage == "step" and r.ok]
    if not steps:
        return "No Step ran yet."
    forwards = [r for r in records if r.stage == "forward" and r.ok]
    if records[0].task == "classification":
        single = sum(1 for r in forwards if len(set(r.targets)) == 1)
        kind = f"{single} of {len(forwards)} batches held a single class"
    else:
        spans = [max(r.targets) - min(r.targets) for r in forwards]
        everything = max(max(r.targets) for r in forwards) - min(min(r.targets) for r in forwards)
        kind = (f"each batch's targets spanned at most {short(max(spans))} of the data's "
                f"{short(everything)}")
    losses = [r.full_batch_loss for r in steps if r.full_batch_loss is not None]
    rises = sum(1 for a, b in itertools.pairwise(losses) if b > a)
    batch = [r.loss for r in records if r.stage == "loss" and r.ok and r.loss is not None]
    text = f"The batches came in the stored order: {kind}."
    if batch and losses:
        text += (f" The batches' own losses ran from {short(min(batch))} to "
                 f"{short(max(batch))} while the loss over all the rows was between "
                 f"{short(min(losses))} and {short(max(losses))}")
        text += (f", and it rose between {rises} of {len(losses) - 1} pairs of steps."
                 if len(losses) > 1 else ".")
    return text


def _eval_without_model_eval(records: list[StageRecord]) -> str:
    """The validation losses of the same weights, against a correct Evaluate's."""
    evaluations = [r for r in records if r.stage == "evaluate" and r.ok]
    if not evaluations:
        return "No Evaluate ran yet."
    losses = [r.val_loss for r in evaluations if r.val_loss is not None]
    reference = evaluations[0].val_loss_reference
    text = (f"On the same weights, {len(losses)} Evaluates without model.eval() measured "
            + ", ".join(short(v) for v in losses)
            + f": {len(set(losses))} different number{'s' if len(set(losses)) != 1 else ''}"
            + (", a new dropout mask each time." if len(set(losses)) > 1 else "."))
    if reference is not None:
        text += (f" With model.eval() the same weights measured {short(reference)} (before "
                 "the first of them).")
    moved = _buffers_moved(evaluations)
    if moved:
        text += (f" BatchNorm's running averages moved during the evaluations too "
                 f"({moved}): the validation rows leaked into the model's state.")
    return text


def _buffers_moved(records: list[StageRecord]) -> str:
    """How BatchNorm's batch counts went across ``records`` ("" when nothing moved)."""
    first = {t.name: t.value for t in records[0].buffers_before}
    last = {t.name: t.value for t in records[-1].buffers_after}
    counts = [name for name in first if name.endswith("num_batches_tracked")]
    changed = [n for n in counts if int(first[n]) != int(last[n])]
    if not changed:
        return ""
    name = changed[0]
    return f"{name} {int(first[name])} → {int(last[name])}"


def _eval_without_no_grad(records: list[StageRecord]) -> str:
    """The graph autograd recorded for each evaluation, and what it left untouched."""
    evaluations = [r for r in records if r.stage == "evaluate" and r.ok]
    if not evaluations:
        return "No Evaluate ran yet."
    last = evaluations[-1]
    kept = "left every weight and .grad as they were" if (
        last.before.same_values(last.after)
        and all(_same_grad(a, b) for a, b in zip(last.before.tensors, last.after.tensors,
                                                 strict=True))) else "changed the weights"
    return (f"Each Evaluate's loss came back with grad_fn = {last.val_grad_fn}: autograd "
            f"recorded a graph of {last.val_graph_nodes} nodes for it (under torch.no_grad() "
            f"grad_fn is None and there is no graph). The validation loss was "
            f"{short(last.val_loss)}, and the evaluation {kept}.")


def _same_grad(a: Any, b: Any) -> bool:
    return (a.grad is None and b.grad is None) or (
        a.grad is not None and b.grad is not None and bool(np.array_equal(a.grad, b.grad)))


def _softmax_before_cross_entropy(records: list[StageRecord]) -> str:
    """The loss on softmax(outputs) against the same outputs' real cross-entropy."""
    losses = [r for r in records if r.stage == "loss" and r.ok and r.loss is not None
              and r.softmax_loss_reference is not None]
    if not losses:
        return "No Loss ran yet."
    first, last = losses[0], losses[-1]
    assert first.loss is not None and last.loss is not None
    assert first.softmax_loss_reference is not None and last.softmax_loss_reference is not None
    text = (f"The loss on softmax(outputs) went from {short(first.loss)} to {short(last.loss)} "
            f"over {len(losses)} Losses, while the real cross-entropy of the same outputs went "
            f"from {short(first.softmax_loss_reference)} to "
            f"{short(last.softmax_loss_reference)}.")
    lowest = min(r.loss for r in losses if r.loss is not None)
    text += f" The printed loss never went below {short(lowest)}."
    return text


def _batch_of_one_batch_norm(records: list[StageRecord]) -> str:
    """PyTorch's refusal, and what it left unchanged."""
    forward = next((r for r in records if r.stage == "forward"), None)
    if forward is None:
        return "Forward has not run yet."
    if forward.error is None:
        return (f"Forward ran on a batch of {len(forward.rows)} rows without an error: "
                "BatchNorm had a spread to divide by.")
    said = forward.error.splitlines()[0]
    counted = _buffers_moved([forward])
    before = {t.name: t.value for t in forward.buffers_before}
    averages_moved = any(
        not np.array_equal(before[t.name], t.value) for t in forward.buffers_after
        if not t.name.endswith("num_batches_tracked"))
    text = f"Forward on a batch of {len(forward.rows)} row failed. PyTorch said: {said}."
    if counted:
        text += (f" BatchNorm had counted the batch before checking it ({counted}), "
                 "the one number that changed;")
    text += (" the running averages moved." if averages_moved else
             " the running averages did not move.")
    return text


def _weight_moves(steps: list[StageRecord]) -> list[float]:
    return [abs(r.after.weight - r.before.weight) for r in steps]


def _loss_change(steps: list[StageRecord]) -> str:
    losses = [r.full_batch_loss for r in steps if r.full_batch_loss is not None]
    if len(losses) < 2:
        return ""
    verb = "fell" if losses[-1] < losses[0] else "rose" if losses[-1] > losses[0] else "stayed"
    return (f" The full-batch loss {verb} from {short(losses[0])} to {short(losses[-1])} "
            "over those steps.")


def _skip_zero_grad(records: list[StageRecord]) -> str:
    steps = [r for r in records if r.stage == "step" and r.ok]
    fresh: list[float] = []
    used: list[float] = []
    last_fresh: float | None = None
    for record in records:
        if record.stage == "backward" and record.fresh_grads is not None:
            last_fresh = record.fresh_grads[0]
        if record.stage == "step" and record.ok and last_fresh is not None:
            fresh.append(last_fresh)
            used.append(record.before.weight_grad or 0.0)
    if not used:
        return "No Step ran after a Backward, so no accumulated gradient was used yet."
    if len(used) == 1:
        text = (f"Step used weight.grad = {short(used[0])}, this backward's own "
                f"∂loss/∂weight: with one backward since Zero Grad there is nothing to add yet.")
    else:
        text = (f"Step used weight.grad = {short(used[0])} the first time and "
                f"{short(used[-1])} after {len(used)} backwards, while the last backward's "
                f"own ∂loss/∂weight was {short(fresh[-1])}: .grad held the sum of every "
                "backward since Zero Grad.")
    opposite = sum(1 for u, f in zip(used, fresh, strict=True) if u * f < 0)
    if opposite:
        text += (f" In {opposite} of {len(used)} steps that sum pointed the opposite way "
                 "from the step's own gradient.")
    moves = _weight_moves(steps)
    if len(moves) >= 2:
        trend = ("grew" if moves[-1] > moves[0] * 1.05 else
                 "shrank" if moves[-1] < moves[0] * 0.95 else "stayed about the same size")
        text += (f" The weight moved by {short(moves[0], 3)} at the first step and "
                 f"{short(moves[-1], 3)} at the last: the steps {trend}")
        if steps[-1].optimizer in ADAPTIVE:
            text += (f" ({TORCH_CLASS[steps[-1].optimizer]} divides by the gradient's running "
                     "size, so the sum's size matters less to it than to SGD)")
        text += "."
    return text + _loss_change(steps)


def _skip_backward(records: list[StageRecord]) -> str:
    steps = [r for r in records if r.stage == "step" and r.ok]
    if not steps:
        return "No Step ran yet."
    grads = {short(r.before.weight_grad) for r in steps}
    moved = max(_weight_moves(steps))
    text = f"At every Step weight.grad was {' or '.join(sorted(grads))}"
    if moved == 0.0:
        text += (", so Step had nothing to follow and the weight stayed "
                 f"{short(steps[-1].after.weight)}.")
    else:
        text += f", and the weight still moved by up to {short(moved, 3)}."
    losses = {short(r.loss) for r in records if r.stage == "loss" and r.ok}
    if len(losses) == 1:
        text += f" The loss was {losses.pop()} every time."
    return text


def _skip_step(records: list[StageRecord]) -> str:
    backwards = [r for r in records if r.stage == "backward" and r.ok]
    first, last = records[0].before, records[-1].after
    same = (first.weight, first.bias) == (last.weight, last.bias)
    text = (f"Backward ran {len(backwards)} times (the last left weight.grad = "
            f"{short(last.weight_grad)}), and the weights "
            + ("did not change: " if same else "changed: ")
            + f"weight {short(first.weight)} → {short(last.weight)}, "
              f"bias {short(first.bias)} → {short(last.bias)}.")
    losses = [short(r.loss) for r in records if r.stage == "loss" and r.ok]
    if losses and len(set(losses)) == 1:
        text += f" The loss was {losses[0]} each time."
    text += " No Step completed, so the loss history has no point for this run."
    return text


def _backward_twice(records: list[StageRecord]) -> str:
    backwards = [r for r in records if r.stage == "backward"]
    if len(backwards) < 2:
        return "The second Backward has not run yet."
    second = backwards[1]
    if second.error:
        said = second.error.splitlines()[0].split(". ")[0]  # its first sentence says it all
        return f"The second Backward failed. PyTorch said: {said}."
    return "The second Backward ran without an error. " + second.explanation


def _zero_grad_before_step(records: list[StageRecord]) -> str:
    backward = next((r for r in records if r.stage == "backward" and r.ok), None)
    step = next((r for r in records if r.stage == "step"), None)
    if backward is None or step is None:
        return "The Step after the moved Zero Grad has not run yet."
    moved = abs(step.after.weight - step.before.weight)
    text = (f"Backward left weight.grad = {short(backward.after.weight_grad)}; Zero Grad then "
            f"made it {short(step.before.weight_grad)} before Step, ")
    if moved == 0.0:
        return text + ("so Step had nothing to follow and the weight stayed "
                       f"{short(step.after.weight)}.")
    return text + f"and the weight moved by {short(moved, 3)}."


def _momentum_after_zero_grad(records: list[StageRecord]) -> str:
    """The Steps after the last Zero Grad: gradients zero, and how far the weights went."""
    last_clear = max((i for i, r in enumerate(records) if r.stage == "zero_grad"), default=-1)
    steps = [r for r in records[last_clear + 1:] if r.stage == "step" and r.ok]
    if last_clear < 0 or not steps:
        return "No Step has run after a Zero Grad yet."
    held = grad_size(steps[0].before)
    if held is None:
        return ("Zero Grad set every .grad to None, and PyTorch's optimizers skip a parameter "
                "without .grad: no parameter moved.")
    moves = _moves(steps)
    said = ", ".join(short(m, 3) for m in moves)
    text = (f"After Zero Grad every .grad was {short(held)} (size of all gradients together), "
            f"yet the {len(steps)} Step{'s' if len(steps) > 1 else ''} moved the parameters by "
            f"{said} (all tensors together)")
    if not any(moves):
        return text + ": this optimizer keeps nothing that moves them without a gradient."
    shrink = (f", each about {short(moves[-1] / moves[-2], 3)} × the one before"
              if len(moves) >= 2 and moves[-2] else "")
    return text + f"{shrink}: the momentum buffer carried the earlier updates on."


_MEASURES: dict[str, Callable[[list[StageRecord]], str]] = {
    "skip_zero_grad": _skip_zero_grad,
    "skip_backward": _skip_backward,
    "skip_step": _skip_step,
    "backward_twice": _backward_twice,
    "zero_grad_before_step": _zero_grad_before_step,
    "momentum_after_zero_grad": _momentum_after_zero_grad,
    "schedule_before_step": _schedule_before_step,
    "clip_after_step": _clip_after_step,
    "sorted_small_batches": _sorted_small_batches,
    "eval_without_model_eval": _eval_without_model_eval,
    "eval_without_no_grad": _eval_without_no_grad,
    "softmax_before_cross_entropy": _softmax_before_cross_entropy,
    "batch_of_one_batch_norm": _batch_of_one_batch_norm,
}


# -- a network: the same experiments measured over every tensor ---------------------------
def grad_size(values: ParamValues) -> float | None:
    """The size of all the gradients together, √(Σ ‖grad‖²); None while every .grad is."""
    norms = [t.grad_norm for t in values.tensors if t.grad_norm is not None]
    return float(np.sqrt(sum(n * n for n in norms))) if norms else None


def _flat_grads(values: ParamValues) -> np.ndarray:
    return np.concatenate([np.zeros(t.value.size) if t.grad is None
                           else t.grad.reshape(-1).astype(np.float64) for t in values.tensors])


def fresh_and_used(records: Sequence[StageRecord]) -> list[tuple[int, float, float, float]]:
    """Per Step after a Backward: (epoch, the last backward's own gradient size, the size of
    what .grad held and Step used, the cosine between the two)."""
    rows = []
    fresh: np.ndarray | None = None
    for record in records:
        if record.stage == "backward" and record.ok:
            fresh = _flat_grads(record.after) - _flat_grads(record.before)
        if record.stage == "step" and record.ok and fresh is not None:
            used = _flat_grads(record.before)
            sizes = float(np.linalg.norm(fresh)) * float(np.linalg.norm(used))
            cosine = float(fresh @ used) / sizes if sizes else 0.0
            rows.append((record.epoch, float(np.linalg.norm(fresh)),
                         float(np.linalg.norm(used)), cosine))
    return rows


def _moves(steps: list[StageRecord]) -> list[float]:
    """How far each step moved all the parameters together."""
    return [float(np.sqrt(sum(float(np.sum((b.value.astype(np.float64) - a.value) ** 2))
                              for a, b in zip(r.before.tensors, r.after.tensors, strict=True))))
            for r in steps]


def _net_skip_zero_grad(records: list[StageRecord]) -> str:
    steps = [r for r in records if r.stage == "step" and r.ok]
    rows = fresh_and_used(records)
    if not rows:
        return "No Step ran after a Backward, so no accumulated gradient was used yet."
    if len(rows) == 1:
        text = (f"Step used gradients of total size {short(rows[0][2], 4)}, this backward's "
                "own: with one backward since Zero Grad there is nothing to add yet.")
    else:
        text = (f"Step used gradients of total size {short(rows[0][2], 4)} the first time and "
                f"{short(rows[-1][2], 4)} after {len(rows)} backwards, while the last "
                f"backward's own were of size {short(rows[-1][1], 4)}: every .grad held the "
                "sum of every backward since Zero Grad.")
    against = sum(1 for row in rows if row[3] < 0)
    if against:
        text += (f" In {against} of {len(rows)} steps that sum pointed more against the "
                 "step's own gradient than with it.")
    moves = _moves(steps)
    if len(moves) >= 2:
        trend = ("grew" if moves[-1] > moves[0] * 1.05 else
                 "shrank" if moves[-1] < moves[0] * 0.95 else "stayed about the same size")
        text += (f" The parameters moved by {short(moves[0], 3)} at the first step and "
                 f"{short(moves[-1], 3)} at the last (all tensors together): the steps "
                 f"{trend}")
        if steps[-1].optimizer in ADAPTIVE:
            text += (f" ({TORCH_CLASS[steps[-1].optimizer]} divides by the gradient's running "
                     "size, so the sum's size matters less to it than to SGD: try this again "
                     "with SGD)")
        text += "."
    return text + _loss_change(steps)


def _net_skip_backward(records: list[StageRecord]) -> str:
    steps = [r for r in records if r.stage == "step" and r.ok]
    if not steps:
        return "No Step ran yet."
    sizes = {"None" if grad_size(r.before) is None else short(grad_size(r.before), 4)
             for r in steps}
    moved = max(_moves(steps))
    text = ("At every Step every .grad was None" if sizes == {"None"} else
            f"At every Step the gradients' total size was {' or '.join(sorted(sizes))}")
    if moved == 0.0:
        text += ", so Step had nothing to follow and no parameter moved."
    else:
        text += f", and the parameters still moved by up to {short(moved, 3)}."
    losses = {short(r.loss) for r in records if r.stage == "loss" and r.ok}
    if len(losses) == 1:
        text += f" The loss was {losses.pop()} every time."
    return text


def _net_skip_step(records: list[StageRecord]) -> str:
    backwards = [r for r in records if r.stage == "backward" and r.ok]
    if not backwards:
        return "Backward has not run yet."
    first, last = records[0].before, records[-1].after
    same = first.same_values(last)
    text = (f"Backward ran {len(backwards)} times (the last left gradients of total size "
            f"{short(grad_size(last), 4)}), and the parameters "
            + ("did not change: every tensor holds the numbers it started with." if same
               else "changed."))
    losses = [short(r.loss) for r in records if r.stage == "loss" and r.ok]
    if losses and len(set(losses)) == 1:
        text += f" The loss was {losses[0]} each time."
    text += " No Step completed, so the loss history has no point for this run."
    return text


def _net_zero_grad_before_step(records: list[StageRecord]) -> str:
    backward = next((r for r in records if r.stage == "backward" and r.ok), None)
    step = next((r for r in records if r.stage == "step"), None)
    if backward is None or step is None:
        return "The Step after the moved Zero Grad has not run yet."
    moved = _moves([step])[0]
    held = grad_size(step.before)
    text = (f"Backward left gradients of total size {short(grad_size(backward.after), 4)}; "
            f"Zero Grad then made every .grad {short(held)} before Step, ")
    if moved == 0.0:
        return text + "so Step had nothing to follow and no parameter moved."
    return text + f"and the parameters still moved by {short(moved, 3)}."


_NETWORK_MEASURES: dict[str, Callable[[list[StageRecord]], str]] = {
    "skip_zero_grad": _net_skip_zero_grad,
    "skip_backward": _net_skip_backward,
    "skip_step": _net_skip_step,
    "backward_twice": _backward_twice,
    "zero_grad_before_step": _net_zero_grad_before_step,
    "momentum_after_zero_grad": _momentum_after_zero_grad,
    "schedule_before_step": _schedule_before_step,
    "clip_after_step": _clip_after_step,
    "sorted_small_batches": _sorted_small_batches,
    "eval_without_model_eval": _eval_without_model_eval,
    "eval_without_no_grad": _eval_without_no_grad,
    "softmax_before_cross_entropy": _softmax_before_cross_entropy,
    "batch_of_one_batch_norm": _batch_of_one_batch_norm,
}
