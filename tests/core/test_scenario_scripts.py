"""The Code panel's script for every scenario: copied and run by plain Python, it makes the
same data and the same model, and ends at the session's parameters bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gui_trainer.core.code_listing import code_listing
from gui_trainer.core.models import ModelSpec
from gui_trainer.core.records import StageRecord
from gui_trainer.core.scenarios import SCENARIOS, load_csv
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import Stage
from tests.scripts import printed_parameters, run_scripts

LAYERED = ModelSpec(hidden_layers=2, width=16, activation="tanh", dropout=0.2, batch_norm=True)


def trained(session: TrainingSession, epochs: int) -> str:
    latest: dict[Stage, StageRecord] = {}
    for _ in range(epochs):
        for record in session.run_epoch():
            latest[record.stage] = record
    listing = code_listing(session, latest, "step")
    assert listing.reproducible
    return listing.text()


def learners_files(tmp_path: Path) -> list[TrainingSession]:
    path = tmp_path / "plants.csv"
    rows = [f"{i % 7 * 0.5},{i % 5},{(i * 3) % 4}" for i in range(40)]
    path.write_text("\ufeff\nheight, leaves ,kind\n" + "\n".join(rows) + '\n"1.5",2,0\n\n',
                    encoding="utf-8")  # a blank first line, spaces, a quoted number
    one_input = load_csv(path, target="height", inputs=["kind"])
    return [TrainingSession(scenario=load_csv(path)),  # 4 kinds: a classifier
            TrainingSession(scenario=one_input),
            TrainingSession(scenario=one_input.with_model(ModelSpec(hidden_layers=0)))]


def test_every_scenarios_script_ends_at_the_sessions_parameters(tmp_path: Path) -> None:
    sessions = [TrainingSession(scenario=name) for name in SCENARIOS if name != "delivery"]
    sessions.append(TrainingSession(scenario="spiral", micro_batches=3, optimizer="sgd",
                                    lr=0.5))
    sessions += learners_files(tmp_path)
    # Every optimizer, with hyperparameters: the script writes the same torch.optim call.
    sessions += [
        TrainingSession(scenario="moons", optimizer="adamw",
                        optimizer_options={"weight_decay": 0.1, "betas": (0.8, 0.99)}),
        TrainingSession(scenario="curve", optimizer="rmsprop",
                        optimizer_options={"momentum": 0.5, "centered": True}),
        TrainingSession(scenario="curve", optimizer="sgd",
                        optimizer_options={"momentum": 0.9, "nesterov": True}),
        TrainingSession(scenario="spiral", optimizer="adagrad",
                        optimizer_options={"lr_decay": 0.01, "weight_decay": 0.001}),
        TrainingSession(scenario="moons", optimizer="adam", optimizer_options={"amsgrad": True}),
        # dropout's masks and BatchNorm's running averages: the same draws, the same buffers
        TrainingSession(scenario=SCENARIOS["curve"].with_model(LAYERED)),
        TrainingSession(scenario=SCENARIOS["moons"].with_model(
            ModelSpec(hidden_layers=1, width=8, dropout=0.5))),
    ]
    scripts = [trained(session, 3) for session in sessions]
    for session, output in zip(sessions, run_scripts(scripts, parameters=True), strict=True):
        printed = printed_parameters(output)
        assert list(printed) == [name for name, _ in session.model.named_parameters()]
        for name, param in session.model.named_parameters():
            ours = param.detach().flatten()
            assert torch.equal(torch.tensor(printed[name], dtype=ours.dtype), ours), (
                session.scenario.name, name)
        if not session.one_neuron:  # in eval mode: BatchNorm's running averages count
            assert f"loss over all the data: {session.full_batch_loss()!r}" in output


@pytest.mark.parametrize("name", ["curve", "moons", "spiral", "digits"])
def test_the_script_writes_the_model_as_it_was_built(name: str) -> None:
    session = TrainingSession(scenario=name)
    text = code_listing(session, {}, None).text()
    linear = [m for m in session.model.children() if isinstance(m, torch.nn.Linear)]
    for layer in linear:
        assert f"nn.Linear({layer.in_features}, {layer.out_features})" in text
    loss = "CrossEntropyLoss" if session.scenario.task == "classification" else "MSELoss"
    assert f"loss_function = nn.{loss}()" in text
    assert "outputs = model(inputs)" in text and "distances" not in text


def test_the_loader_loop_ends_at_the_sessions_parameters() -> None:
    """With mini-batches or shuffling the listing is ``for x, y in loader:`` with the app's
    seeded DataLoader, stopped after the app's steps, mid-epoch too."""
    sessions = [
        TrainingSession(scenario="moons", batch_size=32, shuffle=True),
        TrainingSession(scenario="curve", batch_size=5, drop_last=True, optimizer="sgd"),
        TrainingSession(scenario="moons", batch_size=25, shuffle=True, micro_batches=2),
        TrainingSession(scenario="spiral", shuffle=True, micro_batches=3),
        TrainingSession(batch_size=2, shuffle=True),  # the seed's one neuron
        # the optional stages: clipping, schedulers per step and per epoch, evaluation
        TrainingSession(scenario="overfit", clip_max_norm=0.5,
                        scheduler=("ReduceLROnPlateau", {"patience": 1, "factor": 0.5})),
        TrainingSession(scenario="moons", batch_size=50, clip_max_norm=1.0,
                        scheduler=("OneCycleLR", {"total_steps": 40})),
        TrainingSession(scenario="curve", scheduler=("StepLR", {"step_size": 2})),
        TrainingSession(scenario="curve", optimizer="sgd", lr=0.5,
                        scheduler=("ReduceLROnPlateau", {"patience": 0, "factor": 0.5})),
        TrainingSession(scenario="moons", batch_size=40, micro_batches=5, clip_max_norm=0.3,
                        scheduler=("ExponentialLR", {"gamma": 0.5})),
        TrainingSession(scheduler=("ReduceLROnPlateau", {"patience": 0})),  # distances, times
        TrainingSession(scenario=SCENARIOS["overfit"].with_model(LAYERED), batch_size=4,
                        shuffle=True, scheduler=("ReduceLROnPlateau", {"patience": 0})),
        TrainingSession(scenario=SCENARIOS["curve"].with_model(LAYERED), batch_size=16,
                        shuffle=True, scheduler=("ReduceLROnPlateau", {"patience": 0})),
        # the experiments' mistakes, as the listing writes them
        TrainingSession(scenario=SCENARIOS["overfit"].with_model(LAYERED), batch_size=4,
                        shuffle=True, evaluate_model_eval=False, evaluate_no_grad=False),
        TrainingSession(scenario="moons", batch_size=50, softmax_before_loss=True),
    ]
    scripts = []
    for session, iterations in zip(sessions, [17, 9, 6, 4, 5, 9, 11, 7, 8, 3, 4, 10, 7, 7, 5],
                                   strict=True):
        latest: dict[Stage, StageRecord] = {}
        for _ in range(iterations):
            for record in session.run_iteration():
                latest[record.stage] = record
        listing = code_listing(session, latest, "step")
        assert listing.reproducible
        text = listing.text()
        assert "for x, y in loader:" in text or "enumerate(loader)" in text
        assert f"num_steps = {session.steps}" in text
        scripts.append(text)
    for session, output in zip(sessions, run_scripts(scripts, parameters=True), strict=True):
        printed = printed_parameters(output)
        for name, param in session.model.named_parameters():
            ours = param.detach().flatten()
            assert torch.equal(torch.tensor(printed[name], dtype=ours.dtype), ours), (
                session.scenario.name, name)
        if not session.one_neuron:  # in eval mode: BatchNorm's running averages count
            assert f"loss over all the data: {session.full_batch_loss()!r}" in output
