import pytest

from gui_trainer.core import STAGES, TrainingSession
from gui_trainer.core.code_listing import CodeListing, code_listing
from gui_trainer.core.explanations import SECTIONS, explanation, skipping_table
from gui_trainer.core.records import StageRecord
from gui_trainer.core.stages import CODE, Stage
from tests.scripts import printed_weights, run_scripts


def listing_after(session: TrainingSession, latest: dict[Stage, StageRecord],
                  last: Stage | None) -> CodeListing:
    return code_listing(session, latest, last)


def test_code_listing_highlights_the_line_of_each_stage() -> None:
    session = TrainingSession()
    latest: dict[Stage, StageRecord] = {}
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


#: Sessions whose listing must reproduce them: (settings, whole epochs, stages after them).
REPRODUCIBLE: list[tuple[dict[str, object], int, list[Stage]]] = [
    ({}, 3, ["zero_grad", "forward"]),  # a half-done loop does not move the weights
    ({"optimizer": "adam", "lr": 0.1}, 5, []),
    ({"micro_batches": 2, "set_to_none": False}, 4, []),
]


def test_the_listing_runs_and_ends_at_the_sessions_weights() -> None:
    sessions, scripts = [], []
    for settings, epochs, extra in REPRODUCIBLE:
        session = TrainingSession(**settings)  # type: ignore[arg-type]
        latest: dict[Stage, StageRecord] = {}
        for _ in range(epochs):
            for record in session.run_epoch():
                latest[record.stage] = record
        for stage in extra:
            latest[stage] = session.run(stage)
        listing = listing_after(session, latest, extra[-1] if extra else "step")
        assert listing.reproducible
        assert f"num_epochs = {epochs}" in listing.text()
        sessions.append(session)
        scripts.append(listing.text())
    # Changed mid-run: today's settings no longer describe every step, and it says so.
    changed = TrainingSession()
    changed.run_epoch()
    changed.lr = 0.1
    changed.run_epoch()
    listing = listing_after(changed, {}, None)
    assert not listing.reproducible
    assert "will not end at the app's weights" in listing.text()
    *outputs, changed_output = run_scripts([*scripts, listing.text()])
    for session, output in zip(sessions, outputs, strict=True):
        # bit for bit: the printed floats read back as exactly the session's
        assert printed_weights(output) == (session.weight.item(), session.bias.item())
    assert printed_weights(changed_output)[0] != changed.weight.item()


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_has_an_explanation_with_every_section(stage: Stage) -> None:
    info = explanation(stage)
    assert set(SECTIONS) <= set(info.sections)
    assert all(len(info.sections[name]) > 40 for name in SECTIONS)


def test_skipping_table_names_every_stage() -> None:
    table = skipping_table()
    for label in ["Zero Grad", "Forward", "Loss", "Backward", "Step"]:
        assert f"| {label} |" in table


def test_switching_the_optimizer_back_and_forth_is_not_called_reproducible() -> None:
    """Adam → SGD → Adam with no SGD step: every step says Adam, yet its state restarted."""
    session = TrainingSession(optimizer="adam")
    session.run_epoch()
    session.optimizer_name = "sgd"
    session.optimizer_name = "adam"
    session.run_epoch()
    assert not listing_after(session, {}, None).reproducible
    settings_first = TrainingSession(optimizer="adam")
    settings_first.lr = 0.05  # before the first step: the script describes the run
    settings_first.run_epoch()
    assert listing_after(settings_first, {}, None).reproducible
