"""Alert messages: what they say, and that feed text cannot act on the channel's markup."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from monitor.core.model import Alert, Hit
from monitor.core.render import MARKDOWN, TEXT, render


def _alert(**changes: object) -> Alert:
    values: dict[str, object] = {
        "watch": "nk-missile-tests",
        "terms": ("North Korea", "missile*", "launch*"),
        "source": "yonhap",
        "title": "North Korea launches missile",
        "summary": "Seoul said the missile flew 600 km.",
        "url": "https://en.yna.co.kr/view/AEN1",
        "published": datetime(2026, 11, 28, 21, 5, tzinfo=UTC),
    }
    values.update(changes)
    return Alert(**values)


@pytest.mark.parametrize("body_format", [TEXT, MARKDOWN])
def test_alert_names_watch_title_source_link_time_and_terms(body_format: str) -> None:
    """Every alert says which watch, what article, where, when, and which terms matched."""
    msg = render(_alert(), body_format)
    assert msg.title == "[nk-missile-tests] North Korea launches missile"
    for part in (
        "Source: yonhap" if body_format == TEXT else "**yonhap**",
        "2026-11-28 21:05 UTC",
        "Matched: North Korea, missile*, launch*",
        "https://en.yna.co.kr/view/AEN1",
        "Seoul said the missile flew 600 km.",
    ):
        assert part in msg.body


@pytest.mark.parametrize(
    "title",
    [
        "<!channel> alert",
        "Wow!here> breaking",
        "<@U1> look",
        "<!subteam^S1>",
        "<https://evil|bank>",
    ],
)
def test_feed_text_cannot_become_slack_markup(title: str) -> None:
    """No raw angle bracket from a feed reaches a markdown channel, so no mention or link."""
    msg = render(_alert(title=title, summary=title, source=title), MARKDOWN)
    assert not re.search(r"[<>]", msg.title + msg.body)


def test_feed_url_cannot_close_or_disguise_a_slack_link() -> None:
    """Angle brackets and pipes in a feed URL are percent-encoded."""
    msg = render(_alert(url="https://x.test/a>b|<!channel>"), MARKDOWN)
    assert "https://x.test/a%3Eb%7C%3C!channel%3E" in msg.body


@pytest.mark.parametrize("breaker", ["\r\nBcc: victim@example.com", "\u2028Bcc: v", "\x85Bcc: v"])
def test_title_is_one_line(breaker: str) -> None:
    """Line breaks of every kind in a feed title never reach a subject line."""
    msg = render(_alert(title="Breaking" + breaker), TEXT)
    assert "\n" not in msg.title and "\r" not in msg.title
    assert "\u2028" not in msg.title and "\x85" not in msg.title


def test_long_summary_is_cut_but_the_link_is_kept() -> None:
    """A huge summary is trimmed; the link survives."""
    msg = render(_alert(summary="word " * 5000), TEXT)
    assert len(msg.body) < 1000
    assert "https://en.yna.co.kr/view/AEN1" in msg.body


def test_unknown_publication_time_is_said() -> None:
    """An undated entry says so rather than inventing a time."""
    assert "Published: unknown" in render(_alert(published=None), TEXT).body


@pytest.mark.parametrize("body_format", [TEXT, MARKDOWN])
def test_alert_says_why_in_one_line(body_format: str) -> None:
    """The hits of a match become one Why line: field and snippet, markup made inert."""
    hits = (
        Hit(clause="@dprk (DPRK)", field="title", snippet="«DPRK» fires <@here> missile"),
        Hit(clause="launch*", field="summary", snippet="after the «launch»\nof"),
    )
    msg = render(_alert(hits=hits), body_format)
    [why] = [line for line in msg.body.splitlines() if line.startswith("Why: ")]
    lit = "«{}»" if body_format == TEXT else "**{}**"
    assert f"title: {lit.format('DPRK')} fires" in why
    assert f"summary: after the {lit.format('launch')} of" in why
    assert ("<@here>" in why) is (body_format == TEXT)
    assert "Why:" not in render(_alert(), body_format).body


@pytest.mark.parametrize("body_format", [TEXT, MARKDOWN])
def test_thirty_outlets_are_named_ten_then_counted(body_format: str) -> None:
    """A story carried by thirty outlets names ten of the others and counts the rest; its
    follow-up title and first line say how many carry it now."""
    also = tuple(f"outlet{n}" for n in range(1, 30))
    first = render(_alert(also_reported_by=also), body_format)
    assert "Also reported by: outlet1, outlet2," in first.body
    assert "outlet10 and 19 more" in first.body and "outlet11" not in first.body
    follow = render(_alert(also_reported_by=also, follow_up=True), body_format)
    assert (
        follow.title
        == "[nk-missile-tests] Now reported by 30 outlets: North Korea launches missile"
    )
    assert "Now reported by 30 outlets: yonhap, outlet1," in follow.body
    assert "outlet9 and 20 more" in follow.body and "Also reported by" not in follow.body
