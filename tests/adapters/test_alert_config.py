"""The config of alert formats: languages, webhook channels and their secrets."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from monitor.app.wiring import build
from monitor.config import load_settings
from monitor.core import phrases
from monitor.core.model import Channel
from monitor.notify import pacing
from monitor.notify.channels import ChannelSet, check_channel_url
from monitor.notify.pacing import Pacer
from tests.adapters.test_config import problems, write_main

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "alert.schema.json").read_text())


def test_a_language_without_a_catalog_is_an_error_at_its_line(tmp_path: Path) -> None:
    """`language: fr` names the file, line and the languages there are."""
    path = write_main(tmp_path, "delivery: {language: fr}\n")
    [problem] = problems(path)
    assert problem.startswith(f"{path}:4: delivery.language:") and "en, ko" in problem


def test_a_secret_on_a_channel_that_cannot_sign_is_an_error(tmp_path: Path) -> None:
    """Only webhook+ channels sign, so a secret elsewhere would be silently unused."""
    path = write_main(
        tmp_path,
        """\
          hook: {url: "json://127.0.0.1:9/x", secret: abcdefgh}
        delivery: {language: en}
        """,
    )
    [problem] = problems(path, check_channel_url=check_channel_url)
    assert "channels.hook" in problem and "only webhook+" in problem


def test_webhook_urls_are_checked_without_apprise(tmp_path: Path) -> None:
    """webhook+https:// is a channel; webhook+ftp:// is not."""
    assert check_channel_url("webhook+https://hooks.example/in") is None
    assert check_channel_url("webhook+http://127.0.0.1:8080/in") is None
    assert "webhook+https://host/path" in (check_channel_url("webhook+ftp://x/y") or "")


def test_channel_language_beats_the_delivery_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each channel speaks its own language, else `delivery.language`; the secret is read
    from the environment and never shown in the channel's repr."""
    monkeypatch.setenv("HOOK_SECRET", "0123456789abcdef")
    path = write_main(
        tmp_path,
        """\
          hook: {url: "webhook+https://hooks.example/in", secret: "${HOOK_SECRET}"}
          en-desk: {url: "console://", language: en, timezone: America/New_York}
        delivery: {language: ko, timezone: Asia/Seoul}
        """,
    )
    settings = load_settings(path, check_channel_url=check_channel_url)
    hook = next(c for c in settings.channels if c.name == "hook")
    assert hook.secret == "0123456789abcdef" and "0123456789abcdef" not in repr(hook)
    channels = build(settings).channels
    assert channels.locale("console").language == "ko"
    assert channels.locale("en-desk").language == "en"
    assert str(channels.locale("en-desk").zone) == "America/New_York"
    assert str(channels.locale("console").zone) == "Asia/Seoul"
    assert channels.body_format("hook") == "json"


@pytest.mark.parametrize(
    "url",
    [
        "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
        "tgram://123456789:abcdefg_hijklmnop/12315544/",
    ],
)
def test_chat_services_get_markdown(url: str) -> None:
    """Discord and Telegram are sent markdown, which apprise turns into their own."""
    assert ChannelSet([Channel(name="chat", url=url)]).body_format("chat") == "markdown"


def test_notices_and_digest_titles_are_said_in_the_channels_language() -> None:
    """An English notice goes to a Korean channel in Korean; a webhook gets it as JSON."""
    channels = ChannelSet(
        [
            Channel(name="ops", url="console://", language="ko"),
            Channel(name="hook", url="webhook+https://hooks.example/in"),
        ]
    )
    title = phrases.CHANNEL_FAILING.format(channel="desk")
    body = phrases.CHANNEL_FAILING_BODY.format(count=5, channel="desk", error="HTTP 500")
    korean = channels.compose_notice("ops", "channel-failing", title, body)
    assert korean.title == "newsmonitor: 채널 desk 전송 실패 중"
    assert "마지막 오류: HTTP 500" in korean.body
    posted = channels.compose_notice("hook", "channel-failing", title, body)
    payload = json.loads(posted.body)
    jsonschema.validate(payload, SCHEMA)
    assert payload["notice"] == "channel-failing" and payload["title"] == title
    assert posted.delivery == payload["id"]
    heading = pacing.heading(Pacer([], []), pacing.DIGEST, "ops", "w", 2, channels.locale("ops"))
    assert heading == "newsmonitor 요약: 알림 2건"
