"""A learner's CSV: good files load as they should; every bad one is refused with a message
that names the line and the column, and nothing is loaded."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gui_trainer.core import csv_data
from gui_trainer.core.scenarios import Scenario, load_csv


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_regression_file_loads_with_the_last_column_as_target(tmp_path: Path) -> None:
    path = write(tmp_path, "size,rooms,price\n50,2,150.5\n80,3,240.25\n120,4,310\n")
    scenario = load_csv(path)
    assert isinstance(scenario, Scenario)
    data = scenario.data
    assert scenario.task == "regression" and data.target_name == "price"
    assert data.feature_names == ("size", "rooms")
    np.testing.assert_array_equal(data.inputs, [[50, 2], [80, 3], [120, 4]])
    np.testing.assert_array_equal(data.targets, [[150.5], [240.25], [310]])
    assert data.inputs.dtype == np.float32 and data.targets.shape == (3, 1)


def test_few_whole_numbers_in_the_target_make_a_classifier(tmp_path: Path) -> None:
    path = write(tmp_path, "x,y,label\n0,0,3\n1,1,7\n2,2,3\n3,3,7\n")
    scenario = load_csv(path)
    assert scenario.task == "classification"
    assert scenario.data.class_names == ("3", "7")  # the file's own labels, in order
    np.testing.assert_array_equal(scenario.data.targets, [0, 1, 0, 1])
    assert scenario.data.targets.dtype == np.int64


def test_the_task_and_the_target_and_inputs_can_be_chosen(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,c\n1,2,0\n2,3,1\n3,5,0\n")
    as_numbers = load_csv(path, task="regression")
    assert as_numbers.task == "regression"
    first = load_csv(path, target="a", inputs=["b"])
    assert first.data.target_name == "a" and first.data.feature_names == ("b",)
    assert first.task == "classification"  # 1, 2, 3 are few whole numbers
    assert as_numbers.with_task("classification").task == "classification"


def test_byte_order_mark_blank_lines_and_spaces_are_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffx , y\n\n 1 , 2.5\n2,3.5 \n\n")
    data = load_csv(path).data
    assert data.feature_names == ("x",) and data.samples == 2


# Each bad file, and what its message must point at.
BAD_FILES: list[tuple[str, str | bytes, str]] = [
    ("empty", "", r"is empty"),
    ("only blank lines", "\n \n\n", r"is empty"),
    ("no header", "1,2,3\n4,5,6\n", r"line 1: expected a header row"),
    ("ragged row", "a,b,c\n1,2,3\n4,5\n6,7,8\n", r"line 3: 2 cells, but the header names 3"),
    ("non-numeric cell", "a,b\n1,2\n3,abc\n", r"line 3, column 'b': 'abc' is not a number"),
    ("empty cell", "a,b\n1,2\n,4\n", r"line 3, column 'a': an empty cell is not a number"),
    ("NaN cell", "a,b\n1,nan\n3,4\n", r"line 2, column 'b': nan is not a finite number"),
    ("inf cell", "a,b\n1,2\n-inf,4\n", r"line 3, column 'a': -inf is not a finite number"),
    ("single row", "a,b\n1,2\n", r"1 data row: training needs at least two"),
    ("header only", "a,b\n", r"0 data rows"),
    ("one class", "a,label\n1,4\n2,4\n3,4\n", r"column 'label': every row has the same"),
    ("one column", "a\n1\n2\n", r"line 1: the header names 1 column"),
    ("duplicate names", "a,a\n1,2\n3,4\n", r"line 1: two columns are named 'a'"),
    ("nameless column", "a,,c\n1,2,3\n4,5,6\n", r"line 1, column 2: the header has no name"),
    ("binary junk", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"not a text file"),
    ("not UTF-8", b"a,b\n1,2\n3,\xff\n", r"line 3: byte 10 is not UTF-8"),
    ("too large for float32", "x,y\n1,1e39\n2,3\n", r"line 2, column 'y': 1e39 is too large"),
    ("cell over the csv field limit", "a,b\n1," + "2" * 140_000 + "\n3,4\n",
     r"line 2: field larger than field limit"),
    ("after a quoted line break", 'a,b\n"1\n",2\n3,x\n', r"line 4, column 'b': 'x'"),
]


@pytest.mark.parametrize(("case", "content", "message"), BAD_FILES,
                         ids=[case for case, _, _ in BAD_FILES])
def test_every_bad_file_is_refused_with_its_line_and_column(
        tmp_path: Path, case: str, content: str | bytes, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ValueError, match=message):
        load_csv(path)


def test_fractional_labels_are_refused_for_classification(tmp_path: Path) -> None:
    path = write(tmp_path, "a,label\n1,0\n2,1\n3,2.5\n")
    assert load_csv(path).task == "regression"  # inferred: 2.5 is not a label
    with pytest.raises(ValueError, match=r"line 4, column 'label': 2.5 is not a whole number"):
        load_csv(path, task="classification")


def test_unknown_columns_and_tasks_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n1,0\n2,1\n")
    with pytest.raises(ValueError, match=r"no column named 'z'; its columns are a, b"):
        load_csv(path, target="z")
    with pytest.raises(ValueError, match=r"unknown task 'clustering'"):
        load_csv(path, task="clustering")
    with pytest.raises(ValueError, match=r"'b' is the target; it cannot be an input too"):
        load_csv(path, inputs=["a", "b"])


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a,b\n" + "1,2\n" * 40)
    monkeypatch.setattr(csv_data, "MAX_BYTES", 100)
    with pytest.raises(ValueError, match=r"the limit is"):
        load_csv(path)
    monkeypatch.setattr(csv_data, "MAX_BYTES", 4 * 1024 * 1024)
    monkeypatch.setattr(csv_data, "MAX_ROWS", 30)
    with pytest.raises(ValueError, match=r"40 rows; the limit is 30"):
        load_csv(path)


def test_a_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read .*missing.csv"):
        load_csv(tmp_path / "missing.csv")


@given(st.binary(max_size=300))
def test_any_bytes_load_or_raise_value_error_never_anything_else(content: bytes) -> None:
    text = None
    try:
        text = csv_data._text_of(content, "fuzz.csv")
        data = csv_data.parse_csv(text, source="fuzz.csv")
    except ValueError as exc:
        assert str(exc)
        return
    assert data.samples >= 2 and np.isfinite(data.inputs).all()


@given(st.lists(st.lists(st.sampled_from(["1", "2.5", "-3", "x", "", "nan", "7"]),
                         min_size=1, max_size=4), min_size=1, max_size=6))
def test_any_grid_of_cells_loads_or_names_a_line(cells: list[list[str]]) -> None:
    text = "a,b,c\n" + "\n".join(",".join(row) for row in cells)
    try:
        data = csv_data.parse_csv(text, source="grid.csv")
    except ValueError as exc:
        assert re.search(r"line \d+|data rows?|same (class|value)|empty", str(exc)), str(exc)
        return
    assert data.samples == len([r for r in cells if any(c.strip() for c in r)])
