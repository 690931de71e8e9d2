"""The docs are executable: the query examples hold, every command is documented, the template
variables are the real ones, and every relative link leads to a file."""

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
QUERY_LANGUAGE = (ROOT / "docs" / "query-language.md").read_text()
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def _examples() -> list[tuple[str, str, str]]:
    block = QUERY_LANGUAGE.split("<!-- query-examples -->")[1].split("<!-- /query-examples -->")[0]
    rows = []
    for line in block.strip().splitlines()[2:]:
        query, yes, no = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows.append((query.strip("`"), yes, no))
    return rows


def test_query_language_has_query_examples() -> None:
    """The example table is there and not empty."""
    assert len(_examples()) >= 5


@cache
def _terms() -> dict[str, tuple[str, ...]]:
    return load_settings(ROOT / "config" / "monitor.yaml").terms


def _matches(query: str, cell: str) -> bool:
    """Whether the query matches the article a table cell describes."""
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
def test_query_language_examples_hold(query: str, matching: str, not_matching: str) -> None:
    """Each documented query matches its example and not its counter-example."""
    assert _matches(query, matching)
    assert not _matches(query, not_matching)


def test_every_command_is_in_the_command_table() -> None:
    """Each CLI command has a row in the command table of docs/operations.md, and every row
    names a real command."""
    names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    assert names
    section = OPERATIONS.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `newsmonitor ([a-z-]+)", section, re.M)
    for name in names:
        assert name in rows, name
    assert set(rows) == set(names)


DOCS = sorted((ROOT / "docs").glob("*.md"))
# Written alongside these pages by another piece of work; checked like any other once it exists.


def test_the_documented_template_variables_are_the_real_ones() -> None:
    """The variable list in docs/delivery.md names exactly what a template can use."""
    from monitor.core.templating import SAMPLE, alert_context

    text = (ROOT / "docs" / "delivery.md").read_text()
    block = text.split("<!-- template-variables -->")[1].split("<!-- /template-variables -->")[0]
    documented: list[str] = []
    for line in block.splitlines():
        if line.startswith("- "):
            head = line[2:].split(": ", 1)[0]
            documented += re.findall(r"`([a-z_]+)`", head)
    assert len(documented) == len(set(documented))
    assert set(documented) == set(alert_context(SAMPLE, "text"))


def test_every_relative_link_leads_to_a_file_and_heading() -> None:
    """Each relative link in README.md and docs/*.md names a file that exists and, when it has
    a #fragment, a heading of that file."""
    checked = 0
    for page in [ROOT / "README.md", *DOCS]:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            checked += 1
            assert file.is_file(), f"{page.name}: {target}"
            if fragment:
                assert fragment in _anchors(file), f"{page.name}: {target}"
    assert checked >= 20


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_every_docs_page_is_linked_from_the_readme() -> None:
    """A newcomer finds every docs/ page (and ARCHITECTURE.md) from the README."""
    for page in [*DOCS, ROOT / "ARCHITECTURE.md"]:
        assert f"]({page.relative_to(ROOT)})" in README, page.name


def test_sizes_are_documented_as_they_are_read() -> None:
    """docs/configuration.md says that 10MB is 10 MiB, which is how the config reads it."""
    from monitor.config import parse_size

    text = " ".join((ROOT / "docs" / "configuration.md").read_text().split())
    assert "`10MB` is 10 MiB, 10,485,760 bytes" in text
    assert parse_size("10MB") == parse_size("10MiB") == 10_485_760
    assert parse_size("512KB") == 512 * 1024


def test_postgres_is_installed_from_the_checkout() -> None:
    """The PostgreSQL driver is installed from this checkout with an extra that exists."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    everything = "\n".join(p.read_text() for p in [ROOT / "README.md", *DOCS])
    assert "pip install 'newsmonitor[" not in everything
    pip = r"\.venv/bin/pip install -c constraints\.txt -e '\.\[(\w+)\]'"
    commands = re.findall(pip, everything)
    assert "postgres" in commands
    assert set(commands) <= set(extras["optional-dependencies"])


def test_the_front_pages_stay_short() -> None:
    """The README is a newcomer's page and ARCHITECTURE.md a one-sitting read."""
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
    assert len((ROOT / "ARCHITECTURE.md").read_text().splitlines()) <= 150


def test_every_module_architecture_names_exists() -> None:
    """Each `room/module` or `room/module.name` in ARCHITECTURE.md is real code (not web/ yet)."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    named = re.findall(
        r"`((?:core|sources|store|notify|config|app|cli)/[\w/]*?)(?:\.(\w+))?`", text
    )
    assert len(named) >= 30
    for path, attribute in named:
        target = ROOT / "monitor" / path
        source = target.with_suffix(".py")
        assert target.is_dir() or source.is_file(), path
        if attribute:
            assert re.search(rf"^(?:async )?def {attribute}\b", source.read_text(), re.M), path
