"""Finding and masking the credentials that channel URLs carry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
_MIN_SECRET = 6  # shorter pieces (ports, "yes") are not worth masking and would mangle text
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@]*@")


def url_secrets(url: str) -> set[str]:
    """The parts of a channel URL that may be credentials: user and password, a host that is
    not a domain name (slack://TOKEN/...), path segments and query values."""
    parts = urlsplit(url)
    found = {url}
    if parts.password:
        found |= {parts.password, unquote(parts.password)}
        if parts.username:
            found.add(parts.username)
    host = parts.hostname or ""
    if host and "." not in host and host != "localhost":
        # Not a domain name, so a token in the host's place (slack://T.../, tgram://bot:token/).
        hostport = parts.netloc.rsplit("@", 1)[-1]
        found.update([hostport, *hostport.split(":")])
    found.update(segment for segment in parts.path.split("/") if segment)
    found.update(value for _, value in parse_qsl(parts.query))
    return {s for s in found if len(s) >= _MIN_SECRET}


def channel_secrets(url: str, secret: str | None) -> set[str]:
    """What a channel holds that must never be shown: its URL's credentials, its secret."""
    return url_secrets(url) | ({secret} if secret else set())


def mask(text: str, secrets: Iterable[str]) -> str:
    """The text with each secret, and the credentials of any URL in it, replaced by ***."""
    # Longest first, so a secret containing another is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _USERINFO.sub(rf"\1{MASK}@", text)


def masked_url(url: str) -> str:
    """A channel URL fit to show: its shape kept, each part that may be a credential masked."""
    return mask(url, url_secrets(url) - {url})
