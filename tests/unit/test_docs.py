"""The README is executable: its query examples hold and every command is documented."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from monitor.cli import app
from monitor.config import load_settings
from monitor.core.model import Article
from monitor.core.query import Matcher, compile_query

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _examples() -> list[tuple[str, str, str]]:
    block = README.split("<!-- query-examples -->")[1].split("<!-- /query-examples -->")[0]
    rows = []
    for line in block.strip().splitlines()[2:]:
        query, yes, no = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows.append((query.strip("`"), yes, no))
    return rows


def test_readme_has_query_examples() -> None:
    """The example table is there and not empty."""
    assert len(_examples()) >= 5


@cache
def _terms() -> dict[str, tuple[str, ...]]:
    return load_settings(ROOT / "config" / "monitor.yaml").terms


def _matches(query: str, cell: str) -> bool:
    """Whether the query matches the article a README cell describes."""
    fields: dict[str, str] = {"title": "", "summary": "", "source": "s"}
    for i, part in enumerate(cell.split(" · ")):
        name, sep, value = part.partition(": ")
        if i == 0 or not sep:
            fields["title"] = part
        else:
            fields[name] = value
    tags = tuple(t.strip() for t in fields.pop("tags", "").split(",") if t.strip())
    article = Article(key="k", url=fields.pop("url", None), **fields)
    matcher = Matcher([("w", compile_query(query, _terms()))], tags={article.source: tags})
    return bool(matcher.match(article))


@pytest.mark.parametrize(("query", "matching", "not_matching"), _examples())
def test_readme_query_examples_hold(query: str, matching: str, not_matching: str) -> None:
    """Each README query matches its example and not its counter-example."""
    assert _matches(query, matching)
    assert not _matches(query, not_matching)


def test_every_command_is_in_the_readme() -> None:
    """Each CLI command appears in the README's command table."""
    names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    assert names
    for name in names:
        assert re.search(rf"`newsmonitor {name}\b", README), name
