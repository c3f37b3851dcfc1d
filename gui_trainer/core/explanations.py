"""The stage explanations, read from the text files under ``resources/explanations``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from gui_trainer.core.stages import Stage
from gui_trainer.resources import resource_path

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


@cache
def explanation(stage: Stage) -> Explanation:
    text = resource_path("explanations", f"{stage}.md").read_text(encoding="utf-8")
    title, sections = _parse(text)
    missing = [name for name in SECTIONS if name not in sections]
    if missing:
        raise ValueError(f"explanations/{stage}.md lacks the section(s): {', '.join(missing)}")
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
