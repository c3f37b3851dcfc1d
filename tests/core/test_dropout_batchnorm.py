"""Dropout and BatchNorm1d in the model: the session against a plain PyTorch loop."""

from __future__ import annotations

import contextlib
import copy
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gui_trainer.core import session_file
from gui_trainer.core.code_listing import code_listing
from gui_trainer.core.experiments import BY_KEY, findings, run_experiment, scenario_for
from gui_trainer.core.formatting import short
from gui_trainer.core.models import ModelSpec
from gui_trainer.core.optional_stages import graph_size
from gui_trainer.core.records import StageRecord
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import STAGES
from gui_trainer.core.train_modes import dropout_masks
from gui_trainer.core.worked_math import worked_math

SPEC = ModelSpec(hidden_layers=2, width=8, activation="tanh", dropout=0.25, batch_norm=True)


def session_with(spec: ModelSpec = SPEC, scenario: str = "curve",
                 **settings: object) -> TrainingSession:
    return TrainingSession(scenario=SCENARIOS[scenario].with_model(spec), **settings)  # type: ignore[arg-type]


def plain_model(session: TrainingSession, spec: ModelSpec) -> nn.Sequential:
    """The model as a learner writes it: ``torch.manual_seed`` then ``nn.Sequential``."""
    torch.manual_seed(session.seed)
    layers: list[nn.Module] = []
    width_in = session.inputs.shape[1]
    for _ in range(spec.hidden_layers):
        layers.append(nn.Linear(width_in, spec.width))
        if spec.batch_norm:
            layers.append(nn.BatchNorm1d(spec.width))
        layers.append(nn.Tanh())
        if spec.dropout:
            layers.append(nn.Dropout(spec.dropout))
        width_in = spec.width
    layers.append(nn.Linear(width_in, 1))
    return nn.Sequential(*layers)


def same_state(a: nn.Module, b: nn.Module) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(
        torch.equal(first[k], second[k]) for k in first)


def test_the_layers_sit_where_a_script_puts_them_and_start_as_it_does() -> None:
    session = session_with()
    kinds = [type(m).__name__ for m in session.model.children()]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout"] * 2 + ["Linear"]
    assert same_state(session.model, plain_model(session, SPEC))
    assert "running_mean" in list(session.model.children())[1].state_dict()  # a buffer
    assert "1.running_mean" not in dict(session.model.named_parameters())


@pytest.mark.parametrize("batch_size,shuffle", [(None, False), (8, True)])
def test_a_run_is_plain_pytorchs_loop_bit_for_bit(batch_size: int | None,
                                                  shuffle: bool) -> None:
    """Same masks (same generator draws), same running averages, same weights."""
    session = session_with(batch_size=batch_size, shuffle=shuffle, optimizer="adam")
    model = plain_model(session, SPEC)
    generator = torch.Generator().manual_seed(session.seed)
    loader = DataLoader(TensorDataset(session.inputs, session.targets),
                        batch_size=batch_size or len(session.inputs), shuffle=shuffle,
                        generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=session.lr)
    for _ in range(3):
        for x, y in loader:
            optimizer.zero_grad()
            outputs = model(x)
            loss = session.loss_fn(outputs, y)
            loss.backward()
            optimizer.step()
    session.run_epoch()
    session.run_epoch()
    session.run_epoch()
    assert same_state(session.model, model)
    assert session.model.state_dict()["1.num_batches_tracked"].item() == 3 * len(loader)
    assert torch.equal(session.outputs, outputs)  # type: ignore[arg-type]


def test_each_forward_records_the_mask_its_dropout_layers_drew() -> None:
    session = session_with(mode="free")
    session.run("zero_grad")
    record = session.run("forward")
    assert [m.name for m in record.dropout_masks] == ["3", "7"]
    assert all(m.agrees for m in record.dropout_masks)
    assert all(m.kept.shape == (len(session.inputs), 8) for m in record.dropout_masks)
    # the mask is the real one: what plain PyTorch's dropout zeroed in the same forward
    model = plain_model(session, SPEC)
    seen: dict[str, torch.Tensor] = {}
    model[3].register_forward_hook(lambda m, a, o: seen.setdefault("out", o))
    model(session.inputs)
    assert np.array_equal(record.dropout_masks[0].kept, (seen["out"] != 0).numpy())
    assert 0.5 < record.dropout_masks[0].kept_share < 1
    again = session.run("forward")  # another forward, other masks
    assert not np.array_equal(again.dropout_masks[0].kept, record.dropout_masks[0].kept)


def test_batchnorm_buffers_move_on_every_forward_even_without_a_step() -> None:
    session = session_with(SPEC, mode="free")
    session.run("zero_grad")
    first = session.run("forward")
    before = {t.name: t.value for t in first.buffers_before}
    after = {t.name: t.value for t in first.buffers_after}
    assert before["1.num_batches_tracked"] == 0 and after["1.num_batches_tracked"] == 1
    assert not np.array_equal(before["1.running_mean"], after["1.running_mean"])
    assert first.before.same_values(first.after)  # no parameter changed
    second = session.run("forward")
    assert {t.name: t.value for t in second.buffers_after}["1.num_batches_tracked"] == 2


def test_measuring_is_in_eval_mode_and_changes_nothing() -> None:
    """The loss history, predictions and the landscape never move a buffer or use a draw."""
    session = session_with()
    session.run_iteration()
    state = copy.deepcopy(session.model.state_dict())
    rng = session._loop.dropout_rng
    loss_once = session.full_batch_loss()
    assert session.full_batch_loss() == loss_once  # no dropout noise: eval mode
    session.predict([0.0, 1.0])
    session.predict_array(session.inputs.numpy())
    session.activation_stats()
    assert same_state(session.model, _loaded(state))
    assert torch.equal(session._loop.dropout_rng, rng)  # type: ignore[arg-type]
    assert session.model.training


def _loaded(state: dict[str, torch.Tensor]) -> nn.Module:
    holder = SCENARIOS["curve"].with_model(SPEC).build_model()
    holder.load_state_dict(state)
    return holder


def test_undo_and_jumps_give_back_the_buffers_and_the_same_masks() -> None:
    session = session_with(batch_size=16, shuffle=True)
    records = [r for _ in range(5) for r in session.run_iteration()]
    end = copy.deepcopy(session.model.state_dict())
    forwards = [r for r in records if r.stage == "forward"]
    middle = TrainingSession(scenario=session.scenario, batch_size=16, shuffle=True)
    for _ in range(12):  # two iterations and two stages: after a forward
        middle.run(middle.next_stage)
    session.jump_to(3)
    session.jump_to(12)
    assert same_state(session.model, middle.model)
    assert torch.equal(session.outputs, middle.outputs)  # type: ignore[arg-type]
    session.jump_to(len(session.timeline))
    assert same_state(session.model, _loaded(end))
    for _ in range(13):
        session.undo()
    assert same_state(session.model, middle.model)
    replayed = [session.redo() for _ in range(13)]
    assert same_state(session.model, _loaded(end))
    again = [r for r in replayed if r is not None and r.stage == "forward"]
    for one, two in zip(forwards[-len(again):], again, strict=True):
        for a, b in zip(one.dropout_masks, two.dropout_masks, strict=True):
            assert np.array_equal(a.kept, b.kept)


def test_a_rebuilt_graph_backpropagates_through_the_same_masks() -> None:
    """Undo to just after Loss: the graph made again gives the very gradient of the first."""
    session = session_with()
    for stage in ("zero_grad", "forward", "loss", "backward"):
        session.run(stage)
    grads = [p.grad.clone() for p in session.model.parameters()]  # type: ignore[union-attr]
    buffers = copy.deepcopy(dict(session.model.named_buffers()))
    session.undo()
    assert all(torch.equal(b, buffers[n]) for n, b in session.model.named_buffers())
    session.run("backward")
    assert all(p.grad is not None and torch.equal(p.grad, g)
               for p, g in zip(session.model.parameters(), grads, strict=True))


def test_a_session_file_keeps_the_buffers_and_replays_the_masks(tmp_path: Path) -> None:
    session = session_with(batch_size=16, shuffle=True)
    for _ in range(4):
        session.run_iteration()
    session.run("zero_grad")
    session.run("forward")
    path = tmp_path / "bn.gtrain"
    session_file.save(session, path)
    loaded = session_file.load(path)
    assert same_state(loaded.model, session.model)
    assert torch.equal(loaded.outputs, session.outputs)  # type: ignore[arg-type]
    assert loaded.scenario.model_spec == SPEC
    # a file whose running averages were changed is refused: they are state, like weights
    import io
    import zipfile

    import safetensors.numpy
    raw = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = archive.namelist()
        entries = {name: archive.read(name) for name in names}
    tensors_name = next(n for n in names if n.endswith(".safetensors"))
    tensors = dict(safetensors.numpy.load(entries[tensors_name]))
    tensors["buffer.1.running_mean"] = tensors["buffer.1.running_mean"] + 1
    entries[tensors_name] = safetensors.numpy.save(tensors)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, entries[name])
    with pytest.raises(session_file.SessionFileError, match="running_mean"):
        session_file.from_bytes(buffer.getvalue())


@pytest.mark.parametrize("bad", [{"dropout": 1.0}, {"dropout": -0.1}, {"dropout": "a"},
                                 {"dropout": float("nan")}, {"batch_norm": "yes"},
                                 {"hidden_layers": 0, "dropout": 0.2},
                                 {"hidden_layers": 0, "batch_norm": True}])
def test_bad_layer_options_are_refused_with_a_message(bad: dict[str, object]) -> None:
    options = {"hidden_layers": 1, **bad}
    with pytest.raises(ValueError, match=r"dropout|batch_norm|BatchNorm"):
        ModelSpec(**options)  # type: ignore[arg-type]


def test_the_default_models_have_neither_and_draw_nothing() -> None:
    for scenario in SCENARIOS.values():
        session = TrainingSession(scenario=scenario)
        assert session._loop.dropout_rng is None
        assert not list(session.model.buffers())
    described = SPEC.describe()
    assert "BatchNorm" in described and "dropout 0.25" in described


# -- the experiments that need dropout, BatchNorm, a validation split or classes ----------
def _experiment_session(key: str) -> tuple[TrainingSession, list[StageRecord]]:
    experiment = BY_KEY[key]
    session = TrainingSession(scenario=scenario_for(experiment, SCENARIOS["delivery"]))
    return session, run_experiment(session, experiment)


def test_an_experiment_refuses_a_session_without_what_it_needs_and_changes_nothing() -> None:
    session = TrainingSession()
    for key in ("eval_without_model_eval", "eval_without_no_grad",
                "softmax_before_cross_entropy", "batch_of_one_batch_norm"):
        with pytest.raises(ValueError, match="needs"):
            run_experiment(session, BY_KEY[key])
        assert session.position == 0
    fits = TrainingSession(scenario=SCENARIOS["overfit"].with_model(
        ModelSpec(2, 8, "tanh", dropout=0.1)))
    assert scenario_for(BY_KEY["eval_without_model_eval"], fits.scenario) is fits.scenario
    assert scenario_for(BY_KEY["softmax_before_cross_entropy"], SCENARIOS["spiral"]) is \
        SCENARIOS["spiral"]


def test_evaluating_without_model_eval_is_noisy_and_a_correct_one_is_not() -> None:
    session, records = _experiment_session("eval_without_model_eval")
    evaluations = [r for r in records if r.stage == "evaluate"]
    losses = [r.val_loss for r in evaluations]
    assert len(set(losses)) == 4  # the same weights, four masks, four numbers
    assert all(r.before.same_values(r.after) for r in evaluations)
    # the reference is what model.eval() measures on these weights
    model = copy.deepcopy(session.model).eval()
    with torch.no_grad():
        correct = float(session.loss_fn(model(session.val_inputs), session.val_targets))
    assert evaluations[-1].val_loss_reference == correct
    assert all(v != correct for v in losses)
    text = findings(BY_KEY["eval_without_model_eval"], records)
    assert f"measured {short(correct)}" in text and "4 different numbers" in text
    # turned back on, evaluation is repeatable again
    session.evaluate_model_eval = True
    again = [session.run("evaluate").val_loss for _ in range(2)]
    assert again == [correct, correct]


def test_evaluating_without_no_grad_records_the_graph_plain_pytorch_records() -> None:
    session, records = _experiment_session("eval_without_no_grad")
    evaluation = [r for r in records if r.stage == "evaluate"][-1]
    model = copy.deepcopy(session.model).eval()
    loss = session.loss_fn(model(session.val_inputs), session.val_targets)
    assert evaluation.val_grad_fn == type(loss.grad_fn).__name__ == "MseLossBackward0"
    assert evaluation.val_graph_nodes == graph_size(loss.grad_fn) > 5
    assert evaluation.val_loss == loss.item()
    assert "grad_fn = MseLossBackward0" in findings(BY_KEY["eval_without_no_grad"], records)


def test_softmax_before_the_loss_is_what_pytorch_computes_and_floors_the_loss() -> None:
    session, records = _experiment_session("softmax_before_cross_entropy")
    assert session.scenario.task == "classification"
    loss = next(r for r in records if r.stage == "loss")
    forward = next(r for r in records if r.stage == "forward")
    outputs = torch.tensor(forward.outputs).reshape(len(forward.rows), -1)
    targets = session.targets[list(loss.rows)]
    squashed = nn.functional.cross_entropy(torch.softmax(outputs, dim=1), targets)
    assert loss.loss == float(squashed)
    assert loss.softmax_loss_reference == float(nn.functional.cross_entropy(outputs, targets))
    # two classes: softmax of probabilities cannot go below CE(one-hot as logits)
    floor = float(nn.functional.cross_entropy(torch.eye(2)[targets], targets))
    assert all(r.loss is not None and r.loss > floor for r in records if r.stage == "loss")
    with pytest.raises(ValueError, match="classifier"):
        TrainingSession(scenario="curve").softmax_before_loss = True


def test_a_batch_of_one_through_batchnorm_fails_as_in_plain_pytorch() -> None:
    session, records = _experiment_session("batch_of_one_batch_norm")
    forward = records[-1]
    assert forward.error is not None
    assert "Expected more than 1 value per channel when training" in forward.error
    assert len(forward.rows) == 1
    model = plain_model(session, session.scenario.model_spec)
    with pytest.raises(ValueError, match="more than 1 value") as raised:
        model(session.inputs[:1])
    assert str(raised.value) in forward.error
    counts = {t.name: int(t.value) for t in forward.buffers_after
              if t.name.endswith("num_batches_tracked")}
    assert counts == {n: int(b) for n, b in model.named_buffers()
                      if n.endswith("num_batches_tracked")} == {
        "1.num_batches_tracked": 1, "4.num_batches_tracked": 0}
    assert session.next_stage == "forward"  # fix the batch size and run it again
    text = findings(BY_KEY["batch_of_one_batch_norm"], records)
    assert "num_batches_tracked 0 → 1" in text and "did not move" in text


def test_evaluate_in_eval_mode_leaves_the_buffers_and_the_draws_alone() -> None:
    """Frozen in eval mode: Evaluate neither moves BatchNorm's averages nor uses a mask."""
    session = TrainingSession(scenario=SCENARIOS["overfit"].with_model(SPEC))
    session.run_iteration()
    session.mode = "free"
    rng = session._loop.dropout_rng
    record = session.run("evaluate")
    assert [t.value.tolist() for t in record.buffers_before] == [
        t.value.tolist() for t in record.buffers_after]
    assert torch.equal(session._loop.dropout_rng, rng)  # type: ignore[arg-type]
    math = worked_math(record).as_text()
    assert "model.eval(), with torch.no_grad():" in math and "no graph was recorded" in math
    session.evaluate_model_eval = False
    wrong = session.run("evaluate")
    moved = [a.value.tolist() != b.value.tolist()
             for a, b in zip(wrong.buffers_before, wrong.buffers_after, strict=True)]
    assert all(moved)  # every running average and count moved: the val rows leaked in
    assert not torch.equal(session._loop.dropout_rng, rng)  # type: ignore[arg-type]
    math = worked_math(wrong).as_text()
    assert "model.eval()" not in math.splitlines()[1]
    assert f"with model.eval() these weights measure {short(wrong.val_loss_reference)}" in math
    assert "dropout drew a mask and BatchNorm used these rows' statistics" in wrong.explanation


def test_the_forwards_worked_math_checks_each_mask_and_running_average() -> None:
    session = session_with(batch_size=16)
    session.run("zero_grad")
    record = session.run("forward")
    math = worked_math(record)
    assert math.agrees is True
    text = math.as_text()
    assert text.count("✓ layer") == 6  # 2 masks, 2 × (running_mean, running_var)
    assert "num_batches_tracked 0 → 1" in text
    walk = session.backprop_by_layer(3)
    assert walk.eval_mode and walk.agrees
    assert [layer.name.split(" (")[1].split()[0] for layer in walk.layers] == [
        "Linear", "BatchNorm1d", "Linear", "BatchNorm1d", "Linear"]


def test_a_loop_that_pytorch_refuses_stops_at_the_refusal() -> None:
    """run_iteration / run_epoch end at the failed Forward instead of retrying it forever."""
    session = session_with(SPEC, batch_size=1)
    records = session.run_epoch()
    assert [r.stage for r in records] == ["zero_grad", "forward"]
    assert records[-1].error is not None and session.epoch == 0
    session.batch_size = 2
    assert session.run_iteration()[-1].stage == "step"


# -- found in review ------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [ModelSpec(2, 8, "tanh", batch_norm=True),
                                  ModelSpec(2, 8, "tanh", dropout=0.3)],
                         ids=["batchnorm", "dropout"])
def test_a_live_graph_made_again_on_a_jump_backpropagates_as_the_first(spec: ModelSpec) -> None:
    """Putting BatchNorm's buffers back after remaking a graph must not bump their version
    counters (the graph saved them): the replayed Backward gives the first one's gradients."""
    session = TrainingSession(scenario=SCENARIOS["curve"].with_model(spec))
    for _ in range(25):
        session.run_iteration()
    for stage in ("zero_grad", "forward", "loss"):
        session.run(stage)
    first = session.run("backward")
    assert first.error is None
    at = session.position
    # the checkpoint just before this backward holds the live graph of the loss
    assert at - 1 in session.timeline._checkpoint_positions
    grads = [p.grad.clone() for p in session.model.parameters()]  # type: ignore[union-attr]
    session.run("step")
    session.run("zero_grad")
    record = session.jump_to(at)
    assert record is not None and record.stage == "backward" and record.error is None
    assert all(p.grad is not None and torch.equal(p.grad, g)
               for p, g in zip(session.model.parameters(), grads, strict=True))


def test_the_listing_says_when_its_masks_or_averages_would_differ() -> None:
    """A restart goes on drawing masks; a stray Forward moves BatchNorm's averages: a script
    of the run from torch.manual_seed would not end where the session is."""
    dropout = TrainingSession(scenario=SCENARIOS["curve"].with_model(
        ModelSpec(2, 8, "tanh", dropout=0.3)))
    dropout.run_epoch()
    assert code_listing(dropout, {}, None).reproducible
    dropout.reset()
    dropout.run_epoch()
    assert not code_listing(dropout, {}, None).reproducible
    batch_norm = TrainingSession(scenario=SCENARIOS["curve"].with_model(
        ModelSpec(2, 8, "tanh", batch_norm=True)), mode="free")
    batch_norm.run("forward")  # a look at the outputs before training
    batch_norm.mode = "guided"
    batch_norm.run_epoch()
    assert not code_listing(batch_norm, {}, None).reproducible
    batch_norm.reset()  # the averages go back with the weights: a clean run again
    batch_norm.run_epoch()
    assert code_listing(batch_norm, {}, None).reproducible


def test_softmax_with_micro_batches_compares_unscaled_losses() -> None:
    session = TrainingSession(scenario="moons", micro_batches=2, softmax_before_loss=True)
    session.run("zero_grad")
    session.run("forward")
    record = session.run("loss")
    assert session.outputs is not None
    outputs = session.outputs.detach()
    targets = session.targets[list(record.rows)]
    squashed = float(nn.functional.cross_entropy(torch.softmax(outputs, 1), targets))
    assert record.loss == pytest.approx(squashed / 2, rel=1e-6)
    assert f"= {squashed:.4g}" in record.explanation
    assert f"it would be {record.softmax_loss_reference:.4g}" in record.explanation
    assert record.softmax_loss_reference == float(nn.functional.cross_entropy(outputs, targets))
    assert ("micro_batches", 1) in BY_KEY["softmax_before_cross_entropy"].settings


def test_backward_by_hand_goes_through_the_extra_softmax() -> None:
    session = TrainingSession(scenario="moons", softmax_before_loss=True)
    session.run_iteration()
    walk = session.backprop_by_layer(5)
    assert walk.softmax_first and walk.agrees
    assert "softmax(p)" in "\n".join(walk.lines())
    plain = TrainingSession(scenario="moons")
    plain.run_iteration()
    assert not plain.backprop_by_layer(5).softmax_first


def test_a_mask_is_checked_on_nan_numbers_too() -> None:
    model = nn.Sequential(nn.Dropout(0.5))
    with dropout_masks(model) as masks:
        model(torch.tensor([[float("nan"), 1.0, 2.0, 3.0]]))
    assert masks[0].agrees


def _state(session: TrainingSession) -> list[object]:
    return [copy.deepcopy(session.model.state_dict()),
            [None if p.grad is None else p.grad.clone() for p in session.model.parameters()],
            session._loop.dropout_rng,
            None if session.outputs is None else session.outputs.detach().clone(),
            None if session.loss is None else session.loss.detach().clone()]


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return torch.equal(a, b)  # type: ignore[arg-type]


@pytest.mark.parametrize("name,spec", [
    ("overfit", ModelSpec(2, 8, "tanh", dropout=0.3, batch_norm=True)),
    ("moons", ModelSpec(1, 8, "relu", dropout=0.5)),
    ("curve", ModelSpec(2, 8, "tanh", batch_norm=True))], ids=["both", "dropout", "batchnorm"])
def test_a_jump_anywhere_in_a_random_session_is_that_moment_exactly(name: str,
                                                                   spec: ModelSpec) -> None:
    """Free-mode stages, loops, batch sizes, the evaluation switches, restarts: a jump back
    to any moment gives its weights, buffers, grads, generator state, outputs and loss."""
    rng = random.Random(f"jumps {name}")
    session = TrainingSession(scenario=SCENARIOS[name].with_model(spec))
    states = {0: _state(session)}
    while session.position < 300:
        roll = rng.random()
        with contextlib.suppress(ValueError):
            if roll < 0.55:
                session.mode = "free"
                session.run(rng.choice(STAGES))
            elif roll < 0.8:
                session.mode = "guided"
                session.run_iteration()
            elif roll < 0.85:
                session.batch_size = rng.choice([None, 4, 6])
            elif roll < 0.9:
                session.evaluate_model_eval = not session.evaluate_model_eval
            elif roll < 0.95:
                session.reset()
            else:
                session.evaluate_no_grad = not session.evaluate_no_grad
        states[session.position] = _state(session)
    checked = sorted(states)[1::5]
    for position in reversed(checked):
        session.jump_to(position)
        assert _same(_state(session), states[position]), position
