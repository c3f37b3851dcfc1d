"""The training session: real PyTorch objects for any scenario, driven one stage at a time.

The façade: it builds the model, data, loss and optimizer from a scenario, holds the
settings, and keeps every action on the timeline. The stages themselves are in
``runners.py``; checkpoints and jumps in ``rewind.py``.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from gui_trainer.core import optimizers, schedulers
from gui_trainer.core.autograd_graph import GraphSnapshot, read_graph
from gui_trainer.core.batches import draw_epoch, generator_state, make_loader
from gui_trainer.core.blas_threads import one_blas_thread
from gui_trainer.core.graph_modules import assign_modules
from gui_trainer.core.history import ONE_NEURON_COLUMNS, History, tensor_history
from gui_trainer.core.layer_math import Backprop, LayerActivity, activation_stats, backprop_by_layer
from gui_trainer.core.loop_state import LoopState
from gui_trainer.core.optional_stages import OptionalStages
from gui_trainer.core.packing import Packer
from gui_trainer.core.param_trail import ParameterTrail, flat
from gui_trainer.core.records import StageRecord, Values
from gui_trainer.core.rewind import Rewind
from gui_trainer.core.runners import StageRunners, values_of
from gui_trainer.core.scenarios import (
    DEFAULT_INPUTS,
    DEFAULT_SCENARIO,
    DEFAULT_TARGETS,
    Scenario,
    scenario_named,
    with_given_data,
)
from gui_trainer.core.session_settings import SessionSettings
from gui_trainer.core.settings import (
    MODES,
    OPTIMIZERS,
    Mode,
    OptimizerName,
    Settings,
    check_softmax_task,
    micro_batch_counts,
)
from gui_trainer.core.stages import LABELS, LOOP_ORDER, Stage, as_stage
from gui_trainer.core.timeline import Action, Timeline
from gui_trainer.core.train_modes import has_dropout, measuring
from gui_trainer.core.validation import whole_number

one_blas_thread()  # NumPy is loaded: its threads would fight PyTorch's (see there)

__all__ = [
    "DEFAULT_INPUTS", "DEFAULT_SEED", "DEFAULT_TARGETS", "MODES", "OPTIMIZERS", "Mode",
    "OptimizerName", "StageOrderError", "TrainingSession", "micro_batch_counts",
]

DEFAULT_SEED = 42


class _ScenarioDefault:
    """Stands for "the scenario's own value" (None is a value a caller may pass by mistake)."""

    def __repr__(self) -> str:
        return "the scenario's default"


SCENARIO_DEFAULT: Any = _ScenarioDefault()


class StageOrderError(RuntimeError):
    """Raised in guided mode when a stage is asked for out of loop order."""


class TrainingSession(SessionSettings, StageRunners, OptionalStages, Rewind):
    """One model, its data, loss function and optimizer, run stage by stage.

    ``run(stage)`` makes exactly the PyTorch call a training script makes for that stage
    and returns a :class:`StageRecord`. ``outputs`` and ``loss`` behave like the script's
    variables: each is replaced only by its own stage. Every action is kept on a timeline,
    so ``undo``, ``redo`` and ``jump_to`` restore any earlier moment exactly.

    ``scenario`` is a name from ``scenarios.SCENARIOS`` or a :class:`Scenario`; ``lr``,
    ``optimizer`` and ``seed`` default to the scenario's own; ``optimizer_options`` are the
    optimizer's hyperparameters besides lr (see :meth:`set_optimizer`).
    """

    def __init__(
        self,
        *,
        scenario: str | Scenario = DEFAULT_SCENARIO,
        inputs: Sequence[Sequence[float]] | None = None,
        targets: Sequence[Sequence[float]] | None = None,
        lr: float | str = SCENARIO_DEFAULT,
        mode: Mode = "guided",
        optimizer: OptimizerName = SCENARIO_DEFAULT,
        set_to_none: bool = True,
        micro_batches: int = 1,
        seed: int = SCENARIO_DEFAULT,
        optimizer_options: Mapping[str, object] | Sequence[tuple[str, object]] = (),
        batch_size: int | None = None,
        shuffle: bool = False,
        drop_last: bool = False,
        clip_max_norm: float | None = None,
        scheduler: tuple[str, Mapping[str, object] | Sequence[tuple[str, object]]] | None = None,
        evaluate_model_eval: bool = True,
        evaluate_no_grad: bool = True,
        softmax_before_loss: bool = False,
    ) -> None:
        if isinstance(scenario, str):
            scenario = scenario_named(scenario)
        elif not isinstance(scenario, Scenario):
            raise TypeError(f"scenario must be a name or a Scenario, not "
                            f"{type(scenario).__name__}")
        self.scenario = with_given_data(scenario, inputs, targets)
        #: The seed the starting weights came from (the Code panel's script uses it too).
        self.seed = whole_number(scenario.seed if seed is SCENARIO_DEFAULT else seed, "seed")
        data = self.scenario.data
        self.inputs = torch.from_numpy(data.inputs.copy())
        self.targets = torch.from_numpy(data.targets.copy())
        #: The held-out rows Evaluate measures (None when the scenario has no split).
        self.val_inputs = (None if data.val_inputs is None
                           else torch.from_numpy(data.val_inputs.copy()))
        self.val_targets = (None if data.val_targets is None
                            else torch.from_numpy(data.val_targets.copy()))
        self._settings = Settings.checked(
            lr=self.scenario.lr if lr is SCENARIO_DEFAULT else lr, mode=mode,
            optimizer_name=(self.scenario.optimizer if optimizer is SCENARIO_DEFAULT
                            else optimizer),
            set_to_none=set_to_none, micro_batches=micro_batches, samples=data.samples,
            optimizer_options=optimizer_options, batch_size=batch_size, shuffle=shuffle,
            drop_last=drop_last, clip_max_norm=clip_max_norm, scheduler=scheduler,
            evaluate_model_eval=evaluate_model_eval, evaluate_no_grad=evaluate_no_grad,
            softmax_before_loss=softmax_before_loss)
        if self._settings.softmax_before_loss:
            check_softmax_task(self.scenario.task)
        self.model, rng = self.scenario.build_model_with_rng(self.seed)
        #: Where the dropout masks' draws start (None without dropout: nothing is drawn).
        self._first_dropout_rng = rng if has_dropout(self.model) else None
        self._named_params = tuple(self.model.named_parameters())
        self._named_buffers = tuple(self.model.named_buffers())
        self._params_cache = None
        #: The last autograd_graph() and what it was read from (see there).
        self._graph_cache: tuple[tuple[Any, ...], GraphSnapshot] | None = None
        self._all_rows = tuple(range(len(self.inputs)))
        self._every_row_seen = self._all_rows
        #: The last accuracy of the loss's outputs: (outputs, rows, accuracy).
        self._accuracy_cache = None
        self._one_neuron = self.scenario.is_one_neuron
        #: Plain-number copies of the data per set of rows, for the records.
        self._data_values: dict[tuple[int, ...], tuple[Values, Values]] = {}
        self.loss_fn = self.scenario.loss_fn()
        self._initial_state = copy.deepcopy(self.model.state_dict())
        self.optimizer = self._make_optimizer()
        self.scheduler: Any = None
        self._new_scheduler()
        self.history = History(self._history_columns())
        self._note_start()
        #: A network's weights along its path, within a fixed budget (the landscape's
        #: path plane); the one neuron's two numbers are in the history already.
        self.trail = (None if self._one_neuron else
                      ParameterTrail(sum(p.numel() for p in self.model.parameters())))
        self.timeline = Timeline()
        self._packer = Packer()
        #: How many actions the last jump replayed after its checkpoint (0 before any jump).
        self.last_jump_replayed = 0
        self._replaying = False
        self._clear_run_state()
        self.timeline.add_checkpoint(self._capture())

    def _history_columns(self) -> list[str]:
        """One-neuron: its two numbers and their grads; else per tensor, norms and ratios."""
        columns = []
        if self.scenario.task == "classification":
            columns.append("accuracy")
        if self._one_neuron:
            return [*columns, *ONE_NEURON_COLUMNS]
        for name, _param in self.model.named_parameters():
            columns += [f"grad_norm:{name}", f"update_ratio:{name}"]
        return columns

    def tensor_history(self, kind: str, name: str) -> np.ndarray:
        """Per step of this run: ``"grad_norm"`` or ``"update_ratio"`` of tensor ``name``."""
        return tensor_history(self.history, kind, name, self.first_value(name))

    def first_value(self, name: str) -> float | None:
        """The one neuron's parameter ``name`` at the start of a run (None for a network)."""
        if not self._one_neuron:
            return None
        start = self._settings.start
        if start is not None:
            return float(torch.tensor(start[self.param_index(name)], dtype=torch.float32))
        return float(self._initial_state[name].reshape(-1)[0])

    def start_vector(self) -> np.ndarray:
        """Every run's starting parameters as one vector (``named_parameters`` order)."""
        return flat(self._initial_state[name] for name, _ in self._named_params)

    def _note_start(self) -> None:
        """The one neuron's (weight, bias) where a run starts, for its path on the map."""
        if self._one_neuron:
            self.history.note_start(tuple(float(p.detach().reshape(-1)[0])
                                          for _, p in self._named_params))

    def param_index(self, name: str) -> int:
        return [n for n, _ in self._named_params].index(name)

    def _start_note(self) -> str:
        start = self._settings.start
        return ("" if start is None else
                f"from weight {start[0]:.4g}, bias {start[1]:.4g}")

    # -- the real objects ---------------------------------------------------------------
    @property
    def one_neuron(self) -> bool:
        """The seed's model: one weight and one bias, every number shown one by one."""
        return self._one_neuron

    @property
    def linear(self) -> nn.Linear:
        """The one-neuron model's layer (other models have several: see ``model``)."""
        self._require_one_neuron("linear")
        return cast(nn.Linear, next(iter(self.model.children())))

    @property
    def weight(self) -> torch.Tensor:
        return self.linear.weight

    @property
    def bias(self) -> torch.Tensor:
        return self.linear.bias

    def _require_one_neuron(self, what: str) -> None:
        if not self._one_neuron:
            raise TypeError(f"{what} belongs to the one-neuron model; {self.scenario.name} "
                            f"has {len(list(self.model.parameters()))} parameter tensors "
                            f"(see model.named_parameters())")

    def predict(self, xs: Sequence[float]) -> Values:
        """The model's outputs for one-input ``xs``, no graph recorded (to draw the curve),
        in eval mode (see ``train_modes``)."""
        with measuring(self.model):
            column = torch.tensor(list(xs), dtype=torch.float32).reshape(-1, 1)
            return values_of(self.model(column)) or ()

    def predict_array(self, inputs: np.ndarray) -> np.ndarray:
        """The model's outputs (logits for a classifier) for rows of inputs, no graph,
        in eval mode."""
        with measuring(self.model):
            rows = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
            return cast(np.ndarray, self.model(rows).numpy())

    @property
    def outputs_rows(self) -> tuple[int, ...]:
        """Which samples ``outputs`` holds predictions for (all of them unless micro-batching)."""
        return self._loop.outputs_rows

    # -- progress ----------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """Completed epochs (passes over every training row) since the start (or the last
        reset). With the full batch each step completes one."""
        return self._loop.epoch

    @property
    def steps(self) -> int:
        """Completed optimizer steps (iterations) since the start (or the last reset)."""
        return self._loop.steps

    @property
    def iterations_per_epoch(self) -> int:
        """Steps in one epoch: ``len(loader)``, over the micro-batches each step gathers
        (the full batch split into micro-batches is still one step)."""
        batches = len(self._loop.batches)
        return 1 if batches == 1 else batches // self._settings.micro_batches

    @property
    def iteration(self) -> int:
        """Which step of the current epoch comes next: 1 … ``iterations_per_epoch``."""
        batches = len(self._loop.batches)
        group = 1 if batches == 1 else self._settings.micro_batches
        return self._loop.position // group + 1

    @property
    def epoch_batches(self) -> tuple[tuple[int, ...], ...]:
        """This epoch's batches as the DataLoader drew them (row indices into ``inputs``)."""
        return self._loop.batches

    @property
    def stage_count(self) -> int:
        """How many stages have been run since the start (or the last reset)."""
        return self._loop.stage_count

    @property
    def chunk(self) -> int:
        """The micro-batch the next forward uses (0 when not accumulating)."""
        return self._loop.chunk

    @property
    def loss_measures_current_outputs(self) -> bool:
        """False after a Forward that came after the last Loss (the loss is stale)."""
        return self.loss is not None and self._loss_outputs is self.outputs

    @property
    def last_stage(self) -> Stage | None:
        return self._loop.last_stage

    @property
    def next_stage(self) -> Stage:
        """The next stage in loop order: the only one guided mode allows."""
        return self._loop.next_stage

    def refusal(self, stage: str) -> str | None:
        """Why ``stage`` may not run now (guided mode only), or None if it may."""
        wanted = as_stage(stage)
        following = self._loop.next_stage
        if self._settings.mode == "free" or wanted == following:
            return None
        return (
            f"Guided mode: the loop goes on with {LABELS[following]}, not "
            f"{LABELS[wanted]} (switch to free mode to break the order)."
        )

    # -- files ----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save everything to a ``.gtrain`` file (atomically; see ``session_file``)."""
        from gui_trainer.core.session_file import save

        save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainingSession:
        """The session saved in ``path``, exactly as it was (undo included); a bad file
        raises ``gui_trainer.core.SessionFileError`` (a ValueError) saying what is wrong."""
        from gui_trainer.core.session_file import load

        return load(path)

    def reset(self, note: str = "") -> None:
        """Back to the starting weights; settings are kept and the old run stays on record.

        ``note`` names the new run (an experiment's title) on the loss plot later on.
        """
        if not isinstance(note, str):
            raise TypeError(f"note must be a string, not {type(note).__name__}")
        self._before_action()
        self._apply_reset(note)
        self.timeline.record(Action("reset", value=note))

    def _apply_reset(self, note: str = "") -> None:
        self.model.load_state_dict(self._initial_state)
        start = self._settings.start
        if start is not None:  # the one neuron's chosen start (Settings.start)
            with torch.no_grad():
                for (_, param), value in zip(self._named_params, start, strict=True):
                    param.fill_(value)
        self.optimizer = self._make_optimizer()
        self._new_scheduler()
        self.history.start_run(note)
        self._note_start()
        self._clear_run_state()

    # -- running stages ----------------------------------------------------------------
    def run(self, stage: str) -> StageRecord:
        """Run one stage with the real PyTorch call and return what it did.

        Guided mode raises :class:`StageOrderError` for an out-of-order stage and changes
        nothing. Free mode never raises: an error PyTorch raises is carried in the record.
        """
        stage = as_stage(stage)
        reason = self.refusal(stage)
        if reason is not None:
            raise StageOrderError(reason)
        self._before_action()
        record = self._run_stage(stage)
        self.timeline.record(Action("stage", stage=stage), record.loss)
        return record

    def run_iteration(self) -> list[StageRecord]:
        """Run stages in loop order from ``next_stage`` through the next step, and the
        optional stages due after it (Evaluate at an epoch's end, Schedule).

        Stops early at a stage PyTorch raised an error in (its record is the last): the
        loop cannot go on past it (a batch of one through BatchNorm fails every time).
        """
        records = [self.run(self._loop.next_stage)]
        while records[-1].stage != "step" and records[-1].error is None:
            records.append(self.run(self._loop.next_stage))
        while self._loop.next_stage in ("evaluate", "schedule") and records[-1].error is None:
            records.append(self.run(self._loop.next_stage))
        return records

    def run_iteration_quietly(self) -> list[StageRecord]:
        """:meth:`run_iteration` with no records: auto-train's pace when nothing is shown
        stage by stage.

        The same stages run the same PyTorch calls, and the history, timeline, checkpoints
        and loop state come out exactly as :meth:`run_iteration` leaves them (the tests
        compare both). Only a stage worth a record makes one: if a stage raises, does not
        run, warns, or leaves the loss NaN or infinite, what it did is undone (a jump to
        the position before it) and it runs again with :meth:`run`; the iteration stops
        there and that record is returned. Otherwise the list is empty.
        """
        loop = self._loop
        if self.loss is not None and not math.isfinite(self.loss.item()):
            return [self.run(loop.next_stage)]  # the record says the loss is not finite
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning belongs in a record
            while True:
                stage = loop.next_stage
                self._before_action()
                try:
                    fine = self._run_stage_quietly(stage)
                except Exception:
                    fine = False
                if not fine:
                    break
                self.timeline.record_stage(stage)
                if stage in ("step", "evaluate", "schedule") and loop.next_stage not in (
                        "evaluate", "schedule"):
                    return []
        replayed = self.last_jump_replayed
        self.jump_to(self.timeline.position)  # undo what the stage did part way
        self.last_jump_replayed = replayed
        return [self.run(stage)]

    def run_epoch(self) -> list[StageRecord]:
        """Run stages in loop order until the current epoch is complete (with the full batch,
        through the next step), or a stage raised (see :meth:`run_iteration`)."""
        epoch = self._loop.epoch
        records = self.run_iteration()
        while self._loop.epoch == epoch and records[-1].error is None:
            records += self.run_iteration()
        return records

    def backprop_by_layer(self, sample: int = 0) -> Backprop:
        """Backward written out layer by layer for one sample, checked against autograd."""
        return backprop_by_layer(cast(nn.Sequential, self.model), self.inputs, self.targets,
                                 self.scenario.task, whole_number(sample, "sample"),
                                 self._settings.softmax_before_loss)

    def activation_stats(self) -> tuple[LayerActivity, ...]:
        """Per activation layer over all the data: mean, spread, dead or saturated units."""
        return activation_stats(cast(nn.Sequential, self.model), self.inputs)

    def autograd_graph(self) -> GraphSnapshot:
        """The graph PyTorch holds now, read by walking ``grad_fn`` from the loss and outputs.

        Each node names the module that recorded it, so a view can draw one box per module.
        A click asks twice (the graph view, the frame's capture): while the same loss and
        outputs stand and no parameter or ``.grad`` changed (backward writes ``.grad`` as it
        frees the graph, and the leaves show it), the last reading is handed out again.
        """
        key = (self.loss, self.outputs, self._loss_outputs, tuple(
            (p._version, p.grad, -1 if p.grad is None else p.grad._version)
            for _, p in self._named_params))
        cached = self._graph_cache
        if cached is not None and _same_tensors(cached[0], key):
            return cached[1]
        graph = assign_modules(read_graph(self), self.model, self.loss_fn)
        self._graph_cache = (key, graph)
        return graph

    # -- helpers -----------------------------------------------------------------------
    def _clear_run_state(self) -> None:
        self.outputs = None
        self.loss = None
        self._loss_outputs = None
        self._accuracy_cache = None
        for param in self.model.parameters():
            param.grad = None
        self.loader = self._make_loader()
        # A restart goes on drawing dropout masks where the run before left off, as a
        # script's generator would.
        old = getattr(self, "_loop", None)
        rng = self._first_dropout_rng if old is None else old.dropout_rng
        self._loop = LoopState.fresh(
            len(self.inputs), draw_epoch(self.loader), generator_state(self.loader), rng)
        # A script of this run starts its masks at torch.manual_seed: after a restart the
        # session's draws go on from the run before, so the listing would not end here.
        self._loop.off_script = rng is not None and not torch.equal(
            rng, cast(torch.Tensor, self._first_dropout_rng))

    def _make_loader(self) -> DataLoader[tuple[torch.Tensor, ...]]:
        settings = self._settings
        return make_loader(self.inputs, self.targets, settings.batch_size, settings.shuffle,
                           settings.drop_last, self.seed)

    def _new_scheduler(self) -> None:
        """The scheduler the settings choose, new on the optimizer as it is (None if off)."""
        choice = self._settings.scheduler
        for group in self.optimizer.param_groups:
            # a scheduler notes the rate it starts from only if none is noted yet
            group.pop("initial_lr", None)
        self.scheduler = None if choice is None else schedulers.build(*choice, self.optimizer)

    @property
    def off_script(self) -> bool:
        """Whether an optional stage ran out of the loop's order (or raised) in this run."""
        return self._loop.off_script

    @property
    def stages_on(self) -> tuple[Stage, ...]:
        """The loop's stages in order: the five, and the optional ones the settings turn on
        (Clip with a max_norm, Evaluate with a validation split, Schedule with a scheduler)."""
        on = {"clip": self._settings.clip_max_norm is not None,
              "evaluate": self.val_inputs is not None, "schedule": self.scheduler is not None}
        return tuple(stage for stage in LOOP_ORDER if on.get(stage, True))

    @property
    def has_validation(self) -> bool:
        """Whether the scenario holds rows out for Evaluate."""
        return self.val_inputs is not None

    def _new_loader(self) -> None:
        """A batch setting changed: a new DataLoader (seeded afresh, as a script that made
        it now would), whose first epoch starts at once; the epoch count goes on."""
        self.loader = self._make_loader()
        loop = self._loop
        loop.batches = draw_epoch(self.loader)
        loop.sampler_state = generator_state(self.loader)
        loop.position = loop.chunk = 0

    def _make_optimizer(self) -> torch.optim.Optimizer:
        settings = self._settings
        return optimizers.build(settings.optimizer_name, self.model.parameters(), settings.lr,
                                settings.optimizer_options)


def _same_tensors(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """The same objects (tensors by identity: the key keeps them alive, so an id is not
    reused) and numbers, item by item, nested."""
    return len(a) == len(b) and all(
        _same_tensors(x, y) if isinstance(x, tuple) and isinstance(y, tuple)
        else (x is y if not isinstance(x, int) else x == y)
        for x, y in zip(a, b, strict=True))
