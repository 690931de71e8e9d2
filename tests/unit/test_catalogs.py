"""The message catalogs are complete, compiled from their sources, and used."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from monitor.core import phrases
from monitor.core.phrases import LANGUAGES
from monitor.notify.catalogs import DOMAIN, locale

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "monitor" / "notify" / "locales"


def _phrases() -> set[str]:
    found = extract_from_file(
        "python", ROOT / "monitor" / "core" / "phrases.py", keywords={"N_": None}
    )
    return {message for _, message, _, _ in found}


def _catalog(language: str) -> dict[str, str]:
    with (LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_phrase_is_in_the_catalog_and_nothing_else(language: str) -> None:
    """A phrase added to the code must be added to each catalog (pybabel update)."""
    assert set(_catalog(language)) == _phrases()


def test_korean_translates_every_phrase_with_the_same_placeholders() -> None:
    """No Korean message is empty, and each keeps the {names} its English one has."""
    for english, korean in _catalog("ko").items():
        assert korean, english
        assert set(re.findall(r"\{\w+\}", korean)) == set(re.findall(r"\{\w+\}", english))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_mo_is_compiled_from_the_po(language: str) -> None:
    """The .mo the daemon reads says what the .po says (recompile with pybabel compile)."""
    folder = LOCALES / language / "LC_MESSAGES"
    with (folder / f"{DOMAIN}.po").open("rb") as f:
        catalog = read_po(f)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (folder / f"{DOMAIN}.mo").read_bytes() == compiled.getvalue()


def test_a_korean_channel_says_fixed_phrases_and_dates_in_korean() -> None:
    """Labels, counts and dates follow the channel's language and zone."""
    ko = locale("ko", "Asia/Seoul")
    assert ko.labels()["also_reported_by"] == "같은 소식을 보도한 곳"
    assert ko.count(phrases.DIGEST_TITLE, 3) == "newsmonitor 요약: 알림 3건"
    assert ko.when(datetime(2026, 11, 28, 12, 5, tzinfo=UTC)) == "2026년 11월 28일 21:05 KST"
    en = locale("en")
    assert en.count(phrases.DIGEST_TITLE, 1) == "newsmonitor digest: 1 alert"


def test_an_english_notice_is_said_again_in_korean_with_its_values() -> None:
    """A stored English notice goes to a Korean channel in Korean, values kept."""
    body = phrases.CHANNEL_FAILING_BODY.format(count=5, channel="desk", error="HTTP 500: {x}")
    said = locale("ko").notice(body)
    assert "채널 desk로의 최근 5회 전송이 실패했습니다" in said and "HTTP 500: {x}" in said
    assert locale("ko").notice("some text no phrase made") == "some text no phrase made"


def test_an_unknown_language_is_refused() -> None:
    """Only languages with a catalog can be asked for."""
    with pytest.raises(ValueError, match="en, ko"):
        locale("fr")
