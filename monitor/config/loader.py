"""Read the config files into `Settings`, reporting every problem as `file:line: key.path: ...`."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.scalarbool import ScalarBoolean

from monitor.config.examples import read_examples
from monitor.config.fields import TERM_NAME
from monitor.config.models import ChannelModel, IncludedFile, MainFile
from monitor.core.errors import ConfigError, QuerySyntaxError
from monitor.core.model import Example, Settings
from monitor.core.query import compile_query

Loc = tuple[str | int, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_MAIN_ONLY = ("database", "include", "fetch", "delivery", "stories", "retention", "operator")
# Aliases can nest so that a small file expands to billions of values; stop long before that.
_MAX_VALUES = 100_000
# Stands in for a term list already reported as broken, so watches using it are not reported too.
_PLACEHOLDER_ALIASES = ("placeholder",)


@dataclass(eq=False)
class _File:
    name: str
    lines: dict[Loc, int] = field(default_factory=lambda: {(): 1})
    data: dict[str, Any] | None = None
    model: IncludedFile | None = None


class _Report:
    """Problems in the order of the files, then of lines."""

    def __init__(self, files: list[_File]) -> None:
        self.files = files
        self.items: list[tuple[int, int, str]] = []

    def add(self, file: _File, loc: Loc, message: str) -> None:
        line = _line(file, loc)
        path = ".".join(str(part) for part in loc if part != "[key]")
        self.at(file, line, f"{path}: {message}" if path else message)

    def at(self, file: _File, line: int | None, message: str) -> None:
        where = file.name if line is None else f"{file.name}:{line}"
        self.items.append((self.files.index(file), line or 0, f"{where}: {message}"))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError([text for _, _, text in sorted(self.items, key=lambda i: i[:2])])


def load_settings(
    path: str | Path, *, check_channel_url: Callable[[str], str | None] | None = None
) -> Settings:
    """Load, validate and merge the main config file and its includes; raise ConfigError."""
    main_path = Path(path)
    main = _File(str(path))
    files = [main]
    report = _Report(files)
    _read(main_path, main, report, is_main=True)
    if main.data is not None:
        for included_path, included in _includes(main_path, main, report):
            files.append(included)
            _read(included_path, included, report, is_main=False)
    _check_names(files, report)
    _check_watches(files, report)
    _check_operator(files[0], files, report)
    if check_channel_url is not None:
        _check_channel_urls(files, check_channel_url, report)
    examples = _examples(files, report)
    report.raise_if_any()
    return _settings(files, examples)


def _read(path: Path, file: _File, report: _Report, *, is_main: bool) -> None:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        report.at(file, None, f"cannot read config: {exc.strerror or exc}")
        return
    except UnicodeDecodeError:
        report.at(file, None, "cannot read config: not UTF-8 text")
        return
    try:
        problems = _scan(text)
        for line, loc, message in problems:
            if loc is None:
                report.at(file, line, message)
            else:
                file.lines[loc] = line
                report.add(file, loc, message)
        if problems:
            return
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or str(exc)
        if exc.context and message.startswith("but "):
            message = f"{exc.context} {message}"  # "but found another document" needs its context
        report.at(file, mark.line + 1 if mark else None, message)
        return
    except YAMLError as exc:
        report.at(file, None, str(exc))
        return
    if root is None:
        root = {}
    if not isinstance(root, dict):
        report.at(file, 1, "the top level must be a mapping of config keys")
        return
    expander = _Expander(file)
    try:
        file.data = expander.plain(root, (), 1)
    except _TooLarge:
        report.at(file, 1, f"more than {_MAX_VALUES} values after expanding aliases")
        return
    for loc, name in expander.missing:
        report.add(file, loc, f"environment variable {name} is not set")
    data = dict(file.data)
    for key in () if is_main else _MAIN_ONLY:
        if key in data:
            del data[key]
            report.add(file, (key,), "only allowed in the main config file")
    skip = {loc for loc, _ in expander.missing}
    try:
        file.model = (MainFile if is_main else IncludedFile).model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(error["loc"])
            if loc not in skip:
                report.add(file, loc, _message(error))


def _message(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return str(error["msg"])


@dataclass
class _Frame:
    path: Loc
    is_map: bool
    keys: dict[str, int] = field(default_factory=dict)
    expect_key: bool = True
    key: str = "?"
    index: int = 0

    def done(self) -> None:
        if self.is_map:
            self.expect_key = not self.expect_key
        else:
            self.index += 1


def _scan(text: str) -> list[tuple[int, Loc | None, str]]:
    """Tags and duplicate keys, found in the parser's events before anything is constructed."""
    problems: list[tuple[int, Loc | None, str]] = []
    stack: list[_Frame] = []
    for event in YAML(typ="rt").parse(text):
        if isinstance(event, CollectionEndEvent):
            stack.pop()
            if stack:
                stack[-1].done()
            continue
        if not isinstance(event, NodeEvent):
            continue
        line = event.start_mark.line + 1
        if not isinstance(event, AliasEvent) and getattr(event, "tag", None) is not None:
            problems.append((line, None, "YAML tags are not allowed"))
        parent = stack[-1] if stack else None
        path: Loc = ()
        if parent is not None and parent.is_map and parent.expect_key:
            parent.key = str(event.value) if isinstance(event, ScalarEvent) else "?"
            if isinstance(event, ScalarEvent):
                if parent.key in parent.keys:
                    message = f"duplicate key (first at line {parent.keys[parent.key]})"
                    problems.append((line, (*parent.path, parent.key), message))
                parent.keys.setdefault(parent.key, line)
        elif parent is not None:
            path = (*parent.path, parent.key if parent.is_map else parent.index)
        if isinstance(event, CollectionStartEvent):
            stack.append(_Frame(path, isinstance(event, MappingStartEvent)))
        elif parent is not None:
            parent.done()
    return problems


class _TooLarge(Exception):
    pass


class _Expander:
    """Turns ruamel nodes into plain data, expanding ${VAR} in string values and noting lines."""

    def __init__(self, file: _File) -> None:
        self.lines = file.lines
        self.missing: list[tuple[Loc, str]] = []
        self.count = 0

    def plain(self, node: Any, loc: Loc, line: int) -> Any:
        self.count += 1
        if self.count > _MAX_VALUES:
            raise _TooLarge
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                child = (*loc, str(key))
                try:
                    child_line = node.lc.key(key)[0] + 1  # type: ignore[attr-defined]
                except (AttributeError, KeyError, TypeError):
                    child_line = line  # a key merged in with `<<:` has no position of its own
                self.lines.setdefault(child, child_line)
                out[str(key)] = self.plain(value, child, child_line)
            return out
        if isinstance(node, list):
            items = []
            for index, value in enumerate(node):
                child = (*loc, index)
                child_line = node.lc.item(index)[0] + 1  # type: ignore[attr-defined]
                self.lines.setdefault(child, child_line)
                items.append(self.plain(value, child, child_line))
            return items
        if isinstance(node, str):
            return _ENV.sub(lambda match: self.variable(match, loc), str(node))
        # ruamel's own scalar subclasses carry formatting; plain values are what pydantic expects.
        if isinstance(node, ScalarBoolean | bool):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        return node

    def variable(self, match: re.Match[str], loc: Loc) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if default is not None and not value:
            return default
        if value is None:
            self.missing.append((loc, name))
            return ""
        return value


def _line(file: _File, loc: Loc) -> int:
    # A missing key has no line of its own, so the nearest existing parent's line is used.
    for end in range(len(loc), -1, -1):
        line = file.lines.get(loc[:end])
        if line is not None:
            return line
    return 1


def _includes(main_path: Path, main: _File, report: _Report) -> Iterator[tuple[Path, _File]]:
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
                yield path, _File(str(path))


def _items(files: list[_File], section: str) -> Iterator[tuple[_File, Loc, Any]]:
    """Every entry of a list or map section across files: (file, loc, entry)."""
    for file in files:
        entries = (file.data or {}).get(section)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                yield file, (section, index), entry
        elif isinstance(entries, dict):
            for key, entry in entries.items():
                yield file, (section, key), entry


def _check_names(files: list[_File], report: _Report) -> None:
    for section, what in (("sources", "source"), ("watches", "watch")):
        first: dict[str, str] = {}
        for file, loc, entry in _items(files, section):
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str):
                where = f"{file.name}:{_line(file, (*loc, 'name'))}"
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
            first.setdefault(name, f"{file.name}:{_line(file, loc)}")


def _check_watches(files: list[_File], report: _Report) -> None:
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


def _check_operator(main: _File, files: list[_File], report: _Report) -> None:
    channels = sorted({str(loc[1]) for _, loc, _ in _items(files, "channels")})
    operator = (main.data or {}).get("operator")
    named = operator.get("channels") if isinstance(operator, dict) else None
    for index, name in enumerate(named if isinstance(named, list) else []):
        if isinstance(name, str) and name not in channels:
            defined = ", ".join(channels) or "none"
            loc = ("operator", "channels", index)
            report.add(main, loc, f"unknown channel {name!r} (defined: {defined})")


def _terms(files: list[_File], report: _Report) -> dict[str, tuple[str, ...]]:
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
    files: list[_File], check: Callable[[str], str | None], report: _Report
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


def _examples(files: list[_File], report: _Report) -> dict[tuple[int, int], tuple[Example, ...]]:
    """Each watch's examples, by (file index, watch index); files they name are read here."""
    out: dict[tuple[int, int], tuple[Example, ...]] = {}
    for number, file in enumerate(files):
        for index, watch in enumerate(file.model.watches if file.model else []):
            loc: Loc = ("watches", index)

            def where(sub: Loc, file: _File = file, loc: Loc = loc) -> str:
                path = ".".join(str(part) for part in (*loc, *sub))
                return f"{file.name}:{_line(file, (*loc, *sub))}: {path}"

            found, problems = read_examples(
                watch.examples, base=Path(file.name).parent, where=where
            )
            for sub, message in problems:
                report.add(file, (*loc, *sub), message)
            out[number, index] = tuple(found)
    return out


def _settings(files: list[_File], examples: dict[tuple[int, int], tuple[Example, ...]]) -> Settings:
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
    )
