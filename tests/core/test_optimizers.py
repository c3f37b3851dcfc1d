"""Every optimizer a learner can pick, against plain PyTorch; its state and the update ledger."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from gui_trainer.core import outcomes
from gui_trainer.core.optimizer_state import TOLERANCE_FLOOR, TOLERANCE_ULPS
from gui_trainer.core.records import StageRecord
from gui_trainer.core.session import TrainingSession
from gui_trainer.core.stages import STAGES

#: (name, hyperparameters as a learner passes them, the torch class they mean).
CHOICES: list[tuple[str, dict[str, Any], type[torch.optim.Optimizer]]] = [
    ("sgd", {}, torch.optim.SGD),
    ("sgd", {"momentum": 0.9}, torch.optim.SGD),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, torch.optim.SGD),
    ("sgd", {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}, torch.optim.SGD),
    ("rmsprop", {}, torch.optim.RMSprop),
    ("rmsprop", {"momentum": 0.5, "centered": True, "weight_decay": 0.01}, torch.optim.RMSprop),
    # v ≈ ḡ² from the first step on: v − ḡ² may round below zero.
    ("rmsprop", {"alpha": 0.01, "centered": True}, torch.optim.RMSprop),
    ("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1}, torch.optim.Adagrad),
    ("adagrad", {"weight_decay": 0.05}, torch.optim.Adagrad),
    ("adam", {}, torch.optim.Adam),
    ("adam", {"betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.01}, torch.optim.Adam),
    ("adamw", {}, torch.optim.AdamW),
    ("adamw", {"weight_decay": 0.1, "eps": 1e-6}, torch.optim.AdamW),
]
def loop(session: TrainingSession) -> list[StageRecord]:
    """One pass of the loop, as the five buttons run it."""
    return [session.run(stage) for stage in STAGES]


IDS = [f"{name}-{'-'.join(map(str, hp)) or 'defaults'}" for name, hp, _ in CHOICES]


def plain_loop(session: TrainingSession, cls: type[torch.optim.Optimizer],
               hyper: dict[str, Any], steps: int) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """The same model, data and loss driven by a plain loop with the optimizer made by hand."""
    model = copy.deepcopy(session.model)
    make: Callable[..., torch.optim.Optimizer] = cls
    optimizer = make(model.parameters(), lr=session.lr, **hyper)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = session.loss_fn(model(session.inputs), session.targets)
        loss.backward()
        optimizer.step()
    return model, optimizer


@pytest.mark.parametrize(("name", "hyper", "cls"), CHOICES, ids=IDS)
@pytest.mark.parametrize("scenario", ["delivery", "moons"])
def test_each_optimizer_is_the_real_one_bit_for_bit(
        name: str, hyper: dict[str, Any], cls: type[torch.optim.Optimizer], scenario: str) -> None:
    session = TrainingSession(scenario=scenario)
    session.set_optimizer(name, **hyper)  # type: ignore[arg-type]
    assert type(session.optimizer) is cls
    model, optimizer = plain_loop(session, cls, hyper, steps=6)
    for _ in range(6):
        loop(session)
    for ours, theirs in zip(session.model.parameters(), model.parameters(), strict=True):
        assert torch.equal(ours, theirs)
    ours_state = session.optimizer.state_dict()["state"]
    theirs_state = optimizer.state_dict()["state"]
    assert ours_state.keys() == theirs_state.keys()
    for index, entries in theirs_state.items():
        for key, value in entries.items():
            assert torch.equal(torch.as_tensor(ours_state[index][key]), torch.as_tensor(value))


@pytest.mark.parametrize(("name", "hyper", "cls"), CHOICES, ids=IDS)
def test_the_ledger_adds_up_to_the_real_change(
        name: str, hyper: dict[str, Any], cls: type[torch.optim.Optimizer]) -> None:
    session = TrainingSession(scenario="curve")
    session.set_optimizer(name, **hyper)  # type: ignore[arg-type]
    for _ in range(4):
        records = loop(session)
        step = records[-1]
        assert step.stage == "step" and step.optimizer_state is not None
        ledger = step.optimizer_state.ledger
        assert ledger.optimizer == cls.__name__
        assert ledger.agrees, [(t.name, t.worst_gap) for t in ledger.tensors]
        for tensor, param in zip(ledger.tensors, session.model.parameters(), strict=True):
            # The state shown is PyTorch's, entry by entry.
            real = session.optimizer.state[param]
            assert set(tensor.state) == set(real)
            for key, value in real.items():
                assert np.array_equal(tensor.state[key], torch.as_tensor(value).double().numpy())


def test_a_wrong_term_would_be_caught() -> None:
    """The check can fail: a ledger missing Adam's bias correction does not add up."""
    session = TrainingSession(scenario="curve")
    session.set_optimizer("adam")
    step = loop(session)[-1]
    assert step.optimizer_state is not None
    tensor = step.optimizer_state.ledger.tensors[0]
    wrong = -session.lr * tensor.state["exp_avg"] / (np.sqrt(tensor.state["exp_avg_sq"]) + 1e-8)
    assert np.any(np.abs(wrong - tensor.change) > tensor.tolerance)
    assert TOLERANCE_ULPS >= 1


def test_adams_first_step_is_about_lr_and_zero_grad_keeps_momentum() -> None:
    session = TrainingSession()  # the seed's one neuron
    session.set_optimizer("adam")
    step = loop(session)[-1]
    assert step.optimizer_state is not None
    change = step.optimizer_state.ledger["0.weight"].change
    # m̂ / √v̂ is ±1 on the first step: every parameter moves by lr, whatever its gradient.
    assert np.allclose(np.abs(change), session.lr, rtol=1e-3)

    # zero_grad clears .grad, not the momentum buffer: on zero gradients the weights still move.
    session = TrainingSession(mode="free", set_to_none=False)
    session.set_optimizer("sgd", momentum=0.9)
    loop(session)
    loop(session)
    session.run("zero_grad")
    step = session.run("step")
    assert step.optimizer_state is not None
    weight = step.optimizer_state.ledger["0.weight"]
    assert not np.any(step.before["0.weight"].grad)  # the gradient is zero…
    assert np.all(weight.change != 0)  # …and the weight moved all the same
    carried, from_grad = weight.terms[0], weight.terms[1]
    assert carried.label.startswith("−lr × momentum × last buffer")
    assert np.array_equal(from_grad.values, np.zeros_like(from_grad.values))
    assert weight.agrees


@pytest.mark.parametrize(("name", "hyper", "message"), [
    ("lbfgs", {}, "unknown optimizer 'lbfgs'"),
    ("sgd", {"momentum": "abc"}, "momentum must be a number"),
    ("sgd", {"momentum": 1.0}, "momentum must be a number in [0, 1)"),
    ("sgd", {"nesterov": True}, "Nesterov momentum requires a momentum"),
    ("adam", {"betas": (0.9,)}, "betas is a pair"),
    ("adam", {"momentum": 0.9}, "Adam has no hyperparameter 'momentum'"),
    ("adam", {"eps": float("nan")}, "eps must be a number"),
    ("adamw", {"amsgrad": "yes"}, "amsgrad is on or off"),
    ("rmsprop", {"lr": 0.1}, "lr is its own setting"),
    ("rmsprop", {"centered": True, "alpha": 0}, "centered RMSprop needs alpha above 0"),
    ("sgd", {"momentum": 10 ** 400}, "momentum must be a number"),
    ("sgd", {"momentum": np.True_}, "momentum is a number, not"),
    ("adam", {"betas": (0.8, 0.9), "beta1": 0.7}, "not both"),
])
def test_a_bad_choice_says_why_and_changes_nothing(name: str, hyper: dict[str, Any],
                                                  message: str) -> None:
    session = TrainingSession()
    loop(session)
    before = (session.optimizer, session.optimizer_name, dict(session.optimizer_options),
              len(session.timeline))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")
                       .replace(")", r"\)")):
        session.set_optimizer(name, **hyper)  # type: ignore[arg-type]
    assert (session.optimizer, session.optimizer_name, dict(session.optimizer_options),
            len(session.timeline)) == before


def test_set_optimizer_is_one_undoable_action() -> None:
    session = TrainingSession()
    loop(session)
    session.set_optimizer("adamw", weight_decay=0.2, betas=(0.85, 0.995))
    assert session.optimizer_options["weight_decay"] == 0.2
    assert session.optimizer.param_groups[0]["betas"] == (0.85, 0.995)
    loop(session)
    for _ in range(6):  # the loop's five stages and the choice
        session.undo()
    assert session.optimizer_name == "sgd" and isinstance(session.optimizer, torch.optim.SGD)
    for _ in range(6):
        session.redo()
    assert session.optimizer_name == "adamw"
    assert session.optimizer.param_groups[0]["weight_decay"] == 0.2
    # The same choice again is no action; the defaults spelled out are the defaults.
    length = len(session.timeline)
    session.set_optimizer("adamw", weight_decay=0.2, betas=(0.85, 0.995), eps=1e-8)
    assert len(session.timeline) == length


def test_the_seed_default_is_unchanged() -> None:
    session = TrainingSession()
    assert session.optimizer_name == "sgd" and session.settings.optimizer_options == ()
    assert session.optimizer.param_groups[0]["momentum"] == 0
    step = loop(session)[-1]
    assert step.optimizer_state is not None and step.optimizer_state.ledger.agrees
    assert [t.label for t in step.optimizer_state.ledger["0.weight"].terms] == ["−lr × grad"]


@pytest.mark.parametrize("scenario", ["delivery", "curve"])
@pytest.mark.parametrize(("name", "hyper"), [("sgd", {"momentum": 0.9}), ("rmsprop", {}),
                                              ("adagrad", {}), ("adamw", {})])
def test_the_worked_math_of_a_step_names_the_rule_and_checks_the_ledger(
        scenario: str, name: str, hyper: dict[str, Any]) -> None:
    from gui_trainer.core.layered_math import layered_math
    from gui_trainer.core.worked_math import STEP_RULES, worked_math

    session = TrainingSession(scenario=scenario)
    session.set_optimizer(name, **hyper)  # type: ignore[arg-type]
    loop(session)
    step = loop(session)[-1]
    assert not step.plain_sgd
    math = worked_math(step) if session.one_neuron else layered_math(step)
    assert math is not None
    assert STEP_RULES[name] in math.lines
    assert math.agrees is True
    assert any(check.startswith("✓ the update's terms add up") for check in math.checks)
    assert not any("new = old − lr × grad," in check for check in math.checks)


def test_plain_sgds_worked_math_is_as_before() -> None:
    from gui_trainer.core.worked_math import worked_math

    session = TrainingSession()
    step = loop(session)[-1]
    assert step.plain_sgd
    math = worked_math(step)
    assert math is not None and math.lines[0] == "new = old − lr × grad"


def test_weights_decayed_below_float32s_normal_range_still_agree() -> None:
    """RMSprop with strong weight decay on moons drives dead units' weights to ~1e-39, where
    float32 keeps only a few digits: PyTorch's own rounding there is no fault of the rule."""
    session = TrainingSession(scenario="moons")
    session.set_optimizer("rmsprop", weight_decay=0.5)
    loose = 0
    for _ in range(30):
        step = loop(session)[-1]
        assert step.optimizer_state is not None
        ledger = step.optimizer_state.ledger
        assert ledger.agrees, [(t.name, t.worst_gap) for t in ledger.tensors]
        for tensor in ledger.tensors:
            without_floor = tensor.tolerance - TOLERANCE_FLOOR
            loose += int(np.any(np.abs(tensor.total - tensor.change) > without_floor))
    assert loose > 0  # the case is real: without the floor it would have said ✗


def test_earlier_runs_are_labelled_with_their_optimizer() -> None:
    session = TrainingSession()
    session.set_optimizer("rmsprop")
    loop(session)
    session.reset()
    loop(session)
    (run,) = session.history.earlier_runs()
    assert "RMSprop" in run.label


def test_a_step_too_small_for_float32_is_not_called_a_zero_gradient() -> None:
    """lr × grad below float32's resolution at the weights: PyTorch leaves them as they were,
    and the report says why — the gradients are not zero."""
    session = TrainingSession(lr=1e-12)
    records = loop(session)
    step = records[-1]
    assert step.before.nonzero_grads()
    assert step.before.same_values(step.after)  # PyTorch itself changed nothing
    assert "gradients are not zero" in step.explanation
    assert "Every gradient is zero" not in step.explanation
    # With a learning rate of 0 (a schedule's end) the reason is the rate, not rounding.
    assert outcomes.step(step.before, step.after, "sgd", (), lr=0.0) == (
        "The learning rate is 0 for this step, so the step changed nothing.")
    assert "gradients are not zero" in outcomes.step(step.before, step.after, "sgd", (),
                                                     lr=1e-12)


def test_a_step_on_zero_gradients_says_they_are_zero() -> None:
    session = TrainingSession()
    for stage in STAGES[:-1]:
        session.run(stage)
    with torch.no_grad():
        for parameter in session.model.parameters():
            assert parameter.grad is not None
            parameter.grad.zero_()
    step = session.run("step")
    assert step.explanation == "Every gradient is zero, so the step changed nothing."
