import subprocess
import sys

import pytest

from gui_trainer.core import STAGES, TrainingSession
from gui_trainer.core.code_listing import code_listing
from gui_trainer.core.explanations import SECTIONS, explanation, skipping_table
from gui_trainer.core.stages import CODE


def listing_after(session: TrainingSession, latest: dict, last: str | None):  # type: ignore[no-untyped-def]
    return code_listing(session, latest, last)


def run_script(text: str) -> tuple[float, float]:
    """Run the listing as a learner would (plain Python, a fresh process); read its print."""
    result = subprocess.run([sys.executable, "-c", text], capture_output=True, text=True,
                            timeout=120, check=True)
    words = result.stdout.split()
    assert words[0] == "weight:" and words[2] == "bias:", result.stdout
    return float(words[1]), float(words[3])


def test_code_listing_highlights_the_line_of_each_stage() -> None:
    session = TrainingSession()
    latest: dict = {}
    for stage in STAGES:
        record = session.run(stage)
        latest[stage] = record
        listing = listing_after(session, latest, stage)
        assert listing.highlighted is not None
        assert listing.lines[listing.highlighted].strip() == CODE[stage]
    assert listing.notes[listing.stage_lines["loss"]].startswith("loss = ")
    assert "lr=0.01" in "".join(listing.lines)


def test_code_listing_follows_settings() -> None:
    session = TrainingSession(optimizer="adam", lr=0.1, set_to_none=False)
    text = "\n".join(listing_after(session, {}, None).lines)
    assert "torch.optim.Adam(model.parameters(), lr=0.1)" in text
    assert "optimizer.zero_grad(set_to_none=False)" in text


@pytest.mark.parametrize(
    ("settings", "epochs", "extra"),
    [
        ({}, 3, ["zero_grad", "forward"]),  # a half-done loop does not move the weights
        ({"optimizer": "adam", "lr": 0.1}, 5, []),
        ({"micro_batches": 2, "set_to_none": False}, 4, []),
    ],
    ids=["sgd", "adam", "micro-batches"],
)
def test_the_listing_runs_and_ends_at_the_sessions_weights(
    settings: dict, epochs: int, extra: list[str]
) -> None:
    session = TrainingSession(**settings)
    latest: dict = {}
    for _ in range(epochs):
        for record in session.run_epoch():
            latest[record.stage] = record
    for stage in extra:
        latest[stage] = session.run(stage)
    listing = listing_after(session, latest, extra[-1] if extra else "step")
    assert listing.reproducible
    assert f"num_epochs = {epochs}" in listing.text()
    weight, bias = run_script(listing.text())
    assert (weight, bias) == (session.weight.item(), session.bias.item())  # bit for bit


def test_the_listing_says_when_it_cannot_reproduce_the_run() -> None:
    session = TrainingSession()
    session.run_epoch()
    session.lr = 0.1  # changed mid-run: today's settings no longer describe every step
    session.run_epoch()
    listing = listing_after(session, {}, None)
    assert not listing.reproducible
    assert "will not end at the app's weights" in listing.text()
    weight, _ = run_script(listing.text())
    assert weight != session.weight.item()


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_has_an_explanation_with_every_section(stage: str) -> None:
    info = explanation(stage)  # type: ignore[arg-type]
    assert set(SECTIONS) <= set(info.sections)
    assert all(len(info.sections[name]) > 40 for name in SECTIONS)


def test_skipping_table_names_every_stage() -> None:
    table = skipping_table()
    for label in ["Zero Grad", "Forward", "Loss", "Backward", "Step"]:
        assert f"| {label} |" in table
