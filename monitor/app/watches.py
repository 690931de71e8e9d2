"""The watches compiled into one matcher: start-up, reload and `check` build it here, without
loading what the daemon needs besides (channels, HTTP clients, the story index)."""

from __future__ import annotations

from monitor.core.model import Settings
from monitor.core.query import Matcher
from monitor.core.query import build_matcher as compile_watches


def build_matcher(settings: Settings) -> Matcher:
    """All watches compiled into one matcher (the config loader already checked them)."""
    return compile_watches(
        ((w.name, w.query) for w in settings.watches),
        settings.terms,
        tags={s.name: s.tags for s in settings.sources},
    )
