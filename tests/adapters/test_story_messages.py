"""A story's other outlets in messages: "also reported by" in alerts and digests, and follow-ups
that say what they are, checked on the bytes Slack, the SMTP server and a webhook receive."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from monitor.app.delivery import Deliverer
from monitor.core.model import Channel, DeliverySettings, Watch
from monitor.notify.channels import ChannelSet
from monitor.notify.pacing import Pacer
from monitor.store.repository import Store
from tests.support.outbox import T0, Clock, Story
from tests.support.sinks import SmtpSink, WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")
SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
CHANNELS = ("slack", "mail", "hook")
HOSTILE = "<!channel> Seoul & Beijing <b>sign</b> deal"


class Desk:
    """Three channels, one per format: Slack (mrkdwn), email (HTML and text), a JSON hook."""

    def __init__(self, store: Store, slack: WebhookSink, smtp: SmtpSink, **pacing: Any) -> None:
        self.store, self.slack, self.smtp = store, slack, smtp
        self.clock = Clock()
        urls = {"slack": SLACK, "mail": smtp.url(), "hook": slack.json_url()}
        channels = [Channel(name=n, url=u, **pacing) for n, u in urls.items()]
        watch = Watch(name="w", query="trade", notify=CHANNELS)
        self.deliverer = Deliverer(
            store,
            ChannelSet(channels),
            DeliverySettings(),
            owner="me",
            clock=self.clock,
            pacer=Pacer([watch], channels, timezone="Europe/Berlin"),
        )

    async def deliver(self) -> None:
        await self.deliverer.deliver_due()

    def slack_posts(self) -> list[str]:
        """The raw Slack payloads, as sent."""
        return [p.body.decode() for p in self.slack.posts if p.path.startswith("/services")]

    def slack_texts(self) -> list[str]:
        """Title and text of each Slack payload, as a reader sees them."""
        return [json.dumps(json.loads(raw), ensure_ascii=False) for raw in self.slack_posts()]

    def hook_messages(self) -> list[dict[str, Any]]:
        return [p.json() for p in self.slack.posts if p.path == "/alerts"]

    def mail_parts(self, n: int) -> tuple[str, str, str]:
        """Subject, plain-text part and HTML part of the n-th email."""
        message = self.smtp.mails[n].message
        html = message.get_body(preferencelist=("html",))
        plain = message.get_body(preferencelist=("plain",))
        assert html is not None and plain is not None
        return self.smtp.mails[n].subject, plain.get_content(), html.get_content()


@pytest.fixture
def desk(store: Store, slack_to: WebhookSink, smtp_sink: SmtpSink) -> Desk:
    return Desk(store, slack_to, smtp_sink)


async def test_a_follow_up_says_the_story_is_now_reported_by_n_outlets(desk: Desk) -> None:
    """With follow_up_at 3, the third outlet brings a second message in every format that
    names itself a follow-up and lists the outlets; the first message does not."""
    story = Story(desk.store, CHANNELS, follow_up_at=3)
    story.report(0)
    await desk.deliver()
    story.report(1)
    assert story.report(2) == 3
    await desk.deliver()
    first, follow = desk.slack_texts()
    assert "Now reported by" not in first
    assert "[w] Now reported by 3 outlets: Seoul and Beijing sign trade deal" in follow
    assert "Now reported by 3 outlets: o0, o1, o2" in follow
    subject, plain, html = desk.mail_parts(1)
    assert subject == "[w] Now reported by 3 outlets: Seoul and Beijing sign trade deal"
    assert "Now reported by 3 outlets: o0, o1, o2" in plain
    assert "Now reported by 3 outlets: o0, o1, o2" in html
    assert "Now reported by" not in desk.mail_parts(0)[0] + desk.mail_parts(0)[1]
    hook = desk.hook_messages()[1]
    assert hook["title"] == "[w] Now reported by 3 outlets: Seoul and Beijing sign trade deal"
    assert "Now reported by 3 outlets: o0, o1, o2" in hook["message"]


async def test_a_first_alert_sent_after_other_outlets_joined_names_them(desk: Desk) -> None:
    """An alert that goes out once o1 and o2 carry the story too says so, in every format."""
    story = Story(desk.store, CHANNELS)
    for n in range(3):
        story.report(n)
    await desk.deliver()
    [slack] = desk.slack_texts()
    assert "Also reported by: o1, o2" in slack
    _, plain, html = desk.mail_parts(0)
    assert "Also reported by:" in plain and "- o1" in plain and "- o2" in plain
    assert "<li>o1</li><li>o2</li>" in html
    [hook] = desk.hook_messages()
    assert "Also reported by: o1, o2" in hook["message"]


async def test_a_follow_up_of_a_hostile_title_stays_inert(desk: Desk) -> None:
    """Feed text in a follow-up is escaped like any alert: no Slack mention, no HTML."""
    story = Story(desk.store, CHANNELS, follow_up_at=2, title=HOSTILE)
    story.report(0)
    story.report(1)
    await desk.deliver()
    for raw in desk.slack_posts():
        assert not re.search(r"<[!@#]|![a-z]+>", raw), raw
    for n in range(2):
        subject, _, html = desk.mail_parts(n)
        assert "<b>sign</b>" not in html and "&lt;b&gt;sign&lt;/b&gt;" in html
        assert "<!channel>" in subject  # a subject is text: shown, never markup
    assert any("Now reported by 2 outlets" in m["title"] for m in desk.hook_messages())


async def test_a_digest_lists_the_other_outlets_of_each_story(
    store: Store, slack_to: WebhookSink, smtp_sink: SmtpSink
) -> None:
    """Each story in a digest says which other outlets reported it, in every format; a
    follow-up held for the same digest does not list the story twice."""
    desk = Desk(store, slack_to, smtp_sink, digest="0 8 * * *")
    story = Story(store, CHANNELS, follow_up_at=3)
    for n in range(3):
        story.report(n)
    await desk.deliver()
    assert desk.slack_posts() == [] and smtp_sink.mails == []
    desk.clock.now = T0.replace(hour=7) + timedelta(days=1)
    await desk.deliver()
    [slack] = desk.slack_texts()
    assert "Also reported by: o1, o2" in slack
    assert slack.split('"blocks"')[1].count("Seoul and Beijing sign trade deal") == 1
    subject, plain, html = desk.mail_parts(0)
    assert subject == "newsmonitor digest: 1 alert"
    assert "Also reported by: o1, o2" in plain and "Also reported by: o1, o2" in html
    [hook] = desk.hook_messages()
    assert "Also reported by: o1, o2" in hook["message"]
    assert {a.status for a in store.list_alerts()} == {"sent"}
