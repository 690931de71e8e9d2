"""Sitemap and list-page parsing benchmark (run by hand): the target is 20 ms or less each.

    .venv/bin/python bench/sources.py [--urls 1000] [--rows 500] [--repeat 30]

Builds a Google News sitemap of N URLs (title, publication date, keywords, language each) and a
press-release list page of M table rows (title link, department, date in Korean form, views),
then parses each `--repeat` times in this process, as a parser worker does, and prints the
entries read, the median and p90 wall-clock milliseconds, and the median and least CPU
milliseconds (CPU time, and its least value most, is what other load on a shared machine
inflates least). A feed of N items read by the feed path is printed beside them for scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.core.model import PageRule  # noqa: E402
from monitor.sources.feeds import parse_feed  # noqa: E402
from monitor.sources.pages import parse_page  # noqa: E402
from monitor.sources.sitemaps import parse_sitemap  # noqa: E402

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
RULE = PageRule(item="table.board_list tbody tr", title="td.title a", date="td.date")


def news_sitemap(n: int) -> bytes:
    rows = []
    for i in range(n):
        when = (START - timedelta(minutes=7 * i)).isoformat()
        rows.append(
            f"<url><loc>https://news.example.com/2026/12/{i}/korea-china-trade-{i}.html</loc>"
            "<news:news><news:publication><news:name>The Example Times</news:name>"
            "<news:language>en</news:language></news:publication>"
            f"<news:publication_date>{when}</news:publication_date>"
            f"<news:title>Seoul and Beijing trade talks, round {i}: tariffs on chips</news:title>"
            "<news:keywords>South Korea, China, trade</news:keywords></news:news></url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(rows) + "</urlset>"
    ).encode()


def list_page(m: int) -> bytes:
    rows = []
    for i in range(m):
        day = START - timedelta(days=i // 5)
        rows.append(
            f'<tr><td class="num">{m - i}</td><td class="title">'
            f'<a href="/www/brd/m_4080/view.do?seq={376512 - i}&amp;page=1">'
            f"한중 외교장관 회담 결과 제{i}호: 무역 협력 확대 합의</a></td>"
            f'<td class="dept">동북아시아국</td>'
            f'<td class="date">{day.year}년 {day.month}월 {day.day}일</td>'
            f'<td class="hit">{1000 + i}</td></tr>'
        )
    return (
        '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>보도자료</title>'
        '</head><body><table class="board_list"><thead><tr><th>번호</th><th>제목</th>'
        "<th>담당부서</th><th>등록일</th><th>조회수</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    ).encode()


def rss(n: int) -> bytes:
    items = "".join(
        f"<item><title>Seoul and Beijing trade talks, round {i}</title>"
        f"<link>https://news.example.com/{i}</link><guid>g{i}</guid>"
        f"<pubDate>Mon, 07 Dec 2026 09:00:00 GMT</pubDate></item>"
        for i in range(n)
    )
    return f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def measure(name: str, parse: Callable[[], int], repeat: int) -> None:
    parse()  # warm: imports, selector compilation
    wall, cpu = [], []
    count = 0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        count = parse()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    wall.sort()
    cpu.sort()
    p90 = max(0, int(len(wall) * 0.9) - 1)
    print(
        f"{name:<34} entries {count:>5}  wall median {statistics.median(wall):6.2f} ms "
        f"p90 {wall[p90]:6.2f} ms  cpu median {statistics.median(cpu):6.2f} ms "
        f"min {cpu[0]:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sitemap, page, feed = news_sitemap(args.urls), list_page(args.rows), rss(args.urls)
    url = "https://www.mofa.go.kr/www/brd/m_4080/list.do"
    print(f"news sitemap {len(sitemap) / 1024:.0f} KB, list page {len(page) / 1024:.0f} KB")
    measure(
        f"news sitemap, {args.urls} URLs",
        lambda: len(parse_sitemap(sitemap, url=url, headers={}, max_entries=None).entries),
        args.repeat,
    )
    measure(
        f"list page, {args.rows} rows",
        lambda: len(parse_page(page, url=url, headers={}, rule=RULE, max_entries=None).entries),
        args.repeat,
    )
    measure(
        f"RSS feed, {args.urls} items (scale)",
        lambda: len(parse_feed(feed, url=url, headers={}).entries),
        args.repeat,
    )


if __name__ == "__main__":
    main()
