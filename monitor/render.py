"""Alert messages per channel format, with feed text made harmless for each format."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC

from monitor.model import Alert

TEXT, MARKDOWN = "text", "markdown"
SUMMARY_CHARS = 600
TITLE_CHARS = 250
WHY_CHARS = 300

# Line and paragraph separators and C0/C1 controls would start a new header line in an email
# subject, or a new line in a chat title.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A rendered alert: a one-line title and a body in the channel's format."""

    title: str
    body: str
    body_format: str


def one_line(text: str, limit: int = TITLE_CHARS) -> str:
    """Text safe as a header or title: no control characters or line breaks, bounded length."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _neutral_markup(text: str) -> str:
    # Slack reads <...> as mentions and links, even after apprise escapes them; look-alike
    # angle quotes keep the text readable and inert.
    return text.replace("<", "\u2039").replace(">", "\u203a")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(alert: Alert, body_format: str) -> Message:
    """The message for one alert in `text` or `markdown` (Slack-style) format.

    Every channel gets the link spelled out. A markdown (Slack-style) channel shows the title
    apart from the body, so the body does not repeat it, and feed text loses anything its
    markup would act on.
    """
    title = one_line(alert.title)
    summary = _clip(" ".join(alert.summary.split()), SUMMARY_CHARS)
    source = one_line(alert.source, 100)
    published = (
        alert.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if alert.published
        else "unknown"
    )
    matched = ", ".join(alert.terms) if alert.terms else "(query matched)"
    why = one_line(" | ".join(f"{h.field}: {h.snippet}" for h in alert.hits[:3]), WHY_CHARS)
    if body_format == MARKDOWN:
        title, summary, source = (_neutral_markup(t) for t in (title, summary, source))
        matched, why = _neutral_markup(matched), _neutral_markup(why)
    lines = [
        f"Source: {source} | Published: {published}",
        f"Matched: {matched}",
    ]
    if why:
        lines.append(f"Why: {why}")
    if body_format != MARKDOWN:
        lines.insert(0, title)
    if alert.url:
        # Percent-encoding keeps a URL valid while no markup can close or disguise it.
        lines.append(alert.url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C"))
    if summary:
        lines += ["", summary]
    return Message(
        title=one_line(f"[{alert.watch}] {title}"),
        body="\n".join(lines),
        body_format=MARKDOWN if body_format == MARKDOWN else TEXT,
    )


def render_notice(title: str, body: str, body_format: str) -> Message:
    """An operator notice; its text may quote a channel's error, so it is made inert too."""
    if body_format == MARKDOWN:
        title, body = _neutral_markup(title), _neutral_markup(body)
    return Message(
        title=one_line(title),
        body=body,
        body_format=MARKDOWN if body_format == MARKDOWN else TEXT,
    )
