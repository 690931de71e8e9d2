"""The daemon's parts, built from `Settings` in one place: at start-up and again at each reload.

A setting reaches the poller or the deliverer through `PollConfig` or `DeliveryConfig`; a new
setting is wired by adding it here. The costly parts (HTTP clients, channels, the story index)
are kept from the previous build when the settings they depend on did not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.app.watches import build_matcher as build_matcher  # re-exported for tests
from monitor.core.model import (
    DeliverySettings,
    FetchSettings,
    MessageTemplate,
    OperatorSettings,
    Settings,
    Source,
    StorySettings,
)
from monitor.core.pipeline import ArticleMatcher, followups, routes
from monitor.core.stories import modes
from monitor.core.stories.index import StoryIndex
from monitor.notify.channels import ChannelSet
from monitor.notify.pacing import Pacer
from monitor.sources.http import Clients


@dataclass(frozen=True, slots=True, kw_only=True)
class PollConfig:
    """What the poller reads from the config."""

    fetch: FetchSettings
    matcher: ArticleMatcher
    routes: Mapping[str, tuple[str, ...]]  # watch -> channels that are on
    followups: Mapping[str, int]
    adaptive: frozenset[str]  # sources with `interval: auto`
    operator_channels: tuple[str, ...]
    source_failures: int
    source_silence: float
    kinds: Mapping[str, Source] = field(default_factory=dict)  # sources that are not a feed URL
    story_modes: Mapping[str, str] = field(default_factory=dict)  # watch -> its own mode


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryConfig:
    """What the deliverer reads from the config."""

    settings: DeliverySettings
    operator: OperatorSettings
    templates: Mapping[str, MessageTemplate]  # per watch
    pacer: Pacer


@dataclass(frozen=True, slots=True, kw_only=True)
class Parts:
    """Everything the daemon builds from one config."""

    settings: Settings
    poll: PollConfig
    delivery: DeliveryConfig
    clients: Clients
    channels: ChannelSet
    stories: StoryIndex


def build(settings: Settings, previous: Parts | None = None) -> Parts:
    """The parts for `settings`, reusing those of `previous` whose inputs did not change."""
    operator = settings.operator
    poll = PollConfig(
        fetch=settings.fetch,
        matcher=build_matcher(settings),
        routes=routes(settings.watches, settings.channels),
        followups=followups(settings.watches),
        adaptive=frozenset(s.name for s in settings.sources if s.adaptive),
        operator_channels=operator.channels,
        source_failures=operator.source_failures,
        source_silence=operator.source_silence,
        kinds={s.name: s for s in settings.sources if s.kind != "feed"},
        story_modes=modes.watch_modes(settings.stories, settings.watches),
    )
    delivery = DeliveryConfig(
        settings=settings.delivery,
        operator=operator,
        templates={w.name: w.template for w in settings.watches if w.template},
        pacer=Pacer.of(settings),
    )
    # Polls in flight keep the old clients and sends in flight the old channels; the caller
    # closes replaced clients once their fetch deadline has passed.
    if previous is not None and _same(previous.settings, settings, "fetch", "sources"):
        clients = previous.clients
    else:
        clients = Clients(settings.fetch, settings.sources)
    if previous is not None and _channel_inputs(previous.settings) == _channel_inputs(settings):
        channels = previous.channels
    else:
        channels = ChannelSet(
            settings.channels,
            send_timeout=settings.delivery.timeout.total_seconds(),
            language=settings.delivery.language,
            timezone=settings.delivery.timezone,
        )
    # A new index fills itself from the stored articles of its window when it next places an
    # article, so a new mode or window holds for all it knows.
    indexed = modes.index_settings(settings.stories, settings.watches)
    if previous is not None and _index_settings(previous.settings) == indexed:
        stories = previous.stories
    else:
        stories = StoryIndex(indexed)
    return Parts(
        settings=settings,
        poll=poll,
        delivery=delivery,
        clients=clients,
        channels=channels,
        stories=stories,
    )


def _index_settings(settings: Settings) -> StorySettings:
    return modes.index_settings(settings.stories, settings.watches)


def _channel_inputs(settings: Settings) -> tuple[object, ...]:
    delivery = settings.delivery
    return (settings.channels, delivery.timeout, delivery.language, delivery.timezone)


def _same(old: Settings, new: Settings, *blocks: str) -> bool:
    return all(getattr(old, block) == getattr(new, block) for block in blocks)


def unrouted(parts: Parts) -> list[str]:
    """Warnings for watches whose matches no channel that is on will receive."""
    return [
        f"watch {watch} notifies no channel that is on: matches are kept, not sent"
        for watch, channels in parts.poll.routes.items()
        if not channels
    ]
