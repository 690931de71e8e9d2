"""Every fixed phrase of the messages, in English, and a `Locale` that says them in a language.

The phrases are gettext message ids, marked with `N_` so that `pybabel extract -k N_` finds
them; the catalogs (`monitor/notify/locales/`, loaded by `monitor.notify.catalogs`) translate
them. Placeholders are `{name}`, filled after translation, so a language can reorder them.

Operator notices are stored in English when they are raised and may go to channels in several
languages, so `Locale.notice` reads the values back out of the English text with the phrase's
own pattern and says it again in the channel's language; a text that no phrase produced is
left as it is.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Protocol

LANGUAGES = ("en", "ko")


def N_(message: str) -> str:
    """Mark `message` for the catalogs; it is translated where it is shown."""
    return message


# Labels and sentences of an alert, by the name templates see them under (`phrases.source`).
LABELS = {
    "source": N_("Source"),
    "published": N_("Published"),
    "matched": N_("Matched"),
    "why": N_("Why"),
    "watch": N_("Watch"),
    "also_reported_by": N_("Also reported by"),
    "read": N_("Read the article"),
    "unknown": N_("unknown"),
    "query_matched": N_("(query matched)"),
    "footer": N_("newsmonitor watch {watch}"),
    "now_reported_by": N_("Now reported by {count} outlets: {outlets}"),
    "now_reported_count": N_("Now reported by {count} outlets"),
    "and_more": N_("{names} and {more} more"),
    "hidden": N_("… and {count} more"),
}
# The fields a snippet can come from, as a reader calls them.
FIELDS = {
    "title": N_("title"),
    "lead": N_("lead"),
    "summary": N_("summary"),
    "content": N_("text"),
    "text": N_("text"),
}
DATE_FORMAT = N_("%Y-%m-%d %H:%M %Z")

# Titles of grouped messages (notify.pacing.heading), for one alert and for several.
DIGEST_TITLE = (N_("newsmonitor digest: 1 alert"), N_("newsmonitor digest: {count} alerts"))
QUIET_TITLE = (
    N_("While {channel} was quiet: 1 alert"),
    N_("While {channel} was quiet: {count} alerts"),
)
BURST_TITLE = (
    N_("[{watch}] 1 new article in {span}"),
    N_("[{watch}] {count} new articles in {span}"),
)
RATE_TITLE = (
    N_("[{watch}] 1 more alert, held back by the rate limit ({most} per {span})"),
    N_("[{watch}] {count} more alerts, held back by the rate limit ({most} per {span})"),
)
TEST_TITLE = N_("newsmonitor test message")
TEST_BODY = N_("This is a test of channel {channel}: alerts sent here will look like this.")

# Operator notices, title and body.
CHANNEL_FAILING = N_("newsmonitor: channel {channel} is failing")
CHANNEL_FAILING_BODY = N_(
    "The last {count} sends to channel {channel} failed; its alerts are kept and retried.\n"
    "Last error: {error}"
)
CHANNEL_RECOVERED = N_("newsmonitor: channel {channel} works again")
CHANNEL_RECOVERED_BODY = N_(
    "Channel {channel} accepted a message again after at least {count} failed sends; the "
    "alerts held back are going out now."
)
DIGEST_EMPTY = N_("newsmonitor digest: no new alerts")
DIGEST_EMPTY_BODY = N_("No new alerts.")
DIGEST_EMPTY_WATCH_BODY = N_("No new alerts for watch {watch}.")
DIGEST_EMPTY_SINCE_BODY = N_("No new alerts since {since}.")
DIGEST_EMPTY_WATCH_SINCE_BODY = N_("No new alerts for watch {watch} since {since}.")
SOURCE_FAILING = N_("newsmonitor: source {source} is failing")
SOURCE_FAILING_BODY = N_(
    "The last {count} polls of source {source} failed; the last error: {error}. It is still "
    "polled, less often, and a notice follows when it works again."
)
SOURCE_RECOVERED = N_("newsmonitor: source {source} works again")
SOURCE_RECOVERED_BODY = N_("Source {source} was polled successfully again.")
SOURCE_SILENT = N_("newsmonitor: source {source} has gone silent")
SOURCE_SILENT_BODY = N_(
    "Source {source} has published nothing new for far longer than it usually goes between "
    "entries. The feed may have moved or stopped; it is still polled."
)
SOURCE_BACKFILL = N_("Source {source} re-announced {count} old entries")
SOURCE_BACKFILL_BODY = N_(
    "{count} entries this source had never shown, all dated a day or more before its previous "
    "poll, appeared at once. They were stored without alerts, as an archive re-announcement "
    "rather than news."
)
SOURCE_ROLLED = N_("Source {source} may have missed items")
SOURCE_ROLLED_BODY = N_(
    "None of the {count} entries in its latest response had been seen before, so entries "
    "published between two polls may have scrolled out of the feed unseen. It is now polled "
    "more often; a shorter interval (or interval: auto) keeps up."
)
NOTICES = (
    CHANNEL_FAILING,
    CHANNEL_FAILING_BODY,
    CHANNEL_RECOVERED,
    CHANNEL_RECOVERED_BODY,
    DIGEST_EMPTY,
    DIGEST_EMPTY_BODY,
    DIGEST_EMPTY_WATCH_BODY,
    DIGEST_EMPTY_SINCE_BODY,
    DIGEST_EMPTY_WATCH_SINCE_BODY,
    SOURCE_FAILING,
    SOURCE_FAILING_BODY,
    SOURCE_RECOVERED,
    SOURCE_RECOVERED_BODY,
    SOURCE_SILENT,
    SOURCE_SILENT_BODY,
    SOURCE_BACKFILL,
    SOURCE_BACKFILL_BODY,
    SOURCE_ROLLED,
    SOURCE_ROLLED_BODY,
    TEST_TITLE,
    TEST_BODY,
)


class Translations(Protocol):
    """What a gettext catalog offers (`gettext.GNUTranslations`, `NullTranslations`)."""

    def gettext(self, message: str, /) -> str: ...


@cache
def _pattern(message: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", message)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(regex, re.S)


@dataclass(frozen=True, slots=True)
class Locale:
    """A language (one of LANGUAGES) with its catalog, and the time zone dates are shown in."""

    language: str = "en"
    zone: tzinfo = UTC
    translations: Translations = field(default_factory=gettext.NullTranslations)

    def say(self, message: str, **values: object) -> str:
        """`message` in this language, its placeholders filled with `values`."""
        text = self.translations.gettext(message)
        return text.format(**values) if values else text

    def count(self, forms: tuple[str, str], count: int, **values: object) -> str:
        """The one-or-many `forms` of a phrase for `count`, in this language."""
        return self.say(forms[0] if count == 1 else forms[1], count=count, **values)

    def labels(self) -> dict[str, str]:
        """The alert labels, translated, placeholders left for the caller."""
        return {name: self.translations.gettext(msg) for name, msg in LABELS.items()}

    def field(self, name: str) -> str:
        """The name of a field a snippet comes from, as a reader calls it."""
        return self.say(FIELDS[name]) if name in FIELDS else name

    def when(self, moment: datetime | None) -> str:
        """A moment in this locale's zone and date format, or "unknown"."""
        if moment is None:
            return self.say(LABELS["unknown"])
        return moment.astimezone(self.zone).strftime(self.say(DATE_FORMAT))

    def names(self, names: tuple[str, ...], shown: int) -> str:
        """Names as one line: the first `shown`, then how many more."""
        more = len(names) - shown
        listed = ", ".join(names[:shown])
        return self.say(LABELS["and_more"], names=listed, more=more) if more > 0 else listed

    def notice(self, text: str) -> str:
        """An English notice title or body in this language (unchanged if no phrase made it)."""
        if self.language == "en":
            return text
        for message in NOTICES:
            found = _pattern(message).fullmatch(text)
            if found:
                return self.say(message, **found.groupdict())
        return text


ENGLISH = Locale()
