"""The README's delivery examples are real config: each one loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _yaml_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None, heading
    return match.group(1)


@pytest.mark.parametrize("heading", ["### Operator notices"])
def test_readme_delivery_examples_load(heading: str, tmp_path: Path) -> None:
    """The example under each heading is valid config, with a console channel defined."""
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "database: sqlite:///x.db\nchannels: {console: {url: 'console://'}}\n"
        + _yaml_after(heading)
    )
    settings = load_settings(config)
    assert settings.operator.channels == ("console",)
