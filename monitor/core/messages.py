"""How one channel says things: its format, language, templates and length budget, and the
message each alert, group of alerts or notice becomes for it.

Formats are those of `render` (text, markdown, html) and two of our own posts: JSON for a
`webhook+` channel (`payloads`) and Slack Block Kit (`slackblocks`), whose bodies are the JSON
text to post.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.core import payloads, slackblocks
from monitor.core.model import Alert, MessageTemplate
from monitor.core.payloads import Envelope
from monitor.core.phrases import ENGLISH, Locale
from monitor.core.render import Message, render, render_group, render_notice
from monitor.core.templating import TEXT

JSON, SLACK = "json", "slack"


@dataclass(frozen=True, slots=True, kw_only=True)
class Voice:
    """A channel's way of saying things. `budget` is the most body characters (None: no
    limit); with `title_in_body` (services without a title, such as SMS) the title counts."""

    body_format: str
    locale: Locale = ENGLISH
    template: MessageTemplate | None = None
    budget: int | None = None
    title_in_body: bool = False

    def alert(
        self,
        alert: Alert,
        template: MessageTemplate | None = None,
        envelope: Envelope | None = None,
    ) -> Message:
        """The alert as this channel shows it, with the title and body templates of
        `template` (the watch's), else the channel's, else the defaults. A webhook gets the
        JSON object, with `envelope` naming the alert."""
        layers = [t for t in (template, self.template) if t is not None]
        chosen = MessageTemplate(
            title=next((t.title for t in layers if t.title), None),
            body=next((t.body for t in layers if t.body), None),
        )
        fmt, locale = self.body_format, self.locale
        title = render(alert, TEXT, template=chosen, locale=locale).title
        if fmt == JSON:
            envelope = envelope or Envelope(id=0)
            body = payloads.alert_body(alert, envelope, language=locale.language)
            return Message(title=title, body=body, body_format=fmt, delivery=str(envelope.id))
        if fmt == SLACK:
            body = slackblocks.alert_body(alert, title, locale)
            return Message(title=title, body=body, body_format=fmt)
        return render(
            alert,
            fmt,
            template=chosen,
            max_length=self.budget,
            title_in_body=self.title_in_body,
            locale=locale,
        )

    def group(
        self, title: str, alerts: Sequence[Alert], envelopes: Sequence[Envelope] = ()
    ) -> Message:
        """Several alerts as one message, within the budget; `envelopes` (one per alert)
        identify them in a webhook payload."""
        fmt, locale = self.body_format, self.locale
        if fmt == JSON:
            named = envelopes or [Envelope(id=0) for _ in alerts]
            items = list(zip(alerts, named, strict=True))
            body = payloads.digest_body(title, items, language=locale.language)
            return Message(title=title, body=body, body_format=fmt, delivery=_id(body))
        if fmt == SLACK:
            body = slackblocks.group_body(title, alerts, locale)
            return Message(title=title, body=body, body_format=fmt)
        budget = self.budget
        if budget is not None and self.title_in_body:
            budget = max(0, budget - len(title) - 1)
        return render_group(title, alerts, fmt, max_length=budget, locale=locale)

    def notice(self, kind: str, title: str, body: str) -> Message:
        """An operator notice (or a test message), in this channel's language."""
        fmt, locale = self.body_format, self.locale
        if fmt not in (JSON, SLACK):
            return render_notice(title, body, fmt, locale)
        text = render_notice(title, body, TEXT, locale)
        if fmt == SLACK:
            shown = slackblocks.notice_body(text.title, text.body)
            return Message(title=text.title, body=shown, body_format=fmt)
        shown = payloads.notice_body(kind, text.title, text.body, language=locale.language)
        return Message(title=text.title, body=shown, body_format=fmt, delivery=_id(shown))


def _id(body: str) -> str:
    return str(json.loads(body)["id"])
