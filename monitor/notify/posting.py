"""Posts we make ourselves: signed JSON webhooks (`webhook+https://…`) and Slack Block Kit.

They go with `requests`, like apprise's own HTTP plugins, so `monitor.notify.wire` sees their
answers (status, Retry-After, transport errors) and a failure is retried, waited for or
dead-lettered exactly as an apprise send is; `ChannelSet.send` paces them, bounds them in time
and keeps one in flight per channel. Redirects are not followed: a webhook that moved answers
3xx, which is retried and reported until the URL is fixed. Like apprise channels, the address
is the operator's own choice, so no egress policy applies; TLS certificates are checked.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from apprise.plugins.slack import NotifySlack

from monitor.core.render import Message

PREFIX = "webhook+"
USER_AGENT = "newsmonitor"
_ANSWER_CHARS = 200


def is_webhook(url: str) -> bool:
    """Whether the channel URL is one of our signed JSON webhooks."""
    return url.lower().startswith(PREFIX)


def check_webhook(url: str) -> str | None:
    """Why a `webhook+` URL cannot be used, or None."""
    parts = urlsplit(url[len(PREFIX) :])
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "a webhook channel is webhook+https://host/path (or webhook+http://)"
    return None


def webhook_warning(url: str) -> str | None:
    """What is risky about a `webhook+` URL: plain HTTP to another machine."""
    parts = urlsplit(url[len(PREFIX) :])
    local = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if parts.scheme.lower() == "http" and not local:
        return "webhook+http:// sends alerts unencrypted; use webhook+https://"
    return None


def signature(secret: str, body: bytes) -> str:
    """The X-Newsmonitor-Signature value: sha256= and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Poster:
    """Posts a message's body, which is JSON, to one URL."""

    url: str = ""
    secret: str | None = None
    signed: bool = False  # our own webhook: delivery id and signature headers
    slack: NotifySlack | None = None  # a Slack webhook: its URL is read at each send

    def post(self, message: Message, timeout: float) -> bool | str:
        """True when the receiver took it, else what went wrong (the wire has the status)."""
        body = message.body.encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        if self.signed:
            headers["X-Newsmonitor-Delivery"] = message.delivery or ""
            if self.secret:
                headers["X-Newsmonitor-Signature"] = signature(self.secret, body)
        try:
            answer = requests.post(
                self.target(), data=body, headers=headers, timeout=timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            return f"{type(exc).__name__}: could not post"
        if 200 <= answer.status_code < 300:
            return True
        said = " ".join(answer.text[:_ANSWER_CHARS].split())
        return f"HTTP {answer.status_code}" + (f": {said}" if said else "")

    def target(self) -> str:
        """Where the post goes."""
        if self.slack is not None:
            s: Any = self.slack
            return f"{NotifySlack.webhook_url}/{s.token_a}/{s.token_b}/{s.token_c}"
        return self.url


def webhook(url: str, secret: str | None) -> Poster:
    """The poster of a `webhook+https://…` channel."""
    return Poster(url=url[len(PREFIX) :], secret=secret, signed=True)


def slack_hook(plugin: object) -> Poster | None:
    """A poster for a Slack incoming webhook (`slack://TA/TB/TC`, `https://hooks.slack.com/…`);
    None for other services and for Slack's bot-token form, which apprise keeps."""
    if isinstance(plugin, NotifySlack) and getattr(plugin, "mode", None) == "hook":
        return Poster(slack=plugin)
    return None
