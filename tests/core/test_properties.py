"""Random sequences of stages, settings, restarts, undo, redo and jumps, against plain PyTorch.

Hypothesis drives a :class:`TrainingSession` and, beside it, a reference written here as a
plain PyTorch script (no session code). After every action the two must agree bit for bit:
weights, gradients (None or a tensor), outputs, loss, optimizer state, PyTorch's own error
text. Undo, redo and jumps are checked against the strongest independent answer there is: a
fresh reference that replays the first k actions from the start.

``make test`` runs a few hundred sequences; ``make test-thorough`` runs thousands
(``--hypothesis-profile=thorough``) before a release.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gui_trainer.core import STAGES, TrainingSession, timeline
from gui_trainer.core.session import DEFAULT_INPUTS, DEFAULT_SEED, DEFAULT_TARGETS, StageOrderError

Action = tuple[str, Any]


#: The optimizers by name, as a learner writes them (not the app's table).
TORCH_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad,
    "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
OPTIMIZER_CHOICES: list[tuple[str, dict[str, object]]] = [
    ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.5, "dampening": 0.5,
                                         "weight_decay": 0.1}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.5, "centered": True}),
    ("adagrad", {"lr_decay": 0.05}), ("adam", {"amsgrad": True, "betas": (0.8, 0.9)}),
    ("adamw", {}), ("adamw", {"weight_decay": 0.3}),
]


class Reference:
    """The loop as a learner writes it by hand, with the app's micro-batch scaling and a
    DataLoader of its own: its batches come from iterating a loader over the row numbers
    (``for (rows,) in loader``), not from the app's way of reading the batch sampler."""

    def __init__(self) -> None:
        with torch.random.fork_rng():
            torch.manual_seed(DEFAULT_SEED)
            self.model = nn.Sequential(nn.Linear(1, 1))
        self.initial = copy.deepcopy(self.model.state_dict())
        self.x = torch.tensor(DEFAULT_INPUTS)
        self.y = torch.tensor(DEFAULT_TARGETS)
        self.lr, self.optimizer_name, self.set_to_none, self.parts = 0.01, "sgd", True, 1
        self.optimizer_options: dict[str, object] = {}
        self.batch_size: int | None = None
        self.shuffle = False
        self.optimizer = self.make_optimizer()
        self.clear()

    def clear(self) -> None:
        self.outputs: torch.Tensor | None = None
        self.loss: torch.Tensor | None = None
        self.output_rows = list(range(len(self.x)))
        self.loss_rows = self.output_rows
        self.loss_parts = self.parts
        self.chunk = self.output_chunk = self.loss_chunk = 0
        self.epoch = 0
        for p in self.model.parameters():
            p.grad = None
        self.new_loader()

    def new_loader(self) -> None:
        generator = torch.Generator()
        generator.manual_seed(DEFAULT_SEED)
        self.loader = DataLoader(TensorDataset(torch.arange(len(self.x))),
                                 batch_size=self.batch_size or len(self.x), shuffle=self.shuffle,
                                 generator=generator)
        self.draw()

    def draw(self) -> None:
        self.batches = [rows.tolist() for (rows,) in self.loader]
        self.position = 0

    def make_optimizer(self) -> torch.optim.Optimizer:
        kind: Callable[..., torch.optim.Optimizer] = TORCH_OPTIMIZERS[self.optimizer_name]
        return kind(self.model.parameters(), lr=self.lr, **self.optimizer_options)

    def rows(self, chunk: int) -> list[int]:
        if len(self.batches) > 1:  # a step gathers `parts` of the loader's batches
            return list(self.batches[self.position + chunk])
        size = len(self.batches[0]) // self.parts  # the one batch split into equal parts
        return list(self.batches[0][chunk * size:(chunk + 1) * size])

    def apply(self, action: Action) -> str | None:
        """Do ``action``; return PyTorch's error text if the call raised."""
        kind, value = action
        if kind == "stage":
            return self.stage(value)
        if kind == "reset":
            self.model.load_state_dict(self.initial)
            self.optimizer = self.make_optimizer()
            self.clear()
        elif kind == "lr":
            self.lr = value
            for group in self.optimizer.param_groups:
                group["lr"] = value
        elif kind == "optimizer":
            self.optimizer_name, self.optimizer_options = value, {}
            self.optimizer = self.make_optimizer()
        elif kind == "optimizer_with":
            self.optimizer_name, self.optimizer_options = value
            self.optimizer = self.make_optimizer()
        elif kind == "set_to_none":
            self.set_to_none = value
        elif kind == "micro_batches":
            self.parts, self.chunk = value, 0
            if len(self.batches) > 1:
                self.position -= self.position % value
        elif kind in ("batch_size", "shuffle"):
            setattr(self, kind, value)
            self.chunk = 0
            self.new_loader()
        return None

    def stage(self, stage: str) -> str | None:
        if stage == "zero_grad":
            self.optimizer.zero_grad(set_to_none=self.set_to_none)
            self.chunk = 0
        elif stage == "forward":
            self.output_rows = self.rows(self.chunk)
            self.output_chunk = self.chunk
            self.outputs = self.model(self.x[self.output_rows])
        elif stage == "loss" and self.outputs is not None:
            loss = nn.functional.mse_loss(self.outputs, self.y[self.output_rows])
            self.loss = loss / self.parts if self.parts > 1 else loss
            self.loss_rows = self.output_rows
            self.loss_chunk = self.output_chunk
            self.loss_parts = self.parts
        elif stage == "backward" and self.loss is not None:
            try:
                self.loss.backward()
            except RuntimeError as exc:
                return f"RuntimeError: {exc}"
            # a loss from before a change of split restarts the accumulation
            same_split = self.loss_parts == self.parts
            self.chunk = (self.loss_chunk + 1) % self.parts if same_split else 0
        elif stage == "step":
            self.optimizer.step()
            self.chunk = 0
            self.position += self.parts if len(self.batches) > 1 else 1
            if self.position >= len(self.batches):
                self.epoch += 1
                self.draw()
        return None


def snapshot(model: nn.Module, optimizer: torch.optim.Optimizer, outputs: torch.Tensor | None,
             loss: torch.Tensor | None, epoch: int) -> dict[str, Any]:
    def copy_or_none(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.detach().clone()

    params = list(model.parameters())
    return {
        "params": [p.detach().clone() for p in params],
        "grads": [copy_or_none(p.grad) for p in params],
        "optimizer": [{k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()}
                      for s in (optimizer.state[p] for p in params)],
        "outputs": copy_or_none(outputs),
        "loss": copy_or_none(loss),
        "epoch": epoch,
    }


def same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality through lists, dicts, tensors and None."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and torch.equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


#: PyTorch's in-place error names tensor version counters; a rewind restores the values
#: with copy_(), which counts as writes, so only the counts may differ from a fresh run.
VERSIONS = re.compile(r"is at version \d+; expected version \d+")


def error_text(text: str | None) -> str | None:
    return None if text is None else VERSIONS.sub("is at version N; expected version M", text)


RATES = st.sampled_from([0.01, 0.1, 0.05, 1.0])


class SessionAgainstPyTorch(RuleBasedStateMachine):
    """The session and the reference, driven by the same random actions."""

    @initialize()
    def start(self) -> None:
        # Checkpoints every few actions, so short sequences restore from them too (how
        # often they are taken is a matter of speed, never of the numbers).
        self.spacing = timeline.CHECKPOINT_EVERY
        timeline.CHECKPOINT_EVERY = 3
        self.session = TrainingSession(mode="free")
        self.reference = Reference()
        self.actions: list[Action] = []  # the reference's actions up to the session's position
        self.done: list[Action] = []  # every action on the session's timeline (redo included)

    def teardown(self) -> None:
        if hasattr(self, "spacing"):
            timeline.CHECKPOINT_EVERY = self.spacing

    # -- actions -------------------------------------------------------------------------
    def record(self, action: Action) -> None:
        self.actions.append(action)
        self.done = list(self.actions)

    @rule(stages=st.lists(st.sampled_from(STAGES), min_size=1, max_size=10))
    def run_stages(self, stages: list[str]) -> None:
        """A burst of stages, mostly in loop order (as people click), checked one by one."""
        for stage in stages:
            self.run_stage(stage)
            self.agrees_with_plain_pytorch()

    @rule(loops=st.integers(1, 4))
    def run_loops(self, loops: int) -> None:
        for _ in range(loops):
            for stage in STAGES:
                self.run_stage(stage)
        self.agrees_with_plain_pytorch()

    @rule(stage=st.sampled_from(STAGES))
    def run_stage(self, stage: str) -> None:
        if self.session.refusal(stage) is not None:
            before = self.session.position
            try:
                self.session.run(stage)
            except StageOrderError:
                assert self.session.position == before
                return
            raise AssertionError("guided mode ran a stage out of order")
        record = self.session.run(stage)
        error = self.reference.apply(("stage", stage))
        self.record(("stage", stage))
        assert error_text(record.error) == error_text(error)

    @rule(rate=RATES)
    def set_lr(self, rate: float) -> None:
        if rate != self.session.lr:
            self.session.lr = rate
            self.reference.apply(("lr", rate))
            self.record(("lr", rate))

    @rule(name=st.sampled_from(["sgd", "adam"]))
    def set_optimizer(self, name: str) -> None:
        if name != self.session.optimizer_name:
            self.session.optimizer_name = name  # type: ignore[assignment]
            self.reference.apply(("optimizer", name))
            self.record(("optimizer", name))

    @rule(choice=st.sampled_from(OPTIMIZER_CHOICES))
    def set_optimizer_with(self, choice: tuple[str, dict[str, object]]) -> None:
        name, options = choice
        before = self.session.settings.optimizer
        self.session.set_optimizer(name, **options)  # type: ignore[arg-type]
        if self.session.settings.optimizer != before:  # the same choice again is no action
            self.reference.apply(("optimizer_with", (name, options)))
            self.record(("optimizer_with", (name, options)))

    @rule(value=st.booleans())
    def set_to_none(self, value: bool) -> None:
        if value != self.session.set_to_none:
            self.session.set_to_none = value
            self.reference.apply(("set_to_none", value))
            self.record(("set_to_none", value))

    def change_or_refusal(self, name: str, value: object) -> None:
        """Change a batch setting; a combination that does not fit is refused, unchanged."""
        if getattr(self.session, name) == value:
            return
        position = self.session.position
        try:
            setattr(self.session, name, value)
        except ValueError as exc:
            assert "micro-batches must" in str(exc)
            assert self.session.position == position and getattr(self.session, name) != value
            return
        self.reference.apply((name, value))
        self.record((name, value))

    @rule(parts=st.sampled_from([1, 2, 4]))
    def set_micro_batches(self, parts: int) -> None:
        self.change_or_refusal("micro_batches", parts)

    @rule(size=st.sampled_from([None, 1, 2, 3]))
    def set_batch_size(self, size: int | None) -> None:
        self.change_or_refusal("batch_size", size)

    @rule(value=st.booleans())
    def set_shuffle(self, value: bool) -> None:
        self.change_or_refusal("shuffle", value)

    @rule(mode=st.sampled_from(["guided", "free"]))
    def set_mode(self, mode: str) -> None:
        if mode != self.session.mode:  # no PyTorch call: the reference only notes it
            self.session.mode = mode  # type: ignore[assignment]
            self.record(("mode", mode))

    @rule()
    def restart(self) -> None:
        self.session.reset()
        self.reference.apply(("reset", None))
        self.record(("reset", None))

    # -- the timeline --------------------------------------------------------------------
    def replay(self, position: int) -> None:
        """The independent answer: a fresh reference that replays the first actions."""
        self.reference = Reference()
        self.actions = self.done[:position]
        for action in self.actions:
            self.reference.apply(action)

    @precondition(lambda self: self.session.can_undo)
    @rule()
    def undo(self) -> None:
        self.session.undo()
        self.replay(self.session.position)

    @precondition(lambda self: self.session.can_redo)
    @rule()
    def redo(self) -> None:
        self.session.redo()
        self.replay(self.session.position)

    @precondition(lambda self: len(self.session.timeline) > 0)
    @rule(data=st.data())
    def jump(self, data: st.DataObject) -> None:
        position = data.draw(st.integers(0, len(self.session.timeline)), label="position")
        self.session.jump_to(position)
        self.replay(position)

    @precondition(lambda self: self.session.can_undo)
    @rule()
    def undo_then_redo_is_identity(self) -> None:
        before = self.observed()
        self.session.undo()
        self.session.redo()
        assert same(self.observed(), before)

    # -- what must hold after every step -------------------------------------------------
    def observed(self) -> dict[str, Any]:
        s = self.session
        return snapshot(s.model, s.optimizer, s.outputs, s.loss, s.epoch)

    @invariant()
    def agrees_with_plain_pytorch(self) -> None:
        if not hasattr(self, "session"):
            return
        r = self.reference
        expected = snapshot(r.model, r.optimizer, r.outputs, r.loss, r.epoch)
        observed = self.observed()
        for key in expected:
            assert same(observed[key], expected[key]), key
        assert self.session.position == len(self.actions)


TestSessionAgainstPyTorch = SessionAgainstPyTorch.TestCase
