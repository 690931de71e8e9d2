"""Reading article pages in the parser workers: main text of several layouts, charsets, walls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from monitor.core.errors import FetchError
from monitor.sources.parsing import ParserPool
from tests.support.pages import (
    CHINESE_BODY,
    KOREAN_BODY,
    LAYOUTS,
    SEED_BODY,
    SEED_TITLE,
    article_page,
)


@pytest.fixture
async def pool() -> AsyncIterator[ParserPool]:
    pool = ParserPool(workers=1, timeout=20, max_entries=100)
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_main_text_of_each_layout(pool: ParserPool, layout: str) -> None:
    """Each layout gives the article's paragraphs and none of its menus, links or footer."""
    html = article_page(
        SEED_TITLE, SEED_BODY, layout=layout, canonical="http://news.test/a/seed"
    ).encode()
    page = await pool.extract(html, url="http://news.test/a/seed?utm_source=rss", content_type="")
    for paragraph in SEED_BODY:
        assert paragraph in page.text
    for boilerplate in ("Most read", "All rights reserved", "Politics", "Other headline"):
        assert boilerplate not in page.text
    assert page.text.splitlines()[0] == SEED_BODY[0]  # the headline is not the lead
    assert page.url == "http://news.test/a/seed"
    assert page.title == SEED_TITLE
    assert page.lang == "en"


async def test_korean_page_in_euc_kr_declared_as_utf8(pool: ParserPool) -> None:
    """A Korean page in EUC-KR that says it is UTF-8 (header and meta) reads as Korean."""
    html = article_page("한중 통상 회의", KOREAN_BODY, layout="table", lang="ko").encode("euc-kr")
    declared = "text/html; charset=UTF-8"
    page = await pool.extract(html, url="http://news.test/ko", content_type=declared)
    assert KOREAN_BODY[0] in page.text
    assert page.lang == "ko"
    assert page.note == "declared as utf-8 but read as cp949"


async def test_chinese_page_in_gbk_declared_as_latin1(pool: ParserPool) -> None:
    """A Chinese page in GBK declared ISO-8859-1 (which decodes any bytes) reads as Chinese."""
    html = article_page(
        "中韩贸易会谈", CHINESE_BODY, layout="divs", lang="zh", charset="iso-8859-1"
    ).encode("gbk")
    page = await pool.extract(html, url="http://news.test/zh", content_type="text/html")
    assert CHINESE_BODY[1] in page.text
    assert page.note is not None and page.note.startswith("declared as iso8859-1 but read as gb")


@pytest.mark.parametrize(("wall", "reason"), [("paywall", "paywall"), ("login", "login wall")])
async def test_a_wall_is_no_full_text(pool: ParserPool, wall: str, reason: str) -> None:
    """A page cut short behind a paywall or login form fails as "paywall", not as the article."""
    html = article_page(SEED_TITLE, SEED_BODY, wall=wall).encode()
    with pytest.raises(FetchError) as caught:
        await pool.extract(html, url="http://news.test/w", content_type="text/html")
    assert caught.value.kind == "paywall"
    assert caught.value.message.startswith(reason + ":")


async def test_broken_and_empty_pages_fail_clearly(pool: ParserPool) -> None:
    """Broken HTML with no article text, and an empty body, each fail with their reason."""
    for body, kind in ((b"<html><body><div><p>Hi<td></table></span>", "no_text"), (b"", "empty")):
        with pytest.raises(FetchError) as caught:
            await pool.extract(body, url="http://news.test/x", content_type="text/html")
        assert caught.value.kind == kind


async def test_a_page_that_takes_too_long_is_killed() -> None:
    """Extraction past the parse time limit kills the worker; the next page is read by a new one."""
    pool = ParserPool(workers=1, timeout=0.3, max_entries=100)
    try:
        huge = article_page(SEED_TITLE, SEED_BODY * 4000, layout="divs").encode()
        with pytest.raises(FetchError) as caught:
            await pool.extract(huge, url="http://news.test/big", content_type="text/html")
        assert caught.value.kind == "parse_timeout"
        assert pool.restarts == 1
        pool.timeout = 20
        small = article_page(SEED_TITLE, SEED_BODY).encode()
        page = await pool.extract(small, url="http://news.test/a", content_type="text/html")
        assert SEED_BODY[1] in page.text
    finally:
        await pool.aclose()
