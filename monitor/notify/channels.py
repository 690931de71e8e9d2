"""Channels: one apprise object per configured channel, and the console:// plugin."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import apprise
from apprise.decorators import notify
from apprise.plugins.email import NotifyEmail

from monitor.core import payloads, slackblocks
from monitor.core.model import Alert, Channel, MessageTemplate
from monitor.core.payloads import Envelope
from monitor.core.phrases import TEST_BODY, TEST_TITLE, Locale
from monitor.core.render import Message, render, render_group, render_notice
from monitor.core.secrets import channel_secrets, mask
from monitor.core.templating import HTML, MARKDOWN, TEXT
from monitor.notify import catalogs, posting, wire

_FORMATS = {apprise.NotifyFormat.MARKDOWN: MARKDOWN}
# Chat services that read markdown well though apprise prefers another format for them.
_MARKDOWN_SERVICES = ("NotifyDiscord", "NotifyTelegram", "NotifyMSTeams")
JSON, SLACK = "json", "slack"  # our own posts: a webhook+ payload, a Slack Block Kit message
wire.install()


# apprise's decorator is untyped; the function keeps its own signature.
@notify(on="console", name="Console", body_format=apprise.NotifyFormat.TEXT)  # type: ignore[untyped-decorator, no-untyped-call]
def _console(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    """Print an alert to standard output: the default channel, no account needed."""
    out = sys.stdout
    out.write(f"\n=== {title}\n{body}\n")
    out.flush()
    return True


def check_channel_url(url: str) -> str | None:
    """Why this URL cannot be a channel, or None when it can; makes no network call."""
    if posting.is_webhook(url):
        return posting.check_webhook(url)
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return "apprise does not accept this channel URL (unknown service or malformed)"
    if getattr(plugin, "optional", False):
        return "optional=yes makes apprise report failed sends as sent, so alerts would be lost"
    return None


def channel_warning(url: str) -> str | None:
    """What is risky about a usable channel URL, or None."""
    if posting.is_webhook(url):
        return posting.webhook_warning(url)
    plugin = apprise.Apprise.instantiate(url)
    if plugin is not None and not getattr(plugin, "verify_certificate", True):
        return "verify=no turns off TLS certificate checks: anyone on the path can read alerts"
    return None


def _preferred_format(plugin: Any) -> Any:
    # apprise 2.3 declares (preferred, *also accepted); older releases a single format.
    fmt = plugin.notify_format
    return fmt[0] if isinstance(fmt, tuple) else fmt


# Sends a channel may make at once before its service's pace applies (Slack's own limit allows
# short bursts over one message a second).
BURST = 3


class Pace:
    """A channel's pace: up to `burst` sends at once, then one per `gap` seconds on average.

    apprise paces each service object by sleeping until `gap` seconds have passed since its
    last send (1.2 s for Slack, 5.5 s for most services), so the second of two alerts a moment
    apart always waited. This keeps the service's rate over time but lets a short burst
    through at once.
    """

    def __init__(self, gap: float, burst: int = BURST) -> None:
        self.gap = gap
        self.burst = burst
        self._tokens = float(burst)
        self._at = time.monotonic()

    def delay(self) -> float:
        """Seconds to wait before the next send; takes its turn."""
        if self.gap <= 0:
            return 0.0
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) / self.gap) - 1
        self._at = now
        return max(0.0, -self._tokens * self.gap)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendOutcome:
    """How one send went; `error` is safe to store and show (no secrets).

    A failure is `retry` (worth another attempt, not before `retry_after` seconds when the
    channel said so) or `dead` (the channel refused for good).
    """

    ok: bool
    error: str | None = None
    verdict: str = wire.RETRY
    retry_after: float | None = None


class ChannelSet:
    """The enabled channels, each behind its own apprise object (or, for `webhook+` URLs and
    Slack webhooks, its own poster) so one cannot affect another."""

    def __init__(
        self,
        channels: Sequence[Channel],
        *,
        send_timeout: float = 30.0,
        language: str = "en",
        timezone: str = "UTC",
    ) -> None:
        self.send_timeout = send_timeout
        self._apprise: dict[str, apprise.Apprise] = {}
        self._posters: dict[str, posting.Poster] = {}
        self._formats: dict[str, str] = {}
        self._secrets: dict[str, set[str]] = {}
        self._locales: dict[str, Locale] = {}
        self.warnings: list[str] = []
        self._templates: dict[str, MessageTemplate | None] = {}
        self._budgets: dict[str, tuple[int | None, bool]] = {}
        self._paces: dict[str, Pace] = {}
        for ch in channels:
            if not (ch.enabled and ch.url):
                continue
            warning = channel_warning(ch.url)
            if warning:
                self.warnings.append(f"channel {ch.name}: {warning}")
            self._secrets[ch.name] = channel_secrets(ch.url, ch.secret)
            self._locales[ch.name] = catalogs.locale(ch.language or language, timezone)
            self._templates[ch.name] = ch.template
            if posting.is_webhook(ch.url):
                self._posters[ch.name] = posting.webhook(ch.url, ch.secret)
                self._formats[ch.name] = JSON
                self._paces[ch.name] = Pace(0.0)
                self._budgets[ch.name] = (None, False)
                continue
            plugin = apprise.Apprise.instantiate(ch.url)
            if plugin is None:
                raise ValueError(f"channel {ch.name}: apprise does not accept its URL")
            self._paces[ch.name] = Pace(float(plugin.request_rate_per_sec or 0))
            self._budgets[ch.name] = (
                ch.max_length or plugin.body_maxlen or None,
                not plugin.title_maxlen,
            )
            slack = posting.slack_hook(plugin)
            if slack is not None:
                # apprise puts blocks inside a legacy attachment; Slack's own layout needs a
                # top-level `blocks`, so these posts are ours, under the same pace and rules.
                self._posters[ch.name] = slack
                self._formats[ch.name] = SLACK
                continue
            plugin.request_rate_per_sec = 0
            bundle = apprise.Apprise()
            bundle.add(plugin)
            self._apprise[ch.name] = bundle
            # Email gets HTML (apprise adds a plain-text part), chat services markdown.
            self._formats[ch.name] = (
                HTML
                if isinstance(plugin, NotifyEmail)
                else MARKDOWN
                if type(plugin).__name__ in _MARKDOWN_SERVICES
                else _FORMATS.get(_preferred_format(plugin), TEXT)
            )
        # One send at a time per channel keeps its pace and the order of alerts.
        self._locks = {name: asyncio.Lock() for name in self._formats}

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def names(self) -> list[str]:
        """Names of the enabled channels."""
        return list(self._formats)

    def body_format(self, name: str) -> str:
        """The message format the channel reads best."""
        return self._formats[name]

    def locale(self, name: str) -> Locale:
        """The language and time zone of the channel's messages."""
        return self._locales[name]

    def compose_group(
        self,
        name: str,
        title: str,
        alerts: Sequence[Alert],
        envelopes: Sequence[Envelope] = (),
    ) -> Message:
        """Several alerts as one message for this channel, within its length budget;
        `envelopes` (one per alert) identify them in a webhook payload."""
        fmt, locale = self._formats[name], self._locales[name]
        if fmt == JSON:
            items = list(zip(alerts, envelopes or _unknown(len(alerts)), strict=True))
            body = payloads.digest_body(title, items, language=locale.language)
            return Message(title=title, body=body, body_format=fmt, delivery=_id(body))
        if fmt == SLACK:
            body = slackblocks.group_body(title, alerts, locale)
            return Message(title=title, body=body, body_format=fmt)
        budget, title_in_body = self._budgets[name]
        if budget is not None and title_in_body:
            budget = max(0, budget - len(title) - 1)
        return render_group(title, alerts, fmt, max_length=budget, locale=locale)

    def compose(
        self,
        name: str,
        alert: Alert,
        template: MessageTemplate | None = None,
        envelope: Envelope | None = None,
    ) -> Message:
        """The alert as this channel shows it: its format, language, length budget, and the
        title and body templates of `template` (the watch's), else the channel's, else the
        defaults. A webhook gets the JSON object, with `envelope` naming the alert."""
        layers = [t for t in (template, self._templates[name]) if t is not None]
        chosen = MessageTemplate(
            title=next((t.title for t in layers if t.title), None),
            body=next((t.body for t in layers if t.body), None),
        )
        fmt, locale = self._formats[name], self._locales[name]
        title = render(alert, TEXT, template=chosen, locale=locale).title
        if fmt == JSON:
            envelope = envelope or Envelope(id=0)
            body = payloads.alert_body(alert, envelope, language=locale.language)
            return Message(title=title, body=body, body_format=fmt, delivery=str(envelope.id))
        if fmt == SLACK:
            return Message(
                title=title, body=slackblocks.alert_body(alert, title, locale), body_format=fmt
            )
        budget, title_in_body = self._budgets[name]
        return render(
            alert,
            fmt,
            template=chosen,
            max_length=budget,
            title_in_body=title_in_body,
            locale=locale,
        )

    def compose_notice(self, name: str, kind: str, title: str, body: str) -> Message:
        """An operator notice (or a test message) for this channel, in its language."""
        fmt, locale = self._formats[name], self._locales[name]
        if fmt in (JSON, SLACK):
            text = render_notice(title, body, TEXT, locale)
            if fmt == SLACK:
                shown = slackblocks.notice_body(text.title, text.body)
                return Message(title=text.title, body=shown, body_format=fmt)
            shown = payloads.notice_body(kind, text.title, text.body, language=locale.language)
            return Message(title=text.title, body=shown, body_format=fmt, delivery=_id(shown))
        return render_notice(title, body, fmt, locale)

    async def send(self, name: str, message: Message) -> SendOutcome:
        """Send one message through one channel, waiting at most `send_timeout` seconds.

        A send that times out keeps the channel busy until the worker really finishes, so
        there is never more than one attempt in flight per channel.
        """
        timeout = self.send_timeout
        if name not in self._formats:
            return SendOutcome(
                ok=False, error=f"channel {name!r} is not configured or is off", verdict=wire.DEAD
            )
        lock = self._locks[name]
        await lock.acquire()
        try:
            await asyncio.sleep(self._paces[name].delay())
        except BaseException:
            lock.release()
            raise
        with wire.observe() as seen:
            attempt = asyncio.ensure_future(self._transmit(name, message, timeout))
        try:
            done, _ = await asyncio.wait({attempt}, timeout=timeout)
        except BaseException:
            attempt.add_done_callback(lambda _: lock.release())
            raise
        if not done:
            attempt.add_done_callback(lambda _: lock.release())
            return SendOutcome(ok=False, error=f"no answer within {timeout:g}s")
        lock.release()
        try:
            result = attempt.result()
        except Exception as exc:  # a plugin bug must not stop the delivery loop
            return SendOutcome(ok=False, error=self._safe(name, f"{type(exc).__name__}: {exc}"))
        if result is True:
            return SendOutcome(ok=True)
        verdict, answer = wire.verdict(seen)
        if isinstance(result, str):
            detail = result
        else:
            problems = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
            detail = problems[-1] if problems else f"apprise status {result.status.name}"
        if answer and answer not in detail:
            detail = f"{answer}: {detail}"
        return SendOutcome(
            ok=False,
            error=self._safe(name, detail),
            verdict=verdict,
            retry_after=seen.retry_after if verdict == wire.RETRY else None,
        )

    def _transmit(self, name: str, message: Message, timeout: float) -> Awaitable[Any]:
        """The send itself: our poster in a worker thread (which carries the context, so the
        wire sees its answers), or apprise. True when it went, else what went wrong."""
        poster = self._posters.get(name)
        if poster is not None:
            return asyncio.to_thread(poster.post, message, timeout)
        bundle = self._apprise[name]

        async def notify() -> Any:
            result = await bundle.async_notify(
                body=message.body, title=message.title, body_format=message.body_format
            )
            return True if result else result

        return notify()

    def _safe(self, name: str, text: str) -> str:
        return mask(text, self._secrets[name])[:500]


def _unknown(count: int) -> list[Envelope]:
    return [Envelope(id=0) for _ in range(count)]


def _id(body: str) -> str:
    return str(json.loads(body)["id"])


async def send_test_message(
    channel: Channel, *, send_timeout: float, language: str = "en"
) -> SendOutcome:
    """Send one test message through `channel` on its own, as an alert would go."""
    channels = ChannelSet([channel], send_timeout=send_timeout, language=language)
    message = channels.compose_notice(
        channel.name, "test", TEST_TITLE, TEST_BODY.format(channel=channel.name)
    )
    return await channels.send(channel.name, message)
