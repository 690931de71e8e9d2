"""Rules as tested code: run each watch's examples through the matcher the daemon uses."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.model import Example, Settings, Watch
from monitor.core.query import Matcher, compile_query

_SHOWN = 80


@dataclass(frozen=True, slots=True, kw_only=True)
class ExampleReport:
    """How a config's examples fared: how many ran, and a line per one that failed."""

    total: int
    failures: tuple[str, ...]


def _shown(example: Example) -> str:
    article = example.article
    text = article.title if not article.key.startswith("file:") else article.key[5:]
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


def _failure(watch: Watch, example: Example, terms: tuple[str, ...] | None) -> str | None:
    if example.match and terms is None:
        return f"{example.where}: watch {watch.name!r} should match {_shown(example)} but does not"
    if not example.match and terms is not None:
        found = ", ".join(terms) or "no positive term"
        return (
            f"{example.where}: watch {watch.name!r} should not match {_shown(example)} "
            f"but does (found: {found})"
        )
    return None


def check_examples(settings: Settings) -> ExampleReport:
    """Every watch's examples against its query, in config order."""
    total = 0
    failures: list[str] = []
    for watch in settings.watches:
        if not watch.examples:
            continue
        matcher = Matcher([(watch.name, compile_query(watch.query, settings.terms))])
        for example in watch.examples:
            total += 1
            found = matcher.match(example.article)
            failure = _failure(watch, example, found[0].terms if found else None)
            if failure:
                failures.append(failure)
    return ExampleReport(total=total, failures=tuple(failures))
