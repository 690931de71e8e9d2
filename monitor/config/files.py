"""Read one config file: YAML with the line of every key, ${VAR} expanded, validated by its
model; problems are collected in a `Report` as `file:line: key.path: message`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
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
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.scalarbool import ScalarBoolean

from monitor.config.models import IncludedFile, MainFile
from monitor.core.errors import ConfigError

Loc = tuple[str | int, ...]
Problems = list[tuple[int, Loc | None, str]]  # line, key path if known, message

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_MAIN_ONLY = ("database", "include", "fetch", "delivery", "stories", "retention", "operator")
# Aliases can nest so that a small file expands to billions of values; stop long before that.
_MAX_VALUES = 100_000


@dataclass(eq=False)
class ConfigFile:
    """One config file as read: its name, the line of each key, its data and its model."""

    name: str
    lines: dict[Loc, int] = field(default_factory=lambda: {(): 1})
    data: dict[str, Any] | None = None
    model: IncludedFile | None = None


class Report:
    """Problems in the order of the files, then of lines."""

    def __init__(self, files: list[ConfigFile]) -> None:
        self.files = files
        self.items: list[tuple[int, int, str]] = []

    def add(self, file: ConfigFile, loc: Loc, message: str) -> None:
        line = line_of(file, loc)
        path = ".".join(str(part) for part in loc if part != "[key]")
        self.at(file, line, f"{path}: {message}" if path else message)

    def at(self, file: ConfigFile, line: int | None, message: str) -> None:
        where = file.name if line is None else f"{file.name}:{line}"
        self.items.append((self.files.index(file), line or 0, f"{where}: {message}"))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError([text for _, _, text in sorted(self.items, key=lambda i: i[:2])])


def read_file(path: Path, file: ConfigFile, report: Report, *, is_main: bool) -> None:
    """Read, check and validate one file into `file`, reporting each problem."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        report.at(file, None, f"cannot read config: {exc.strerror or exc}")
        return
    except UnicodeDecodeError:
        report.at(file, None, "cannot read config: not UTF-8 text")
        return
    try:
        root, problems = _parse(text)
        for line, loc, message in problems:
            if loc is None:
                report.at(file, line, message)
            else:
                file.lines[loc] = line
                report.add(file, loc, message)
        if problems:
            return
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


def _parse(text: str) -> tuple[Any, Problems]:
    """The file's round-trip data, or None with the problems the scan found; the node tree is
    dropped on return, before the data is expanded and validated."""
    yaml = YAML(typ="rt")
    yaml.Parser = _CheckingParser
    node = yaml.compose(text)
    problems: Problems = yaml.parser.scan.problems
    if problems or node is None:
        return None, problems
    return yaml.constructor.construct_document(node), problems


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


class _Scan:
    """Tags and duplicate keys, found in the parser's events before anything is constructed."""

    def __init__(self) -> None:
        self.problems: Problems = []
        self._stack: list[_Frame] = []

    def see(self, event: Any) -> None:
        stack = self._stack
        if isinstance(event, CollectionEndEvent):
            stack.pop()
            if stack:
                stack[-1].done()
            return
        if not isinstance(event, NodeEvent):
            return
        line = event.start_mark.line + 1
        if not isinstance(event, AliasEvent) and getattr(event, "tag", None) is not None:
            self.problems.append((line, None, "YAML tags are not allowed"))
        parent = stack[-1] if stack else None
        path: Loc = ()
        if parent is not None and parent.is_map and parent.expect_key:
            parent.key = str(event.value) if isinstance(event, ScalarEvent) else "?"
            if isinstance(event, ScalarEvent):
                if parent.key in parent.keys:
                    message = f"duplicate key (first at line {parent.keys[parent.key]})"
                    self.problems.append((line, (*parent.path, parent.key), message))
                parent.keys.setdefault(parent.key, line)
        elif parent is not None:
            path = (*parent.path, parent.key if parent.is_map else parent.index)
        if isinstance(event, CollectionStartEvent):
            stack.append(_Frame(path, isinstance(event, MappingStartEvent)))
        elif parent is not None:
            parent.done()


class _CheckingParser(RoundTripParser):
    """The round-trip parser, scanning each event it hands the composer: one parse of the
    file serves both the checks and the data (a second parse for the checks alone took a third
    of each load: 1.5 s of CPU for 1,000 watches, 0.9 s without it)."""

    def __init__(self, loader: Any) -> None:
        super().__init__(loader)
        self.scan = _Scan()

    def get_event(self) -> Any:
        event = super().get_event()
        self.scan.see(event)
        return event


class _TooLarge(Exception):
    pass


class _Expander:
    """Turns ruamel nodes into plain data, expanding ${VAR} in string values and noting lines."""

    def __init__(self, file: ConfigFile) -> None:
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


def line_of(file: ConfigFile, loc: Loc) -> int:
    """The line of the key at `loc`."""
    # A missing key has no line of its own, so the nearest existing parent's line is used.
    for end in range(len(loc), -1, -1):
        line = file.lines.get(loc[:end])
        if line is not None:
            return line
    return 1
