"""The stage explanations, read from the text files under ``resources/explanations``.

``{stage}.md`` is written for the seed's one neuron (its distances, times, weight and bias).
A network reads ``{stage}.{task}.md`` (regression or classification) if there is one, then
``{stage}.network.md``, then the one-neuron text where nothing in it is about the one neuron.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from gui_trainer.core.stages import CODE, Stage
from gui_trainer.resources import resource_dir, resource_path

#: Whom a text is written for: the seed's one neuron, or a network doing a task.
Audience = Literal["one_neuron", "regression", "classification"]

SECTIONS = ("What it does", "Why it is needed", "If you skip it", "What happens inside")


@dataclass(frozen=True)
class Explanation:
    stage: str
    title: str
    markdown: str
    sections: dict[str, str]

    @property
    def summary(self) -> str:
        """The short form used for tooltips."""
        return self.sections["What it does"]


def audience(one_neuron: bool, task: str) -> Audience:
    if one_neuron:
        return "one_neuron"
    return "classification" if task == "classification" else "regression"


def stage_code(stage: Stage, reader: Audience = "one_neuron") -> str:
    """The stage's line of code with the data's names (the seed's distances and times)."""
    if reader == "one_neuron" or stage not in ("forward", "loss"):
        return CODE[stage]
    return ("outputs = model(inputs)" if stage == "forward"
            else "loss = loss_function(outputs, targets)")


@cache
def explanation(stage: Stage, reader: Audience = "one_neuron") -> Explanation:
    names = [f"{stage}.md"] if reader == "one_neuron" else [
        f"{stage}.{reader}.md", f"{stage}.network.md", f"{stage}.md"]
    folder = resource_dir() / "explanations"
    name = next((n for n in names if (folder / n).is_file()), f"{stage}.md")
    text = resource_path("explanations", name).read_text(encoding="utf-8")
    title, sections = _parse(text)
    missing = [section for section in SECTIONS if section not in sections]
    if missing:
        raise ValueError(f"explanations/{name} lacks the section(s): {', '.join(missing)}")
    return Explanation(stage, title, text, sections)


@cache
def skipping_table() -> str:
    return resource_path("explanations", "skipping.md").read_text(encoding="utf-8")


def _parse(text: str) -> tuple[str, dict[str, str]]:
    title = ""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
        elif line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return title, {name: " ".join(" ".join(lines).split()) for name, lines in sections.items()}
