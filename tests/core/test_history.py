import math

import numpy as np
import pytest

from gui_trainer.core.history import History
from gui_trainer.core.records import ParamValues


def test_history_grows_past_its_capacity_and_keeps_every_row() -> None:
    history = History(capacity=2)
    for i in range(5):
        history.append(i, float(i) / 10, ParamValues(i, -i, None, 0.5))
    assert len(history) == 5
    assert history.column("epoch").tolist() == [0, 1, 2, 3, 4]
    assert history.column("loss")[3] == pytest.approx(0.3)
    assert all(math.isnan(v) for v in history.column("weight_grad"))
    assert np.all(history.column("bias_grad") == 0.5)


def test_columns_are_read_only_views_and_truncate_forgets() -> None:
    history = History()
    history.append(1, None, ParamValues(1.0, 2.0, 3.0, 4.0))
    column = history.column("weight")
    with pytest.raises(ValueError):
        column[0] = 9.0
    assert math.isnan(history.column("loss")[0])
    history.truncate(0)
    assert len(history) == 0
    with pytest.raises(ValueError):
        history.truncate(3)
