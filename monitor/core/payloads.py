"""Machine-readable messages: the signed JSON webhook payload (`docs/alert.schema.json`).

Every object carries `schema: "newsmonitor.alert/1"` and a `kind`: `alert` (one alert),
`digest` (several, as one post) or `notice` (an operator notice or a test message). Fields are
only ever added within version 1; a change that could break a receiver is version 2. Feed text
is carried as it is (JSON escaping is the receiver's safety); the link only if it is http(s).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.core.model import Alert
from monitor.core.snippets import as_json, snippets
from monitor.core.templating import safe_url

SCHEMA = "newsmonitor.alert/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """What the outbox knows of one alert beyond its text: its row id (the alert id), its
    story, and which attempt this send is (1 for the first)."""

    id: int
    story_id: int | None = None
    attempt: int = 1


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def alert_object(alert: Alert, envelope: Envelope, *, language: str = "en") -> dict[str, Any]:
    """One alert as the webhook's JSON object (without `schema`, which the post adds)."""
    return {
        "kind": "alert",
        "id": str(envelope.id),
        "watch": alert.watch,
        "story_id": str(envelope.story_id) if envelope.story_id is not None else None,
        "follow_up": alert.follow_up,
        "attempt": envelope.attempt,
        "language": language,
        "article": {
            "title": alert.title,
            "link": safe_url(alert.url),
            "outlet": alert.source,
            "published": _time(alert.published),
            "language": alert.language,
        },
        "terms": list(alert.terms),
        "matched": [{"clause": h.clause, "field": h.field} for h in alert.hits],
        "snippets": [as_json(s) for s in snippets(alert.hits)],
        "also_reported_by": list(alert.also_reported_by),
    }


def delivery_id(envelopes: Sequence[Envelope]) -> str:
    """The idempotency key of a post: the alert id, or for a digest one derived from its ids."""
    if len(envelopes) == 1:
        return str(envelopes[0].id)
    ids = ",".join(str(e.id) for e in sorted(envelopes, key=lambda e: e.id))
    return "digest-" + hashlib.sha256(ids.encode()).hexdigest()[:24]


def alert_body(alert: Alert, envelope: Envelope, *, language: str = "en") -> str:
    """The JSON text posted for one alert."""
    return _dump(alert_object(alert, envelope, language=language))


def digest_body(
    title: str, items: Sequence[tuple[Alert, Envelope]], *, language: str = "en"
) -> str:
    """The JSON text posted for several alerts at once, in the order given."""
    return _dump(
        {
            "kind": "digest",
            "id": delivery_id([e for _, e in items]),
            "title": title,
            "language": language,
            "attempt": max((e.attempt for _, e in items), default=1),
            "alerts": [alert_object(a, e, language=language) for a, e in items],
        }
    )


def notice_body(kind: str, title: str, body: str, *, language: str = "en") -> str:
    """The JSON text posted for an operator notice or a test message."""
    key = hashlib.sha256(f"{kind}\n{title}\n{body}".encode()).hexdigest()[:24]
    return _dump(
        {
            "kind": "notice",
            "id": f"notice-{key}",
            "notice": kind,
            "title": title,
            "body": body,
            "language": language,
        }
    )


def _dump(obj: dict[str, Any]) -> str:
    # Non-ASCII kept (UTF-8 on the wire); "<", ">" and "&" escaped so that a receiver that
    # pastes the text into HTML unescaped still gets no markup from feed text.
    text = json.dumps({"schema": SCHEMA, **obj}, ensure_ascii=False, sort_keys=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
