"""Models of the main file's settings blocks: fetch, delivery, stories, retention, operator."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, field_validator

from monitor.config.fields import (
    AUTO,
    STRICT,
    Count,
    Duration,
    Interval,
    IntervalOrAuto,
    Language,
    Network,
    Size,
    Text,
    Timeout,
    check,
    not_below,
    not_bool,
    time_zone,
)
from monitor.core.model import (
    DeliverySettings,
    FetchSettings,
    OperatorSettings,
    RetentionSettings,
    StorySettings,
)

_FETCH = FetchSettings()
_DELIVERY = DeliverySettings()
_STORIES = StorySettings()
_OPERATOR = OperatorSettings()


class _Model(BaseModel):
    model_config = STRICT


class FetchModel(_Model):
    """The `fetch:` block."""

    interval: IntervalOrAuto = _FETCH.interval
    timeout: Timeout = _FETCH.timeout
    max_bytes: Size = _FETCH.max_bytes
    max_age: Duration = _FETCH.max_age
    max_redirects: Annotated[Count, check(lambda n: n >= 0, "must not be negative")] = (
        _FETCH.max_redirects
    )
    concurrency: Annotated[Count, check(lambda n: n >= 1, "must be at least 1")] = (
        _FETCH.concurrency
    )
    user_agent: Text = _FETCH.user_agent
    allow_private_networks: bool = _FETCH.allow_private_networks
    allow_addresses: list[Network] = list(_FETCH.allow_addresses)
    trust_env: bool = _FETCH.trust_env
    max_entries: Annotated[Count, check(lambda n: n >= 1, "must be at least 1")] = (
        _FETCH.max_entries
    )
    parse_timeout: Timeout = _FETCH.parse_timeout
    parse_workers: Annotated[Count, check(lambda n: 1 <= n <= 64, "must be from 1 to 64")] = (
        _FETCH.parse_workers
    )
    min_interval: Interval = _FETCH.min_interval
    max_interval: Interval = _FETCH.max_interval
    per_host: Annotated[Count, check(lambda n: n >= 1, "must be at least 1")] = _FETCH.per_host

    _at_least_min = field_validator("max_interval")(not_below("min_interval"))

    def to_domain(self) -> FetchSettings:
        """The domain value; `interval: auto` starts at min_interval and adapts."""
        adaptive = self.interval == AUTO
        interval = self.min_interval if adaptive else self.interval
        values = {**dict(self), "interval": interval, "adaptive": adaptive}
        return FetchSettings(**{**values, "allow_addresses": tuple(self.allow_addresses)})


class DeliveryModel(_Model):
    """The `delivery:` block."""

    max_attempts: Annotated[Count, check(lambda n: n >= 1, "must be at least 1")] = (
        _DELIVERY.max_attempts
    )
    retry_base: Timeout = _DELIVERY.retry_base
    retry_max: Timeout = _DELIVERY.retry_max
    timeout: Timeout = _DELIVERY.timeout
    timezone: Annotated[str, AfterValidator(time_zone)] = _DELIVERY.timezone
    language: Language = _DELIVERY.language

    _at_least_base = field_validator("retry_max")(not_below("retry_base"))

    def to_domain(self) -> DeliverySettings:
        """The domain value."""
        return DeliverySettings(**dict(self))


class StoriesModel(_Model):
    """The `stories:` block."""

    mode: Literal["events", "copies", "off"] = "events"
    window: Timeout = _STORIES.window

    def to_domain(self) -> StorySettings:
        """The domain value."""
        return StorySettings(mode=self.mode, window=self.window)


_RETENTION = RetentionSettings()


class RetentionModel(_Model):
    """The `retention:` block; `0` keeps forever."""

    bodies: Duration = _RETENTION.bodies
    articles: Duration = _RETENTION.articles
    interval: Interval = _RETENTION.interval

    def to_domain(self) -> RetentionSettings:
        """The domain value."""
        return RetentionSettings(**dict(self))


class OperatorModel(_Model):
    """The `operator:` block: notices about the service itself."""

    channels: list[Text] = list(_OPERATOR.channels)
    channel_failures: Annotated[Count, check(lambda n: n >= 0, "must not be negative")] = (
        _OPERATOR.channel_failures
    )
    source_failures: Annotated[Count, check(lambda n: n >= 0, "must not be negative")] = (
        _OPERATOR.source_failures
    )
    source_silence: Annotated[
        float, BeforeValidator(not_bool), check(lambda n: n >= 0, "must not be negative")
    ] = _OPERATOR.source_silence

    def to_domain(self) -> OperatorSettings:
        """The domain value."""
        return OperatorSettings(
            channels=tuple(self.channels),
            channel_failures=self.channel_failures,
            source_failures=self.source_failures,
            source_silence=self.source_silence,
        )
