"""The sample outputs shown in README.md and docs/*.md, and how a real output is held to one.

A sample output is a ```console block right after an `<!-- output: NAME -->` marker: `$ ` lines
are commands, the lines after each are what it prints, and a line that is just `…` stands for
lines left out.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
_BLOCK = re.compile(r"(?:<!-- output: ([\w-]+) -->\n)?```console\n(.*?)```", re.S)
_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?( UTC)?")


@dataclass(frozen=True)
class Sample:
    """One sample output: its name, its page, and (command, expected lines) in order."""

    name: str | None
    page: Path
    steps: tuple[tuple[str, tuple[str, ...]], ...]


def samples() -> list[Sample]:
    """Every ```console block of the docs, named or not."""
    found = []
    for page in PAGES:
        for name, body in _BLOCK.findall(page.read_text()):
            steps: list[tuple[str, list[str]]] = []
            for line in body.splitlines():
                if line.startswith("$ "):
                    steps.append((line[2:], []))
                else:
                    assert steps, f"{page.name}: output before any command"
                    steps[-1][1].append(line)
            found.append(Sample(name or None, page, tuple((c, tuple(out)) for c, out in steps)))
    return found


def sample(name: str) -> Sample:
    [one] = [s for s in samples() if s.name == name]
    return one


def normalise(lines: list[str] | tuple[str, ...]) -> list[str]:
    """Times become <time>; trailing blanks and trailing empty lines go."""
    out = [_TIME.sub("<time>", line).rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def assert_shows(expected: tuple[str, ...], actual: str) -> None:
    """The actual output is what the sample shows: the same lines, where each `…` line may
    stand for any number of lines (the sample's parts appear in order, the first at the start
    unless a `…` comes first, the last at the end unless a `…` ends it)."""
    want, got = normalise(expected), normalise(actual.splitlines())
    parts: list[list[str]] = [[]]
    for line in want:
        if line == "…":
            parts.append([])
        else:
            parts[-1].append(line)
    at = 0
    for index, part in enumerate(parts):
        if not part:
            continue
        starts = [i for i in range(at, len(got) - len(part) + 1) if got[i : i + len(part)] == part]
        assert starts, f"not in the output:\n{chr(10).join(part)}\n---\n{chr(10).join(got)}"
        if index == 0:
            assert starts[0] == 0, f"the output does not start with:\n{chr(10).join(part)}"
        at = starts[0] + len(part)
        if index == len(parts) - 1:
            assert at == len(got), f"the output goes on after:\n{chr(10).join(part)}"


def first_watch(config_dir: Path) -> str:
    """Write the README's first watch into a copy of config/ and return the watch's name."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Your first watch", 1)[1]
    match = re.search(r"```yaml\n# (config/watches/[\w.-]+\.yaml)\n(.*?)```", section, re.S)
    assert match is not None
    path, text = match.groups()
    (config_dir.parent / path).write_text(text)
    name = re.search(r"- name: ([\w-]+)", text)
    assert name is not None
    return name.group(1)


def copy_config(into: Path) -> Path:
    """A copy of the shipped config/ under `into`; the path of its monitor.yaml."""
    shutil.copytree(ROOT / "config", into / "config")
    return into / "config" / "monitor.yaml"
