"""A watch's `examples:`: texts and article files turned into the articles `check` tries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath

from monitor.config.models import ExampleArticleModel, ExamplesModel
from monitor.core.model import Article, Example

Loc = tuple[str | int, ...]


def read_examples(
    examples: ExamplesModel, *, base: Path, where: Callable[[Loc], str]
) -> tuple[list[Example], list[tuple[Loc, str]]]:
    """The examples as articles, and the problems (loc under the watch, message) met reading them.

    A headline is an article with that title; a `file` is read relative to `base`, the directory
    of the config file that holds the watch.
    """
    found: list[Example] = []
    problems: list[tuple[Loc, str]] = []
    for kind, items in (("match", examples.match), ("no_match", examples.no_match)):
        for index, item in enumerate(items):
            loc: Loc = ("examples", kind, index)
            if item.file is not None:
                read = _read_file(base, item.file)
                if isinstance(read, str):
                    problems.append(((*loc, "file"), read))
                    continue
                article = read
            else:
                article = _from_fields(f"{kind}-{index}", item)
            found.append(Example(article=article, match=kind == "match", where=where(loc)))
    return found, problems


def _article(
    key: str, *, title: str, summary: str = "", content: str = "", lang: str | None = None
) -> Article:
    return Article(
        source="example",
        key=key,
        url=None,
        title=title,
        summary=summary,
        content=content,
        lang=lang,
    )


def _from_fields(key: str, item: ExampleArticleModel) -> Article:
    return _article(
        key, title=item.title, summary=item.summary, content=item.content, lang=item.lang
    )


def _read_file(base: Path, name: str) -> Article | str:
    """The article in a text file (first line its title, the rest its summary), or a problem."""
    if PurePath(name).is_absolute() or ".." in PurePath(name).parts:
        return f"{name!r} is outside the config directory"
    try:
        text = (base / name).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return f"cannot read example file {name!r}: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return f"cannot read example file {name!r}: not UTF-8 text"
    title, _, rest = text.strip().partition("\n")
    if not title.strip():
        return f"example file {name!r} is empty"
    return _article(f"file:{name}", title=title.strip(), summary=rest.strip())
