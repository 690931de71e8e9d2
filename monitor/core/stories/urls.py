"""URL canonicalization: the many addresses one article goes by collapse to one.

Publishers hand out the same page with tracking parameters, as an AMP or mobile variant, with or
without a trailing slash; feeds flip between http and https. `canonical_url` keeps a usable link;
`identity_url` goes further (no scheme, no `www.`) and is only ever compared, never opened.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that say how a reader arrived, never which page they read.
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "spm",
        "smid",
        "sr_share",
        "amp",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_MOBILE_HOST = re.compile(r"^(?:m|mobile|amp)\.(?=[^.]+\.[^.]+)")
_AMP_SUFFIX = re.compile(r"(?:/amp|\.amp)(?=/?$|\.html?$)", re.IGNORECASE)


def _is_tracking(name: str, value: str) -> bool:
    low = name.lower()
    if low == "outputtype":
        return value.lower() == "amp"
    return low in _TRACKING or low.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """A link with scheme and host lower-cased, and without default port, fragment, tracking
    parameters, AMP or mobile variant and trailing slash; the remaining query is sorted."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _MOBILE_HOST.sub("", (parts.hostname or "").lower().rstrip("."))
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the address as given
        port = None
    netloc = f"{host}:{port}" if port and port != _DEFAULT_PORTS.get(scheme) else host
    path = parts.path.replace("/amp/", "/")
    path = _AMP_SUFFIX.sub("", path)
    path = path.rstrip("/") or "/"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k, v)
    )
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def identity_url(url: str) -> str:
    """The canonical link without scheme and `www.`: equal for every variant of one page."""
    parts = urlsplit(canonical_url(url))
    host = parts.netloc.removeprefix("www.")
    return urlunsplit(("", host, parts.path, parts.query, "")).removeprefix("//")


def looks_like_url(text: str) -> bool:
    """Whether a guid is a web address (so that its http/https and tracking variants agree)."""
    return text.lower().startswith(("http://", "https://"))
