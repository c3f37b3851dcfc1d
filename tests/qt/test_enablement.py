"""What may be clicked and why: the controller's rules, without a window, and as applied."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from gui_trainer.core import TrainingSession
from gui_trainer.core.experiments import BY_KEY
from gui_trainer.core.explanations import explanation, stage_code
from gui_trainer.core.stages import STAGES
from gui_trainer.qt.enablement import (
    AUTO_TRAIN_RUNNING,
    EXPERIMENT_RUNNING,
    enablement,
)
from gui_trainer.qt.main_window import MainWindow


def test_idle_the_session_alone_decides() -> None:
    session = TrainingSession()
    allowed = enablement(session, "idle", "idle")
    assert {stage: allowed.refusals[stage] for stage in STAGES} == {
        stage: session.refusal(stage) for stage in STAGES}
    # The optional stages are off here: each says how to turn it on.
    assert allowed.stages_on == STAGES
    assert "clip_max_norm" in str(allowed.refusals["clip"])
    assert "no rows out for validation" in str(allowed.refusals["evaluate"])
    assert "no scheduler" in str(allowed.refusals["schedule"])
    assert allowed.refusals["zero_grad"] is None and allowed.refusals["step"] is not None
    assert allowed.next_stage and allowed.train_start and not allowed.train_pause
    assert not allowed.train_stop and not allowed.undo and not allowed.busy
    assert allowed.predict
    assert allowed.reader == "one_neuron"


@pytest.mark.parametrize(("auto_train", "experiment", "why"), [
    ("running", "idle", AUTO_TRAIN_RUNNING), ("idle", "running", EXPERIMENT_RUNNING)])
def test_a_running_run_takes_every_stage_and_says_so(
    auto_train: str, experiment: str, why: str
) -> None:
    session = TrainingSession()
    session.run("zero_grad")
    allowed = enablement(session, auto_train, experiment)
    assert {allowed.refusals[stage] for stage in STAGES} == {why}
    assert allowed.busy and not allowed.train_start and not allowed.undo
    assert not allowed.predict and not allowed.reveal and not allowed.timeline
    assert allowed.train_stop
    assert allowed.train_pause == (auto_train == "running")
    assert allowed.reset == (experiment != "running")


def test_a_paused_auto_train_gives_the_stages_back() -> None:
    session = TrainingSession()
    allowed = enablement(session, "paused", "idle")
    assert allowed.refusals["zero_grad"] is None and allowed.train_stop
    assert allowed.train_start and not allowed.train_pause


def test_a_network_offers_predict_and_reads_as_its_task() -> None:
    allowed = enablement(TrainingSession(scenario="moons"), "idle", "idle")
    assert allowed.predict and allowed.reader == "classification"
    assert enablement(TrainingSession(scenario="curve"), "idle", "idle").reader == "regression"


def test_the_window_applies_the_rules_and_names_the_scenarios_data(
    window: MainWindow, qtbot: QtBot
) -> None:
    actions = window.actions_by_name
    assert "model(distances)" in actions["forward"].toolTip()
    window.scenario_menu.actions_by_name["moons"].trigger()
    forward, loss = actions["forward"].toolTip(), actions["loss"].toolTip()
    assert "model(inputs)" in forward and "distances" not in forward
    assert "loss_function(outputs, targets)" in loss and "log" in loss
    skip = window.experiment_actions["skip_zero_grad"]
    assert "weight.grad" not in skip.statusTip()
    assert skip.statusTip() == BY_KEY["skip_zero_grad"].network_intro
    assert "layer" in window.actions_by_name["predict"].statusTip()
    window.controller.run_stage("zero_grad")
    window.controller.run_stage("forward")
    window.controller.run_stage("loss")
    window.math_panel.show_record(window.controller.last_record)
    text = window.math_panel.text.toPlainText()
    assert "cross-entropy" in text and "squared" not in text


def test_every_text_has_every_section_for_every_reader() -> None:
    for reader in ("one_neuron", "regression", "classification"):
        for stage in STAGES:
            info = explanation(stage, reader)  # raises if a section is missing
            assert stage_code(stage, reader) in info.title
            if reader != "one_neuron":
                text = info.markdown
                assert "distance" not in text and "times" not in text
                assert "`weight.grad`" not in text
