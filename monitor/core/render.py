"""Alert messages per channel format, with feed text made harmless for each format."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from markupsafe import escape

from monitor.core.model import Alert, MessageTemplate
from monitor.core.phrases import ENGLISH, LABELS, Locale
from monitor.core.templating import (
    DEFAULT_BODIES,
    DEFAULT_TITLE,
    HTML,
    MARKDOWN,
    TEXT,
    alert_context,
    neutral_markup,
)

SUMMARY_CHARS = 600
TITLE_CHARS = 250

# Line and paragraph separators and C0/C1 controls would start a new header line in an email
# subject, or a new line in a chat title.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A rendered alert: a one-line title and a body in the channel's format."""

    title: str
    body: str
    body_format: str
    delivery: str | None = None  # a webhook's X-Newsmonitor-Delivery: what the post carries


def one_line(text: str, limit: int = TITLE_CHARS) -> str:
    """Text safe as a header or title: no control characters or line breaks, bounded length."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(
    alert: Alert,
    body_format: str,
    *,
    template: MessageTemplate | None = None,
    max_length: int | None = None,
    title_in_body: bool = False,
    locale: Locale = ENGLISH,
) -> Message:
    """The message for one alert in `text`, `markdown` (Slack-style) or `html` (email) format.

    `template` overrides the default title or body. A body longer than `max_length` loses
    summary first, then text before the link: the link itself is never cut. With
    `title_in_body` (services that have no title, such as SMS) the title counts too. Fixed
    phrases and dates are in `locale`'s language and zone.
    """
    alert = replace(alert, summary=_clip(" ".join(alert.summary.split()), SUMMARY_CHARS))
    title_format = MARKDOWN if body_format == MARKDOWN else TEXT
    title_template = (template and template.title) or DEFAULT_TITLE
    body_template = (template and template.body) or DEFAULT_BODIES[body_format]
    title = one_line(title_template.render(alert_context(alert, title_format, locale)))
    if max_length is not None and title_in_body:
        max_length = max(0, max_length - len(title) - 1)

    def body_with(summary_chars: int) -> str:
        shorter = replace(alert, summary=_clip(alert.summary, summary_chars))
        return body_template.render(alert_context(shorter, body_format, locale)).strip()

    body = body_with(len(alert.summary))
    if max_length is not None and len(body) > max_length:
        body = _fit(body_with, len(alert.summary), max_length)
        if len(body) > max_length:
            body = _cut_keeping_link(
                body, alert_context(alert, body_format, locale)["url"], max_length
            )
    return Message(title=title, body=body, body_format=body_format)


def _fit(body_with: Callable[[int], str], longest: int, limit: int) -> str:
    """The longest body within `limit`, by shortening the summary (binary search)."""
    lo, hi = 0, longest
    best = body_with(0)
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = body_with(mid)
        if len(candidate) <= limit:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def _cut_keeping_link(body: str, url: str | None, limit: int) -> str:
    if not url:
        return _clip(body, limit)
    head = body.replace(url, "").rstrip()
    room = max(0, limit - len(url) - 2)
    return f"{_clip(head, room)}\n{url}" if room else url


def render_notice(title: str, body: str, body_format: str, locale: Locale = ENGLISH) -> Message:
    """An operator notice in `locale`'s language; its text may quote a channel's error, so it
    is made inert too."""
    title, body = locale.notice(title), locale.notice(body)
    if body_format == MARKDOWN:
        title, body = neutral_markup(title), neutral_markup(body)
    elif body_format == HTML:
        body = "<p>" + str(escape(body)).replace("\n", "<br>") + "</p>"
    return Message(title=one_line(title), body=body, body_format=body_format)


def render_group(
    heading: str,
    alerts: Sequence[Alert],
    body_format: str,
    *,
    max_length: int | None = None,
    locale: Locale = ENGLISH,
) -> Message:
    """Several alerts as one message (a digest, a burst, a catch-up): grouped by watch, the
    biggest group first, newest first within it, each with its count; items that do not fit
    in `max_length` are counted, not dropped silently. In HTML, one table for all."""
    groups = grouped(alerts)
    blocks = [
        (
            _group_heading(watch, len(items), body_format),
            [_item(a, body_format, locale) for a in items],
        )
        for watch, items in groups
    ]
    title = one_line(heading if body_format != MARKDOWN else neutral_markup(heading))
    shown = sum(len(items) for _, items in blocks)
    while True:
        hidden = len(alerts) - shown
        more = locale.say(LABELS["hidden"], count=hidden) if hidden else ""
        body = _join_group(blocks, body_format, more)
        if max_length is None or len(body) <= max_length or shown <= 1:
            return Message(title=title, body=body[: max_length or None], body_format=body_format)
        for _, items in reversed(blocks):
            if items:
                items.pop()
                shown -= 1
                break


def grouped(alerts: Sequence[Alert]) -> list[tuple[str, list[Alert]]]:
    """Alerts by watch, the biggest group first, newest first within each."""
    by_watch: dict[str, list[Alert]] = {}
    for alert in sorted(alerts, key=_newest_first):
        by_watch.setdefault(alert.watch, []).append(alert)
    return sorted(by_watch.items(), key=lambda item: -len(item[1]))


def _newest_first(alert: Alert) -> tuple[bool, float]:
    return (alert.published is None, -(alert.published.timestamp() if alert.published else 0))


_CELL = 'style="padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top"'


def _group_heading(watch: str, count: int, body_format: str) -> str:
    label = f"{watch} ({count})"
    if body_format == HTML:
        return (
            '<tr><th colspan="3" style="text-align:left;padding:10px 8px 4px;'
            f'border-bottom:2px solid #ccc">{escape(label)}</th></tr>'
        )
    return f"**{neutral_markup(label)}**" if body_format == MARKDOWN else label


def _item(alert: Alert, body_format: str, locale: Locale) -> str:
    c = alert_context(alert, body_format, locale)
    words = c["phrases"]
    if c["follow_up"]:
        outlets = words["now_reported"]
    else:
        outlets = f"{words['also_reported_by']}: {c['also']}" if c["also"] else ""
    if body_format == HTML:
        title = f"<b>{c['title']}</b>"
        if c["url"]:  # the link as its own text: the plain-text part keeps only link texts
            title += f'<br><a href="{c["url"]}">{c["url"]}</a>'
        # The title is already there; the first other field's snippet says more.
        shown = [s for f, s in zip(c["snippet_fields"], c["snippets"], strict=True) if f != "title"]
        why = "".join(f"<br>{s['text']}" for s in shown[:1])
        also = f'<br><span style="color:#666">{outlets}</span>' if outlets else ""
        return (
            f"<tr><td {_CELL}>{title}{why}{also}</td><td {_CELL}>{c['source']}</td>"
            f"<td {_CELL}>{c['published']}</td></tr>"
        )
    line = f"{c['title']} ({c['source']}, {c['published']})"
    extra = [text for text in (c["url"], outlets) if text]
    return f"- {line}" + "".join(f"\n  {text}" for text in extra)


def _join_group(blocks: list[tuple[str, list[str]]], body_format: str, more: str) -> str:
    if body_format == HTML:
        rows = "".join(head + "".join(items) for head, items in blocks if items)
        table = (
            '<table style="border-collapse:collapse;font-family:Arial,Helvetica,sans-serif;'
            f'font-size:14px;max-width:720px">{rows}</table>'
        )
        return table + (f"<p>{escape(more)}</p>" if more else "")
    parts = [head + "\n" + "\n".join(items) for head, items in blocks if items]
    return "\n\n".join(parts) + (f"\n\n{more}" if more else "")
