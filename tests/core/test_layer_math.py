"""Backprop by hand through every layer agrees with autograd; the activation statistics see
dead ReLUs and saturated Tanh units; neither touches the model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gui_trainer.core import layer_math
from gui_trainer.core.models import ModelSpec
from gui_trainer.core.scenarios import SCENARIOS
from gui_trainer.core.session import TrainingSession


def trained(name: str, spec: dict[str, object] | None = None, epochs: int = 3
            ) -> TrainingSession:
    scenario = SCENARIOS[name]
    if spec:
        scenario = scenario.with_model(ModelSpec(**spec))  # type: ignore[arg-type]
    session = TrainingSession(scenario=scenario)
    for _ in range(epochs):
        session.run_epoch()
    return session


@pytest.mark.parametrize(("name", "spec"), [
    ("curve", {}), ("moons", {}), ("spiral", {}), ("digits", {}),
    ("moons", {"hidden_layers": 3, "width": 5, "activation": "sigmoid"}),
    ("delivery", {}),
])
def test_backprop_by_hand_agrees_with_autograd_in_every_layer(
        name: str, spec: dict[str, object]) -> None:
    session = trained(name, spec)
    grads_before = [None if p.grad is None else p.grad.clone()
                    for p in session.model.parameters()]
    walk = session.backprop_by_layer(sample=len(session.inputs) - 1)
    linear = [m for m in session.model.children() if isinstance(m, nn.Linear)]
    assert len(walk.layers) == len(linear)
    assert [layer.weight_shape for layer in walk.layers] == [
        (m.out_features, m.in_features) for m in reversed(linear)]
    assert walk.agrees, walk.lines()
    lines = walk.lines()
    assert len(lines) == 2 * len(linear) + 2  # the sample, the key, two lines per layer
    for layer in walk.layers:
        out, inp = layer.weight_shape
        start = f"{layer.name}: δ has {out} number{'s' if out > 1 else ''} ["
        assert any(line.startswith(start) for line in lines)
        assert f"∂loss/∂W = δ · aᵀ ({out}×{inp})" in "\n".join(lines)
    for before, param in zip(grads_before, session.model.parameters(), strict=True):
        assert before is not None and param.grad is not None
        assert torch.equal(before, param.grad)  # .grad untouched


def test_a_wrong_derivative_is_caught_by_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    session = trained("moons")
    monkeypatch.setitem(layer_math._DERIVATIVE, nn.ReLU, lambda z, a: torch.ones_like(z))
    assert not session.backprop_by_layer(sample=3).agrees


def test_the_sample_is_checked() -> None:
    session = TrainingSession(scenario="curve")
    with pytest.raises(ValueError, match="sample must be 0 to 47"):
        session.backprop_by_layer(sample=48)


def test_dead_relus_and_saturated_tanh_units_are_counted() -> None:
    session = TrainingSession(scenario="moons")
    first = next(session.model.children())
    assert isinstance(first, nn.Linear)
    fresh = session.activation_stats()
    assert [s.kind for s in fresh] == ["ReLU", "ReLU"]
    with torch.no_grad():
        by_hand = int((torch.relu(first(session.inputs)).amax(dim=0) <= 0).sum())
    assert fresh[0].dead_units == by_hand and fresh[0].units == 16
    with torch.no_grad():
        first.bias[:] = -100.0  # no unit can fire on this data
    assert session.activation_stats()[0].dead_units == 16
    assert all(not module._forward_hooks for module in session.model.children())

    curve = TrainingSession(scenario="curve")
    calm = curve.activation_stats()[0].saturated
    layer = next(curve.model.children())
    assert isinstance(layer, nn.Linear)
    with torch.no_grad():
        layer.weight.mul_(50.0)
    assert curve.activation_stats()[0].saturated > max(0.5, calm)
