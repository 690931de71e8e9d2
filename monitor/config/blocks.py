"""Models of the main file's settings blocks: fetch, delivery, stories, retention, operator."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    field_validator,
    model_validator,
)

from monitor.config.fields import (
    AUTO,
    STRICT,
    Count,
    Duration,
    FullText,
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
    WebSettings,
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
    full_text: FullText = "auto"
    full_text_min_words: Annotated[Count, check(lambda n: n >= 0, "must not be negative")] = (
        _FETCH.full_text_min_words
    )
    full_text_wait: Duration = _FETCH.full_text_wait
    page_max_bytes: Size = _FETCH.page_max_bytes
    obey_robots: bool = _FETCH.obey_robots

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


class WebModel(_Model):
    """The `web:` block: `listen: "HOST:PORT"` or `off`; a token, required off loopback."""

    listen: Text = "127.0.0.1:8765"
    token: str = ""  # empty: no login, loopback only

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        if value != "off":
            _split_listen(value)
        return value

    @model_validator(mode="after")
    def _token_off_loopback(self) -> WebModel:
        host = None if self.listen == "off" else _split_listen(self.listen)[0]
        if host is not None and not _loopback(host) and not self.token:
            raise ValueError("listen is not a loopback address, so web.token must be set")
        return self

    def to_domain(self) -> WebSettings:
        """The domain value."""
        if self.listen == "off":
            return WebSettings(host=None, token=self.token)
        host, port = _split_listen(self.listen)
        return WebSettings(host=host, port=port, token=self.token)


def _split_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError('must be "HOST:PORT" (e.g. "127.0.0.1:8765") or off')
    return host, int(port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
