"""The duration and size parsers of the config ("1h30m", "10MB"), also used for `--since`."""

from __future__ import annotations

import math
import re
from datetime import timedelta

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?\s*[dhms]\s*)+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?", re.IGNORECASE)
_SIZE_FACTOR = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_duration(text: str | int | float) -> timedelta:
    """Read "90s", "10m", "2h", "7d", "1h30m" or a bare number of seconds; raise ValueError."""
    hint = "use e.g. 90s, 10m, 2h, 7d, 1h30m or a number of seconds"
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f"invalid duration: {hint}")
    if isinstance(text, str):
        spec = text.strip()
        if _NUMBER.fullmatch(spec):
            seconds: float = float(spec)
        elif _DURATION.fullmatch(spec):
            parts = _DURATION_PART.findall(spec)
            order = [list(_UNIT_SECONDS).index(unit) for _, unit in parts]
            if order != sorted(set(order)):
                raise ValueError(f"invalid duration {text!r}: give each unit once, largest first")
            seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
        else:
            raise ValueError(f"invalid duration {text!r}: {hint}")
    else:
        seconds = text
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {text!r}: must be a finite number, not negative")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"invalid duration {text!r}: too long") from None


def parse_size(text: str | int) -> int:
    """Read "10MB", "512KB", "1MiB", "1.5 MB" or a bare number of bytes; raise ValueError."""
    # KB/MB/GB mean powers of 1024, as they do in most config files (and in FetchSettings).
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError("invalid size: use e.g. 512KB, 10MB, 1.5 MiB or a number of bytes")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"invalid size {text!r}: must not be negative")
        return text
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid size {text!r}: use e.g. 512KB, 10MB, 1.5 MiB or a number of bytes"
        )
    number, unit = match.groups()
    factor = _SIZE_FACTOR[unit.lower()] if unit else 1
    return round(float(number) * factor)
