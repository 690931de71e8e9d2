"""Channels: one apprise object per configured channel, and the console:// plugin."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import apprise
from apprise.decorators import notify
from apprise.plugins.email import NotifyEmail

from monitor.core.messages import JSON, SLACK, Voice
from monitor.core.model import Alert, Channel, MessageTemplate
from monitor.core.payloads import Envelope
from monitor.core.phrases import TEST_BODY, TEST_TITLE, Locale
from monitor.core.render import Message
from monitor.core.secrets import channel_secrets, mask
from monitor.core.templating import HTML, MARKDOWN, TEXT
from monitor.notify import catalogs, posting, wire

_FORMATS = {apprise.NotifyFormat.MARKDOWN: MARKDOWN}
# Chat services that read markdown well though apprise prefers another format for them.
_MARKDOWN_SERVICES = ("NotifyDiscord", "NotifyTelegram", "NotifyMSTeams")
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


def _body_format(plugin: Any) -> str:
    """The format an apprise service reads best: HTML for email (apprise adds a plain-text
    part), markdown for chat services, else what apprise prefers for it."""
    if isinstance(plugin, NotifyEmail):
        return HTML
    if type(plugin).__name__ in _MARKDOWN_SERVICES:
        return MARKDOWN
    return _FORMATS.get(_preferred_format(plugin), TEXT)


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
        self._voices: dict[str, Voice] = {}
        self._secrets: dict[str, set[str]] = {}
        self.warnings: list[str] = []
        self._paces: dict[str, Pace] = {}
        for ch in channels:
            if not (ch.enabled and ch.url):
                continue
            warning = channel_warning(ch.url)
            if warning:
                self.warnings.append(f"channel {ch.name}: {warning}")
            self._secrets[ch.name] = channel_secrets(ch.url, ch.secret)
            said = Voice(
                body_format=TEXT,
                locale=catalogs.locale(ch.language or language, ch.timezone or timezone),
                template=ch.template,
            )
            if posting.is_webhook(ch.url):
                self._posters[ch.name] = posting.webhook(ch.url, ch.secret)
                self._voices[ch.name] = replace(said, body_format=JSON)
                self._paces[ch.name] = Pace(0.0)
                continue
            plugin = apprise.Apprise.instantiate(ch.url)
            if plugin is None:
                raise ValueError(f"channel {ch.name}: apprise does not accept its URL")
            self._paces[ch.name] = Pace(float(plugin.request_rate_per_sec or 0))
            slack = posting.slack_hook(plugin)
            if slack is not None:
                # apprise puts blocks inside a legacy attachment; Slack's own layout needs a
                # top-level `blocks`, so these posts are ours, under the same pace and rules.
                self._posters[ch.name] = slack
                self._voices[ch.name] = replace(said, body_format=SLACK)
                continue
            plugin.request_rate_per_sec = 0
            bundle = apprise.Apprise()
            bundle.add(plugin)
            self._apprise[ch.name] = bundle
            self._voices[ch.name] = replace(
                said,
                body_format=_body_format(plugin),
                budget=ch.max_length or plugin.body_maxlen or None,
                title_in_body=not plugin.title_maxlen,
            )
        # One send at a time per channel keeps its pace and the order of alerts.
        self._locks = {name: asyncio.Lock() for name in self._voices}

    def __contains__(self, name: object) -> bool:
        return name in self._voices

    def names(self) -> list[str]:
        """Names of the enabled channels."""
        return list(self._voices)

    def body_format(self, name: str) -> str:
        """The message format the channel reads best."""
        return self._voices[name].body_format

    def locale(self, name: str) -> Locale:
        """The language and time zone of the channel's messages."""
        return self._voices[name].locale

    def voice(self, name: str) -> Voice:
        """How the channel says things: its format, language, templates and budget."""
        return self._voices[name]

    def compose_group(
        self, name: str, title: str, alerts: Sequence[Alert], envelopes: Sequence[Envelope] = ()
    ) -> Message:
        """Several alerts as one message for this channel (see Voice.group)."""
        return self._voices[name].group(title, alerts, envelopes)

    def compose(
        self,
        name: str,
        alert: Alert,
        template: MessageTemplate | None = None,
        envelope: Envelope | None = None,
    ) -> Message:
        """The alert as this channel shows it (see Voice.alert)."""
        return self._voices[name].alert(alert, template, envelope)

    def compose_notice(self, name: str, kind: str, title: str, body: str) -> Message:
        """An operator notice (or a test message) for this channel, in its language."""
        return self._voices[name].notice(kind, title, body)

    async def send(self, name: str, message: Message) -> SendOutcome:
        """Send one message through one channel, waiting at most `send_timeout` seconds.

        A send that times out keeps the channel busy until the worker really finishes, so
        there is never more than one attempt in flight per channel.
        """
        timeout = self.send_timeout
        if name not in self._voices:
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


async def send_test_message(
    channel: Channel, *, send_timeout: float, language: str = "en"
) -> SendOutcome:
    """Send one test message through `channel` on its own, as an alert would go."""
    channels = ChannelSet([channel], send_timeout=send_timeout, language=language)
    message = channels.compose_notice(
        channel.name, "test", TEST_TITLE, TEST_BODY.format(channel=channel.name)
    )
    return await channels.send(channel.name, message)
