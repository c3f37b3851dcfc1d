"""The exported script, run by plain Python, ends where the session is: bit for bit."""

from __future__ import annotations

import contextlib
import math
import random
from pathlib import Path

import pytest
import torch

from gui_trainer.core import TrainingSession
from gui_trainer.core.export import script
from gui_trainer.core.models import ModelSpec
from gui_trainer.core.optimizers import OptimizerName
from gui_trainer.core.scenarios import SCENARIOS, load_csv
from gui_trainer.core.stages import STAGES
from tests.scripts import left_state, run_scripts


def dump(tensor: torch.Tensor | None) -> list[float] | None:
    return None if tensor is None else torch.as_tensor(tensor).detach().flatten().tolist()


def session_state(session: TrainingSession) -> dict[str, object]:
    """What the session holds, dumped as the script driver dumps the script's variables."""
    named = list(session.model.named_parameters())
    return {
        "params": {n: dump(p) for n, p in named},
        "grads": {n: dump(p.grad) for n, p in named},
        "buffers": {n: dump(b) for n, b in session.model.named_buffers()},
        "training": session.model.training,
        "loss": dump(session.loss), "outputs": dump(session.outputs),
        "optimizer": {str(k): {key: dump(v) for key, v in state.items()}
                      for k, state in session.optimizer.state_dict()["state"].items()},
        "lr": [group["lr"] for group in session.optimizer.param_groups],
    }


def same(left: object, right: object) -> bool:
    """Equal, with NaN equal to NaN (a diverged run's numbers are NaN in both)."""
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right,
                                                                          strict=True))
    return left == right


#: Optimizers with hyperparameters, as the script must write them.
OPTIMIZER_CHOICES: list[tuple[OptimizerName, dict[str, object]]] = [
    ("sgd", {"momentum": 0.9, "weight_decay": 0.01}),
    ("sgd", {"momentum": 0.5, "nesterov": True}),
    ("rmsprop", {"momentum": 0.3, "centered": True}),
    ("adagrad", {"lr_decay": 0.1}),
    ("adam", {"betas": (0.5, 0.9), "amsgrad": True}),
    ("adamw", {"weight_decay": 0.05}),
]


SCHEDULER_CHOICES: list[tuple[str | None, dict[str, object]]] = [
    (None, {}), ("StepLR", {"step_size": 2, "gamma": 0.5}), ("ExponentialLR", {"gamma": 0.9}),
    ("OneCycleLR", {"total_steps": 400}), ("ReduceLROnPlateau", {"patience": 0}),
    ("CosineAnnealingLR", {"T_max": 3})]


def wander(session: TrainingSession, rng: random.Random, actions: int) -> None:
    """What a curious learner might do: free-mode stages, settings, restarts, undo."""
    samples = len(session.inputs)
    for _ in range(actions):
        roll = rng.random()
        if roll < 0.55:
            session.mode = "free"
            session.run(rng.choice(STAGES))
        elif roll < 0.7:
            session.mode = "guided"
            for _ in range(rng.randint(1, 4)):
                session.run_iteration()
        elif roll < 0.75:
            session.lr = rng.choice([0.001, 0.01, 0.05, 0.3])
        elif roll < 0.77:
            session.optimizer_name = rng.choice(["sgd", "adam"])
        elif roll < 0.79:
            name, options = rng.choice(OPTIMIZER_CHOICES)
            session.set_optimizer(name, **options)
        elif roll < 0.82:
            session.set_to_none = not session.set_to_none
        elif roll < 0.84:
            session.micro_batches = rng.choice(session.valid_micro_batches()[:4])
        elif roll < 0.86:
            # micro-batches that do not fit the new batches: refused, nothing changes
            with contextlib.suppress(ValueError):
                session.batch_size = rng.choice([None, *(b for b in (1, 3, 16, 40)
                                                         if b <= samples)])
        elif roll < 0.87:
            session.shuffle = not session.shuffle
        elif roll < 0.885:
            session.clip_max_norm = rng.choice([None, 0.05, 1.0])
        elif roll < 0.90:
            # refused when it does not fit the optimizer (OneCycleLR with Adagrad)
            with contextlib.suppress(ValueError):
                schedule, keywords = rng.choice(SCHEDULER_CHOICES)
                session.set_scheduler(schedule, **keywords)  # type: ignore[arg-type]
        elif roll < 0.915:
            session.reset()
        elif roll < 0.93 and session.one_neuron:
            session.start_from(rng.uniform(-5, 5), rng.uniform(-5, 5))
        elif roll < 0.945:
            # the calls a correct loop makes, left out (softmax is refused for a regression)
            with contextlib.suppress(ValueError):
                flag = rng.choice(["evaluate_model_eval", "evaluate_no_grad",
                                   "softmax_before_loss"])
                session.change_setting(flag, not getattr(session, flag))
        elif session.position:
            for _ in range(rng.randint(1, 6)):  # an abandoned branch, once something new
                if session.position:
                    session.undo()


SCENARIOS_WANDERED = ("delivery", "curve", "overfit", "moons")
#: Models with dropout and BatchNorm: masks drawn as the script draws them, buffers moved
#: by the same forwards (batches of one included: BatchNorm refuses them).
LAYERED = {"overfit": ModelSpec(hidden_layers=2, width=16, activation="tanh", dropout=0.3,
                                batch_norm=True),
           "moons": ModelSpec(hidden_layers=1, width=8, dropout=0.5)}


def mistakes() -> TrainingSession:
    """Thirty ordinary epochs, then free-mode mistakes: a second backward, a second step."""
    session = TrainingSession()
    for _ in range(30):
        session.run_epoch()
    session.mode = "free"
    for stage in ("zero_grad", "forward", "loss", "backward", "backward", "step", "step"):
        session.run(stage)
    return session


def learners_file(folder: Path) -> TrainingSession:
    """A session on a learner's CSV (a classifier), wandered, then the file deleted: the
    script must not need it."""
    path = folder / "plants.csv"
    rows = [f"{i % 7 * 0.37},{i % 5 / 3},{(i * 3) % 4}" for i in range(40)]
    path.write_text("height,leaves,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    session = TrainingSession(scenario=load_csv(path))
    wander(session, random.Random("plants"), 30)
    path.unlink()
    return session


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[TrainingSession, str, str]]:
    """Random sessions of three scenarios, a learner's file and the mistakes, each with its
    script and what running it printed: one Python process for all (torch imports once)."""
    sessions = [mistakes(), learners_file(tmp_path_factory.mktemp("csv"))]
    for scenario in SCENARIOS_WANDERED:
        for seed in range(8):
            session = TrainingSession(scenario=scenario)
            wander(session, random.Random(f"{scenario}{seed}"), 40)
            sessions.append(session)
    for name, spec in LAYERED.items():
        for seed in range(4):
            session = TrainingSession(scenario=SCENARIOS[name].with_model(spec))
            wander(session, random.Random(f"layered {name}{seed}"), 40)
            sessions.append(session)
    scripts = [script(session) for session in sessions]
    outputs = run_scripts(scripts, state=True)
    return list(zip(sessions, scripts, outputs, strict=True))


def test_random_sessions_scripts_end_bit_for_bit_where_the_session_is(
    ran: list[tuple[TrainingSession, str, str]]
) -> None:
    assert {session.scenario.name for session, _, _ in ran} == {
        *SCENARIOS_WANDERED, "file:plants.csv"}
    for session, text, output in ran:
        assert same(left_state(output), session_state(session)), text
    # The wanderings reached the optional stages: clipping, schedulers, evaluation.
    texts = "".join(text for _, text, _ in ran)
    for line in ("clip_grad_norm_(", "scheduler.step(", "val_loss = loss_function(",
                 "nn.Dropout(0.3)", "nn.BatchNorm1d(16)", "torch.softmax(outputs, dim=1)",
                 "# no model.eval()", "# no torch.no_grad()"):
        assert line in texts, line


def test_ordinary_epochs_are_a_loop_and_mistakes_are_written_as_they_happened(
    ran: list[tuple[TrainingSession, str, str]]
) -> None:
    _, text, output = ran[0]
    assert "for epoch in range(30):  # 30 epochs of the usual loop" in text
    assert text.count("loss.backward()") == 3  # once in the loop, twice by hand
    assert "except RuntimeError as error:" in text  # the second backward through a freed graph
    assert "the same gradients again" in text  # the second step
    assert "PyTorch raised: Trying to backward through the graph a second time" in output
    assert output.count("step ") == 32  # the loss after every step


def test_undone_actions_are_not_in_the_script() -> None:
    session = TrainingSession()
    session.run_epoch()
    session.lr = 0.3
    session.undo()
    assert "0.3" not in script(session)
    session.lr = 0.05  # a new action drops the undone one for good
    assert "group['lr'] = 0.05" in script(session) and "0.3" not in script(session)


def test_a_network_session_with_micro_batches_writes_their_rows() -> None:
    session = TrainingSession(scenario="moons", micro_batches=4)
    session.run_epoch()
    session.mode = "free"
    session.run("zero_grad")
    session.run("forward")
    text = script(session)
    assert "for start in range(0, 200, 50):" not in text  # one epoch: written out
    assert "outputs = model(inputs[0:50])" in text and "/ 4" in text
    assert text.rstrip().endswith("loss_function(model(inputs), targets).item())")


def test_a_note_or_title_cannot_escape_its_comment() -> None:
    session = TrainingSession()
    session.run_epoch()
    session.reset("two\nlines: print('escaped')")
    text = script(session)
    assert "# Restart: two?lines: print('escaped')" in text
    assert not any(line.startswith("lines") for line in text.splitlines())
    compile(text, "<script>", "exec")
