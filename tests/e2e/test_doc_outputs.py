"""Every sample output in README.md and docs/ is real: a test runs the real command line on the
shipped config (changed as the text around the sample says) and compares what it prints."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import process
from tests.support.docs import ROOT, assert_shows, copy_config, first_watch, sample, samples

pytestmark = pytest.mark.slow


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _first_watch(config: Path) -> None:
    first_watch(config.parent)


def _config_errors(config: Path) -> None:
    """`interval` misspelt in monitor.yaml, and a term list no file defines in a watch."""
    _edit(config, "\n  interval: 10m", "\n  intervall: 10m")
    _edit(
        config.parent / "watches" / "korea.yaml",
        "@north_korea AND @missile",
        "@north_korea AND @dprk",
    )


def _failing_example(config: Path) -> None:
    """The query loosened as docs/query-language.md says."""
    text = (ROOT / "docs" / "query-language.md").read_text()
    assert "Loosen that query\nto `@north_korea AND @missile`" in text
    _edit(
        config.parent / "watches" / "korea.yaml",
        '"@north_korea AND @missile AND @launch"',
        '"@north_korea AND @missile"',
    )


# Each named sample: how to set up the config its commands run on (None: as shipped), or the
# test elsewhere that checks it.
RUNS: dict[str, Callable[[Path], None] | None] = {
    "first-watch-check": _first_watch,
    "first-watch-test-rule": _first_watch,
    "first-watch-replay": _first_watch,
    "config-errors": _config_errors,
    "failing-example": _failing_example,
    "test-rule-near": None,
}
CHECKED_ELSEWHERE = {"first-watch-demo": ROOT / "tests" / "e2e" / "test_demo.py"}


def test_every_sample_output_is_checked() -> None:
    """Each console block in the docs is named, and each name is run here or checked by the
    test named for it."""
    found = samples()
    assert [s for s in found if s.name is None] == []
    names = [s.name for s in found]
    assert len(names) == len(set(names))
    assert set(names) == set(RUNS) | set(CHECKED_ELSEWHERE)
    for name, test in CHECKED_ELSEWHERE.items():
        assert f'"{name}"' in test.read_text(), test


@pytest.mark.parametrize("name", sorted(RUNS))
def test_sample_output_is_what_the_command_prints(name: str, tmp_path: Path) -> None:
    """Run on a copy of the shipped config from a fresh directory (no history), each command
    prints what the sample shows."""
    config = copy_config(tmp_path)
    setup = RUNS[name]
    if setup is not None:
        setup(config)
    for command, expected in sample(name).steps:
        program, *args = shlex.split(command)
        assert program == "newsmonitor"
        done = subprocess.run(
            [sys.executable, "-m", "monitor", *args],
            env=process.env(),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
            check=False,
        )
        assert_shows(expected, done.stdout)
