"""Message templates from the config: checked at load, layered watch > channel > default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.app.delivery import Deliverer
from monitor.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.model import Channel, DeliverySettings
from monitor.core.render import TEXT, render
from monitor.notify.channels import ChannelSet
from monitor.store.repository import Store
from tests.support.outbox import Clock, seed
from tests.support.sinks import WebhookSink

pytestmark = pytest.mark.usefixtures("no_pacing")
HEAD = "database: sqlite:///x.db\n"


def _problems(tmp_path: Path, text: str) -> list[str]:
    config = tmp_path / "monitor.yaml"
    config.write_text(HEAD + text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    return [p.removeprefix(f"{config}:") for p in caught.value.problems]


def test_a_template_syntax_error_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    """A broken template stops the load, naming the file line and the template line."""
    problems = _problems(
        tmp_path,
        "channels:\n  hook:\n    url: 'json://127.0.0.1:9/a'\n    template:\n"
        "      body: |\n        {{ title }}\n        {{ url }\n",
    )
    assert len(problems) == 1
    assert problems[0].startswith("6: channels.hook.template.body: template line 2: ")


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ title.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_template_injection_is_refused_when_the_config_loads(tmp_path: Path, body: str) -> None:
    """Reaching into Python internals from a template is a config error, not code run."""
    problems = _problems(
        tmp_path,
        "channels:\n  hook:\n    url: 'json://127.0.0.1:9/a'\n"
        f'    template: {{body: "{body}"}}\n',
    )
    assert len(problems) == 1
    assert problems[0].startswith("5: channels.hook.template.body: ")
    assert "SecurityError" in problems[0] or "UndefinedError" in problems[0]


def test_a_misspelt_name_is_a_config_error(tmp_path: Path) -> None:
    """`{{ titel }}` fails at load rather than sending an empty message."""
    problems = _problems(
        tmp_path,
        "channels: {hook: {url: 'json://127.0.0.1:9/a'}}\nwatches:\n"
        "  - {name: w, query: trade, notify: [hook], template: {title: '{{ titel }}'}}\n",
    )
    assert problems == ["4: watches.0.template.title: UndefinedError: 'titel' is undefined"]


def test_an_unchanged_config_with_templates_loads_equal(tmp_path: Path) -> None:
    """A reload compares the new config with the one in force: templates of the same source
    are equal, so a SIGHUP with nothing edited logs "nothing changed" and rebuilds nothing."""
    config = tmp_path / "monitor.yaml"
    config.write_text(
        HEAD
        + "channels: {hook: {url: 'json://127.0.0.1:9/a', template: {title: 'T {{ title }}'}}}\n"
        "watches:\n  - {name: w, query: trade, notify: [hook], template: {body: '{{ url }}'}}\n"
    )
    before = load_settings(config)
    assert load_settings(config) == before
    config.write_text(config.read_text().replace("{{ url }}", "{{ url }}!"))
    assert load_settings(config) != before


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store.open(sqlite_url)
    yield s
    s.close()


async def test_watch_template_beats_channel_template_beats_default(
    tmp_path: Path, store: Store, webhook_sink: WebhookSink
) -> None:
    """The watch's body wins over the channel's, whose title still applies; text is escaped."""
    config = tmp_path / "monitor.yaml"
    config.write_text(
        HEAD + f"channels:\n  hook:\n    url: '{webhook_sink.json_url()}'\n"
        "    template: {title: 'NEWS {{ watch }}: {{ title }}', body: 'channel body'}\n"
        "watches:\n  - name: w\n    query: trade\n    notify: [hook]\n"
        "    template: {body: 'Why: {{ terms | join(\" + \") }} -> {{ url }}'}\n"
    )
    settings = load_settings(config)
    seed(store, ["hook"], title="Trade <b>deal</b>")
    [watch] = settings.watches
    deliverer = Deliverer(
        store,
        ChannelSet(settings.channels),
        DeliverySettings(),
        owner="me",
        clock=Clock(),
        templates={watch.name: watch.template} if watch.template else {},
    )
    await deliverer.deliver_due()
    [post] = webhook_sink.posts
    assert post.json()["title"] == "NEWS w: Trade <b>deal</b>"
    assert post.json()["message"] == "Why: trade -> http://news.test/0"


def test_a_length_budget_cuts_the_summary_never_the_link() -> None:
    """Within a 250-character budget the long summary shrinks and the whole link stays."""
    from tests.unit.test_render import _alert

    url = "https://news.example/" + "x" * 40
    msg = render(_alert(summary="word " * 400, url=url), TEXT, max_length=250)
    assert len(msg.body) <= 250
    assert url in msg.body
    assert "word" in msg.body  # some summary kept: as much as fits


def test_a_budget_smaller_than_the_frame_still_keeps_the_link() -> None:
    """Even when the fixed lines do not fit, what is cut is text, and the link stays whole."""
    from tests.unit.test_render import _alert

    url = "https://news.example/story/1"
    msg = render(_alert(url=url), TEXT, max_length=60)
    assert len(msg.body) <= 60
    assert msg.body.endswith(url)


def test_services_without_titles_count_the_title_in_the_budget() -> None:
    """For SMS the title is sent inside the body, so the body shrinks to leave it room."""
    channels = ChannelSet(
        [
            Channel(
                name="sms",
                url="twilio://AC1234567890abcdef1234567890abcd:abcdef1234567890abcdef1234567890"
                "@15551234567/15557654321",
            )
        ]
    )
    from tests.unit.test_render import _alert

    msg = channels.compose("sms", _alert(summary="word " * 100))
    assert len(msg.title) + 1 + len(msg.body) <= 160
    assert "https://en.yna.co.kr/view/AEN1" in msg.body
