"""The session as a runnable PyTorch script: every action up to now, in order.

The Code panel's listing is the loop as it would be written once; this is what actually
happened — free-mode stages and their mistakes, settings changed on the way, optimizer
switches, micro-batches, restarts — written as a person would write it: runs of ordinary
epochs become a ``for`` loop, anything unusual is written line by line with a comment
saying what is unusual, and an error the app showed is raised again inside ``try``.

The script is not worked out by reasoning about the session: a fresh session with the same
scenario, seed and first settings replays the timeline (as a jump does), and each line is
written from the record of the stage it stands for. Run with plain Python and torch, the
script ends with ``model``, ``optimizer``, ``outputs`` and ``loss`` equal, bit for bit, to
the session's (``tests/core/test_export.py`` runs random sessions and compares).
"""

from __future__ import annotations

import builtins
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gui_trainer.core import optimizers, schedulers
from gui_trainer.core.code_listing import (
    data_names,
    eval_lines,
    evaluate_lines,
    import_lines,
    setup_lines,
)
from gui_trainer.core.data_code import comment_text, data_lines
from gui_trainer.core.records import StageRecord
from gui_trainer.core.scenarios import Scenario
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.session_file import PROGRESS_EVERY, LoadCancelled, Progress
from gui_trainer.core.settings import Settings
from gui_trainer.core.timeline import Action

INDENT = "    "


@dataclass(frozen=True)
class _Done:
    """One action as the replay did it: a stage's record, or the settings after a change."""

    action: Action
    record: StageRecord | None
    settings: Settings


@dataclass(frozen=True)
class ScriptPlan:
    """What a script is made from, copied out of the session at once (cheap), so the
    replay can run on another thread while the session trains on."""

    scenario: Scenario
    seed: int
    first: Settings
    actions: tuple[Action, ...]
    data: tuple[str, ...]
    setup: tuple[str, ...]
    one_neuron: bool
    samples: int


def inline_data_lines(scenario: Scenario) -> list[str]:
    """The data written into the script itself: a script made from a learner's file must
    not depend on the file still being where it was (or unchanged)."""
    data = scenario.data
    inputs = ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]"
                       for row in data.inputs.tolist())
    lines = [f"# {data.samples} rows of {comment_text(Path(data.source).name)}, written out",
             f"inputs = torch.tensor([{inputs}], dtype=torch.float32)"]
    if data.task == "classification":
        labels = ", ".join(str(int(v)) for v in data.targets.tolist())
        return [*lines, f"targets = torch.tensor([{labels}], dtype=torch.int64)"
                        f"  # {comment_text(', '.join(data.class_names))}"]
    targets = ", ".join(f"[{float(v[0])!r}]" for v in data.targets.tolist())
    return [*lines, f"targets = torch.tensor([{targets}], dtype=torch.float32)"]


def plan(session: TrainingSession) -> ScriptPlan:
    _, first = session.timeline.checkpoint_before(0)
    source = session.scenario.data.source
    data = (inline_data_lines(session.scenario) if source not in ("built in", "given")
            else data_lines(session.scenario))
    return ScriptPlan(
        scenario=session.scenario, seed=session.seed, first=first.settings,
        actions=tuple(session.timeline.action(i) for i in range(session.position)),
        data=tuple(data), setup=tuple(setup_lines(session, data)),
        one_neuron=session.one_neuron, samples=len(session.inputs))


def _replay(plan: ScriptPlan, progress: Progress | None) -> Iterator[_Done]:
    """The plan's actions, done again on a fresh session."""
    settings = plan.first
    replay = TrainingSession(
        scenario=plan.scenario, seed=plan.seed, lr=settings.lr, mode=settings.mode,
        optimizer=settings.optimizer_name, set_to_none=settings.set_to_none,
        micro_batches=settings.micro_batches, optimizer_options=settings.optimizer_options,
        batch_size=settings.batch_size, shuffle=settings.shuffle, drop_last=settings.drop_last,
        clip_max_norm=settings.clip_max_norm, scheduler=settings.scheduler)
    replay._replaying = True  # nothing is recorded: the replay only reports
    for index, action in enumerate(plan.actions):
        if progress is not None and index % PROGRESS_EVERY == 0 and not progress(
                index, len(plan.actions)):
            raise LoadCancelled(f"stopped after {index:,} of {len(plan.actions):,} actions")
        record = None
        if action.kind == "stage" and action.stage is not None:
            record = replay._run_stage(action.stage)
        elif action.kind == "reset":
            replay._apply_reset(str(action.value or ""))
        else:
            replay._apply_setting(str(action.name), action.value)
        yield _Done(action, record, replay._settings)


def scheduler_lines(settings: Settings) -> list[str]:
    """A new scheduler on the optimizer as it is (none: nothing); the rate a previous one
    noted is dropped first, as the app does, so it starts from the rate set now."""
    if settings.scheduler is None:
        return ["scheduler = None"]
    return ["for group in optimizer.param_groups:",
            f"{INDENT}group.pop('initial_lr', None)",
            schedulers.code(*settings.scheduler)]


def optimizer_line(settings: Settings) -> str:
    return "optimizer = " + optimizers.code(settings.optimizer_name, settings.optimizer_options,
                                            repr(settings.lr))


def batches_comment(settings: Settings, samples: int) -> str:
    """What the app's DataLoader does from here (the script indexes each batch's rows)."""
    if settings.batch_size is None and not settings.shuffle:
        return "# from here each forward takes the full batch, in order"
    size = settings.batch_size or samples
    return (f"# from here the app's DataLoader gives batches of {size}"
            + (", shuffled each epoch" if settings.shuffle else "")
            + (", the last short one dropped" if settings.drop_last else "")
            + ": each forward below indexes its batch's rows")


def _span(rows: tuple[int, ...], samples: int) -> str:
    """The indexing that picks ``rows`` ("" for all of them)."""
    if len(rows) == samples and rows == tuple(range(samples)):
        return ""
    if rows == tuple(range(rows[0], rows[0] + len(rows))):
        return f"[{rows[0]}:{rows[0] + len(rows)}]"
    return f"[{list(rows)}]"


def _error_type(error: str) -> str:
    """The exception class to catch: the one the app caught, if Python has it built in."""
    name = error.split(":", 1)[0].strip()
    kind = getattr(builtins, name, None)
    return name if isinstance(kind, type) and issubclass(kind, Exception) else "Exception"


class _Writer:
    """Turns replayed actions into lines, folding ordinary epochs into loops."""

    def __init__(self, plan: ScriptPlan, names: tuple[str, str]) -> None:
        self.samples = plan.samples
        self.one_neuron = plan.one_neuron
        self.inputs, self.targets = names
        self.lines: list[str] = []
        #: The epoch being matched (its actions, while they look like an ordinary epoch).
        self.candidate: list[_Done] = []
        #: Ordinary epochs in a row, and what they share.
        self.epochs: list[list[_Done]] = []
        # What the script's variables hold, for the comments.
        self.has_loss = False
        self.backwards_since_zero = 0
        self.stepped_since_forward = False
        self.backward_since_step = True
        self.steps = 0

    # -- ordinary epochs ----------------------------------------------------------------
    def add(self, done: _Done) -> None:
        if done.record is not None and self._continues(done):
            self.candidate.append(done)
            if self._complete():
                self._epoch_done()
            return
        self._flush_candidate()
        if done.record is not None and self._continues(done):  # it may start an epoch
            self.candidate.append(done)
            return
        self._flush_epochs()
        self._write_action(done)

    def _continues(self, done: _Done) -> bool:
        """``done`` is the next action of an ordinary epoch begun by the candidate."""
        record = done.record
        if record is None or not record.ok or not record.ran:
            return False
        at = len(self.candidate)
        if at == 0:
            return record.stage == "zero_grad"
        first = self.candidate[0].record
        assert first is not None
        parts = first.micro_batches
        if record.micro_batches != parts or record.set_to_none != first.set_to_none:
            return False
        if record.softmax_loss_reference is not None:
            return False  # softmax before the loss: written out where it happened
        if at == 1 + 3 * parts:
            return record.stage == "step"
        chunk, stage = divmod(at - 1, 3)
        size = self.samples // parts
        rows = tuple(range(chunk * size, (chunk + 1) * size))
        return (record.stage == ("forward", "loss", "backward")[stage]
                and (stage == 2 or record.rows == rows))

    def _complete(self) -> bool:
        first = self.candidate[0].record
        assert first is not None
        return len(self.candidate) == 2 + 3 * first.micro_batches

    def _epoch_done(self) -> None:
        epoch, self.candidate = self.candidate, []
        if self.epochs and self._signature(self.epochs[0]) != self._signature(epoch):
            self._flush_epochs()
        self.epochs.append(epoch)

    @staticmethod
    def _signature(epoch: list[_Done]) -> tuple[int, bool]:
        first = epoch[0].record
        assert first is not None
        return first.micro_batches, first.set_to_none

    def _flush_candidate(self) -> None:
        pending, self.candidate = self.candidate, []
        if pending:
            self._flush_epochs()
        for done in pending:
            self._write_action(done)

    def _flush_epochs(self) -> None:
        epochs, self.epochs = self.epochs, []
        if len(epochs) == 1:
            for done in epochs[0]:
                self._write_action(done)
        elif epochs:
            self._write_loop(epochs)

    def _write_loop(self, epochs: list[list[_Done]]) -> None:
        first = epochs[0][0].record
        assert first is not None
        parts = first.micro_batches
        size = self.samples // parts
        self.lines += ["", f"for epoch in range({len(epochs)}):  # {len(epochs)} epochs of "
                           "the usual loop"]
        body = [self._zero_grad(first.set_to_none)]
        if parts == 1:
            body += [f"outputs = model({self.inputs})",
                     f"loss = loss_function(outputs, {self.targets})",
                     "loss.backward()"]
        else:
            chunk = f"[start:start + {size}]"
            body += [f"for start in range(0, {self.samples}, {size}):  # {parts} "
                     f"micro-batches of {size}",
                     f"{INDENT}outputs = model({self.inputs}{chunk})",
                     f"{INDENT}loss = loss_function(outputs, {self.targets}{chunk}) / {parts}",
                     f"{INDENT}loss.backward()"]
        body += ["optimizer.step()", "step += 1", "print('step', step, 'loss', loss.item())"]
        self.lines += [INDENT + line for line in body]
        self.lines.append("")
        self.steps += len(epochs)
        self.has_loss = True
        self.backwards_since_zero = parts
        self.stepped_since_forward = True
        self.backward_since_step = False

    # -- one action at a time ------------------------------------------------------------
    def _write_action(self, done: _Done) -> None:
        action = done.action
        if action.kind == "reset":
            note = f": {comment_text(str(action.value))}" if action.value else ""
            self._write_reset(f"# Restart{note} — back to the first weights, a new optimizer",
                              done.settings)
        elif action.kind == "setting":
            self._write_setting(str(action.name), action.value, done.settings)
        else:
            assert done.record is not None
            self._write_stage(done.record)

    def _write_reset(self, comment: str, settings: Settings) -> None:
        self.lines += ["", comment, "model.load_state_dict(first_weights)"]
        if settings.start is not None:
            weight, bias = settings.start
            self.lines += ["with torch.no_grad():  # the start chosen on the landscape",
                           f"{INDENT}model[0].weight.fill_({weight!r})",
                           f"{INDENT}model[0].bias.fill_({bias!r})"]
        self.lines += [optimizer_line(settings),
                       *(scheduler_lines(settings) if settings.scheduler else []),
                       "optimizer.zero_grad()  # no gradient carried over",
                       "outputs = loss = None", "step = 0"]
        self.has_loss = False
        self.backwards_since_zero = 0
        self.stepped_since_forward = False
        self.backward_since_step = True

    def _write_setting(self, name: str, value: object, settings: Settings) -> None:
        if name == "lr":
            self.lines += ["for group in optimizer.param_groups:  # a new learning rate",
                           f"{INDENT}group['lr'] = {settings.lr!r}"]
            if settings.scheduler is not None:  # the schedule starts again from it
                self.lines += scheduler_lines(settings)
        elif name in ("optimizer_name", "optimizer"):
            self.lines.append(optimizer_line(settings)
                              + "  # a new optimizer: its state starts afresh")
            if settings.scheduler is not None:
                self.lines += scheduler_lines(settings)
        elif name == "set_to_none":
            self.lines.append("# from here zero_grad " + (
                "sets each .grad to None" if settings.set_to_none else
                "fills each .grad with zeros (set_to_none=False)"))
        elif name == "mode":
            self.lines.append("# free mode: the stages in any order from here"
                              if settings.mode == "free" else "# guided mode: the usual order")
        elif name == "micro_batches":
            parts = settings.micro_batches
            self.lines.append(f"# from here a step adds up {parts} micro-batches of "
                              f"{self.samples // parts}" if parts > 1 else
                              "# from here each forward takes the full batch")
        elif name in ("batch_size", "shuffle", "drop_last"):
            self.lines.append(batches_comment(settings, self.samples))
        elif name == "clip_max_norm":
            self.lines.append("# from here the app clips the gradients when Clip runs"
                              if settings.clip_max_norm is not None else
                              "# clipping is off from here")
        elif name == "scheduler":
            self.lines += ["for group in optimizer.param_groups:  # from the set rate again",
                           f"{INDENT}group['lr'] = {settings.lr!r}"]
            self.lines += scheduler_lines(settings)
        elif name == "start":
            self._write_reset("# A new run from a start chosen on the landscape"
                              if value is not None else "# A new run from the first weights",
                              settings)

    def _zero_grad(self, set_to_none: bool) -> str:
        return "optimizer.zero_grad()" if set_to_none else \
            "optimizer.zero_grad(set_to_none=False)"

    def _write_stage(self, record: StageRecord) -> None:
        stage = record.stage
        comment = ""
        if not record.ran:
            self.lines.append("# Loss was asked for with no outputs yet: nothing computed"
                              if stage == "loss" else
                              "# Backward was asked for with no loss yet: nothing computed")
            return
        if stage in ("clip", "evaluate", "schedule"):
            self._write_optional(record)
            return
        span = _span(record.rows, self.samples)
        if stage == "zero_grad":
            code = self._zero_grad(record.set_to_none)
        elif stage == "forward":
            code = f"outputs = model({self.inputs}{span})"
            if record.micro_batches > 1 and span:
                comment = f"micro-batch {record.chunk + 1} of {record.micro_batches}"
        elif stage == "loss":
            scale = f" / {record.micro_batches}" if record.micro_batches > 1 else ""
            scored = ("torch.softmax(outputs, dim=1)" if record.softmax_loss_reference is not None
                      else "outputs")
            code = f"loss = loss_function({scored}, {self.targets}{span}){scale}"
            if self.stepped_since_forward:
                comment = "outputs from before the last step: the loss of the old weights"
            elif scored != "outputs":
                comment = "softmax before CrossEntropyLoss: the mistake, on purpose"
        elif stage == "backward":
            code = "loss.backward()"
            if self.backwards_since_zero > record.chunk:
                comment = "no zero_grad since the last backward: the gradients add up"
        else:
            code = "optimizer.step()"
            if self.backwards_since_zero == 0:
                comment = "no backward since zero_grad: no new gradient to follow"
            elif not self.backward_since_step:
                comment = "no backward since the last step: the same gradients again"
        if record.error is not None:  # the comment is the error's, not the reason's
            self.lines += ["try:  # PyTorch raised here in the app too", INDENT + code,
                           f"except {_error_type(record.error)} as error:",
                           f"{INDENT}print('PyTorch raised:', error)"]
        else:
            line = code + (f"  # {comment}" if comment else "")
            self.lines.append(line)
            self._after(record)

    def _write_optional(self, record: StageRecord) -> None:
        """Clip, Evaluate and Schedule as the script's lines (a comment if it did nothing)."""
        stage = record.stage
        if not record.ran:
            self.lines.append(f"# {record.label} was asked for while it was off: nothing done")
            return
        if stage == "clip":
            code = [f"torch.nn.utils.clip_grad_norm_(model.parameters(), "
                    f"max_norm={record.clip_max_norm!r})"]
        elif stage == "evaluate":
            code = evaluate_lines(record.val_loss_reference is None,
                                  record.val_graph_nodes == 0)
            code.append("print('validation loss', val_loss.item())")
        else:
            metric = ("" if record.schedule_metric is None
                      else f"{record.schedule_metric!r}")
            code = [f"scheduler.step({metric})" + (
                "  # the loss the app gave it to watch" if metric else "")]
        if record.error is not None:
            self.lines += ["try:  # PyTorch raised here in the app too",
                           *(INDENT + line for line in code),
                           f"except {_error_type(record.error)} as error:",
                           f"{INDENT}print('PyTorch raised:', error)"]
        else:
            self.lines += code

    def _after(self, record: StageRecord) -> None:
        """What a stage that worked leaves in the script's variables (for the comments)."""
        stage = record.stage
        if stage == "zero_grad":
            self.backwards_since_zero = 0
        elif stage == "forward":
            self.stepped_since_forward = False
        elif stage == "loss":
            self.has_loss = True
        elif stage == "backward":
            self.backwards_since_zero += 1
            self.backward_since_step = True
        elif stage == "step":
            self.steps += 1
            self.backward_since_step = False
            self.stepped_since_forward = True
            self.lines += ["step += 1", "print('step', step, 'loss', loss.item())"
                           if self.has_loss else "print('step', step, '(no loss yet)')"]

    def finish(self) -> list[str]:
        self._flush_candidate()
        self._flush_epochs()
        return self.lines


def script(session: TrainingSession, progress: Progress | None = None) -> str:
    """A standalone script (torch, and NumPy for some data sets) that does what the session
    did up to now, in order, and ends in the same state (``progress`` as for a load)."""
    return write_script(plan(session), progress)


def write_script(plan: ScriptPlan, progress: Progress | None = None) -> str:
    """The script of a :class:`ScriptPlan` (on any thread: the plan is a copy)."""
    writer = _Writer(plan, data_names(list(plan.data)))
    settings = plan.first
    resets = any(a.kind == "reset" or a.name == "start" for a in plan.actions)
    for done in _replay(plan, progress):  # streamed: a long session is never held whole
        writer.add(done)
    body = writer.finish()
    head = [
        f"# Exported from gui_trainer: the {comment_text(plan.scenario.title)} scenario, "
        f"{len(plan.actions)} actions, {writer.steps} optimizer steps.",
        "# Run it with Python and torch: it ends where the app is now.",
        *import_lines(list(plan.data)),
        *plan.setup,
    ]
    if resets:
        head.append("first_weights = {name: value.clone() "
                    "for name, value in model.state_dict().items()}")
    head += [optimizer_line(settings)]
    if settings.scheduler is not None:
        head.append(schedulers.code(*settings.scheduler))
    head += ["outputs = loss = None", "step = 0"]
    if settings.mode == "free":
        head.append("# free mode: the stages in any order")
    if settings.micro_batches > 1:
        head.append(f"# a step adds up {settings.micro_batches} micro-batches")
    if settings.batch_size is not None or settings.shuffle:
        head.append(batches_comment(settings, plan.samples))
    tail = ["", "print('weight:', model[0].weight.item(), 'bias:', model[0].bias.item())"
            if plan.one_neuron else "\n".join(eval_lines(plan.scenario.model_spec.stochastic, [
                "with torch.no_grad():",
                f"{INDENT}print('loss over all the data:', "
                f"loss_function(model({writer.inputs}), {writer.targets}).item())"]))]
    return "\n".join([*head, *body, *tail]) + "\n"


def history_csv(session: TrainingSession) -> str:
    """Every step of every run kept, one row each, every column, with a header.

    Numbers are written in full (Python's shortest exact form), NaN for a missing value;
    the optimizer by its ``torch.optim`` class name.
    """
    history = session.history
    rows = history.all_rows()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # the run after the learning rate, where the history's rows kept it before
    after_lr = history.columns.index("lr") + 1
    writer.writerow([*history.columns[:after_lr], "run", *history.columns[after_lr:]])
    named = history.columns.index("optimizer") + 1
    for row, run in zip(rows, history.run_numbers().tolist(), strict=True):
        cells: list[str | int] = [repr(float(value)) if isinstance(value, float) else int(value)
                                  for value in row.tolist()]
        cells.insert(after_lr, run)
        cells[named] = optimizers.TORCH_CLASS[optimizers.OPTIMIZERS[int(cells[named])]]
        writer.writerow(cells)
    return buffer.getvalue()
