"""Trying a rule on sample text: documents from `test-rule` input, results as JSON or lines."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from monitor.core.model import Article, Match

DOCUMENT_KEYS = frozenset({"id", "title", "summary", "content", "source", "lang", "url", "tags"})


class DocumentError(ValueError):
    """A JSONL line that is not a usable document."""


def text_document(text: str) -> Article:
    """A plain text as an article: its first non-empty line is the title, the rest content."""
    title, _, rest = text.strip().partition("\n")
    return Article(source="", key="text", url=None, title=title.strip(), summary="", content=rest)


def json_document(line: str, number: int) -> tuple[Any, Article, tuple[str, ...] | None]:
    """(id, article, tags or None) from one JSONL line; the id defaults to the line number."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise DocumentError("a document must be a JSON object")
    unknown = sorted(set(value) - DOCUMENT_KEYS)
    if unknown:
        allowed = ", ".join(sorted(DOCUMENT_KEYS))
        raise DocumentError(f"unknown key {unknown[0]!r} (allowed: {allowed})")
    texts = {k: value.get(k) for k in ("title", "summary", "content", "source")}
    for key, text in [*texts.items(), ("lang", value.get("lang")), ("url", value.get("url"))]:
        if text is not None and not isinstance(text, str):
            raise DocumentError(f"{key!r} must be a string")
    tags = value.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise DocumentError("'tags' must be a list of strings")
    article = Article(
        source=texts["source"] or "",
        key=str(value.get("id", number)),
        url=value.get("url"),
        title=texts["title"] or "",
        summary=texts["summary"] or "",
        content=texts["content"] or "",
        lang=value.get("lang"),
    )
    return value.get("id", number), article, None if tags is None else tuple(tags)


def result(doc_id: Any, matches: Sequence[Match]) -> dict[str, Any]:
    """The JSON object printed for one document (`matches` holds at most the one watch)."""
    found = matches[0] if matches else None
    return {
        "id": doc_id,
        "match": found is not None,
        "terms": list(found.terms) if found else [],
        "hits": [asdict(h) for h in found.hits] if found else [],
    }


def lines(outcome: Mapping[str, Any]) -> list[str]:
    """The human-readable form: match or no match, then one line per clause that held."""
    out = ["match" if outcome["match"] else "no match"]
    out += [f"  {h['clause']}  [{h['field']}]  {h['snippet']}" for h in outcome["hits"]]
    return out
