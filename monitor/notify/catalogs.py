"""The message catalogs: gettext `.mo` files shipped in `monitor/notify/locales/`.

The `.po` files beside them are the sources, the `.mo` files are compiled from them with Babel
(`pybabel compile -d monitor/notify/locales -D newsmonitor`) and committed, so the daemon needs
only the standard library's gettext; tests/unit/test_catalogs.py fails when a `.mo` is stale,
a phrase is missing from a catalog, or a Korean translation is empty.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

from monitor.core.phrases import LANGUAGES, Locale

DOMAIN = "newsmonitor"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of `language` (English when it has none: the message ids are English)."""
    if language not in LANGUAGES:
        raise ValueError(f"no messages in {language!r}; use one of {', '.join(LANGUAGES)}")
    where = str(files(__package__) / "locales")
    return gettext.translation(DOMAIN, localedir=where, languages=[language], fallback=True)


def locale(language: str, timezone: str = "UTC") -> Locale:
    """The locale of a channel: its language's catalog and the zone its dates are shown in."""
    return Locale(language=language, zone=ZoneInfo(timezone), translations=translations(language))
