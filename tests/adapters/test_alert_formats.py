"""The bytes each receiver gets: signed JSON webhooks, Slack Block Kit, HTML email, in the
channel's language, with hostile feed text (reliability.md O1-O3, O6)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from monitor.app.delivery import Deliverer
from monitor.core.model import Channel, DeliverySettings, Hit, Watch
from monitor.notify.channels import ChannelSet
from monitor.notify.pacing import Pacer
from monitor.store.repository import Store
from tests.support.outbox import Clock, seed
from tests.support.sinks import Reply, SmtpSink, WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")
SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "alert.schema.json").read_text())
SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
SECRET = "k3y-for-signing-0123456789"
HOSTILE = [
    "<!channel> alert",
    "<@U1> look <!subteam^S1>",
    "Wow!here> <https://evil.example|https://bank.example>",
    'Quote " and \\ backslash </script> \u2028 line\x00nul',
    "Breaking\r\nBcc: victim@example.com",
]
HITS = (Hit(clause="trade", field="title", snippet="Seoul and Beijing sign «trade» deal"),)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


def _hook(sink: WebhookSink, secret: str | None = SECRET, **extra: Any) -> Channel:
    url = f"webhook+{sink.base_url}/hook"
    return Channel(name="hook", url=url, secret=secret, **extra)


async def _deliver(
    store: Store, channels: list[Channel], *, pacer: Pacer | None = None, clock: Clock | None = None
) -> Any:
    return await Deliverer(
        store,
        ChannelSet(channels),
        DeliverySettings(),
        owner="me",
        clock=clock or Clock(),
        pacer=pacer,
    ).deliver_due()


def _verified(secret: str, body: bytes, header: str) -> bool:
    # Written from the documented contract, not from the sender's code.
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


@pytest.mark.parametrize("title", HOSTILE)
async def test_a_webhook_gets_a_signed_valid_json_alert(
    store: Store, webhook_sink: WebhookSink, title: str
) -> None:
    """Any title arrives as valid JSON carrying it exactly, signed over the raw body."""
    seed(
        store,
        ["hook"],
        title=title,
        summary=title,
        url="https://news.example/a",
        hits=HITS,
        lang="ko",
    )
    report = await _deliver(store, [_hook(webhook_sink)])
    assert report.sent == 1
    [post] = webhook_sink.posts
    assert post.path == "/hook"
    assert post.headers["content-type"].startswith("application/json")
    assert _verified(SECRET, post.body, post.headers["x-newsmonitor-signature"])
    assert not _verified(SECRET + "x", post.body, post.headers["x-newsmonitor-signature"])
    payload = json.loads(post.body)
    jsonschema.validate(payload, SCHEMA)
    [row] = store.list_alerts()
    assert payload["schema"] == "newsmonitor.alert/1" and payload["kind"] == "alert"
    assert payload["id"] == post.headers["x-newsmonitor-delivery"] == str(row.id)
    assert payload["article"]["title"] == title
    assert payload["article"]["link"] == "https://news.example/a"
    assert payload["article"]["language"] == "ko"
    assert payload["attempt"] == 1 and payload["watch"] == "w"
    [snippet] = payload["snippets"]
    assert snippet["text"][slice(*snippet["highlights"][0])] == "trade"
    assert b"<" not in post.body  # escaped as \u003c: inert even if pasted into HTML


async def test_an_unsigned_webhook_has_no_signature_header(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Without a secret the post says who it is but carries no signature."""
    seed(store, ["hook"])
    await _deliver(store, [_hook(webhook_sink, secret=None)])
    [post] = webhook_sink.posts
    assert "x-newsmonitor-signature" not in post.headers
    assert post.headers["x-newsmonitor-delivery"]


async def test_a_webhook_429_waits_for_retry_after_and_a_404_is_dead(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """Our own posts are classified like apprise's: 429 retried no sooner than asked, 404 dead;
    the secret never reaches the stored error."""
    clock = Clock()
    seed(store, ["hook"])
    webhook_sink.replies = [Reply(429, {"Retry-After": "600"})]
    report = await _deliver(store, [_hook(webhook_sink)], clock=clock)
    assert report.retried == 1
    [row] = store.list_alerts()
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= clock.now + timedelta(seconds=600)
    assert "HTTP 429" in (row.last_error or "")
    clock.now += timedelta(seconds=601)
    webhook_sink.replies = [Reply(404)]
    report = await _deliver(store, [_hook(webhook_sink)], clock=clock)
    assert report.dead == 1
    [row] = store.list_alerts()
    assert row.status == "dead" and SECRET not in (row.last_error or "")
    first, second = webhook_sink.posts
    assert json.loads(first.body)["attempt"] == 1 and json.loads(second.body)["attempt"] == 2
    assert first.headers["x-newsmonitor-delivery"] == second.headers["x-newsmonitor-delivery"]


async def test_a_webhook_digest_is_one_object_with_the_list(
    store: Store, webhook_sink: WebhookSink
) -> None:
    """A digest posts once, every alert in it, under one delivery id."""
    clock = Clock()
    channel = _hook(webhook_sink, digest="0 8 * * *")
    pacer = Pacer([Watch(name="w", query="trade", notify=("hook",))], [channel])
    seed(store, ["hook"], count=3, hits=HITS)
    await _deliver(store, [channel], pacer=pacer, clock=clock)
    assert webhook_sink.posts == []
    clock.now += timedelta(days=1)
    report = await _deliver(store, [channel], pacer=pacer, clock=clock)
    assert report.sent == 3
    [post] = webhook_sink.posts
    payload = json.loads(post.body)
    jsonschema.validate(payload, SCHEMA)
    assert payload["kind"] == "digest" and len(payload["alerts"]) == 3
    assert post.headers["x-newsmonitor-delivery"] == payload["id"]
    assert payload["id"].startswith("digest-")
    assert _verified(SECRET, post.body, post.headers["x-newsmonitor-signature"])


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)
    elif isinstance(node, str):
        yield node


@pytest.mark.parametrize("title", HOSTILE)
async def test_slack_gets_block_kit_with_no_live_control_sequence(
    store: Store, slack_to: WebhookSink, title: str
) -> None:
    """Header, context, snippet and button, posted top-level; feed text makes no mention,
    link or broadcast anywhere in the payload."""
    seed(store, ["slack"], title=title, summary=title, url="https://news.example/a>b|<!here>")
    await _deliver(store, [Channel(name="slack", url=SLACK)])
    [post] = slack_to.posts
    assert post.path.startswith("/services/T1JJ3T3L2/")
    payload = post.json()
    assert set(payload) == {"text", "blocks"}
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds[:2] == ["header", "context"] and kinds[-1] == "actions"
    raw = post.body.decode()
    assert not re.search(r"<[!@#]|![a-z]+>|<https?://[^>]*evil", raw), raw
    for text in _texts(payload):
        assert not re.search(r"<[!@#]", text)
    [button] = payload["blocks"][-1]["elements"]
    assert button["url"] == "https://news.example/a%3Eb%7C%3C!here%3E"


async def test_slack_blocks_stay_within_slack_limits(store: Store, slack_to: WebhookSink) -> None:
    """A huge title and digest keep header, sections, block count and fallback in bounds."""
    clock = Clock()
    channel = Channel(name="slack", url=SLACK, digest="0 8 * * *")
    pacer = Pacer([Watch(name="w", query="trade", notify=("slack",))], [channel])
    seed(store, ["slack"], count=120, title="Trade " * 400)
    await _deliver(store, [channel], pacer=pacer, clock=clock)
    clock.now += timedelta(days=1)
    await _deliver(store, [channel], pacer=pacer, clock=clock)
    assert slack_to.posts
    for post in slack_to.posts:
        payload = post.json()
        assert len(payload["blocks"]) <= 50 and len(payload["text"]) <= 4000
        for block in payload["blocks"]:
            limit = 150 if block["type"] == "header" else 3000
            if "text" in block:
                assert len(block["text"]["text"]) <= limit
        assert "more" in json.dumps(payload["blocks"][-1])  # what did not fit is counted


async def test_email_is_multipart_html_with_highlights_and_a_korean_channel_reads_korean(
    store: Store, smtp_sink: SmtpSink
) -> None:
    """HTML and text parts, the matched word in <mark>, no remote image; `language: ko`
    gives Korean labels and a Korean date in the channel's zone."""
    seed(store, ["mail"], summary="<img src='http://evil.example/x.png'>", hits=HITS)
    channel = Channel(name="mail", url=smtp_sink.url(), language="ko")
    await Deliverer(
        store,
        ChannelSet([channel], timezone="Asia/Seoul"),
        DeliverySettings(),
        owner="me",
        clock=Clock(),
    ).deliver_due()
    [mail] = smtp_sink.mails
    assert mail.message.get_content_type() == "multipart/alternative"
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    plain = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert ">trade</mark>" in html and "<img" not in html
    assert "감시 항목" in html and "2026년 11월 28일 21:00 KST" in html
    assert "http://news.test/0" in plain
    assert mail.subject == "[w] Seoul and Beijing sign trade deal"
