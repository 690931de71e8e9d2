"""Read the config files into `Settings`, reporting every problem as `file:line: key.path: ...`.

Each file is read on its own (`files`); here they are merged, checked against each other and
turned into domain values.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import Any

from pydantic import ValidationError

from monitor.config.examples import read_examples
from monitor.config.fields import TERM_NAME
from monitor.config.files import ConfigFile, Loc, Report, line_of, read_file
from monitor.config.models import ChannelModel, MainFile
from monitor.core.errors import QuerySyntaxError
from monitor.core.model import Example, Settings
from monitor.core.query import compile_query

# Stands in for a term list already reported as broken, so watches using it are not reported too.
_PLACEHOLDER_ALIASES = ("placeholder",)


def load_settings(
    path: str | Path, *, check_channel_url: Callable[[str], str | None] | None = None
) -> Settings:
    """Load, validate and merge the main config file and its includes; raise ConfigError."""
    main_path = Path(path)
    main = ConfigFile(str(path))
    files = [main]
    report = Report(files)
    read_file(main_path, main, report, is_main=True)
    if main.data is not None:
        for included_path, included in _includes(main_path, main, report):
            files.append(included)
            read_file(included_path, included, report, is_main=False)
    _check_names(files, report)
    _check_watches(files, report)
    _check_operator(files[0], files, report)
    if check_channel_url is not None:
        _check_channel_urls(files, check_channel_url, report)
    examples = _examples(files, report)
    report.raise_if_any()
    return _settings(files, examples)


def _includes(
    main_path: Path, main: ConfigFile, report: Report
) -> Iterator[tuple[Path, ConfigFile]]:
    """The files that `include:` names, in pattern order, each read once."""
    patterns = (main.data or {}).get("include")
    if not isinstance(patterns, list):
        return
    base = main_path.parent
    root = base.resolve()
    seen = {main_path.resolve()}
    for index, pattern in enumerate(patterns):
        loc = ("include", index)
        if not isinstance(pattern, str) or not pattern:
            continue
        if PurePath(pattern).is_absolute() or ".." in PurePath(pattern).parts:
            report.add(main, loc, f"{pattern!r} is outside the config directory")
            continue
        matches = sorted(glob.glob(pattern, root_dir=base, recursive=True))
        if not matches:
            report.add(main, loc, f"{pattern!r} matches no file")
        for match in matches:
            path = base / match
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                report.add(main, loc, f"{match!r} resolves outside the config directory")
            elif resolved not in seen and path.is_file():
                seen.add(resolved)
                yield path, ConfigFile(str(path))


def _items(files: list[ConfigFile], section: str) -> Iterator[tuple[ConfigFile, Loc, Any]]:
    """Every entry of a list or map section across files: (file, loc, entry)."""
    for file in files:
        entries = (file.data or {}).get(section)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                yield file, (section, index), entry
        elif isinstance(entries, dict):
            for key, entry in entries.items():
                yield file, (section, key), entry


def _check_names(files: list[ConfigFile], report: Report) -> None:
    for section, what in (("sources", "source"), ("watches", "watch")):
        first: dict[str, str] = {}
        for file, loc, entry in _items(files, section):
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str):
                where = f"{file.name}:{line_of(file, (*loc, 'name'))}"
                if name in first:
                    message = f"duplicate {what} {name!r} (first defined at {first[name]})"
                    report.add(file, (*loc, "name"), message)
                first.setdefault(name, where)
    for section, what in (("terms", "term list"), ("channels", "channel")):
        first = {}
        for file, loc, _ in _items(files, section):
            name = str(loc[1])
            if name in first:
                report.add(file, loc, f"duplicate {what} {name!r} (first defined at {first[name]})")
            first.setdefault(name, f"{file.name}:{line_of(file, loc)}")


def _check_watches(files: list[ConfigFile], report: Report) -> None:
    channels = sorted({str(loc[1]) for _, loc, _ in _items(files, "channels")})
    terms = _terms(files, report)
    for file, loc, watch in _items(files, "watches"):
        if not isinstance(watch, dict):
            continue
        notify = watch.get("notify")
        for index, name in enumerate(notify if isinstance(notify, list) else []):
            if isinstance(name, str) and name not in channels:
                defined = ", ".join(channels) or "none"
                report.add(
                    file, (*loc, "notify", index), f"unknown channel {name!r} (defined: {defined})"
                )
            elif isinstance(notify, list) and name in notify[:index]:
                report.add(file, (*loc, "notify", index), f"channel {name!r} is listed twice")
        query, name = watch.get("query"), watch.get("name")
        if isinstance(query, str) and query.strip():
            try:
                compile_query(query, terms)
            except QuerySyntaxError as exc:
                label = f"watch {name!r}" if isinstance(name, str) else f"watch #{loc[1]}"
                message = f"{label}: column {exc.column}: {exc.message}"
                report.add(file, (*loc, "query"), message)


def _check_operator(main: ConfigFile, files: list[ConfigFile], report: Report) -> None:
    channels = sorted({str(loc[1]) for _, loc, _ in _items(files, "channels")})
    operator = (main.data or {}).get("operator")
    named = operator.get("channels") if isinstance(operator, dict) else None
    for index, name in enumerate(named if isinstance(named, list) else []):
        if isinstance(name, str) and name not in channels:
            defined = ", ".join(channels) or "none"
            loc = ("operator", "channels", index)
            report.add(main, loc, f"unknown channel {name!r} (defined: {defined})")


def _terms(files: list[ConfigFile], report: Report) -> dict[str, tuple[str, ...]]:
    """Every term list by name; each one is checked on its own, so a bad alias is found there."""
    terms: dict[str, tuple[str, ...]] = {}
    for file, loc, aliases in _items(files, "terms"):
        name = str(loc[1])
        if name in terms:
            continue
        usable = (
            TERM_NAME.fullmatch(name) is not None
            and isinstance(aliases, list)
            and bool(aliases)
            and all(isinstance(alias, str) and alias.strip() for alias in aliases)
        )
        terms[name] = tuple(aliases) if usable else _PLACEHOLDER_ALIASES
        if usable:
            try:
                compile_query(f"@{name}", {name: terms[name]})
            except QuerySyntaxError as exc:
                message = exc.message.removeprefix(f"term list @{name}: ")
                report.add(file, loc, message)
                terms[name] = _PLACEHOLDER_ALIASES
    return terms


def _check_channel_urls(
    files: list[ConfigFile], check: Callable[[str], str | None], report: Report
) -> None:
    for file, loc, entry in _items(files, "channels"):
        try:
            channel = ChannelModel.model_validate(entry)
        except ValidationError:
            continue  # already reported with the rest of its file
        if channel.active:
            message = check(channel.url.get_secret_value())
            if message:
                report.add(file, (*loc, "url"), message)


def _examples(
    files: list[ConfigFile], report: Report
) -> dict[tuple[int, int], tuple[Example, ...]]:
    """Each watch's examples, by (file index, watch index); files they name are read here."""
    out: dict[tuple[int, int], tuple[Example, ...]] = {}
    for number, file in enumerate(files):
        for index, watch in enumerate(file.model.watches if file.model else []):
            loc: Loc = ("watches", index)

            def where(sub: Loc, file: ConfigFile = file, loc: Loc = loc) -> str:
                path = ".".join(str(part) for part in (*loc, *sub))
                return f"{file.name}:{line_of(file, (*loc, *sub))}: {path}"

            found, problems = read_examples(
                watch.examples, base=Path(file.name).parent, where=where
            )
            for sub, message in problems:
                report.add(file, (*loc, *sub), message)
            out[number, index] = tuple(found)
    return out


def _settings(
    files: list[ConfigFile], examples: dict[tuple[int, int], tuple[Example, ...]]
) -> Settings:
    main = files[0].model
    assert isinstance(main, MainFile)  # only reached when every file validated
    fetch = main.fetch.to_domain()
    models = [file.model for file in files if file.model is not None]
    return Settings(
        database=main.database,
        files=tuple(file.name for file in files),
        fetch=fetch,
        delivery=main.delivery.to_domain(),
        stories=main.stories.to_domain(),
        retention=main.retention.to_domain(),
        sources=tuple(s.to_domain(fetch) for m in models for s in m.sources),
        terms={name: tuple(aliases) for m in models for name, aliases in m.terms.items()},
        channels=tuple(c.to_domain(name) for m in models for name, c in m.channels.items()),
        watches=tuple(
            w.to_domain(examples[number, index])
            for number, file in enumerate(files)
            for index, w in enumerate(file.model.watches if file.model else [])
        ),
        operator=main.operator.to_domain(),
        web=main.web.to_domain(),
    )
