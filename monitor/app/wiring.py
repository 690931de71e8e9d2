"""The daemon's parts, built from `Settings` in one place: at start-up and again at each reload.

A setting reaches the poller or the deliverer through `PollConfig` or `DeliveryConfig`; a new
setting is wired by adding it here. The costly parts (HTTP clients, channels, the story index)
are kept from the previous build when the settings they depend on did not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.app.watches import build_matcher as build_matcher  # re-exported for tests
from monitor.core.model import (
    DeliverySettings,
    FetchSettings,
    MessageTemplate,
    OperatorSettings,
    Settings,
)
from monitor.core.pipeline import ArticleMatcher, followups, routes
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
            settings.channels, send_timeout=settings.delivery.timeout.total_seconds()
        )
    # A new index fills itself from the stored articles of its window when it next places an
    # article, so a new mode or window holds for all it knows.
    if previous is not None and _same(previous.settings, settings, "stories"):
        stories = previous.stories
    else:
        stories = StoryIndex(settings.stories)
    return Parts(
        settings=settings,
        poll=poll,
        delivery=delivery,
        clients=clients,
        channels=channels,
        stories=stories,
    )


def _channel_inputs(settings: Settings) -> tuple[object, ...]:
    return (settings.channels, settings.delivery.timeout)


def _same(old: Settings, new: Settings, *blocks: str) -> bool:
    return all(getattr(old, block) == getattr(new, block) for block in blocks)


def unrouted(parts: Parts) -> list[str]:
    """Warnings for watches whose matches no channel that is on will receive."""
    return [
        f"watch {watch} notifies no channel that is on: matches are kept, not sent"
        for watch, channels in parts.poll.routes.items()
        if not channels
    ]
