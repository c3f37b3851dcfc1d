import pytest

from gui_trainer.core import STAGES, TrainingSession
from gui_trainer.core.code_listing import code_listing
from gui_trainer.core.explanations import SECTIONS, explanation, skipping_table
from gui_trainer.core.stages import CODE


def listing_after(session: TrainingSession, latest: dict, last: str | None):  # type: ignore[no-untyped-def]
    return code_listing(tuple(session.inputs.flatten().tolist()),
                        tuple(session.targets.flatten().tolist()), session.lr,
                        session.optimizer_name, session.set_to_none, session.epoch, latest, last)


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


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_has_an_explanation_with_every_section(stage: str) -> None:
    info = explanation(stage)  # type: ignore[arg-type]
    assert set(SECTIONS) <= set(info.sections)
    assert all(len(info.sections[name]) > 40 for name in SECTIONS)


def test_skipping_table_names_every_stage() -> None:
    table = skipping_table()
    for label in ["Zero Grad", "Forward", "Loss", "Backward", "Step"]:
        assert f"| {label} |" in table
