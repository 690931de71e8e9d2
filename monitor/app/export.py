"""Writing history rows as CSV or JSON Lines, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

FORMATS = ("csv", "jsonl")
# A cell starting with one of these is run as a formula by spreadsheet programs; feed text is
# written by strangers, so such cells get a leading apostrophe (OWASP's CSV-injection advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(_plain(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_rows(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fmt: str, out: TextIO
) -> int:
    """Write `rows` to `out` as `fmt` (csv with a header row, or jsonl); how many were written.

    In CSV a list (the terms) is joined with "; " and an empty value is an empty cell.
    """
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            record = {c: _plain(row.get(c)) for c in columns}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    else:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return count
