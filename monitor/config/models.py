"""Pydantic models of one config file, and the duration and size parsers they use."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.core import schedule
from monitor.core.crontab import cron
from monitor.core.egress import never_allowed
from monitor.core.model import (
    Channel,
    DeliverySettings,
    Example,
    FetchSettings,
    MessageTemplate,
    OperatorSettings,
    RetentionSettings,
    Source,
    StorySettings,
    Watch,
)
from monitor.core.templating import compile_template

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?\s*[dhms]\s*)+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?", re.IGNORECASE)
_SIZE_FACTOR = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
TERM_NAME = re.compile(r"[a-z0-9_]+")
_DATABASE_SCHEMES = ("sqlite://", "postgresql+psycopg://")


def parse_duration(text: str | int | float) -> timedelta:
    """Read "90s", "10m", "2h", "7d", "1h30m" or a bare number of seconds; raise ValueError."""
    hint = "use e.g. 90s, 10m, 2h, 7d, 1h30m or a number of seconds"
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f"invalid duration: {hint}")
    if isinstance(text, str):
        spec = text.strip()
        if _NUMBER.fullmatch(spec):
            seconds: float = float(spec)
        elif _DURATION.fullmatch(spec):
            parts = _DURATION_PART.findall(spec)
            order = [list(_UNIT_SECONDS).index(unit) for _, unit in parts]
            if order != sorted(set(order)):
                raise ValueError(f"invalid duration {text!r}: give each unit once, largest first")
            seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
        else:
            raise ValueError(f"invalid duration {text!r}: {hint}")
    else:
        seconds = text
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {text!r}: must be a finite number, not negative")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too long") from None


def parse_size(text: str | int) -> int:
    """Read "10MB", "512KB", "1MiB", "1.5 MB" or a bare number of bytes; raise ValueError."""
    # KB/MB/GB mean powers of 1024, as they do in most config files (and in FetchSettings).
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError("invalid size: use e.g. 512KB, 10MB, 1.5 MiB or a number of bytes")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"invalid size {text!r}: must not be negative")
        return text
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid size {text!r}: use e.g. 512KB, 10MB, 1.5 MiB or a number of bytes"
        )
    number, unit = match.groups()
    factor = _SIZE_FACTOR[unit.lower()] if unit else 1
    return round(float(number) * factor)


def _check(test: Callable[[Any], bool], message: str) -> AfterValidator:
    def validate(value: Any) -> Any:
        if not test(value):
            raise ValueError(message)
        return value

    return AfterValidator(validate)


def _not_bool(value: Any) -> Any:
    # pydantic reads true as 1 in lax mode; a count written as a boolean is a mistake.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


def _network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
    if never_allowed(network):
        raise ValueError(
            f"{network} overlaps link-local, cloud metadata or unspecified addresses, "
            "which are never allowed"
        )
    return str(network)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"unknown time zone {name!r} (use e.g. UTC, Europe/Berlin)") from None
    return name


def _crontab(spec: str) -> str:
    try:
        cron(spec)
    except ValueError as exc:
        raise ValueError(
            f'not a crontab schedule ("minute hour day month weekday"): {exc}'
        ) from None
    return spec


def _quiet_hours(spec: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    except ValueError:
        raise ValueError('use "HH:MM-HH:MM", e.g. "22:00-07:00"') from None
    if start == end:
        raise ValueError("start and end are the same time")
    return start, end


def _rate_limit(spec: str) -> tuple[int, timedelta]:
    count, _, per = spec.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or not per:
        raise ValueError('use "N/duration", e.g. "5/1h"')
    return int(count), parse_duration(per.strip())


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _at_least_floor(value: timedelta) -> timedelta:
    # Read at validation time, so tests can lower the floor for their local servers.
    floor = schedule.INTERVAL_FLOOR
    if value < floor:
        raise ValueError(f"must be at least {floor.total_seconds():g}s")
    return value


# `interval: auto` as a duration no text can spell (durations are never negative), so that
# errors name the key alone rather than each member of a union.
AUTO = timedelta(microseconds=-1)


def _duration_or_auto(value: Any) -> timedelta:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return AUTO
    return parse_duration(value)


def _auto_or_floor(value: timedelta) -> timedelta:
    return value if value == AUTO else _at_least_floor(value)


Interval = Annotated[Duration, AfterValidator(_at_least_floor)]
IntervalOrAuto = Annotated[
    timedelta, BeforeValidator(_duration_or_auto), AfterValidator(_auto_or_floor)
]
Timeout = Annotated[Duration, _check(lambda d: d > timedelta(0), "must be greater than 0")]
Size = Annotated[
    int, BeforeValidator(parse_size), _check(lambda n: n > 0, "must be greater than 0")
]
Count = Annotated[int, BeforeValidator(_not_bool)]
Text = Annotated[str, _check(lambda s: s.strip() != "", "must not be empty")]
SourceName = Annotated[
    str,
    _check(lambda s: _SOURCE_NAME.fullmatch(s) is not None, "must match [a-z0-9][a-z0-9_.-]*"),
]
TermName = Annotated[
    str,
    _check(lambda s: TERM_NAME.fullmatch(s) is not None, "term list names must match [a-z0-9_]+"),
]
Network = Annotated[str, AfterValidator(_network)]
Crontab = Annotated[str, AfterValidator(_crontab)]
# Checked as read; to_domain turns the text into values.
QuietHours = Annotated[str, AfterValidator(lambda s: _quiet_hours(s) and s)]
RateLimit = Annotated[str, AfterValidator(lambda s: _rate_limit(s) and s)]

_FETCH = FetchSettings()
_DELIVERY = DeliverySettings()
_STORIES = StorySettings()
_OPERATOR = OperatorSettings()


def _not_below(other: str) -> Callable[[Any, timedelta, ValidationInfo], timedelta]:
    """A field validator: the value must be at least the (earlier) field `other`."""

    def validate(cls: Any, value: timedelta, info: ValidationInfo) -> timedelta:
        low = info.data.get(other)
        if low is not None and value < low:
            raise ValueError(f"must be at least {other}")
        return value

    return classmethod(validate)  # type: ignore[return-value]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchModel(_Model):
    """The `fetch:` block."""

    interval: IntervalOrAuto = _FETCH.interval
    timeout: Timeout = _FETCH.timeout
    max_bytes: Size = _FETCH.max_bytes
    max_age: Duration = _FETCH.max_age
    max_redirects: Annotated[Count, _check(lambda n: n >= 0, "must not be negative")] = (
        _FETCH.max_redirects
    )
    concurrency: Annotated[Count, _check(lambda n: n >= 1, "must be at least 1")] = (
        _FETCH.concurrency
    )
    user_agent: Text = _FETCH.user_agent
    allow_private_networks: bool = _FETCH.allow_private_networks
    allow_addresses: list[Network] = list(_FETCH.allow_addresses)
    trust_env: bool = _FETCH.trust_env
    max_entries: Annotated[Count, _check(lambda n: n >= 1, "must be at least 1")] = (
        _FETCH.max_entries
    )
    parse_timeout: Timeout = _FETCH.parse_timeout
    parse_workers: Annotated[Count, _check(lambda n: 1 <= n <= 64, "must be from 1 to 64")] = (
        _FETCH.parse_workers
    )
    min_interval: Interval = _FETCH.min_interval
    max_interval: Interval = _FETCH.max_interval
    per_host: Annotated[Count, _check(lambda n: n >= 1, "must be at least 1")] = _FETCH.per_host

    _at_least_min = field_validator("max_interval")(_not_below("min_interval"))

    def to_domain(self) -> FetchSettings:
        """The domain value; `interval: auto` starts at min_interval and adapts."""
        adaptive = self.interval == AUTO
        interval = self.min_interval if adaptive else self.interval
        values = {**dict(self), "interval": interval, "adaptive": adaptive}
        return FetchSettings(**{**values, "allow_addresses": tuple(self.allow_addresses)})


class DeliveryModel(_Model):
    """The `delivery:` block."""

    max_attempts: Annotated[Count, _check(lambda n: n >= 1, "must be at least 1")] = (
        _DELIVERY.max_attempts
    )
    retry_base: Timeout = _DELIVERY.retry_base
    retry_max: Timeout = _DELIVERY.retry_max
    timeout: Timeout = _DELIVERY.timeout
    timezone: Annotated[str, AfterValidator(_zone)] = _DELIVERY.timezone

    _at_least_base = field_validator("retry_max")(_not_below("retry_base"))

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
    channel_failures: Annotated[Count, _check(lambda n: n >= 0, "must not be negative")] = (
        _OPERATOR.channel_failures
    )
    source_failures: Annotated[Count, _check(lambda n: n >= 0, "must not be negative")] = (
        _OPERATOR.source_failures
    )
    source_silence: Annotated[
        float, BeforeValidator(_not_bool), _check(lambda n: n >= 0, "must not be negative")
    ] = _OPERATOR.source_silence

    def to_domain(self) -> OperatorSettings:
        """The domain value."""
        return OperatorSettings(
            channels=tuple(self.channels),
            channel_failures=self.channel_failures,
            source_failures=self.source_failures,
            source_silence=self.source_silence,
        )


class SourceModel(_Model):
    """One item of `sources:`; `interval` falls back to `fetch.interval`."""

    name: SourceName
    url: Annotated[str, AfterValidator(_http_url)]
    interval: IntervalOrAuto | None = None
    tags: list[Text] = []
    allow_private_networks: bool | None = None

    def to_domain(self, fetch: FetchSettings) -> Source:
        """The domain value, polled as `fetch` says unless it sets its own interval."""
        if self.interval is None:
            interval, adaptive = fetch.interval, fetch.adaptive
        elif self.interval == AUTO:
            interval, adaptive = fetch.min_interval, True
        else:
            interval, adaptive = self.interval, False
        return Source(
            name=self.name,
            url=self.url,
            interval=interval,
            tags=tuple(self.tags),
            allow_private_networks=self.allow_private_networks,
            adaptive=adaptive,
        )


def _template(source: str) -> str:
    compile_template(source)  # raises TemplateProblem, a ValueError, with the template's line
    return source


TemplateSource = Annotated[str, AfterValidator(_template)]


class TemplateModel(_Model):
    """A `template:` block: Jinja2 title and body templates, checked when the config loads."""

    title: TemplateSource | None = None
    body: TemplateSource | None = None

    def to_domain(self) -> MessageTemplate:
        """The compiled templates."""
        return MessageTemplate(
            title=compile_template(self.title) if self.title else None,
            body=compile_template(self.body) if self.body else None,
        )


DigestMode = Literal["instead", "besides"]


def _check_digest_options(model: Any) -> Any:
    if model.digest_empty and model.digest is None:
        raise ValueError("digest_empty needs a digest schedule")
    if model.digest_mode == "besides" and model.digest is None:
        raise ValueError("digest_mode besides needs a digest schedule")
    return model


class ChannelModel(_Model):
    """One value of `channels:`; an empty url turns the channel off."""

    url: SecretStr
    enabled: bool = True
    template: TemplateModel | None = None
    max_length: Annotated[Count, _check(lambda n: n >= 20, "must be at least 20")] | None = None
    digest: Crontab | None = None
    quiet_hours: QuietHours | None = None
    digest_empty: bool = False
    digest_mode: DigestMode = "instead"

    _options_need_digest = model_validator(mode="after")(_check_digest_options)

    @property
    def active(self) -> bool:
        """Whether alerts are sent to this channel."""
        return self.enabled and self.url.get_secret_value().strip() != ""

    def to_domain(self, name: str) -> Channel:
        """The domain value, holding the url in plain text and off when the url is empty."""
        return Channel(
            name=name,
            url=self.url.get_secret_value(),
            enabled=self.active,
            template=self.template.to_domain() if self.template else None,
            max_length=self.max_length,
            digest=self.digest,
            quiet_hours=_quiet_hours(self.quiet_hours) if self.quiet_hours else None,
            digest_empty=self.digest_empty,
            digest_mode=self.digest_mode,
        )


class ExampleArticleModel(_Model):
    """An example: a headline, a `file` (first line the title, the rest the summary), or an
    article's fields written out."""

    file: Text | None = None
    title: str = ""
    summary: str = ""
    content: str = ""
    lang: str | None = None

    @model_validator(mode="after")
    def _file_or_fields(self) -> ExampleArticleModel:
        fields = (self.title, self.summary, self.content, self.lang)
        if self.file is not None and any(fields):
            raise ValueError("give either file or the article's fields, not both")
        if self.file is None and not any(text.strip() for text in fields[:3] if text):
            raise ValueError("an example needs a text, a file or a title")
        return self


def _headline(value: Any) -> Any:
    return {"title": value} if isinstance(value, str) else value


ExampleItem = Annotated[ExampleArticleModel, BeforeValidator(_headline)]


class ExamplesModel(_Model):
    """A watch's `examples:` block: articles it must match, and must not."""

    match: list[ExampleItem] = []
    no_match: list[ExampleItem] = []


class WatchModel(_Model):
    """One item of `watches:`."""

    name: Text
    query: Text
    notify: Annotated[list[Text], _check(bool, "must name at least one channel")]
    follow_up_at: Annotated[Count, _check(lambda n: n >= 2, "must be at least 2")] | None = None
    examples: ExamplesModel = ExamplesModel()
    template: TemplateModel | None = None
    digest: Crontab | None = None
    burst: Interval | None = None
    rate_limit: RateLimit | None = None
    digest_empty: bool = False
    digest_mode: DigestMode = "instead"

    _options_need_digest = model_validator(mode="after")(_check_digest_options)

    def to_domain(self, examples: tuple[Example, ...] = ()) -> Watch:
        """The domain value, with its examples read (the loader reads their files)."""
        return Watch(
            name=self.name,
            query=self.query,
            notify=tuple(self.notify),
            follow_up_at=self.follow_up_at,
            examples=examples,
            template=self.template.to_domain() if self.template else None,
            digest=self.digest,
            burst=self.burst,
            rate_limit=_rate_limit(self.rate_limit) if self.rate_limit else None,
            digest_empty=self.digest_empty,
            digest_mode=self.digest_mode,
        )


class IncludedFile(_Model):
    """A file named by `include:`: definitions only."""

    sources: list[SourceModel] = []
    terms: dict[TermName, Annotated[list[Text], _check(bool, "must not be empty")]] = {}
    channels: dict[str, ChannelModel] = {}
    watches: list[WatchModel] = []

    @field_validator("sources", "terms", "channels", "watches", mode="before")
    @classmethod
    def _null_section(cls, value: Any, info: ValidationInfo) -> Any:
        # A section whose entries are all commented out reads as null; treat it as empty.
        if value is None:
            return {} if info.field_name in ("terms", "channels") else []
        return value


class MainFile(IncludedFile):
    """The file given on the command line."""

    database: Text
    include: list[str] = []
    fetch: FetchModel = FetchModel()
    delivery: DeliveryModel = DeliveryModel()
    stories: StoriesModel = StoriesModel()
    retention: RetentionModel = RetentionModel()
    operator: OperatorModel = OperatorModel()

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(_DATABASE_SCHEMES):
            # The URL may hold a password, so it is not repeated here.
            raise ValueError("must be a sqlite:// or postgresql+psycopg:// URL")
        return value

    @field_validator(
        "include", "fetch", "delivery", "stories", "retention", "operator", mode="before"
    )
    @classmethod
    def _null_block(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return [] if info.field_name == "include" else {}
        return value
