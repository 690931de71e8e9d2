"""Feed text cannot act on a channel: checked on the bytes the real receivers get."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from monitor.app.delivery import Deliverer
from monitor.core.model import Channel, DeliverySettings
from monitor.notify.channels import ChannelSet
from monitor.notify.pacing import Pacer
from monitor.store.repository import Store
from tests.support.outbox import Clock, seed
from tests.support.sinks import SmtpSink, WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")
SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


async def _deliver(store: Store, urls: dict[str, str]) -> None:
    channels = ChannelSet([Channel(name=n, url=u) for n, u in urls.items()])
    report = await Deliverer(
        store, channels, DeliverySettings(), owner="me", clock=Clock()
    ).deliver_due()
    assert report.sent == len(urls)


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> alert",
        "&lt;!everyone&gt; alert",
        "Wow!here> breaking",
        "<@U1> look",
        "<!subteam^S1> team",
        "<https://evil.example|https://bank.example> login",
    ],
)
async def test_feed_text_never_becomes_a_slack_mention_or_link(
    store: Store, slack_to: WebhookSink, text: str
) -> None:
    """Title and summary carrying Slack control sequences arrive with none of them live."""
    seed(store, ["slack"], title=text, summary=text, url="https://news.example/a>b|<!here>")
    await _deliver(store, {"slack": SLACK})
    [post] = slack_to.posts
    raw = post.body.decode()
    assert not re.search(r"<[!@#]|![a-z]+>|<https?://[^>]*evil", raw), raw
    assert "https://news.example/a%3Eb%7C%3C!here%3E" in raw  # the link itself survives


@pytest.mark.parametrize(
    "breaker", ["\r\nBcc: victim@example.com", "\u2028Bcc: v@x", "\x85Bcc: v@x"]
)
async def test_a_feed_title_cannot_add_an_email_header(
    store: Store, smtp_sink: SmtpSink, breaker: str
) -> None:
    """Line breaks of every kind in a title give one Subject line and no extra header."""
    seed(store, ["mail"], title="Breaking" + breaker)
    await _deliver(store, {"mail": smtp_sink.url()})
    [mail] = smtp_sink.mails
    assert mail.message.get_all("subject") is not None
    assert len(mail.message.get_all("subject")) == 1
    assert mail.message.get_all("bcc") is None
    assert mail.recipients == ["desk@example.com"]
    headers = smtp_sink.raw[0].split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", headers)


async def test_email_html_has_no_active_content_and_the_text_part_keeps_the_link(
    store: Store, smtp_sink: SmtpSink
) -> None:
    """Scripts, handlers, javascript: links, forms and remote images in feed text stay text."""
    hostile = (
        '<script>alert(1)</script><img src="http://evil.example/p.png" onerror="alert(2)">'
        '<a href="javascript:alert(3)">x</a><form action="http://evil.example"><input></form>'
    )
    seed(store, ["mail"], title=hostile, summary=hostile, url="https://news.example/story")
    await _deliver(store, {"mail": smtp_sink.url()})
    [mail] = smtp_sink.mails
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    tags = _Tags()
    tags.feed(html)
    assert tags.names <= {"div", "p", "b", "br", "a", "span", "mark", "ul", "li"}
    assert [a for a in tags.attrs if a[0].startswith("on")] == []
    assert {v for k, v in tags.attrs if k in ("href", "src", "action")} == {
        "https://news.example/story"
    }
    assert "&lt;script&gt;" in html  # shown, not run
    assert "https://news.example/story" in mail.text()


class _Tags(HTMLParser):
    """Every element and attribute a mail client would act on."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attrs += [(k, v) for k, v in attrs if k != "style"]


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "smb://evil.example/share", "file:///etc/passwd"]
)
async def test_a_non_http_feed_link_is_dropped(
    store: Store, smtp_sink: SmtpSink, link: str
) -> None:
    """A javascript:, smb: or file: entry link is not offered as a link at all."""
    seed(store, ["mail"], url=link)
    await _deliver(store, {"mail": smtp_sink.url()})
    html = smtp_sink.mails[0].message.get_body(preferencelist=("html",)).get_content()
    assert link.split(":")[0] not in html
    assert "href" not in html


async def test_a_digest_of_hostile_titles_stays_inert_on_slack_and_in_email(
    store: Store, slack_to: WebhookSink, smtp_sink: SmtpSink
) -> None:
    """Grouped messages escape feed text like single alerts: no live Slack sequence, no HTML."""
    seed(store, ["slack", "mail"], count=2, title='<!channel> <img src="http://evil.example/p">')
    digest = "0 8 * * *"
    channels = ChannelSet(
        [
            Channel(name="slack", url=SLACK, digest=digest),
            Channel(name="mail", url=smtp_sink.url(), digest=digest),
        ]
    )
    clock = Clock()
    deliverer = Deliverer(
        store,
        channels,
        DeliverySettings(),
        owner="me",
        clock=clock,
        pacer=Pacer([], [Channel(name=n, url="", digest=digest) for n in ("slack", "mail")]),
    )
    clock.now += timedelta(days=1)
    await deliverer.deliver_due()
    [post] = slack_to.posts
    assert "digest" in post.body.decode()
    assert not re.search(r"<[!@#]|![a-z]+>", post.body.decode())
    html = smtp_sink.mails[0].message.get_body(preferencelist=("html",)).get_content()
    tags = _Tags()
    tags.feed(html)
    assert "img" not in tags.names and "&lt;img" in html
