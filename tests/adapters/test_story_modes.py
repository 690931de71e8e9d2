"""Per-watch story modes: which mode the index runs in, and the story each watch alerts by."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import StorySettings, Watch
from monitor.core.stories.modes import index_settings, story_for, watch_modes


def _watch(name: str, stories: str | None = None) -> Watch:
    return Watch(name=name, query="x", notify=("console",), stories=stories)


@pytest.mark.parametrize(
    ("main", "own", "index"),
    [
        ("events", [None, "copies", "off"], "events"),
        ("copies", [None, "events"], "events"),
        ("copies", ["off"], "copies"),
        ("off", [None, "copies"], "copies"),
        ("off", ["off", None], "off"),
    ],
)
def test_the_index_runs_in_the_most_grouping_mode_a_watch_sees(
    main: str, own: list[str | None], index: str
) -> None:
    watches = [_watch(f"w{i}", s) for i, s in enumerate(own)]
    assert index_settings(StorySettings(mode=main), watches).mode == index


def test_only_watches_seeing_another_mode_than_the_index_are_listed() -> None:
    watches = [_watch("a"), _watch("b", "copies"), _watch("c", "events"), _watch("d", "off")]
    assert watch_modes(StorySettings(mode="copies"), watches) == {
        "a": "copies",
        "b": "copies",
        "d": "off",
    }


def test_each_mode_alerts_by_its_own_story() -> None:
    ids = {"article": 9, "story": 3, "copies": 7}
    assert [story_for(m, **ids) for m in ("events", "copies", "off")] == [3, 7, 9]


def test_an_unknown_mode_on_a_watch_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "database: sqlite:///t.db\nchannels:\n  console: {url: 'console://'}\nwatches:\n"
        "  - name: w\n    query: x\n    notify: [console]\n    stories: stories\n"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    [problem] = info.value.problems
    assert problem.startswith(f"{path}:8: watches.0.stories: ")
    assert "'events', 'copies' or 'off'" in problem


def test_a_watch_mode_is_read_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "database: sqlite:///t.db\nchannels:\n  console: {url: 'console://'}\nwatches:\n"
        "  - {name: w, query: x, notify: [console], stories: off}\n"
    )
    [watch] = load_settings(path).watches
    assert watch.stories == "off"
