"""Records of stages run quietly, made again by replaying them: the window's view of where
auto-train paused after iterations without records (``Rewind.records_since``)."""

from __future__ import annotations

import pytest

from gui_trainer.core import TrainingSession
from tests.core.test_growth import fields_of
from tests.core.test_quiet_runs import CASES, state_of


@pytest.mark.parametrize("case", list(CASES))
def test_the_last_iteration_replayed_with_records_is_the_one_clicked(case: str) -> None:
    quiet, clicked = CASES[case](), CASES[case]()
    for _ in range(37):  # past a checkpoint or two, and part way to the next
        quiet.run_iteration_quietly()
    for _ in range(36):
        clicked.run_iteration()
    start = clicked.position
    expected = clicked.run_iteration()
    before = state_of(quiet)
    assert quiet.iteration_start() == start
    records = quiet.records_since(quiet.iteration_start())
    assert [fields_of(r) for r in records] == [fields_of(r) for r in expected]
    assert state_of(quiet) == before  # the session is where it was


def test_from_now_there_is_nothing_to_show_and_nothing_changes() -> None:
    session = TrainingSession()
    for _ in range(3):
        session.run_iteration_quietly()
    before = state_of(session)
    assert session.records_since(session.position) == []
    assert state_of(session) == before


def test_a_start_outside_the_timeline_is_refused() -> None:
    session = TrainingSession()
    session.run_iteration_quietly()
    for start in (-1, session.position + 1):
        with pytest.raises(ValueError, match="outside"):
            session.records_since(start)
    assert session.iteration_start() == 0
    assert TrainingSession().iteration_start() == 0  # nothing run yet
