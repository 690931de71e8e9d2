"""The full-text keys of `fetch:` and of a source, read and checked like every key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.core.errors import ConfigError

BASE = """database: sqlite:///x.db
{fetch}
sources:
  - {{name: wire, url: "https://example.com/feed.xml"{source}}}
channels:
  console: {{url: "console://"}}
watches:
  - {{name: w, query: trade, notify: [console]}}
"""


def _load(tmp_path: Path, fetch: str = "", source: str = "") -> object:
    path = tmp_path / "monitor.yaml"
    path.write_text(BASE.format(fetch=fetch, source=source))
    return load_settings(path)


def test_defaults_follow_the_contract(tmp_path: Path) -> None:
    """Without keys: auto, 80 words, 60 s, 5 MB, robots.txt obeyed; sources follow fetch."""
    settings = _load(tmp_path)
    fetch = settings.fetch  # type: ignore[attr-defined]
    assert (fetch.full_text, fetch.full_text_min_words, fetch.full_text_wait) == (
        "auto",
        80,
        timedelta(seconds=60),
    )
    assert (fetch.page_max_bytes, fetch.obey_robots) == (5 * 1024 * 1024, True)
    assert settings.sources[0].full_text is None  # type: ignore[attr-defined]


def test_keys_are_read_globally_and_per_source(tmp_path: Path) -> None:
    """Every key is read, and a source's own full_text overrides fetch's."""
    settings = _load(
        tmp_path,
        "fetch: {full_text: always, full_text_min_words: 120, full_text_wait: 30s, "
        "page_max_bytes: 2MB, obey_robots: false}",
        ", full_text: never",
    )
    fetch = settings.fetch  # type: ignore[attr-defined]
    assert (fetch.full_text, fetch.full_text_min_words) == ("always", 120)
    assert (fetch.full_text_wait, fetch.page_max_bytes) == (timedelta(seconds=30), 2 * 1024**2)
    assert fetch.obey_robots is False
    assert settings.sources[0].full_text == "never"  # type: ignore[attr-defined]


def test_a_wrong_mode_names_its_file_and_line(tmp_path: Path) -> None:
    """An unknown mode is an error at its line, listing the modes."""
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, source=", full_text: sometimes")
    assert "monitor.yaml:4: sources.0.full_text: Input should be 'auto', 'always' or 'never'" in (
        str(caught.value)
    )
