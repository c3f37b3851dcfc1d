"""Every scenario: the real objects, all five stages in both modes, rewind, and bit-for-bit
agreement with a plain PyTorch loop written out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from gui_trainer.core.models import ModelSpec
from gui_trainer.core.scenarios import SCENARIOS, Scenario, load_csv, scenario_named
from gui_trainer.core.session import StageOrderError, TrainingSession
from gui_trainer.core.stages import STAGES
from gui_trainer.resources import resource_path

NAMES = list(SCENARIOS)
ACTIVATION = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def test_the_catalogue_names_the_scenarios_and_delivery_is_the_default() -> None:
    assert NAMES == ["delivery", "curve", "overfit", "moons", "spiral", "digits"]
    session = TrainingSession()
    assert session.scenario.name == "delivery" and session.one_neuron
    assert session.scenario is SCENARIOS["delivery"]
    with pytest.raises(ValueError, match="unknown scenario 'mnist'"):
        TrainingSession(scenario="mnist")


def hand_built(scenario: Scenario, seed: int) -> nn.Sequential:
    """The scenario's model written out as a learner would, not through ModelSpec."""
    spec, data = scenario.model_spec, scenario.data
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    width = data.in_features
    for _ in range(spec.hidden_layers):
        layers += [nn.Linear(width, spec.width), ACTIVATION[spec.activation]()]
        width = spec.width
    layers.append(nn.Linear(width, data.out_features))
    return nn.Sequential(*layers)


def plain_loop(scenario: Scenario, epochs: int, micro_batches: int = 1
               ) -> tuple[nn.Module, list[float]]:
    """Plain PyTorch: the loop every tutorial writes, with gradient accumulation."""
    model = hand_built(scenario, scenario.seed)
    x = torch.tensor(scenario.data.inputs)
    y = torch.tensor(scenario.data.targets)
    loss_fn = nn.MSELoss() if scenario.task == "regression" else nn.CrossEntropyLoss()
    make = torch.optim.Adam if scenario.optimizer == "adam" else torch.optim.SGD
    optimizer = make(model.parameters(), lr=scenario.lr)
    size = len(x) // micro_batches
    losses = []
    for _ in range(epochs):
        with torch.no_grad():
            losses.append(float(loss_fn(model(x), y).item()))
        optimizer.zero_grad()
        for start in range(0, len(x), size):
            loss = loss_fn(model(x[start:start + size]), y[start:start + size])
            (loss / micro_batches if micro_batches > 1 else loss).backward()
        optimizer.step()
    return model, losses


@pytest.mark.parametrize("name", NAMES)
def test_each_scenario_exposes_the_real_objects(name: str) -> None:
    session = TrainingSession(scenario=name)
    scenario = SCENARIOS[name]
    assert session.scenario.name == name
    assert isinstance(session.model, nn.Module)
    assert isinstance(session.optimizer, torch.optim.Optimizer)
    expected_loss = nn.MSELoss if scenario.task == "regression" else nn.CrossEntropyLoss
    assert isinstance(session.loss_fn, expected_loss)
    assert session.inputs.shape == (scenario.data.samples, scenario.data.in_features)
    if scenario.task == "classification":
        assert session.targets.dtype == torch.int64 and session.targets.ndim == 1
    else:
        assert session.targets.shape == (scenario.data.samples, 1)


@pytest.mark.parametrize("name", NAMES)
def test_guided_training_matches_plain_pytorch_bit_for_bit(name: str) -> None:
    scenario = SCENARIOS[name]
    session = TrainingSession(scenario=name)
    for _ in range(4):
        session.run_epoch()
    model, losses = plain_loop(scenario, 4)
    for (key, ours), (plain_key, theirs) in zip(session.model.state_dict().items(),
                                                model.state_dict().items(), strict=True):
        assert key == plain_key and torch.equal(ours, theirs), key
    np.testing.assert_array_equal(session.history.column("loss"), losses)


@pytest.mark.parametrize("name", ["moons", "digits"])
def test_micro_batches_accumulate_exactly_as_the_plain_loop(name: str) -> None:
    count = {"moons": 4, "digits": 3}[name]
    session = TrainingSession(scenario=name, micro_batches=count)
    for _ in range(2):
        session.run_epoch()
    model, _losses = plain_loop(SCENARIOS[name], 2, micro_batches=count)
    for ours, theirs in zip(session.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_free_mode_runs_any_order_and_guided_refuses_it(name: str) -> None:
    session = TrainingSession(scenario=name)
    with pytest.raises(StageOrderError):
        session.run("step")
    session.mode = "free"
    records = [session.run(stage) for stage in
               ("forward", "loss", "backward", "backward", "step", "zero_grad", "step")]
    assert records[3].error is not None and "second time" in records[3].error
    assert records[4].after.nonzero_grads() and not records[4].after.same_values(
        records[4].before)
    assert records[6].ran and records[6].after.same_values(records[6].before)  # no grads


@pytest.mark.parametrize("name", NAMES)
def test_rewind_restores_every_tensor_and_replays_the_same_numbers(name: str) -> None:
    session = TrainingSession(scenario=name)
    session.run_epoch()
    session.run_epoch()
    middle = session.position
    kept = {k: v.clone() for k, v in session.model.state_dict().items()}
    for _ in range(2):
        session.run_epoch()
    later = {k: v.clone() for k, v in session.model.state_dict().items()}
    end = session.position  # two epochs on: 10 actions, 12 with Evaluate
    session.jump_to(middle)
    assert all(torch.equal(kept[k], v) for k, v in session.model.state_dict().items())
    assert len(session.history) == 2
    session.jump_to(end)
    assert all(torch.equal(later[k], v) for k, v in session.model.state_dict().items())


@pytest.mark.parametrize("name", ["curve", "spiral"])
def test_records_carry_every_named_tensor_and_its_summaries(name: str) -> None:
    session = TrainingSession(scenario=name)
    records = session.run_epoch()
    names = tuple(n for n, _ in session.model.named_parameters())
    step = records[-1]
    assert step.after.names == names
    for tensor_name, param in session.model.named_parameters():
        after = step.after[tensor_name]
        np.testing.assert_array_equal(after.value, param.detach().numpy())
        assert after.norm == pytest.approx(float(param.detach().norm()), rel=1e-6)
        assert after.std == pytest.approx(float(param.detach().std(unbiased=False)), rel=1e-5)
        assert param.grad is not None
        assert after.grad_norm == pytest.approx(float(param.grad.norm()), rel=1e-6)
        change = np.linalg.norm(after.value - step.before[tensor_name].value)
        ratio = change / np.linalg.norm(step.before[tensor_name].value)
        assert session.history.column(f"update_ratio:{tensor_name}")[-1] == pytest.approx(
            ratio, rel=1e-6)
        assert session.history.column(f"grad_norm:{tensor_name}")[-1] == after.grad_norm
    with pytest.raises(TypeError, match="one-neuron"):
        _ = step.after.weight
    with pytest.raises(TypeError, match="one-neuron"):
        _ = session.weight


@pytest.mark.parametrize("name", ["moons", "spiral", "digits"])
def test_classifiers_report_accuracy_next_to_the_loss(name: str) -> None:
    session = TrainingSession(scenario=name)
    records = session.run_epoch()
    loss_record = records[2]
    logits = session.model(session.inputs).detach()  # after the step: not what was measured
    assert loss_record.accuracy is not None and 0.0 <= loss_record.accuracy <= 1.0
    step = records[-1]
    assert step.full_batch_accuracy == session.history.column("accuracy")[-1]
    assert step.task == "classification"
    assert logits.shape == (len(session.inputs), SCENARIOS[name].data.classes)
    per_sample = loss_record.sample_losses
    assert per_sample is not None and len(per_sample) == len(session.inputs)
    mean = float(np.mean(np.asarray(per_sample, dtype=np.float32)))
    assert loss_record.loss == pytest.approx(mean, rel=1e-5)


def test_the_same_seed_gives_the_same_first_weights_and_another_seed_others() -> None:
    first = TrainingSession(scenario="spiral").params()
    assert TrainingSession(scenario="spiral").params() == first
    assert TrainingSession(scenario="spiral", seed=1).params() != first


def test_the_model_is_editable_and_checked() -> None:
    deeper = SCENARIOS["moons"].with_model(ModelSpec(hidden_layers=3, width=8,
                                                     activation="sigmoid"))
    session = TrainingSession(scenario=deeper)
    assert [type(m).__name__ for m in session.model.children()] == [
        "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    session.run_epoch()
    for bad, message in [({"hidden_layers": 4}, "hidden layers must be 0 to 3"),
                         ({"width": 0}, "width must be 1 to 256"),
                         ({"activation": "gelu"}, "unknown activation 'gelu'"),
                         ({"hidden_layers": 1.5}, "hidden layers")]:
        with pytest.raises((ValueError, TypeError), match=message):
            ModelSpec(**bad)  # type: ignore[arg-type]


def test_the_digits_are_the_real_data_set_with_their_licence_beside_them() -> None:
    data = scenario_named("digits").data
    assert (data.samples, data.in_features, data.classes) == (1797, 64, 10)
    assert data.image_shape == (8, 8)
    assert float(np.max(data.inputs)) == 1.0 and float(np.min(data.inputs)) == 0.0
    assert np.bincount(data.targets.astype(np.int64)).tolist()[:3] == [178, 182, 177]
    notice = resource_path("datasets", "digits.README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in notice and "Alpaydin" in notice


def test_a_learners_file_trains_like_a_built_in_scenario(tmp_path: Path) -> None:
    rows = "\n".join(f"{x / 10},{(x / 10) ** 2},{int(x > 15)}" for x in range(30))
    path = tmp_path / "mine.csv"
    path.write_text("x,x_squared,big\n" + rows + "\n", encoding="utf-8")
    session = TrainingSession(scenario=load_csv(path))
    assert session.scenario.name == "file:mine.csv" and session.scenario.task == "classification"
    for stage in STAGES:
        assert session.run(stage).ok
    assert session.epoch == 1


def test_one_neuron_data_can_still_be_given_directly_but_not_to_other_models() -> None:
    session = TrainingSession(inputs=[[1.0], [2.0]], targets=[[2.0], [4.0]])
    assert len(session.inputs) == 2 and session.one_neuron
    with pytest.raises(ValueError, match="one-neuron"):
        TrainingSession(scenario="moons", inputs=[[1.0]], targets=[[1.0]])


@pytest.mark.parametrize("name", ["delivery", "moons", "curve"])
def test_a_step_without_gradients_leaves_the_live_graph_usable_after_a_jump(name: str) -> None:
    """A step with every .grad None writes nothing; PyTorch's graph stays valid, and so must
    the one rebuilt from a checkpoint (found by a review's random rewind fuzzer)."""
    session = TrainingSession(scenario=name, mode="free")
    for stage in ("forward", "loss", "step"):
        session.run(stage)
    for i in range(130):  # enough actions for a checkpoint to land while the graph is live
        session.lr = 0.01 if i % 2 else 0.02
    session.run("forward")
    original = session.run("backward")
    grads = [p.grad.clone() for p in session.model.parameters() if p.grad is not None]
    session.undo()
    replayed = session.redo()
    assert replayed is not None and replayed.error == original.error
    again = [p.grad for p in session.model.parameters() if p.grad is not None]
    assert len(again) == len(grads) and all(
        torch.equal(a, b) for a, b in zip(grads, again, strict=True))


def test_tensor_history_is_the_same_for_the_one_neuron_and_layered_models() -> None:
    """The one neuron's per-tensor history follows from its numbers; it must agree with
    what the records say, as the layered models' columns do."""
    for session in (TrainingSession(), TrainingSession(scenario="curve")):
        steps = [session.run_epoch()[-1] for _ in range(3)]
        session.reset()
        steps += [session.run_epoch()[-1] for _ in range(2)]  # a new run starts at the seed
        for name in steps[0].after.names:
            ratios = session.tensor_history("update_ratio", name)
            norms = session.tensor_history("grad_norm", name)
            assert len(ratios) == 2
            for step, ratio, norm in zip(steps[3:], ratios, norms, strict=True):
                assert ratio == pytest.approx(step.before.update_ratios(step.after)[name],
                                              rel=1e-6)
                assert norm == pytest.approx(step.after[name].grad_norm, rel=1e-6)
    with pytest.raises(ValueError, match="unknown kind"):
        TrainingSession().tensor_history("weights", "0.weight")


def test_a_diverging_tensors_summaries_stay_finite_and_quiet() -> None:
    import warnings

    from gui_trainer.core.records import TensorValues

    huge = np.full((16, 16), 1e20, dtype=np.float32)  # squares overflow float32
    tensor = TensorValues("w", huge, huge)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        assert tensor.norm == pytest.approx(16 * 1e20, rel=1e-6)
        assert tensor.grad_norm == pytest.approx(16 * 1e20, rel=1e-6)
        assert tensor.std == 0.0 and tensor.mean == pytest.approx(1e20, rel=1e-6)
