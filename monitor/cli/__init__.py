"""The newsmonitor command line: parse arguments, call the library, print, set the exit code.

`names` lists the commands; `commands` builds the typer app with the one that runs (all of them
for `--help`), so a command loads only its own module and what that uses.
"""

from __future__ import annotations

import sys
from typing import Any

from monitor.app import hangup  # noqa: F401  (first: a SIGHUP while starting is not fatal)
from monitor.cli.names import COMMANDS

_GLOBAL_WITH_VALUE = ("-c", "--config", "--log-level")


def _command(args: list[str]) -> str | None:
    """The command named in `args`, past the global options, if it is one of ours."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _GLOBAL_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, for tests and tools that inspect it
        from monitor.cli.commands import build

        return build()
    raise AttributeError(name)


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    if args == ["version"]:
        # Nothing to load: not even the argument parser.
        from monitor import __version__

        print(__version__)
        return
    from monitor.cli.commands import build

    build(_command(args))()
