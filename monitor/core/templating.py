"""Message templates: Jinja2 in a sandbox, compiled and tried out when the config loads.

Templates are written by the operator; the values they show come from feeds, so every value is
made harmless for the channel's format before the template sees it (angle brackets neutralised
for Slack, HTML-escaped for email, control characters dropped everywhere). The context is built
from the fields of `Alert` itself, so a field added there is available to templates at once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from monitor.core.model import Alert, Hit
from monitor.core.phrases import ENGLISH, Locale
from monitor.core.snippets import snippets

TEXT, MARKDOWN, HTML = "text", "markdown", "html"
FORMATS = (TEXT, MARKDOWN, HTML)
WHY_CHARS = 300
OUTLETS_NAMED = 10  # a story in thirty outlets names ten, then says how many more

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _SourcedTemplate(Template):
    """A template that equals another of the same source: a reload of an unchanged config
    with templates then changes nothing."""

    source: str  # set by compile_template, the only maker of templates

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SourcedTemplate) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)


_env = SandboxedEnvironment(
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False
)
_env.template_class = _SourcedTemplate


class TemplateProblem(ValueError):
    """A template that does not compile, or fails on a sample alert; `line` is in the template."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"template line {line}: {message}" if line else message)


def neutral_markup(text: str) -> str:
    # Slack reads <...> as mentions and links, even after apprise escapes them; look-alike
    # angle quotes keep the text readable and inert.
    return text.replace("<", "\u2039").replace(">", "\u203a")


_ESCAPE: dict[str, Callable[[str], str]] = {
    TEXT: lambda s: s,
    MARKDOWN: neutral_markup,
    HTML: lambda s: str(escape(s)),
}


def _url(url: str | None, fmt: str) -> str | None:
    """The link if it is http(s), encoded so that no markup can close or disguise it."""
    if not url or urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
        return None
    safe = _CONTROL.sub("", url.strip()).replace(" ", "%20")
    safe = safe.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace('"', "%22")
    return str(escape(safe)) if fmt == HTML else safe


def safe_url(url: str | None) -> str | None:
    """The link if it is http(s), with no character that could close or disguise it."""
    return _url(url, TEXT)


def _value(value: Any, clean: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return clean(_CONTROL.sub(" ", value))
    if isinstance(value, tuple | list):
        return tuple(_value(v, clean) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # e.g. a Hit: its feed-derived text is cleaned like any other field.
        return {f.name: _value(getattr(value, f.name), clean) for f in dataclasses.fields(value)}
    return value


# How each format shows a highlighted word (already made safe for the format).
_LIT: dict[str, Callable[[str], str]] = {
    TEXT: lambda word: f"«{word}»",
    MARKDOWN: lambda word: f"**{word}**",
    HTML: lambda word: f'<mark style="background:#fff0a0;color:inherit">{word}</mark>',
}


def shown_snippets(alert: Alert, fmt: str, locale: Locale = ENGLISH) -> list[dict[str, str]]:
    """The alert's snippets for `fmt`: one per field, most telling first, as {field, text}
    with the matched words highlighted the format's way and everything else made safe."""
    clean, lit = _ESCAPE[fmt], _LIT[fmt]
    out = []
    for snip in snippets(alert.hits):
        flat = _SPACE.sub(" ", snip.text)  # one for one, so the marks keep their place
        safe = dataclasses.replace(snip, text=flat)
        out.append(
            {
                "field": clean(locale.field(snip.field)),
                "text": safe.show(clean, lambda word: lit(clean(word))),
            }
        )
    return out


def alert_context(alert: Alert, fmt: str, locale: Locale = ENGLISH) -> dict[str, Any]:
    """What a template can use: every Alert field, made safe for `fmt`, plus `matched`
    (the terms joined), `snippets` (one per field, as {field, text}, matched words
    highlighted), `why` (the snippets as `field: text`, one line), `published` as text in the
    locale's zone, `url` only when it is http(s), `language` (empty when unknown), the
    story's outlets: `also` (the others, as one line), `outlets` (all, the alert's own first)
    and `outlet_count`, and `phrases`: the fixed labels in the channel's language
    (`now_reported` is that sentence filled in)."""
    clean = _ESCAPE[fmt]
    context = {f.name: _value(getattr(alert, f.name), clean) for f in dataclasses.fields(alert)}
    everyone = (context["source"], *context["also_reported_by"])
    phrases = {name: clean(text) for name, text in locale.labels().items()}
    context["phrases"] = phrases
    context["also"] = locale.names(context["also_reported_by"], OUTLETS_NAMED)
    context["outlets"] = locale.names(everyone, OUTLETS_NAMED)
    context["outlet_count"] = len(everyone)
    phrases["now_reported"] = phrases["now_reported_by"].format(
        count=len(everyone), outlets=context["outlets"]
    )
    phrases["now_reported_count"] = phrases["now_reported_count"].format(count=len(everyone))
    unnamed = len(alert.also_reported_by) - OUTLETS_NAMED
    phrases["more_outlets"] = phrases["hidden"].format(count=unnamed) if unnamed > 0 else ""
    context["matched"] = ", ".join(context["terms"]) if alert.terms else phrases["query_matched"]
    context["published"] = clean(locale.when(alert.published))
    context["url"] = _url(alert.url, fmt)
    context["language"] = context["language"] or ""
    context["snippets"] = shown_snippets(alert, fmt, locale)
    context["snippet_fields"] = tuple(s.field for s in snippets(alert.hits))
    context["why"] = _why(context["snippets"])
    context["footer"] = phrases["footer"].format(watch=context["watch"])
    return context


def _why(shown: list[dict[str, str]]) -> str:
    """The snippets as one line, `field: text | …`, as many as fit in WHY_CHARS (one at least)."""
    line = ""
    for item in shown:
        part = f"{item['field']}: {item['text']}"
        if line and len(line) + 3 + len(part) > WHY_CHARS:
            break
        line = f"{line} | {part}" if line else part
    return line


SAMPLE = Alert(
    watch="sample-watch",
    terms=("North Korea", "missile*"),
    hits=(Hit(clause="missile*", field="title", snippet="North Korea launches «missile»"),),
    source="sample-source",
    title="North Korea launches missile",
    summary="Seoul said the missile flew 600 km.",
    url="https://news.example/1",
    published=datetime(2026, 1, 1, tzinfo=UTC),
)


def compile_template(source: str) -> Template:
    """Compile a template and try it on a sample alert in every format; raise TemplateProblem.

    The sandbox refuses attribute tricks such as `''.__class__` when they run, so running the
    template now turns them, and misspelt names, into config errors rather than failed sends.
    """
    try:
        template = _env.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or "syntax error", exc.lineno) from None
    template.source = source  # type: ignore[attr-defined]
    for fmt in FORMATS:
        try:
            template.render(alert_context(SAMPLE, fmt))
        except TemplateError as exc:
            raise TemplateProblem(f"{type(exc).__name__}: {exc}") from None
    return template


# A follow-up says so first; a first alert names the outlets that carried the story since.
_FOLLOW_UP = """{% if follow_up %}{{ phrases.now_reported }}
{% endif %}"""
_ALSO = """{% if also and not follow_up %}{{ phrases.also_reported_by }}: {{ also }}
{% endif %}"""
_WHY_LINK_SUMMARY = (
    _ALSO
    + """{% if why %}{{ phrases.why }}: {{ why }}
{% endif %}
{% if url %}{{ url }}
{% endif %}
{% if summary and "summary" not in snippet_fields %}

{{ summary }}
{% endif %}"""
)
_TEXT_BODY = (
    """{{ title }}
"""
    + _FOLLOW_UP
    + """{{ phrases.source }}: {{ source }} | {{ phrases.published }}: {{ published }}
{{ phrases.matched }}: {{ matched }}
"""
    + _WHY_LINK_SUMMARY
)

# Slack shows the title apart (bold, above the body), so the body does not repeat it.
_MARKDOWN_BODY = (
    _FOLLOW_UP
    + """**{{ source }}** | {{ published }}
{{ phrases.matched }}: {{ matched }}
"""
    + _WHY_LINK_SUMMARY
)

# Inline styles only (mail clients drop <style>), no remote images; every link is also its
# own text, so the plain-text part apprise derives from it keeps the URLs.
_LINK = 'style="color:#1a4f8b"'
_SMALL = 'style="color:#666;font-size:90%;margin:0 0 10px"'
_QUOTE = 'style="margin:0 0 8px;padding-left:8px;border-left:3px solid #e0c000"'
_HTML_BODY = (
    """<div style="font-family:Arial,Helvetica,sans-serif;line-height:1.45;color:#222">
<p style="font-size:118%;margin:0 0 6px"><b>{% if url %}<a href="{{ url }}" LINK>{{ title }}</a>
{%- else %}{{ title }}{% endif %}</b></p>
<p SMALL>{{ phrases.source }}: {{ source }} · {{ published }} · {{ phrases.watch }}: {{ watch }}</p>
{% if follow_up %}<p><b>{{ phrases.now_reported }}</b></p>
{% endif %}
{% for s in snippets %}<p QUOTE><span SMALL>{{ s.field }}:</span> {{ s.text }}</p>
{% endfor %}
{% if summary and "summary" not in snippet_fields %}<p>{{ summary }}</p>
{% endif %}
<p SMALL>{{ phrases.matched }}: {{ matched }}</p>
{% if also and not follow_up %}<p SMALL>{{ phrases.also_reported_by }}:</p>
<ul SMALL>{% for name in also_reported_by[:OUTLETS_NAMED] %}<li>{{ name }}</li>{% endfor %}
{%- if phrases.more_outlets %}<li>{{ phrases.more_outlets }}</li>{% endif %}</ul>
{% endif %}
{% if url %}<p><a href="{{ url }}" LINK>{{ url }}</a></p>
{% endif %}
<p SMALL>{{ footer }}</p>
</div>""".replace("LINK", _LINK)
    .replace("SMALL", _SMALL)
    .replace("QUOTE", _QUOTE)
    .replace("OUTLETS_NAMED", str(OUTLETS_NAMED))
)

DEFAULT_TITLE = compile_template(
    "[{{ watch }}] {% if follow_up %}{{ phrases.now_reported_count }}: {% endif %}{{ title }}"
)
DEFAULT_BODIES = {
    TEXT: compile_template(_TEXT_BODY),
    MARKDOWN: compile_template(_MARKDOWN_BODY),
    HTML: compile_template(_HTML_BODY),
}
