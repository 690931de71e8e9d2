"""Pydantic models of one config file: its sources, channels and watches, and the file itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.config.blocks import (
    DeliveryModel,
    FetchModel,
    OperatorModel,
    RetentionModel,
    StoriesModel,
    WebModel,
)
from monitor.config.fields import (
    AUTO,
    STRICT,
    Count,
    Crontab,
    FullText,
    Interval,
    IntervalOrAuto,
    Language,
    QuietHours,
    RateLimit,
    SourceName,
    TermName,
    Text,
    check,
    http_url,
    parse_quiet_hours,
    parse_rate_limit,
    time_zone,
)
from monitor.config.sourcekinds import Country, Lang, PageModel, check_kind, source_url
from monitor.core.model import Channel, Example, FetchSettings, MessageTemplate, Source, Watch
from monitor.core.templating import compile_template

_DATABASE_SCHEMES = ("sqlite://", "postgresql+psycopg://")


class _Model(BaseModel):
    model_config = STRICT


class SourceModel(_Model):
    """One item of `sources:`; `interval` falls back to `fetch.interval`. It names exactly one
    of `url`, `google_news`, `bing_news`, `sitemap` and `page` (monitor.config.sourcekinds)."""

    name: SourceName
    url: Annotated[str, AfterValidator(http_url)] | None = None
    google_news: Text | None = None
    bing_news: Text | None = None
    lang: Lang | None = None
    country: Country | None = None
    sitemap: Annotated[str, AfterValidator(http_url)] | None = None
    page: PageModel | None = None
    interval: IntervalOrAuto | None = None
    tags: list[Text] = []
    allow_private_networks: bool | None = None
    full_text: FullText | None = None

    _one_kind = model_validator(mode="after")(check_kind)

    def to_domain(self, fetch: FetchSettings) -> Source:
        """The domain value, polled as `fetch` says unless it sets its own interval."""
        if self.interval is None:
            interval, adaptive = fetch.interval, fetch.adaptive
        elif self.interval == AUTO:
            interval, adaptive = fetch.min_interval, True
        else:
            interval, adaptive = self.interval, False
        kind, url = source_url(self)
        return Source(
            name=self.name,
            url=url,
            interval=interval,
            tags=tuple(self.tags),
            allow_private_networks=self.allow_private_networks,
            adaptive=adaptive,
            kind=kind,
            page=self.page.to_domain() if self.page else None,
            full_text=self.full_text,
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


def _check_secret(model: Any) -> Any:
    if model.secret is None:
        return model
    if not model.url.get_secret_value().lower().startswith("webhook+"):
        raise ValueError("secret: only webhook+https:// (or webhook+http://) channels sign posts")
    if not model.secret.get_secret_value().strip():
        raise ValueError("secret: must not be empty (leave it out to send unsigned posts)")
    return model


class ChannelModel(_Model):
    """One value of `channels:`; an empty url turns the channel off."""

    url: SecretStr
    enabled: bool = True
    template: TemplateModel | None = None
    max_length: Annotated[Count, check(lambda n: n >= 20, "must be at least 20")] | None = None
    digest: Crontab | None = None
    quiet_hours: QuietHours | None = None
    digest_empty: bool = False
    digest_mode: DigestMode = "instead"
    language: Language | None = None
    timezone: Annotated[str, AfterValidator(time_zone)] | None = None
    secret: SecretStr | None = None  # webhook+ channels: the key of X-Newsmonitor-Signature

    _options_need_digest = model_validator(mode="after")(_check_digest_options)
    _secret_needs_webhook = model_validator(mode="after")(_check_secret)

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
            quiet_hours=parse_quiet_hours(self.quiet_hours) if self.quiet_hours else None,
            digest_empty=self.digest_empty,
            digest_mode=self.digest_mode,
            language=self.language,
            timezone=self.timezone,
            secret=self.secret.get_secret_value() if self.secret else None,
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
    notify: Annotated[list[Text], check(bool, "must name at least one channel")]
    follow_up_at: Annotated[Count, check(lambda n: n >= 2, "must be at least 2")] | None = None
    examples: ExamplesModel = ExamplesModel()
    template: TemplateModel | None = None
    digest: Crontab | None = None
    burst: Interval | None = None
    rate_limit: RateLimit | None = None
    digest_empty: bool = False
    digest_mode: DigestMode = "instead"
    stories: Literal["events", "copies", "off"] | None = None

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
            rate_limit=parse_rate_limit(self.rate_limit) if self.rate_limit else None,
            digest_empty=self.digest_empty,
            digest_mode=self.digest_mode,
            stories=self.stories,
        )


class IncludedFile(_Model):
    """A file named by `include:`: definitions only."""

    sources: list[SourceModel] = []
    terms: dict[TermName, Annotated[list[Text], check(bool, "must not be empty")]] = {}
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
    web: WebModel = WebModel()

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(_DATABASE_SCHEMES):
            # The URL may hold a password, so it is not repeated here.
            raise ValueError("must be a sqlite:// or postgresql+psycopg:// URL")
        return value

    @field_validator(
        "include", "fetch", "delivery", "stories", "retention", "operator", "web", mode="before"
    )
    @classmethod
    def _null_block(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return [] if info.field_name == "include" else {}
        return value
