"""Regular expressions for `/.../` terms, run by RE2 so that any pattern takes linear time."""

from __future__ import annotations

import re
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False  # RE2 would print every rejected pattern on standard error
_BACKREFERENCE = re.compile(r"\\[1-9]")
_UNSUPPORTED = {
    "(?=": "lookahead '(?=' is",
    "(?!": "negative lookahead '(?!' is",
    "(?<=": "lookbehind '(?<=' is",
    "(?<!": "negative lookbehind '(?<!' is",
}


class RegexError(ValueError):
    """A pattern RE2 cannot run; `offset` is 0-based within the pattern."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _explain(pattern: str, detail: str) -> RegexError:
    fragment = detail.rpartition(": ")[2]
    offset = max(pattern.find(fragment), 0) if fragment else 0
    if (backref := _BACKREFERENCE.search(pattern)) and "escape" in detail:
        return RegexError(
            f"backreference {backref.group(0)} is not supported (regular expressions run "
            "in linear time)",
            backref.start(),
        )
    for construct, name in _UNSUPPORTED.items():
        if fragment.startswith(construct):
            return RegexError(
                f"{name} not supported (regular expressions run in linear time)", offset
            )
    return RegexError(f"invalid regular expression: {detail}", offset)


def compile_regex(pattern: str) -> Any:
    """The compiled RE2 pattern, ignoring case; raises RegexError with the offending offset."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if isinstance(exc.args[0], bytes) else str(exc.args[0])
        raise _explain(pattern, detail) from None


def check_regex(pattern: str) -> None:
    """Raise RegexError unless RE2 can run `pattern`."""
    compile_regex(pattern)
