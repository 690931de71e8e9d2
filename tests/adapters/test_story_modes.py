"""Per-watch story modes: which mode the index runs in, and the story each watch alerts by."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Article, StorySettings, Watch
from monitor.core.pipeline import Decision
from monitor.core.stories import Placement, article_keys
from monitor.core.stories.modes import index_settings, story_for, watch_modes
from monitor.store.stories import copy_groups


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


def test_copies_within_one_poll_take_the_group_of_the_text_they_copy() -> None:
    """A poll's own articles: a copy of a stored article takes its group, a copy of an earlier
    article of the same poll takes that one's, anything else starts its own."""

    def decided(key: str, placement: Placement) -> Decision:
        article = Article(source="s", key=key, url=None, title=key, summary="")
        return Decision(article=article, keys=article_keys(article), placement=placement)

    fresh = [
        decided("own", Placement(story=5, how="event")),
        decided("copy-of-own", Placement(story=5, how="copy", copies_joins=0)),
        decided("copy-of-stored", Placement(story=5, how="copy", copies=7)),
        decided("new", Placement()),
    ]
    placed = {"own": (10, 5), "copy-of-own": (11, 5), "copy-of-stored": (12, 5), "new": (13, 13)}
    assert copy_groups(fresh, placed) == {
        "own": 10,
        "copy-of-own": 10,
        "copy-of-stored": 7,
        "new": 13,
    }
