"""Rewind: checkpoints of the session, graphs made again, and jumps along the timeline.

A mixin of :class:`~gui_trainer.core.session.TrainingSession`. A checkpoint holds the
numbers of the parameters and their ``.grad``, the buffers (BatchNorm's running averages)
and the optimizer's state in one packed blob, the settings and the typed loop state as they
were (the dropout generator's state among it), and a recipe for the graphs (PyTorch cannot
copy a graph; these are cheap to make again). A jump restores the checkpoint before
it and replays the timeline's log from there, bit for bit.
"""

from __future__ import annotations

import dataclasses
import enum
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch.utils.data import DataLoader

from gui_trainer.core.autograd_graph import saved_values_freed
from gui_trainer.core.history import HistoryMark
from gui_trainer.core.loop_state import LoopState
from gui_trainer.core.packing import Packed, Packer, freeze, thaw, unpack
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session_state import SessionState
from gui_trainer.core.settings import Settings
from gui_trainer.core.stages import Stage
from gui_trainer.core.timeline import Timeline
from gui_trainer.core.train_modes import buffers_of, drawing_from, put_buffers
from gui_trainer.core.validation import whole_number


class _Stand(enum.Enum):
    """Stands in a checkpoint's optimizer entries for a tensor packed in its blob (an enum:
    a checkpoint sent to another process must still be told apart from a value by ``is``)."""

    TENSOR = "tensor"


_TENSOR = _Stand.TENSOR


class _Loud(Exception):
    """A stage of a quiet replay needs its record: the replay starts again with records."""


def _kept(stored: tuple[torch.Tensor | None, ...] | None, current: tuple[torch.Tensor, ...]
          ) -> tuple[torch.Tensor, ...]:
    """A live graph's parameters before a step: those kept already (an earlier step's, where
    that step wrote them), else the values now."""
    if stored is None:
        return current
    return tuple(now if old is None else old for old, now in zip(stored, current, strict=True))


#: How far back ``iteration_start`` looks for the iteration's Zero Grad.
_ITERATION_LOOK_BACK = 512

#: Parameters a live graph was made with, packed: which entries are there, and their numbers.
PackedParams = tuple[tuple[bool, ...], Packed]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything needed to put the session back to one moment (see ``timeline.py``)."""

    tensors: Packed
    #: Which parameters had a ``.grad`` (their values follow the parameters in the blob).
    has_grad: tuple[bool, ...]
    #: The optimizer's per-parameter state: (param index, name, value or _TENSOR).
    optimizer_entries: tuple[tuple[int, str, Any], ...]
    optimizer_groups: Any
    settings: Settings
    #: The loop state, without the parameters of the live graphs (packed beside it: as
    #: tensors they cost a kilobyte a checkpoint).
    loop: LoopState
    graph_recipe: tuple[tuple[str, bool], ...]
    history: HistoryMark
    #: ``scheduler.state_dict()`` frozen (None without a scheduler).
    scheduler_state: Any = None
    outputs_params: PackedParams | None = None
    #: None with ``loss_is_outputs_params`` when the loss's outputs were made with the same.
    loss_outputs_params: PackedParams | None = None
    loss_is_outputs_params: bool = False


class Rewind(SessionState):
    """Checkpoints and jumps, a part of the session."""

    timeline: Timeline
    _packer: Packer
    _replaying: bool
    last_jump_replayed: int
    _run_stage: Callable[[Stage], StageRecord]
    _run_stage_quietly: Callable[[Stage, bool], bool]
    _apply_reset: Callable[[str], None]
    _apply_setting: Callable[[str, Any], None]
    _make_optimizer: Callable[[], torch.optim.Optimizer]
    _make_loader: Callable[[], DataLoader[tuple[torch.Tensor, ...]]]
    _new_scheduler: Callable[[], None]

    # -- the timeline: undo, redo, jump ------------------------------------------------
    @property
    def position(self) -> int:
        """How many actions (stages, setting changes, resets) the session is at."""
        return self.timeline.position

    @property
    def can_undo(self) -> bool:
        return self.timeline.position > 0

    @property
    def can_redo(self) -> bool:
        return self.timeline.position < len(self.timeline)

    def undo(self) -> StageRecord | None:
        return self.jump_to(self.timeline.position - 1)

    def redo(self) -> StageRecord | None:
        return self.jump_to(self.timeline.position + 1)

    def jump_to(self, position: int) -> StageRecord | None:
        """Restore the session exactly as it was after ``position`` actions.

        Returns the record of the last stage up to ``position`` (replayed), for display.
        The actions after ``position`` stay available to :meth:`redo` until a new action.
        """
        position = whole_number(position, "position")
        if not 0 <= position <= len(self.timeline):
            raise ValueError(
                f"position {position} is outside the timeline (0–{len(self.timeline)})"
            )
        # Quietly up to the last stage (only its record is shown): a checkpoint far back is
        # up to SPARSE_EVERY actions away.
        return self._replay_to(position, self._last_stage_index(position))

    def _replay_to(self, position: int, loud_from: int | None,
                   records: list[StageRecord] | None = None) -> StageRecord | None:
        """Restore the checkpoint before ``loud_from`` (else before ``position``) and replay
        the log to ``position``: quietly before ``loud_from``, with records from it on (into
        ``records``, if given); the last record made is returned."""
        base, snapshot = self.timeline.checkpoint_before(
            position if loud_from is None else loud_from)
        self.last_jump_replayed = position - base
        self._replaying = True
        try:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    record = self._replay(snapshot, base, position, loud_from, records)
            except Exception:  # _Loud, or a warning made an error outside the stages
                # A stage that raised or warned the first time: replayed with records, as
                # it ran then (the same calls, the error or warning kept in its record).
                if records is not None:
                    records.clear()
                record = self._replay(snapshot, base, position, None, records)
        finally:
            self._replaying = False
        self.timeline.position = position
        return record

    def replay_with_records(self, snapshot: Snapshot, base: int, position: int
                            ) -> list[StageRecord]:
        """Put the session back to ``snapshot`` (taken at ``base``) and replay the log up to
        ``position`` with records, as a jump replays its last stage: the records of them all.

        The window takes over a training process's iterations this way (``growth.py``): the
        process sends its state at the start of its last iteration, the window replays it.
        """
        records: list[StageRecord] = []
        self._replaying = True
        try:
            self._replay(snapshot, base, position, None, records)
        finally:
            self._replaying = False
        self.timeline.position = position
        self.last_jump_replayed = position - base
        return records

    def records_since(self, start: int) -> list[StageRecord]:
        """The records of the stages from ``start`` to now, made by replaying them: the
        session ends exactly where it is (as after a jump to where it is).

        For a view that ran them quietly and must show them now (auto-train's window,
        paused after iterations without records).
        """
        position = self.timeline.position
        start = whole_number(start, "start")
        if not 0 <= start <= position:
            raise ValueError(f"start {start} is outside 0–{position}")
        records: list[StageRecord] = []
        self._replay_to(position, start, records)
        # Only the stages from start on (all of them had records if one before warned).
        stages = sum(self.timeline.action(index).kind == "stage"
                     for index in range(start, position))
        return records[len(records) - stages:]

    def iteration_start(self) -> int:
        """Where the latest iteration began: the last Zero Grad before now (looked for
        among the last ``_ITERATION_LOOK_BACK`` actions; else the last stage's place)."""
        position = self.timeline.position
        last_stage = None
        for index in range(position - 1, max(-1, position - 1 - _ITERATION_LOOK_BACK), -1):
            action = self.timeline.action(index)
            if action.kind == "stage":
                if action.stage == "zero_grad":
                    return index
                last_stage = index if last_stage is None else last_stage
        return position if last_stage is None else last_stage

    def interned(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` (from another process) sharing its equal parts with this session's
        checkpoints, as the checkpoints taken here share them."""
        intern = self._packer.intern

        def packed(blob: Packed) -> Packed:
            return Packed(intern(blob.layout), blob.blob)

        def params(kept: PackedParams | None) -> PackedParams | None:
            return None if kept is None else (intern(kept[0]), packed(kept[1]))

        return dataclasses.replace(
            snapshot, tensors=packed(snapshot.tensors), has_grad=intern(snapshot.has_grad),
            optimizer_entries=intern(snapshot.optimizer_entries),
            optimizer_groups=intern(snapshot.optimizer_groups),
            graph_recipe=intern(snapshot.graph_recipe),
            scheduler_state=(None if snapshot.scheduler_state is None
                             else intern(snapshot.scheduler_state)),
            outputs_params=params(snapshot.outputs_params),
            loss_outputs_params=params(snapshot.loss_outputs_params))

    def _replay(self, snapshot: Snapshot, base: int, position: int,
                quiet_before: int | None,
                records: list[StageRecord] | None = None) -> StageRecord | None:
        """Restore ``snapshot`` (at ``base``) and replay the log up to ``position``; stages
        before ``quiet_before`` without records (raises ``_Loud`` if one cannot be); the
        records made go to ``records`` if given."""
        self._restore(snapshot)
        record = None
        for index in range(base, position):
            action = self.timeline.action(index)
            if action.kind == "stage" and action.stage is not None:
                if quiet_before is not None and index < quiet_before:
                    try:
                        quiet = self._run_stage_quietly(action.stage, False)  # check_loss: no
                    except Exception as exc:
                        raise _Loud from exc
                    if not quiet:
                        raise _Loud
                else:
                    record = self._run_stage(action.stage)
                    if records is not None:
                        records.append(record)
            elif action.kind == "reset":
                self._apply_reset(str(action.value or ""))
                record = None
            else:
                self._apply_setting(str(action.name), action.value)
        return record

    def position_before_divergence(self) -> int | None:
        """Where to rewind once the loss has become inf or NaN in this run, else None.

        Not the moment just before the overflow (the weights are already huge there) but the
        best moment before it: just after the step that left the lowest full-batch loss.
        """
        start = self.timeline.run_start()
        bad = self.timeline.first_non_finite(start)
        if bad is None:
            return None
        steps = self.timeline.step_positions(start, bad)
        losses = np.asarray(self.history.column("loss")[: len(steps)], dtype=np.float64)
        finite = np.where(np.isfinite(losses), losses, np.inf)
        best = int(np.argmin(finite)) if len(finite) else 0
        if best == 0:  # no step helped: back to the run's first stage, keeping its settings
            return self.timeline.first_stage_from(start)
        return steps[best - 1] + 1  # row r measured the loss just after step r

    def _last_stage_index(self, position: int) -> int | None:
        for index in range(position - 1, -1, -1):
            kind = self.timeline.action(index).kind
            if kind == "stage":
                return index
            if kind == "reset":
                return None
        return None

    def _before_action(self) -> None:
        self.timeline.truncate_after_position()
        if self.timeline.wants_checkpoint():
            self.timeline.add_checkpoint(self._capture())

    # -- live graphs in checkpoints --------------------------------------------------------
    # PyTorch cannot copy an autograd graph, but the session's graphs are cheap to make
    # again: outputs = model(inputs[rows]) with the parameters of that moment, and the loss
    # from them. A checkpoint stores that recipe for every graph backward has not freed yet,
    # so checkpoints never wait for a backward (in free mode one may never come, and every
    # undo then replayed the whole session).
    def _keep_forward_params(self) -> tuple[list[int], tuple[torch.Tensor, ...] | None]:
        """Before a step, keep the parameters the live graphs were made with.

        Returns the parameters' version counters and the copies taken now (None if none
        were needed), for :meth:`_forget_unchanged` after the step.
        """
        params = self._parameters()
        versions = [p._version for p in params]
        if self.outputs is None and self._loss_outputs is None:
            return versions, None
        current = tuple(p.detach().clone() for p in params)
        loop = self._loop
        if self.outputs is not None:
            loop.outputs_params = _kept(loop.outputs_params, current)
        if self._loss_outputs is not None:
            loop.loss_outputs_params = _kept(loop.loss_outputs_params, current)
        return versions, current

    def _forget_unchanged(self, kept: tuple[list[int], tuple[torch.Tensor, ...] | None]
                          ) -> None:
        """After a step, drop the copies taken for it of parameters it did not write.

        A step with no ``.grad`` writes nothing, and the graphs stay valid in PyTorch; putting
        such a parameter back on restore would count as a write and break them. Copies kept
        by an earlier step that did write stay.
        """
        versions, taken = kept
        if taken is None:
            return
        unchanged = [p._version == v
                     for p, v in zip(self._parameters(), versions, strict=True)]
        if not any(unchanged):  # the usual step: it wrote every parameter
            return
        loop = self._loop
        for name in ("outputs_params", "loss_outputs_params"):
            stored = getattr(loop, name)
            if stored is not None:
                trimmed = tuple(None if same and value is now else value for value, now, same
                                in zip(stored, taken, unchanged, strict=True))
                setattr(loop, name, None if all(t is None for t in trimmed) else trimmed)

    @staticmethod
    def _freed(tensor: torch.Tensor | None) -> bool:
        return (tensor is not None and tensor.grad_fn is not None
                and bool(saved_values_freed(tensor.grad_fn)))

    def _graph_recipe(self) -> tuple[tuple[str, bool], ...]:
        """How to make the graphs of now again: which exist, and which backward freed."""
        recipe = []
        if self.outputs is not None:
            recipe.append(("outputs_freed", self._freed(self.outputs)))
        if self.loss is not None:
            recipe += [("loss_freed", self._freed(self.loss)),
                       ("loss_outputs_freed", self._freed(self._loss_outputs)),
                       ("loss_outputs_is_outputs", self._loss_outputs is self.outputs)]
        return tuple(recipe)

    def _rebuild_graphs(self, recipe: tuple[tuple[str, bool], ...]) -> None:
        """Make ``outputs`` and ``loss`` again, live or freed as they were, with the same
        parameters, rows and scaling: the same numbers, and the same next backward."""
        plan = dict(recipe)
        self.outputs = self.loss = self._loss_outputs = None
        # A train-mode forward moves BatchNorm's running averages: these forwards happened
        # before, so the buffers are put back as the checkpoint holds them.
        buffers = buffers_of(self.model) if self._named_buffers else None
        try:
            self._make_graphs(plan)
        finally:
            if buffers is not None:
                put_buffers(self.model, buffers)

    def _make_graphs(self, plan: dict[str, bool]) -> None:
        same = plan.get("loss_outputs_is_outputs", False)
        separate_outputs = "outputs_freed" in plan and not same
        # A graph made with older parameters goes first: putting the current ones back counts
        # as a write, which must not reach a graph made with the current ones.
        loss_first = self._loop.loss_outputs_params is not None or self._loop.outputs_params is None

        def rebuild_outputs() -> None:
            self.outputs = self._make_graph(self._loop.outputs_rows, self._loop.outputs_params,
                                            free_outputs=plan["outputs_freed"])

        if separate_outputs and not loss_first:
            rebuild_outputs()
        if "loss_freed" in plan:
            self._loss_outputs, self.loss = self._make_graph_with_loss(plan)
            if same:
                self.outputs = self._loss_outputs
        if separate_outputs and loss_first:
            rebuild_outputs()

    def _with_params(self, params: tuple[torch.Tensor | None, ...] | None,
                     make: Callable[[], Any]) -> Any:
        """Run ``make`` with the parameters ``params`` in place (None: those of now)."""
        if params is None:
            return make()
        swapped = [(param, value, param.detach().clone())
                   for param, value in zip(self._parameters(), params, strict=True)
                   if value is not None]
        with torch.no_grad():
            for param, value, _now in swapped:
                param.copy_(value)
        try:
            return make()
        finally:
            with torch.no_grad():
                for param, _value, now in swapped:
                    param.copy_(now)

    def _free(self, tensor: torch.Tensor) -> None:
        """Run a backward that frees ``tensor``'s graph without touching any ``.grad``."""
        torch.autograd.grad(tensor.sum(), self._parameters(), allow_unused=True)

    def _make_graph(self, rows: tuple[int, ...],
                    params: tuple[torch.Tensor | None, ...] | None,
                    *, free_outputs: bool) -> torch.Tensor:
        def make() -> torch.Tensor:
            outputs = cast(torch.Tensor, self.model(self.inputs[list(rows)]))
            if free_outputs:
                self._free(outputs)
            return outputs
        # the same dropout masks as the first time: drawn from the same generator state
        return cast(torch.Tensor, drawing_from(
            self._loop.outputs_rng, lambda: self._with_params(params, make))[0])

    def _loss_of(self, outputs: torch.Tensor) -> torch.Tensor:
        scored = torch.softmax(outputs, dim=1) if self._loop.loss_softmax else outputs
        loss = cast(torch.Tensor, self.loss_fn(scored, self.targets[list(self._loop.loss_rows)]))
        return loss / self._loop.loss_scale if self._loop.loss_scale > 1 else loss

    def _make_graph_with_loss(self, plan: dict[str, bool]
                              ) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss's outputs and the loss, freed as they were (a loss made over outputs
        that a backward had freed is live on top of a freed graph)."""
        def make() -> tuple[torch.Tensor, torch.Tensor]:
            outputs = cast(torch.Tensor, self.model(self.inputs[list(self._loop.loss_rows)]))
            if plan["loss_outputs_freed"] and not plan["loss_freed"]:
                self._free(outputs)
            loss = self._loss_of(outputs)
            if plan["loss_freed"]:
                self._free(loss)
            return outputs, loss
        return cast(tuple[torch.Tensor, torch.Tensor], drawing_from(
            self._loop.loss_rng,
            lambda: self._with_params(self._loop.loss_outputs_params, make))[0])

    # -- checkpoints -------------------------------------------------------------------
    def _capture(self) -> Snapshot:
        params = self._parameters()
        tensors = [p.detach() for p in params]
        tensors += [b.detach() for _, b in self._named_buffers]
        tensors += [p.grad.detach() for p in params if p.grad is not None]
        state = self.optimizer.state_dict()
        entries = []
        for index, values in state["state"].items():
            for name, value in values.items():
                if torch.is_tensor(value):
                    tensors.append(value)
                    entries.append((index, name, _TENSOR))
                else:
                    entries.append((index, name, freeze(value)))
        packer = self._packer
        loop = self._loop.copy()
        same = loop.loss_outputs_params is loop.outputs_params
        outputs_params = self._pack_params(loop.outputs_params)
        loss_outputs_params = None if same else self._pack_params(loop.loss_outputs_params)
        loop.outputs_params = loop.loss_outputs_params = None
        return Snapshot(
            tensors=packer.pack(tensors),
            has_grad=packer.intern(tuple(p.grad is not None for p in params)),
            optimizer_entries=packer.intern(tuple(entries)),
            optimizer_groups=packer.intern(freeze(state["param_groups"])),
            settings=self._settings,
            loop=loop,
            graph_recipe=packer.intern(self._graph_recipe()),
            history=self.history.mark(),
            scheduler_state=(None if self.scheduler is None
                             else packer.intern(freeze(self.scheduler.state_dict()))),
            outputs_params=outputs_params, loss_outputs_params=loss_outputs_params,
            loss_is_outputs_params=same,
        )

    def _pack_params(self, values: tuple[torch.Tensor | None, ...] | None
                     ) -> PackedParams | None:
        if values is None:
            return None
        present = self._packer.intern(tuple(value is not None for value in values))
        return present, self._packer.pack([value for value in values if value is not None])

    @staticmethod
    def _unpack_params(packed: PackedParams | None
                       ) -> tuple[torch.Tensor | None, ...] | None:
        if packed is None:
            return None
        present, blob = packed
        tensors = iter(unpack(blob))
        return tuple(next(tensors) if there else None for there in present)

    def _restore(self, snapshot: Snapshot) -> None:
        tensors = iter(unpack(snapshot.tensors))
        params = self._parameters()
        with torch.no_grad():
            for param in params:
                param.copy_(next(tensors))
            for _, buffer in self._named_buffers:
                buffer.copy_(next(tensors))
        for param, has_grad in zip(params, snapshot.has_grad, strict=True):
            param.grad = next(tensors) if has_grad else None
        self._settings = snapshot.settings
        self.optimizer = self._make_optimizer()
        self._new_scheduler()  # before the optimizer's state: making one moves the lr
        state: dict[int, dict[str, Any]] = {}
        for index, name, value in snapshot.optimizer_entries:
            state.setdefault(index, {})[name] = next(tensors) if value is _TENSOR \
                else thaw(value)
        self.optimizer.load_state_dict(
            {"state": state, "param_groups": thaw(snapshot.optimizer_groups)})
        if self.scheduler is not None and snapshot.scheduler_state is not None:
            self.scheduler.load_state_dict(thaw(snapshot.scheduler_state))
        self._loop = loop = snapshot.loop.copy()
        loop.outputs_params = self._unpack_params(snapshot.outputs_params)
        loop.loss_outputs_params = (loop.outputs_params if snapshot.loss_is_outputs_params
                                    else self._unpack_params(snapshot.loss_outputs_params))
        # The loader the settings make, its generator where it was after this epoch's draw.
        self.loader = self._make_loader()
        if self._loop.sampler_state is not None and self.loader.generator is not None:
            self.loader.generator.set_state(self._loop.sampler_state)
        self._rebuild_graphs(snapshot.graph_recipe)
        self.history.restore(snapshot.history)
