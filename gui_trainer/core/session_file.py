"""Session files (``.gtrain``): a zip of one JSON manifest and one safetensors file.

The manifest holds the scenario (with its data's names), the seed, the first settings and
every action of the timeline with the position; the tensors file holds the data itself, the
timeline's stage codes, and the parameters, ``.grad``, buffers and optimizer state at the
position.
No pickle anywhere: JSON and safetensors only.

Loading builds a fresh session and replays the actions (deterministic on the CPU, as a jump
is), so the history, the checkpoints and undo/redo are exactly as they were; then it checks
that the replay reached the parameters, gradients and optimizer state the file holds, bit
for bit. Anything wrong — not a zip, truncated, another or a newer format, a missing or
unexpected entry, an entry too large or compressed suspiciously well, a name with a path in
it, tensors of the wrong shape, NaN in the data, actions that cannot be replayed — raises
:class:`SessionFileError` saying what, and nothing else happens.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError

from gui_trainer import __version__
from gui_trainer.core.datasets import TASKS, Dataset
from gui_trainer.core.files import write_atomic
from gui_trainer.core.models import ModelSpec
from gui_trainer.core.optimizers import OPTIMIZERS
from gui_trainer.core.scenarios import SCENARIOS, Scenario
from gui_trainer.core.session import StageOrderError, TrainingSession
from gui_trainer.core.settings import NAMES as SETTING_NAMES
from gui_trainer.core.stages import STAGE_BY_CODE, STAGE_CODES

FORMAT = "gui_trainer session"
VERSION = 1
SUFFIX = ".gtrain"
MANIFEST = "session.json"
TENSORS = "tensors.safetensors"
ENTRIES = (MANIFEST, TENSORS)
#: Limits on what a file may make the app read: a file is a few MB even after a long run.
MAX_FILE_BYTES = 512 << 20
MAX_ENTRY_BYTES = {MANIFEST: 64 << 20, TENSORS: 1 << 30}
#: An entry over RATIO_CHECKED_FROM bytes that expands more than MAX_RATIO times is
#: refused as a zip bomb.
MAX_RATIO = 1000
RATIO_CHECKED_FROM = 64 << 20
#: Stage codes 0–4 are the five stages and 7–9 the optional ones (``stages.STAGE_CODES``);
#: these two are a setting change and a restart.
SETTING_CODE, RESET_CODE = 5, 6


class SessionFileError(ValueError):
    """A session file that cannot be loaded; the message says what is wrong with it."""


class LoadCancelled(Exception):
    """The learner stopped a load (its ``progress`` returned False)."""


#: A load reports its progress every this many actions replayed.
PROGRESS_EVERY = 256
Progress = Callable[[int, int], bool]


# -- saving ---------------------------------------------------------------------------------
def _same_or_none(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and _same(a, b))


def _scenario_json(scenario: Scenario) -> dict[str, Any]:
    data = scenario.data
    return {
        "name": scenario.name, "title": scenario.title, "description": scenario.description,
        "lr": scenario.lr, "optimizer": scenario.optimizer, "seed": scenario.seed,
        "model": asdict(scenario.model_spec),
        "data": {"task": data.task, "feature_names": list(data.feature_names),
                 "target_name": data.target_name, "class_names": list(data.class_names),
                 "preprocessing": data.preprocessing, "source": data.source,
                 "image_shape": None if data.image_shape is None else list(data.image_shape),
                 "file_columns": list(data.file_columns)},
    }


def _state_tensors(session: TrainingSession) -> dict[str, np.ndarray]:
    """The parameters, their .grad, the buffers (BatchNorm's running averages, which are
    not parameters) and the optimizer's state, by name."""
    tensors: dict[str, np.ndarray] = {}
    for name, param in session.model.named_parameters():
        tensors[f"param.{name}"] = param.detach().numpy().copy()
        if param.grad is not None:
            tensors[f"grad.{name}"] = param.grad.detach().numpy().copy()
    for name, buffer in session.model.named_buffers():
        tensors[f"buffer.{name}"] = buffer.detach().numpy().copy()
    for index, state in session.optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if value is not None:
                tensors[f"optimizer.{index}.{key}"] = value.detach().numpy().copy()
    return tensors


def to_bytes(session: TrainingSession) -> bytes:
    """The session as the bytes of a ``.gtrain`` file."""
    timeline = session.timeline
    codes = np.zeros(len(timeline), dtype=np.int8)
    changes: list[list[Any]] = []
    for index in range(len(timeline)):
        action = timeline.action(index)
        if action.kind == "stage" and action.stage is not None:
            codes[index] = STAGE_CODES[action.stage]
        elif action.kind == "reset":
            codes[index] = RESET_CODE
            changes.append([index, "reset", str(action.value or "")])
        else:
            codes[index] = SETTING_CODE
            value = action.value
            changes.append([index, action.name, list(value) if isinstance(value, tuple)
                            else value])
    _, first = timeline.checkpoint_before(0)
    settings = first.settings
    manifest = {
        "format": FORMAT, "version": VERSION, "app_version": __version__,
        "scenario": _scenario_json(session.scenario), "seed": session.seed,
        "first_settings": {"lr": settings.lr, "mode": settings.mode,
                           "optimizer_name": settings.optimizer_name,
                           "set_to_none": settings.set_to_none,
                           "micro_batches": settings.micro_batches,
                           "optimizer_options": [list(pair) for pair in
                                                 settings.optimizer_options],
                           "batch_size": settings.batch_size, "shuffle": settings.shuffle,
                           "drop_last": settings.drop_last,
                           "clip_max_norm": settings.clip_max_norm,
                           "evaluate_model_eval": settings.evaluate_model_eval,
                           "evaluate_no_grad": settings.evaluate_no_grad,
                           "softmax_before_loss": settings.softmax_before_loss,
                           "scheduler": None if settings.scheduler is None else [
                               settings.scheduler[0],
                               [list(pair) for pair in settings.scheduler[1]]]},
        "changes": changes, "length": len(timeline), "position": session.position,
    }
    tensors = {"data.inputs": np.ascontiguousarray(session.scenario.data.inputs),
               "data.targets": np.ascontiguousarray(session.scenario.data.targets),
               "timeline.codes": codes, **_state_tensors(session)}
    data = session.scenario.data
    if data.val_inputs is not None and data.val_targets is not None:
        tensors["data.val_inputs"] = np.ascontiguousarray(data.val_inputs)
        tensors["data.val_targets"] = np.ascontiguousarray(data.val_targets)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))
        archive.writestr(TENSORS, safetensors.numpy.save(tensors))
    return buffer.getvalue()


def save(session: TrainingSession, path: str | os.PathLike[str]) -> None:
    """Write the session to ``path`` atomically (a crash never leaves half a file)."""
    write_atomic(path, to_bytes(session))


# -- loading --------------------------------------------------------------------------------
def _entries(data: bytes) -> dict[str, bytes]:
    """The two entries, read within their limits, or SessionFileError."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SessionFileError("this is not a gui_trainer session file: it is not a zip "
                               "archive (or it was cut short)") from None
    read: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") \
                    or ":" in name:
                raise SessionFileError(f"the file holds an entry named {name!r}, a path out "
                                       "of the archive: refused")
            if name not in ENTRIES:
                raise SessionFileError(f"the file holds an unexpected entry {name!r}: a "
                                       f"session file has only {' and '.join(ENTRIES)}")
            limit = MAX_ENTRY_BYTES[name]
            if info.file_size > limit:
                raise SessionFileError(f"{name} would be {info.file_size:,} bytes unpacked, "
                                       f"over the limit of {limit:,}")
            ratio = info.file_size // max(info.compress_size, 1)
            # (A long session's stage codes repeat and pack tightly too: only a large entry
            # is judged by its ratio; the limits above bound the rest.)
            if info.file_size > RATIO_CHECKED_FROM and ratio > MAX_RATIO:
                raise SessionFileError(f"{name} would unpack to {ratio:,} times its size: "
                                       "refused as a zip bomb")
            try:
                with archive.open(info) as entry:
                    content = entry.read(limit + 1)
            except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as error:
                raise SessionFileError(f"{name} is damaged or cut short ({error})") from None
            if len(content) > limit:
                raise SessionFileError(f"{name} unpacks to more than {limit:,} bytes")
            read[name] = content
    for name in ENTRIES:
        if name not in read:
            raise SessionFileError(f"the file has no {name}: it is not a whole session file")
    return read


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SessionFileError(message)


def _manifest(raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw.decode("utf-8"),
                              parse_constant=lambda word: _refuse_constant(word))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SessionFileError(f"{MANIFEST} is not valid JSON ({error})") from None
    _require(isinstance(manifest, dict), f"{MANIFEST} is not a JSON object")
    _require(manifest.get("format") == FORMAT, "this is not a gui_trainer session file "
             f"(its format is {manifest.get('format')!r})")
    version = manifest.get("version")
    _require(isinstance(version, int) and not isinstance(version, bool),
             f"the file's format version {version!r} is not a number")
    _require(version <= VERSION, f"the file was made by a newer gui_trainer (format version "
             f"{version}; this one reads up to {VERSION}): update gui_trainer to open it")
    _require(version >= 1, f"unknown format version {version}")
    checked: dict[str, Any] = manifest
    for key, kind in (("scenario", dict), ("seed", int), ("first_settings", dict),
                      ("changes", list), ("length", int), ("position", int)):
        value = manifest.get(key)  # (a bool is an int to isinstance: not here)
        _require(isinstance(value, kind) and not isinstance(value, bool),
                 f"{MANIFEST} has no valid {key!r} ({kind.__name__} expected)")
    return checked


def _refuse_constant(word: str) -> float:
    raise SessionFileError(f"{MANIFEST} holds {word}, which no setting may be")


def _text(mapping: dict[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    _require(isinstance(value, str), f"{where}: {key!r} must be text")
    return str(value)


def _plain(mapping: dict[str, Any], key: str, where: str) -> str:
    """Text shown and written into scripts' comments: one line, printable, not too long."""
    value = _text(mapping, key, where)
    _require(value.isprintable() and len(value) <= 2000,
             f"{where}: {key!r} must be one line of printable text")
    return value


def _texts(mapping: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = mapping.get(key)
    _require(isinstance(value, list) and all(isinstance(v, str) and v.isprintable()
                                             and len(v) <= 200 for v in value),
             f"{where}: {key!r} must be a list of names")
    return tuple(str(v) for v in value or ())


def _scenario(entry: dict[str, Any], tensors: dict[str, np.ndarray]) -> Scenario:
    where = "the scenario"
    data = entry.get("data")
    model = entry.get("model")
    _require(isinstance(data, dict) and isinstance(model, dict),
             f"{where} has no data or model description")
    assert isinstance(data, dict) and isinstance(model, dict)
    task = data.get("task")
    _require(task in TASKS, f"{where}: unknown task {task!r}")
    task = TASKS[TASKS.index(task)]
    inputs, targets = tensors.get("data.inputs"), tensors.get("data.targets")
    _require(inputs is not None and targets is not None, "the file has no data tensors")
    assert inputs is not None and targets is not None
    _require(inputs.dtype == np.float32 and inputs.ndim == 2 and len(inputs) > 0,
             f"the data's inputs must be a table of float32 numbers, not {inputs.dtype} of "
             f"shape {inputs.shape}")
    _require(bool(np.isfinite(inputs).all()), "the data's inputs hold NaN or infinity")
    classes = _texts(data, "class_names", where)
    if task == "regression":
        _require(targets.dtype == np.float32 and targets.shape == (len(inputs), 1),
                 f"the targets must be one float32 column for the {len(inputs)} rows, not "
                 f"{targets.dtype} of shape {targets.shape}")
        _require(bool(np.isfinite(targets).all()), "the data's targets hold NaN or infinity")
    else:
        _require(targets.dtype == np.int64 and targets.shape == (len(inputs),),
                 f"the targets must be {len(inputs)} class numbers, not {targets.dtype} of "
                 f"shape {targets.shape}")
        _require(bool(((targets >= 0) & (targets < max(len(classes), 1))).all()),
                 f"the targets must be class numbers 0 to {len(classes) - 1}")
    shape = data.get("image_shape")
    _require(shape is None or (isinstance(shape, list) and len(shape) == 2
                               and all(type(v) is int and v > 0 for v in shape)
                               and shape[0] * shape[1] == inputs.shape[1]),
             f"{where}: image_shape must be two positive whole numbers whose product is "
             f"the {inputs.shape[1]} inputs")
    features = _texts(data, "feature_names", where)
    _require(len(features) == inputs.shape[1],
             f"{where} names {len(features)} inputs but the data has {inputs.shape[1]}")
    val_inputs, val_targets = tensors.get("data.val_inputs"), tensors.get("data.val_targets")
    _require((val_inputs is None) == (val_targets is None),
             "the file has validation inputs without targets, or targets without inputs")
    if val_inputs is not None and val_targets is not None:
        _require(val_inputs.dtype == inputs.dtype and val_inputs.ndim == 2
                 and val_inputs.shape[1] == inputs.shape[1] and len(val_inputs) > 0
                 and bool(np.isfinite(val_inputs).all()),
                 "the validation inputs must be finite rows like the training inputs")
        _require(val_targets.dtype == targets.dtype
                 and val_targets.shape[1:] == targets.shape[1:]
                 and len(val_targets) == len(val_inputs)
                 and bool(np.isfinite(val_targets).all()),
                 "the validation targets must match the validation inputs and the task")
        if task == "classification":
            _require(bool(((val_targets >= 0) & (val_targets < max(len(classes), 1))).all()),
                     f"the validation targets must be class numbers 0 to {len(classes) - 1}")
    dataset = Dataset(
        val_inputs=val_inputs, val_targets=val_targets,
        inputs=inputs, targets=targets, task=task, feature_names=features,
        target_name=_text(data, "target_name", where), class_names=classes,
        preprocessing=_text(data, "preprocessing", where),
        source=_text(data, "source", where),
        image_shape=None if shape is None else (int(shape[0]), int(shape[1])),
        file_columns=_texts(data, "file_columns", where))
    name = _plain(entry, "name", where)
    if dataset.source == "built in":  # scripts and views make the built-in data by name
        built_in = SCENARIOS.get(name) if name in SCENARIOS else None
        _require(built_in is not None and _same(built_in.data.inputs, inputs)
                 and _same(built_in.data.targets, targets)
                 and _same_or_none(built_in.data.val_inputs, val_inputs)
                 and _same_or_none(built_in.data.val_targets, val_targets),
                 f"the file says its data is the built-in {name!r} set, but it is not")
    lr: Any = entry.get("lr")
    optimizer: Any = entry.get("optimizer")
    seed: Any = entry.get("seed")
    _require(type(lr) in (int, float) and 0 < lr < float("inf"),
             f"{where}: its learning rate must be a positive number, not {lr!r}")
    _require(optimizer in OPTIMIZERS, f"{where}: unknown optimizer {optimizer!r}")
    _require(type(seed) is int and seed >= 0, f"{where}: its seed must be a whole number")
    try:
        spec = ModelSpec(**model)
        return Scenario(
            name=name, title=_plain(entry, "title", where),
            description=_plain(entry, "description", where), data=dataset,
            model_spec=spec, lr=float(lr), optimizer=optimizer, seed=seed)
    except (KeyError, TypeError, ValueError) as error:
        raise SessionFileError(f"{where} is not valid: {error}") from None


def _replay(session: TrainingSession, codes: np.ndarray,
            changes: dict[int, tuple[str, Any]], progress: Progress | None = None) -> None:
    for index, code in enumerate(codes.tolist()):
        if progress is not None and index % PROGRESS_EVERY == 0 and not progress(
                index, len(codes)):
            raise LoadCancelled(f"stopped after {index:,} of {len(codes):,} actions")
        try:
            if code in STAGE_BY_CODE:
                session.run(STAGE_BY_CODE[code])
                continue
            name, value = changes[index]
            if code == RESET_CODE:
                _require(name == "reset" and isinstance(value, str) and value.isprintable(),
                         f"action {index + 1} is a restart without its note")
                session.reset(value)
            else:
                _require(name in SETTING_NAMES, f"action {index + 1} changes an unknown "
                         f"setting {name!r}")
                before = len(session.timeline)
                session.change_setting(name, tuple(value) if isinstance(value, list)
                                       else value)
                _require(len(session.timeline) == before + 1, f"action {index + 1} sets "
                         f"{name} to the value it already had")
        except (StageOrderError, KeyError, ValueError, TypeError) as error:
            if isinstance(error, SessionFileError):
                raise
            raise SessionFileError(f"the file's actions cannot be replayed: action "
                                   f"{index + 1} failed ({error})") from None


def _same(saved: np.ndarray, now: np.ndarray) -> bool:
    return saved.shape == now.shape and saved.dtype == now.dtype and bool(
        np.array_equal(saved, now, equal_nan=np.issubdtype(saved.dtype, np.floating)))


def _check_state(session: TrainingSession, tensors: dict[str, np.ndarray]) -> None:
    """The replay reached exactly the state the file holds."""
    expected = _state_tensors(session)
    saved = {k: v for k, v in tensors.items() if k.split(".", 1)[0] in
             ("param", "grad", "buffer", "optimizer")}
    missing = sorted(set(expected) - set(saved))
    extra = sorted(set(saved) - set(expected))
    _require(not missing and not extra, "the file's tensors do not match its model and "
             f"actions (missing {missing[:3]}, unexpected {extra[:3]})")
    for name, value in expected.items():
        stored = saved[name]
        _require(stored.shape == value.shape, f"tensor {name} has shape {stored.shape}; the "
                 f"model's is {value.shape}")
        _require(_same(stored, value), f"tensor {name} is not what the file's actions give: "
                 "the file was changed after it was saved")


def from_bytes(data: bytes, progress: Progress | None = None) -> TrainingSession:
    """A session from the bytes of a ``.gtrain`` file (see the module's docstring).

    The replay costs what the actions cost the first time (a long auto-train: seconds);
    ``progress(done, total)`` is told how far it is, and returning False stops it
    (:class:`LoadCancelled`).
    """
    try:
        return _from_bytes(data, progress)
    except (SessionFileError, LoadCancelled):
        raise
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError, KeyError,
            IndexError, RuntimeError, NotImplementedError, zipfile.LargeZipFile) as error:
        # Whatever a crafted file makes the readers raise (JSON nested too deep, a number
        # with 100,000 digits, an encrypted or unknown zip method): refused, never a crash.
        raise SessionFileError(f"the file cannot be read ({type(error).__name__}: "
                               f"{str(error)[:200]})") from None


def _from_bytes(data: bytes, progress: Progress | None) -> TrainingSession:
    entries = _entries(data)
    manifest = _manifest(entries[MANIFEST])
    try:
        tensors = safetensors.numpy.load(entries[TENSORS])
    except (SafetensorError, ValueError, OSError) as error:
        raise SessionFileError(f"{TENSORS} is damaged ({error})") from None
    scenario = _scenario(manifest["scenario"], tensors)
    first = manifest["first_settings"]
    codes = tensors.get("timeline.codes")
    length, position = manifest["length"], manifest["position"]
    _require(codes is not None and codes.dtype == np.int8 and codes.shape == (length,),
             f"the timeline's codes must be {length} small numbers")
    assert codes is not None
    _require(bool(np.isin(codes, [*STAGE_BY_CODE, SETTING_CODE, RESET_CODE]).all()),
             "the timeline holds an unknown kind of action")
    _require(0 <= position <= length, f"the position {position} is outside the timeline "
             f"(0–{length})")
    changes: dict[int, tuple[str, Any]] = {}
    for change in manifest["changes"]:
        _require(isinstance(change, list) and len(change) == 3 and isinstance(change[0], int)
                 and isinstance(change[1], str), "a setting change is not [index, name, "
                 "value]")
        _require(change[0] not in changes, f"two changes at action {change[0] + 1}")
        changes[change[0]] = (change[1], change[2])
    marked = {int(i) for i in np.flatnonzero(np.isin(codes, [SETTING_CODE, RESET_CODE]))}
    _require(marked == set(changes), "the timeline's settings changes do not match its "
             "codes")
    try:
        session = TrainingSession(
            scenario=scenario, seed=manifest["seed"], lr=first.get("lr"),
            mode=first.get("mode"), optimizer=first.get("optimizer_name"),
            set_to_none=first.get("set_to_none"), micro_batches=first.get("micro_batches"),
            optimizer_options=first.get("optimizer_options", []),
            batch_size=first.get("batch_size"), shuffle=first.get("shuffle", False),
            drop_last=first.get("drop_last", False),
            clip_max_norm=first.get("clip_max_norm"), scheduler=first.get("scheduler"),
            evaluate_model_eval=first.get("evaluate_model_eval", True),
            evaluate_no_grad=first.get("evaluate_no_grad", True),
            softmax_before_loss=first.get("softmax_before_loss", False))
    except (TypeError, ValueError) as error:
        raise SessionFileError(f"the file's first settings are not valid: {error}") from None
    _replay(session, codes, changes, progress)
    session.jump_to(position)
    _check_state(session, tensors)
    return session


def load(path: str | os.PathLike[str], progress: Progress | None = None) -> TrainingSession:
    """The session saved in ``path``; a bad file raises :class:`SessionFileError` (see
    :func:`from_bytes` for ``progress``)."""
    target = Path(path)
    try:
        size = target.stat().st_size
        _require(size <= MAX_FILE_BYTES, f"the file is {size:,} bytes, over the limit of "
                 f"{MAX_FILE_BYTES:,} for a session file")
        data = target.read_bytes()
    except OSError as error:
        raise SessionFileError(f"cannot read {target}: {error.strerror or error}") from None
    return from_bytes(data, progress)
