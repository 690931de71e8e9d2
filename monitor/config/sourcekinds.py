"""The kinds of source besides a feed URL: news-search feeds, news sitemaps and list pages.

A source names exactly one of `url`, `google_news`, `bing_news`, `sitemap` or `page`; the
search kinds become the engine's news-search feed URL here, so that the rest of the daemon polls
them as feeds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from cssselect import GenericTranslator, SelectorError
from pydantic import AfterValidator, BaseModel

from monitor.config.fields import STRICT, http_url
from monitor.core.model import PageRule

KINDS = ("url", "google_news", "bing_news", "sitemap", "page")
SEARCH_KINDS = ("google_news", "bing_news")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_TRANSLATOR = GenericTranslator()
# Google News editions are a language and a country; a bare language gets its usual country.
_HOME_COUNTRY = {"ko": "KR", "ja": "JP", "zh": "CN", "de": "DE", "fr": "FR", "es": "ES"}


def _selector(value: str) -> str:
    """The value, if it is a CSS selector, optionally followed by `@attribute`."""
    css, at, attribute = value.rpartition("@") if "@" in value else (value, "", "")
    if at and not re.fullmatch(r"[A-Za-z_:][\w:.-]*", attribute):
        raise ValueError(f"{attribute!r} after @ is not an attribute name")
    try:
        _TRANSLATOR.css_to_xpath(css.strip())
    except SelectorError as exc:
        raise ValueError(f"not a CSS selector: {exc}") from None
    if not css.strip():
        raise ValueError("not a CSS selector: empty")
    return value.strip()


Selector = Annotated[str, AfterValidator(_selector)]
Lang = Annotated[
    str,
    AfterValidator(
        lambda s: s if _LANG.fullmatch(s) else _fail("must be a language tag, e.g. en-US or ko")
    ),
]
Country = Annotated[
    str,
    AfterValidator(
        lambda s: s.upper() if _COUNTRY.fullmatch(s) else _fail("must be a country code, e.g. US")
    ),
]


def _fail(message: str) -> Any:
    raise ValueError(message)


class PageModel(BaseModel):
    """A `page:` block: the list page and the CSS selectors that read its items."""

    model_config = STRICT

    url: Annotated[str, AfterValidator(http_url)]
    item: Selector
    title: Selector
    link: Selector | None = None
    date: Selector | None = None
    summary: Selector | None = None

    def to_domain(self) -> PageRule:
        """The selectors as the page reader takes them."""
        return PageRule(
            item=self.item, title=self.title, link=self.link, date=self.date, summary=self.summary
        )


def check_kind(model: Any) -> Any:
    """The source model, if it names exactly one kind, and search options only for search."""
    given = [kind for kind in KINDS if getattr(model, kind) is not None]
    if len(given) != 1:
        named = ", ".join(given) if given else "none of them"
        raise ValueError(f"a source needs exactly one of {', '.join(KINDS)} (it has {named})")
    if given[0] not in SEARCH_KINDS and (model.lang is not None or model.country is not None):
        raise ValueError("lang and country are options of google_news and bing_news only")
    return model


def google_news_url(query: str, *, lang: str | None, country: str | None) -> str:
    """Google News' search feed for `query` in one edition (language and country)."""
    hl = lang or "en-US"
    language, _, region = hl.partition("-")
    gl = country or region.upper() or _HOME_COUNTRY.get(language.lower(), "US")
    return "https://news.google.com/rss/search?" + urlencode(
        {"q": query, "hl": hl, "gl": gl, "ceid": f"{gl}:{language}"}
    )


def bing_news_url(query: str, *, lang: str | None, country: str | None) -> str:
    """Bing News' search feed for `query`, in a language and market when given."""
    params = {"q": query, "format": "rss"}
    if lang:
        params["setlang"] = lang
    if country:
        params["cc"] = country
    return "https://www.bing.com/news/search?" + urlencode(params)


def source_url(model: Any) -> tuple[str, str]:
    """(kind, the URL polled) of a checked source model."""
    edition = {"lang": model.lang, "country": model.country}
    if model.google_news is not None:
        return "google_news", google_news_url(model.google_news, **edition)
    if model.bing_news is not None:
        return "bing_news", bing_news_url(model.bing_news, **edition)
    if model.sitemap is not None:
        return "sitemap", model.sitemap
    if model.page is not None:
        return "page", model.page.url
    return "feed", model.url
