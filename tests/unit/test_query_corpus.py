"""Corpus of matching cases: each file in tests/corpus/matching states its intent, its watches,
and documents with the watches they must fire (checked on the index and on naive evaluation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from monitor.core.model import Article
from monitor.core.query import Matcher, NaiveMatcher, compile_query
from monitor.core.query.document import TEXT_FIELDS

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "matching"
ARTICLE_KEYS = ("title", "summary", "content", "source", "url", "lang")


def _cases() -> list[Any]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        spec = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        for doc in spec["documents"]:
            cases.append(pytest.param(spec, doc, id=f"{path.stem}:{doc['id']}"))
    return cases


def _matchers(spec: dict[str, Any]) -> tuple[Matcher, NaiveMatcher]:
    terms = spec.get("terms", {})
    watches = [(name, compile_query(q, terms)) for name, q in spec["watches"].items()]
    tags = spec.get("sources", {})
    return Matcher(watches, tags=tags), NaiveMatcher(watches, tags=tags)


def test_every_corpus_file_states_its_intent() -> None:
    """Each case file has a description, watches and documents."""
    files = sorted(CORPUS.glob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        spec = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        assert spec["description"].strip() and spec["watches"] and spec["documents"], path


@pytest.mark.parametrize(("spec", "doc"), _cases())
def test_corpus_case(spec: dict[str, Any], doc: dict[str, Any]) -> None:
    """The document fires exactly its expected watches, each with a hit explaining it."""
    fields = {k: doc[k] for k in ARTICLE_KEYS if k in doc}
    fields.setdefault("source", "test")
    article = Article(
        key=str(doc["id"]), url=fields.pop("url", None), **{"title": "", "summary": "", **fields}
    )
    indexed, naive = _matchers(spec)
    found = indexed.match(article)
    assert [m.watch for m in found] == [w for w in spec["watches"] if w in doc["expect"]]
    assert found == naive.match(article)
    for match in found:
        if "NOT" not in spec["watches"][match.watch]:
            assert match.hits, match.watch
        for hit in match.hits:
            assert "«" in hit.snippet and (hit.field in TEXT_FIELDS or ":" in hit.clause)


def test_watches_without_a_required_term_are_listed_as_unfiltered() -> None:
    """Only-NOT and only-regex watches cannot be prefiltered; the others all have anchors."""
    spec = YAML(typ="safe").load((CORPUS / "boolean.yaml").read_text(encoding="utf-8"))
    indexed, _ = _matchers(spec)
    assert indexed.unfiltered == ["not-sports", "only-regex"]
