"""The delivery examples in docs/delivery.md are real config: each one loads."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from monitor.config import load_settings
from monitor.core.model import Alert, Settings
from monitor.notify.channels import ChannelSet
from monitor.notify.pacing import Pacer

ROOT = Path(__file__).resolve().parents[2]
DELIVERY = (ROOT / "docs" / "delivery.md").read_text()


def _yaml_after(heading: str) -> str:
    section = DELIVERY.split(heading, 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None, heading
    return match.group(1)


def _load(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "monitor.yaml"
    config.write_text("database: sqlite:///x.db\n" + text)
    return load_settings(config)


def test_operator_example_loads_and_keeps_notices_off_alert_channels(tmp_path: Path) -> None:
    """The operator block in docs/delivery.md is valid config, sending notices to a console
    channel of their own."""
    settings = _load(tmp_path, _yaml_after("## Operator notices"))
    assert settings.operator.channels == ("ops",)
    assert [(c.name, c.url) for c in settings.channels] == [("ops", "console://")]
    assert (settings.operator.channel_failures, settings.operator.source_failures) == (5, 5)


def test_template_example_renders(tmp_path: Path) -> None:
    """The template example loads and renders the way docs/delivery.md describes."""
    settings = _load(tmp_path, _yaml_after("## Messages and templates"))
    [console] = settings.channels
    [watch] = settings.watches
    alert = Alert(
        watch="trade",
        terms=("tariff*",),
        source="wire",
        title="Tariffs cut",
        summary="",
        url="https://news.example/1",
        published=None,
    )
    message = ChannelSet([console]).compose("console", alert, watch.template)
    assert message.title == "trade: Tariffs cut"
    assert message.body == "Tariffs cut (wire, unknown)\nWhy: tariff*\nhttps://news.example/1"


def test_pacing_example_loads(tmp_path: Path) -> None:
    """The digests-and-no-floods example is valid config with the values it describes."""
    settings = _load(tmp_path, _yaml_after("## Digests and no floods"))
    [console] = settings.channels
    [watch, weekly] = settings.watches
    assert settings.delivery.timezone == "Europe/Berlin"
    assert console.quiet_hours is not None
    assert (watch.burst, watch.rate_limit) == (timedelta(minutes=10), (10, timedelta(hours=1)))
    assert (weekly.digest, weekly.digest_mode, weekly.digest_empty) == (
        "0 8 * * 1",
        "besides",
        True,
    )
    pacer = Pacer.of(settings)
    assert pacer.besides("korea-weekly", "console") and not pacer.besides("trade", "console")


def test_shipped_slack_channel_marks_follow_ups_and_sends_a_round_up_besides() -> None:
    """The shipped team-slack channel titles a follow-up as one and takes a weekday
    round-up besides its instant alerts."""
    settings = load_settings(ROOT / "config" / "monitor.yaml")
    [slack] = [c for c in settings.channels if c.name == "team-slack"]
    assert (slack.digest, slack.digest_mode) == ("0 9 * * 1-5", "besides")
    on = replace(slack, url="slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", enabled=True)
    alert = Alert(
        watch="korea-china-trade",
        terms=("tariff*",),
        source="yonhap",
        title="Tariffs cut",
        summary="",
        url=None,
        published=None,
        also_reported_by=("kbs", "bbc-world"),
    )
    channels = ChannelSet([on])
    assert channels.compose("team-slack", alert).title == "[korea-china-trade] Tariffs cut (yonhap)"
    assert (
        channels.compose("team-slack", replace(alert, follow_up=True)).title
        == "[korea-china-trade] Now reported by 3 outlets: Tariffs cut (yonhap)"
    )
