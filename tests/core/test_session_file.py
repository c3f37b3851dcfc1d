"""Session files: save → load gives back the same session, and a bad file is refused."""

from __future__ import annotations

import io
import json
import os
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy

from gui_trainer.core import SessionFileError, TrainingSession
from gui_trainer.core.scenarios import SCENARIOS, load_csv
from gui_trainer.core.session_file import MANIFEST, TENSORS, to_bytes
from tests.core.test_export import same, session_state, wander


def actions(session: TrainingSession) -> list[object]:
    return [session.timeline.action(i) for i in range(len(session.timeline))]


def assert_same_session(loaded: TrainingSession, original: TrainingSession) -> None:
    assert same(session_state(loaded), session_state(original))
    assert loaded.settings == original.settings and loaded.seed == original.seed
    assert loaded.position == original.position
    assert actions(loaded) == actions(original)
    assert loaded.history.all_rows().tobytes() == original.history.all_rows().tobytes()
    assert loaded.next_stage == original.next_stage and loaded.epoch == original.epoch


def learners_scenario(tmp_path: Path) -> TrainingSession:
    path = tmp_path / "plants.csv"
    rows = [f"{i % 7 * 0.5},{i % 5},{(i * 3) % 4}" for i in range(40)]
    path.write_text("height,leaves,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return TrainingSession(scenario=load_csv(path))


@pytest.mark.parametrize("scenario", [*SCENARIOS, "learner's file"])
def test_save_then_load_gives_back_the_same_session(scenario: str, tmp_path: Path) -> None:
    session = (learners_scenario(tmp_path) if scenario == "learner's file"
               else TrainingSession(scenario=scenario))
    wander(session, random.Random(scenario), 30 if scenario == "digits" else 60)
    path = tmp_path / "work.gtrain"
    session.save(path)
    loaded = TrainingSession.load(path)
    assert_same_session(loaded, session)
    assert loaded.scenario.data.inputs.tobytes() == session.scenario.data.inputs.tobytes()
    if session.position:  # undo after loading goes back as it did before
        loaded.undo()
        session.undo()
        assert_same_session(loaded, session)


def test_the_redo_tail_and_a_chosen_start_survive(tmp_path: Path) -> None:
    session = TrainingSession()
    for _ in range(3):
        session.run_epoch()
    session.start_from(2.5, -1.0)
    session.run_epoch()
    for _ in range(7):
        session.undo()
    path = tmp_path / "tail.gtrain"
    session.save(path)
    loaded = TrainingSession.load(path)
    assert_same_session(loaded, session)
    loaded.jump_to(len(loaded.timeline))
    session.jump_to(len(session.timeline))
    assert_same_session(loaded, session)
    assert loaded.start == (2.5, -1.0)


def test_the_file_is_a_zip_of_json_and_safetensors(tmp_path: Path) -> None:
    session = TrainingSession(scenario="moons")
    session.run_epoch()
    with zipfile.ZipFile(io.BytesIO(to_bytes(session))) as archive:
        assert sorted(archive.namelist()) == sorted([MANIFEST, TENSORS])
        manifest = json.loads(archive.read(MANIFEST))
        tensors = safetensors.numpy.load(archive.read(TENSORS))
    assert manifest["format"] == "gui_trainer session" and manifest["version"] == 1
    assert manifest["position"] == 5 and manifest["scenario"]["name"] == "moons"
    np.testing.assert_array_equal(tensors["param.0.weight"],
                                  dict(session.model.named_parameters())["0.weight"].detach().numpy())
    assert "optimizer.0.exp_avg" in tensors  # Adam's state


# -- bad files --------------------------------------------------------------------------------
def parts(session: TrainingSession) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with zipfile.ZipFile(io.BytesIO(to_bytes(session))) as archive:
        return (json.loads(archive.read(MANIFEST)),
                safetensors.numpy.load(archive.read(TENSORS)))


def packed(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def rebuilt(manifest: dict[str, Any], tensors: dict[str, np.ndarray]) -> bytes:
    return packed({MANIFEST: json.dumps(manifest).encode(),
                   TENSORS: safetensors.numpy.save(tensors)})


def bad_files() -> dict[str, tuple[bytes, str]]:
    session = TrainingSession()
    for _ in range(2):
        session.run_epoch()
    good = to_bytes(session)
    manifest, tensors = parts(session)
    files: dict[str, tuple[bytes, str]] = {
        "truncated": (good[: len(good) // 2], "not a zip archive|cut short"),
        "not a zip": (b"weight,bias\n1,2\n", "not a zip archive"),
        "empty": (b"", "not a zip archive"),
    }

    def changed(key: str, value: object) -> bytes:
        return rebuilt({**manifest, key: value}, tensors)

    files["wrong format"] = (changed("format", "something else"), "not a gui_trainer session")
    files["newer version"] = (changed("version", 2), "newer gui_trainer")
    files["version not a number"] = (changed("version", "1"), "not a number")
    files["no manifest"] = (packed({TENSORS: safetensors.numpy.save(tensors)}),
                            "has no session.json")
    files["no tensors"] = (packed({MANIFEST: json.dumps(manifest).encode()}),
                           "has no tensors.safetensors")
    files["manifest not json"] = (packed({MANIFEST: b"{not json",
                                          TENSORS: safetensors.numpy.save(tensors)}),
                                  "not valid JSON")
    files["tensors damaged"] = (packed({MANIFEST: json.dumps(manifest).encode(),
                                        TENSORS: b"\x10\x00garbage"}), "damaged")
    wrong_shape = {**tensors, "param.0.weight": np.zeros((2, 2), np.float32)}
    files["wrong shape"] = (rebuilt(manifest, wrong_shape), "shape")
    nan_data = {**tensors, "data.inputs": np.full_like(tensors["data.inputs"], np.nan)}
    files["NaN data"] = (rebuilt(manifest, nan_data), "NaN")
    changed_weights = {**tensors, "param.0.weight": tensors["param.0.weight"] + 1}
    files["tampered weights"] = (rebuilt(manifest, changed_weights), "changed after")
    no_codes = {k: v for k, v in tensors.items() if k != "timeline.codes"}
    files["missing codes"] = (rebuilt(manifest, no_codes), "codes")
    files["position outside"] = (changed("position", 999), "outside the timeline")
    files["NaN setting"] = (json.dumps({**manifest, "first_settings": {
        **manifest["first_settings"], "lr": float("nan")}}).encode(), "")  # packed below
    files["NaN setting"] = (packed({MANIFEST: files["NaN setting"][0],
                                    TENSORS: safetensors.numpy.save(tensors)}), "NaN")
    nested = json.dumps(manifest)[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    files["nested JSON"] = (packed({MANIFEST: nested.encode(),
                                    TENSORS: safetensors.numpy.save(tensors)}),
                            "cannot be read")
    huge = json.dumps(manifest)[:-1] + ', "big": ' + "9" * 100_000 + "}"
    files["huge number"] = (packed({MANIFEST: huge.encode(),
                                    TENSORS: safetensors.numpy.save(tensors)}),
                            "cannot be read")
    files["position true"] = (changed("position", True), "position")
    scenario = manifest["scenario"]
    files["negative lr"] = (changed("scenario", {**scenario, "lr": -1}), "learning rate")
    files["title with a newline"] = (changed("scenario", {
        **scenario, "title": "Delivery\nprint('injected')\n#"}), "printable")
    files["image shape"] = (changed("scenario", {**scenario, "data": {
        **scenario["data"], "image_shape": [40000, 40000]}}), "image_shape")
    other_data = {**tensors, "data.targets": tensors["data.targets"] + 1}
    files["built-in name, other data"] = (rebuilt(manifest, other_data), "built-in")
    files["duplicate change"] = (changed("changes", [[3, "lr", 0.1], [3, "lr", 0.2]]),
                                 "two changes|do not match")
    bomb = b"\0" * (80 << 20)  # 80 MB of zeros packs into about 80 kB
    files["zip bomb"] = (packed({MANIFEST: b"{}", TENSORS: bomb}), "zip bomb")
    files["path traversal"] = (packed({"../../evil.py": b"print('hi')", **{
        MANIFEST: json.dumps(manifest).encode()}}), "path out of the archive")
    files["unexpected entry"] = (packed({MANIFEST: json.dumps(manifest).encode(),
                                         TENSORS: safetensors.numpy.save(tensors),
                                         "readme.txt": b"hi"}), "unexpected entry")
    return files


BAD = bad_files()


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_file_is_refused_with_a_message(kind: str, tmp_path: Path) -> None:
    data, message = BAD[kind]
    path = tmp_path / f"{kind}.gtrain"
    path.write_bytes(data)
    with pytest.raises(SessionFileError, match=message) as raised:
        TrainingSession.load(path)
    assert isinstance(raised.value, ValueError)


def test_an_oversize_entry_is_refused_before_it_is_read(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    from gui_trainer.core import session_file

    monkeypatch.setitem(session_file.MAX_ENTRY_BYTES, MANIFEST, 100)
    with pytest.raises(SessionFileError, match="over the limit"):
        session_file.from_bytes(to_bytes(TrainingSession()))


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SessionFileError, match="cannot read"):
        TrainingSession.load(tmp_path / "nowhere.gtrain")


def test_a_crash_mid_save_leaves_the_good_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "work.gtrain"
    first = TrainingSession()
    first.save(path)
    good = path.read_bytes()
    session = TrainingSession()
    session.run_epoch()

    def crash(*_args: object) -> None:
        raise OSError("the machine went down")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="went down"):
        session.save(path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["work.gtrain"]


def test_the_desktop_entry_opens_the_file_type_it_declares() -> None:
    import configparser
    import xml.etree.ElementTree as ElementTree

    from gui_trainer.core.session_file import SUFFIX

    resources = Path(__file__).resolve().parents[2] / "resources"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    entry.read(resources / "gui-trainer.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"].split()[-1] == "%f"  # the file the desktop hands over
    name = "{http://www.freedesktop.org/standards/shared-mime-info}"
    [mime] = ElementTree.parse(resources / "gui-trainer-mime.xml").getroot().iter(
        f"{name}mime-type")
    assert desktop["MimeType"].rstrip(";") == mime.get("type")
    assert [g.get("pattern") for g in mime.iter(f"{name}glob")] == [f"*{SUFFIX}"]


def test_a_load_reports_progress_and_can_be_stopped(tmp_path: Path) -> None:
    from gui_trainer.core.session_file import PROGRESS_EVERY, LoadCancelled, load

    session = TrainingSession()
    for _ in range(120):  # 600 actions
        session.run_epoch()
    path = tmp_path / "long.gtrain"
    session.save(path)
    seen: list[tuple[int, int]] = []

    def note(done: int, total: int) -> bool:
        seen.append((done, total))
        return True

    load(path, note)
    assert seen == [(i, 600) for i in range(0, 600, PROGRESS_EVERY)]
    with pytest.raises(LoadCancelled, match="after 256 of 600"):
        load(path, lambda done, _total: done < PROGRESS_EVERY)


def test_a_long_sessions_tightly_packed_codes_are_not_taken_for_a_bomb() -> None:
    from gui_trainer.core.session_file import from_bytes

    session = TrainingSession()
    for _ in range(1000):
        session.run_epoch()
    data = to_bytes(session)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(TENSORS)
    assert info.file_size / info.compress_size > 20  # packs tightly, and loads all the same
    assert from_bytes(data).epoch == 1000
