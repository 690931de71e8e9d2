"""The commands, by name: which module of monitor.cli and which function run each."""

from __future__ import annotations

# Command name: (module of monitor.cli, function), in the order of `--help`. A command's module
# is imported only when that command runs (or for --help), so each loads only what it uses.
COMMANDS = {
    "run": ("daemon", "run"),
    "serve": ("daemon", "serve"),
    "check": ("daemon", "check"),
    "sources": ("listing", "sources"),
    "alerts": ("listing", "alerts"),
    "test-rule": ("rules", "test_rule"),
    "demo": ("daemon", "demo"),
    "notify-test": ("notify", "notify_test"),
    "version": ("daemon", "version"),
    "export": ("history", "export"),
    "search": ("history", "search"),
    "replay": ("replay", "replay"),
    "health": ("health", "health"),
    "migrate": ("transfer", "migrate"),
}
