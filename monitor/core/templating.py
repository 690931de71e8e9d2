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

TEXT, MARKDOWN, HTML = "text", "markdown", "html"
FORMATS = (TEXT, MARKDOWN, HTML)
WHY_CHARS = 300
OUTLETS_NAMED = 10  # a story in thirty outlets names ten, then says how many more

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_env = SandboxedEnvironment(
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False
)


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


def _value(value: Any, clean: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return clean(_CONTROL.sub(" ", value))
    if isinstance(value, tuple | list):
        return tuple(_value(v, clean) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # e.g. a Hit: its feed-derived text is cleaned like any other field.
        return {f.name: _value(getattr(value, f.name), clean) for f in dataclasses.fields(value)}
    return value


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _names(names: tuple[str, ...]) -> str:
    """Outlets as one line: "a, b, c", or the first ten "and 20 more"."""
    shown = ", ".join(names[:OUTLETS_NAMED])
    more = len(names) - OUTLETS_NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def alert_context(alert: Alert, fmt: str) -> dict[str, Any]:
    """What a template can use: every Alert field, made safe for `fmt`, plus `matched`
    (the terms joined), `why` (the first hits as `field: snippet`, one line), `published` as
    text, `url` only when it is http(s), and the story's outlets: `also` (the others, as one
    line), `outlets` (all, the alert's own first) and `outlet_count`."""
    clean = _ESCAPE[fmt]
    context = {f.name: _value(getattr(alert, f.name), clean) for f in dataclasses.fields(alert)}
    everyone = (context["source"], *context["also_reported_by"])
    context["also"] = _names(context["also_reported_by"])
    context["outlets"] = _names(everyone)
    context["outlet_count"] = len(everyone)
    context["matched"] = ", ".join(context["terms"]) if alert.terms else "(query matched)"
    context["published"] = (
        alert.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if alert.published
        else "unknown"
    )
    context["url"] = _url(alert.url, fmt)
    why = " | ".join(f"{h.field}: {h.snippet}" for h in alert.hits[:3])
    context["why"] = clean(_one_line(why.replace("\n", " "), WHY_CHARS))
    return context


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
    for fmt in FORMATS:
        try:
            template.render(alert_context(SAMPLE, fmt))
        except TemplateError as exc:
            raise TemplateProblem(f"{type(exc).__name__}: {exc}") from None
    return template


# A follow-up says so first; a first alert names the outlets that carried the story since.
_FOLLOW_UP = """{% if follow_up %}Now reported by {{ outlet_count }} outlets: {{ outlets }}
{% endif %}"""
_ALSO = """{% if also and not follow_up %}Also reported by: {{ also }}
{% endif %}"""
_WHY_LINK_SUMMARY = (
    _ALSO
    + """{% if why %}Why: {{ why }}
{% endif %}
{% if url %}{{ url }}
{% endif %}
{% if summary %}

{{ summary }}
{% endif %}"""
)
_TEXT_BODY = (
    """{{ title }}
"""
    + _FOLLOW_UP
    + """Source: {{ source }} | Published: {{ published }}
Matched: {{ matched }}
"""
    + _WHY_LINK_SUMMARY
)

# Slack shows the title apart (bold, above the body), so the body does not repeat it.
_MARKDOWN_BODY = (
    _FOLLOW_UP
    + """**{{ source }}** | {{ published }}
Matched: {{ matched }}
"""
    + _WHY_LINK_SUMMARY
)

# Every link is also its own text, so the plain-text part apprise derives keeps the URLs.
_HTML_BODY = """<div style="font-family:sans-serif;line-height:1.4">
<p style="font-size:110%"><b>{{ title }}</b></p>
{% if follow_up %}<p>Now reported by {{ outlet_count }} outlets: {{ outlets }}</p>
{% endif %}
<p>Source: {{ source }} | Published: {{ published }}<br>
Matched: {{ matched }}{% if also and not follow_up %}<br>
Also reported by: {{ also }}{% endif %}{% if why %}<br>
Why: {{ why }}{% endif %}</p>
{% if url %}<p><a href="{{ url }}">{{ url }}</a></p>
{% endif %}
{% if summary %}<p>{{ summary }}</p>
{% endif %}
<p style="color:#777;font-size:90%">newsmonitor watch {{ watch }}</p>
</div>"""

DEFAULT_TITLE = compile_template(
    "[{{ watch }}] {% if follow_up %}Now reported by {{ outlet_count }} outlets: {% endif %}"
    "{{ title }}"
)
DEFAULT_BODIES = {
    TEXT: compile_template(_TEXT_BODY),
    MARKDOWN: compile_template(_MARKDOWN_BODY),
    HTML: compile_template(_HTML_BODY),
}
