"""Per-watch story modes: a watch may group articles more finely, or more coarsely, than the
`stories.mode` of the whole daemon.

The index runs in the most grouping mode any watch needs (`events` if one watch wants it), and
each watch sees its placements through its own mode: in `events` an article alerts once per
event story, in `copies` once per group of copies of one text, with `off` once per article.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.core.model import StorySettings, Watch

MODES = ("off", "copies", "events")  # from least to most grouping


def effective(default: str, watch: Watch) -> str:
    """The mode a watch sees: its own, else the daemon's."""
    return watch.stories or default


def index_settings(settings: StorySettings, watches: Iterable[Watch]) -> StorySettings:
    """The settings the index runs with: the most grouping mode any watch sees."""
    modes = {effective(settings.mode, w) for w in watches} | {settings.mode}
    mode = max(modes, key=MODES.index)
    return settings if mode == settings.mode else StorySettings(mode=mode, window=settings.window)


def watch_modes(settings: StorySettings, watches: Iterable[Watch]) -> dict[str, str]:
    """The watches that see another mode than the index runs in, with theirs."""
    watches = list(watches)
    index = index_settings(settings, watches).mode
    seen = {w.name: effective(settings.mode, w) for w in watches}
    return {name: mode for name, mode in seen.items() if mode != index}


def story_for(mode: str, *, article: int, story: int, copies: int) -> int:
    """The story id an article alerts under for a watch in `mode`: the story the index placed
    it in (`story`), that of the copies of its text (`copies`), or its own."""
    if mode == "events":
        return story
    if mode == "copies":
        return copies
    return article
