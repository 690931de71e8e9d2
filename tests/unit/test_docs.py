"""The README is executable: its query examples hold and every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.cli import app
from monitor.config import load_settings
from monitor.model import Article
from monitor.query import compile_query

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


@pytest.mark.parametrize(("query", "matching", "not_matching"), _examples())
def test_readme_query_examples_hold(query: str, matching: str, not_matching: str) -> None:
    """Each README query matches its example and not its counter-example."""
    terms = load_settings(ROOT / "config" / "monitor.yaml").terms
    compiled = compile_query(query, terms)

    def article(title: str) -> Article:
        return Article(source="s", key="k", url=None, title=title, summary="")

    assert compiled.evaluate(article(matching)) is not None
    assert compiled.evaluate(article(not_matching)) is None


def test_every_command_is_in_the_readme() -> None:
    """Each CLI command appears in the README's command table."""
    names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    assert names
    for name in names:
        assert re.search(rf"`newsmonitor {name}\b", README), name
