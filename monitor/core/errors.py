"""The one exception root of newsmonitor.

::

    MonitorError                  anything newsmonitor raises on purpose
     ├── ConfigError              a config file is invalid (exit code 2); holds every problem found
     ├── QuerySyntaxError         a watch query does not parse (column points at the problem)
     ├── StoreError               the database cannot be used
     │    └── StoreLockedError    another daemon holds the SQLite file
     └── FetchError               a source could not be fetched or parsed (kind says how)
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error newsmonitor raises on purpose."""


class ConfigError(MonitorError):
    """One or more problems in the configuration, each as `file:line: key.path: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class QuerySyntaxError(MonitorError):
    """A watch query that does not parse; `column` is 1-based within the query text."""

    def __init__(self, message: str, *, query: str, column: int) -> None:
        self.message = message
        self.query = query
        self.column = column
        super().__init__(f"column {column}: {message}")

    def caret(self) -> str:
        """The query with a caret under the offending column, for terminals."""
        return f"{self.query}\n{' ' * (self.column - 1)}^"


class StoreError(MonitorError):
    """The database cannot be opened, migrated or written."""


class StoreLockedError(StoreError):
    """Another newsmonitor process already uses this SQLite database."""


class FetchError(MonitorError):
    """A source could not be fetched or parsed.

    `kind` is a short stable word for counting and display: timeout, connect, http, too_large,
    redirects, scheme, blocked, not_a_feed, parse, parse_timeout.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")
