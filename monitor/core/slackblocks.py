"""Slack messages as Slack shows news: Block Kit, with a plain-text fallback.

An alert is a header (the title), a context line (outlet, time, watch), the highlighted
snippets, "also reported by", and a button to the article. Feed text may not make a mention,
a link or a broadcast: angle brackets become look-alike quotes and "&" is escaped, as Slack
asks; a `plain_text` header is never parsed for mentions. Every text is cut to Slack's limits
(header 150, section 3000, button 75, fallback 4000 characters; at most 50 blocks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from monitor.core.model import Alert
from monitor.core.phrases import ENGLISH, LABELS, Locale
from monitor.core.render import grouped, one_line
from monitor.core.snippets import snippets
from monitor.core.templating import OUTLETS_NAMED, neutral_markup, safe_url

_SPACES = re.compile(r"\s+")
HEADER_CHARS, SECTION_CHARS, BUTTON_CHARS, CONTEXT_CHARS = 150, 3000, 75, 2000
FALLBACK_CHARS, MAX_BLOCKS = 4000, 50


def inert(text: str) -> str:
    """Feed text that Slack's mrkdwn shows as it is: no mention, link or entity."""
    return neutral_markup(text).replace("&", "&amp;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_CHARS)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, CONTEXT_CHARS)}]}


def _header(title: str) -> dict[str, Any]:
    text = neutral_markup(one_line(title, HEADER_CHARS)) or "-"  # Slack refuses an empty one
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _outlets(alert: Alert, locale: Locale) -> str:
    """The story's outlets as a reader needs them: who else carried it, or for a follow-up
    how many carry it now; empty for a story with one outlet."""
    everyone = (alert.source, *alert.also_reported_by)
    if alert.follow_up:
        named = locale.names(everyone, OUTLETS_NAMED)
        return inert(locale.say(LABELS["now_reported_by"], count=len(everyone), outlets=named))
    if alert.also_reported_by:
        also = locale.names(alert.also_reported_by, OUTLETS_NAMED)
        return inert(f"{locale.say(LABELS['also_reported_by'])}: {also}")
    return ""


def _snippet_lines(alert: Alert, locale: Locale) -> list[str]:
    lines = []
    for snip in snippets(alert.hits):
        flat = snip.show(lambda s: inert(_SPACES.sub(" ", s)), _bold)
        lines.append(f"_{inert(locale.field(snip.field))}:_ {flat}")
    return lines


def _bold(word: str) -> str:
    # Slack bolds *x* only at word edges; zero-width spaces make edges of a highlight inside
    # a word (a CJK term, a prefix), which would otherwise show stray asterisks.
    return f"\u200b*{inert(word)}*\u200b"


def alert_blocks(alert: Alert, title: str, locale: Locale = ENGLISH) -> list[dict[str, Any]]:
    """The blocks of one alert, under `title` (the channel's or watch's title template)."""
    words = locale.labels()
    when = locale.when(alert.published)
    blocks: list[dict[str, Any]] = [
        _header(title),
        _context(" · ".join(map(inert, (alert.source, when, alert.watch)))),
    ]
    outlets = _outlets(alert, locale)
    if alert.follow_up:
        blocks.append(_section(f"*{outlets}*"))
    lines = _snippet_lines(alert, locale)
    if lines:
        blocks.append(_section("\n".join(lines)))
    if outlets and not alert.follow_up:
        blocks.append(_context(outlets))
    url = safe_url(alert.url)
    if url:
        button = one_line(words["read"], BUTTON_CHARS)
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": button}, "url": url}
                ],
            }
        )
    return blocks


def fallback(title: str, lines: Sequence[str]) -> str:
    """The plain text Slack shows in notifications and where blocks cannot be shown."""
    return _clip(inert("\n".join((one_line(title), *lines))), FALLBACK_CHARS)


def alert_body(alert: Alert, title: str, locale: Locale = ENGLISH) -> str:
    """The JSON text posted to a Slack webhook for one alert."""
    text = fallback(title, [alert.source, safe_url(alert.url) or ""])
    blocks = alert_blocks(alert, title, locale)
    return json.dumps({"text": text, "blocks": blocks}, ensure_ascii=False)


def group_body(title: str, alerts: Sequence[Alert], locale: Locale = ENGLISH) -> str:
    """Several alerts as one Slack message: a header, then a section per watch."""
    blocks: list[dict[str, Any]] = [_header(title)]
    shown = 0
    for watch, items in grouped(alerts):
        if len(blocks) >= MAX_BLOCKS - 1:
            break
        lines = [f"*{inert(watch)}* ({len(items)})"]
        for alert in items:
            url = safe_url(alert.url)
            name = inert(one_line(alert.title, 200)).replace("|", "\u2223")
            link = f"<{url}|{name}>" if url else name
            line = f"• {link} — {inert(alert.source)}, {inert(locale.when(alert.published))}"
            outlets = _outlets(alert, locale)
            if outlets:
                line += f"\n   {outlets}"
            if len("\n".join((*lines, line))) > SECTION_CHARS:
                break
            lines.append(line)
            shown += 1
        blocks.append(_section("\n".join(lines)))
    if shown < len(alerts):
        blocks.append(_context(inert(locale.say(LABELS["hidden"], count=len(alerts) - shown))))
    text = fallback(title, [a.title for a in alerts[:20]])
    return json.dumps({"text": text, "blocks": blocks}, ensure_ascii=False)


def notice_body(title: str, body: str) -> str:
    """An operator notice or a test message as a Slack message."""
    blocks = [_header(title), _section(inert(body))]
    return json.dumps({"text": fallback(title, [body]), "blocks": blocks}, ensure_ascii=False)
