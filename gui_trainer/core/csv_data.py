"""A learner's own data from a CSV file, checked cell by cell.

Every refusal is a ``ValueError`` whose message names the line (1 = the header) and the
column, so a learner can open the file and fix it; nothing is half-loaded. What is accepted:
a header row of distinct names, then rows of numbers, one column the target. The task is
classification when the target holds few distinct whole numbers, regression otherwise, and
either can be asked for.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gui_trainer.core.datasets import TASKS, Dataset, Task

#: Larger files are refused before they are read: the app trains on the whole set each step.
MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 256
#: A whole-number target with at most this many distinct values is taken for class labels.
MAX_INFERRED_CLASSES = 20
MAX_CLASSES = 100
FLOAT32_MAX = float(np.finfo(np.float32).max)


def read_csv_file(path: str | Path, *, target: str | None = None, task: str | None = None,
                  inputs: Sequence[str] | None = None) -> Dataset:
    """The data set in the CSV file at ``path`` (see :func:`parse_csv` for the choices)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(f"{path.name} is {size / 1024 / 1024:.1f} MB; the limit is "
                             f"{MAX_BYTES // 1024 // 1024} MB (the app trains on all of it "
                             f"every step)")
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_csv(_text_of(raw, path.name), source=str(path), target=target, task=task,
                     inputs=inputs)


def read_header(path: str | Path) -> list[str]:
    """The column names of the CSV file at ``path``, after the same checks as a full read
    of the file's bytes and header (so a dialog can offer them before the target is chosen)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            return list(read_csv_file(path).file_columns)  # raises the size message
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    rows = _rows(_text_of(raw, path.name), path.name)
    if not rows:
        raise ValueError(f"{path.name} is empty: expected a header row, then rows of numbers")
    line, header = rows[0]
    header = [cell.strip() for cell in header]
    _check_header(header, line, path.name)
    return header


def _text_of(raw: bytes, name: str) -> str:
    if not raw.strip():
        raise ValueError(f"{name} is empty: expected a header row, then rows of numbers")
    if b"\x00" in raw:
        raise ValueError(f"{name} is not a text file (it holds zero bytes, as binary files do)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(f"{name}, line {line}: byte {exc.start} is not UTF-8 text; "
                         f"save the file as UTF-8 CSV") from None


def parse_csv(text: str, *, source: str = "data", target: str | None = None,
              task: str | None = None, inputs: Sequence[str] | None = None) -> Dataset:
    """Parse CSV text into a :class:`Dataset`.

    ``target`` is a column name (the last column by default); ``inputs`` the input columns
    (every other column by default); ``task`` "regression" or "classification" (inferred
    from the target by default).
    """
    name = Path(source).name
    rows = _rows(text, name)
    if not rows:
        raise ValueError(f"{name} is empty: expected a header row, then rows of numbers")
    header_line, header = rows[0]
    header = [cell.strip() for cell in header]
    _check_header(header, header_line, name)
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise ValueError(f"{name} has {len(body):,} rows; the limit is {MAX_ROWS:,}")
    if len(body) < 2:
        raise ValueError(f"{name} has {len(body)} data row{'s' * (len(body) != 1)}: "
                         f"training needs at least two")
    table = _numbers(body, header, name)
    target_index = _column_index(header, target if target is not None else header[-1], name)
    input_indices = _input_indices(header, inputs, target_index, name)
    chosen = _task(task, table[:, target_index], header[target_index], name, body)
    features = table[:, input_indices].astype(np.float32)
    column = table[:, target_index]
    if chosen == "regression":
        return Dataset(inputs=features, targets=column.astype(np.float32).reshape(-1, 1),
                       task="regression", feature_names=tuple(header[i] for i in input_indices),
                       target_name=header[target_index], source=source,
                       file_columns=tuple(header))
    values, labels = np.unique(column, return_inverse=True)
    return Dataset(inputs=features, targets=labels.astype(np.int64), task="classification",
                   feature_names=tuple(header[i] for i in input_indices),
                   target_name=header[target_index],
                   class_names=tuple(f"{v + 0.0:g}" for v in values), source=source,
                   file_columns=tuple(header))


def _rows(text: str, name: str) -> list[tuple[int, list[str]]]:
    """The non-blank records, each with the line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, start = [], 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValueError(f"{name}, line {reader.line_num}: {exc}") from None
    return rows


def _check_header(header: list[str], line: int, name: str) -> None:
    if len(header) < 2:
        raise ValueError(f"{name}, line {line}: the header names {len(header)} column; "
                         f"expected at least two (inputs and a target), separated by commas")
    if len(header) > MAX_COLUMNS:
        raise ValueError(f"{name}, line {line}: {len(header)} columns; the limit is "
                         f"{MAX_COLUMNS}")
    if all(_is_number(cell) for cell in header):
        raise ValueError(f"{name}, line {line}: expected a header row of column names, found "
                         f"numbers ({', '.join(header[:3])}…); add a first line naming the "
                         f"columns")
    for index, cell in enumerate(header):
        if not cell:
            raise ValueError(f"{name}, line {line}, column {index + 1}: the header has no name "
                             f"for this column")
        if header.index(cell) != index:
            raise ValueError(f"{name}, line {line}: two columns are named {cell!r}")


def _numbers(body: list[tuple[int, list[str]]], header: list[str], name: str) -> np.ndarray:
    table = np.empty((len(body), len(header)), dtype=np.float64)
    for row_index, (line, row) in enumerate(body):
        if len(row) != len(header):
            raise ValueError(f"{name}, line {line}: {len(row)} cells, but the header names "
                             f"{len(header)} columns")
        for col, cell in enumerate(row):
            text = cell.strip()
            try:
                value = float(text)
            except ValueError:
                shown = repr(text) if text else "an empty cell"
                raise ValueError(f"{name}, line {line}, column {header[col]!r}: {shown} is "
                                 f"not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"{name}, line {line}, column {header[col]!r}: {text} is "
                                 f"not a finite number (NaN and inf cannot be trained on)")
            if abs(value) > FLOAT32_MAX:
                raise ValueError(f"{name}, line {line}, column {header[col]!r}: {text} is too "
                                 f"large for float32, the model's numbers (largest "
                                 f"{FLOAT32_MAX:.3g})")
            table[row_index, col] = value
    return table


def _column_index(header: list[str], column: str, name: str) -> int:
    if column not in header:
        raise ValueError(f"{name} has no column named {column!r}; its columns are "
                         f"{', '.join(header)}")
    return header.index(column)


def _input_indices(header: list[str], inputs: Sequence[str] | None, target: int,
                   name: str) -> list[int]:
    if inputs is None:
        return [i for i in range(len(header)) if i != target]
    if isinstance(inputs, str) or not inputs:
        raise ValueError("inputs must be a list of one or more column names")
    indices = [_column_index(header, column, name) for column in inputs]
    if target in indices:
        raise ValueError(f"{header[target]!r} is the target; it cannot be an input too")
    if len(set(indices)) != len(indices):
        raise ValueError("each input column may be chosen once")
    return indices


def infer_task(column: np.ndarray) -> Task:
    """Classification for a few distinct whole numbers (labels), regression otherwise."""
    whole = bool(np.all(column == np.round(column)))
    distinct = len(np.unique(column))
    return "classification" if whole and 2 <= distinct <= MAX_INFERRED_CLASSES else "regression"


def _task(task: str | None, column: np.ndarray, target: str, name: str,
          body: list[tuple[int, list[str]]]) -> Task:
    if task is None:
        chosen = infer_task(column)
    elif task in TASKS:
        chosen = task
    else:
        raise ValueError(f"unknown task {task!r}: expected 'regression' or 'classification'")
    distinct = np.unique(column)
    if len(distinct) < 2:
        kind = "class" if chosen == "classification" else "value"
        raise ValueError(f"{name}, column {target!r}: every row has the same {kind} "
                         f"({distinct[0]:g}); there is nothing to learn")
    if chosen == "classification":
        fractional = np.flatnonzero(column != np.round(column))
        if len(fractional):
            line = body[int(fractional[0])][0]
            raise ValueError(f"{name}, line {line}, column {target!r}: "
                             f"{column[fractional[0]]:g} is not a whole number; class labels "
                             f"must be (or choose regression)")
        if len(distinct) > MAX_CLASSES:
            raise ValueError(f"{name}, column {target!r}: {len(distinct)} classes; the limit "
                             f"is {MAX_CLASSES} (choose regression for a measured value)")
    return chosen


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
