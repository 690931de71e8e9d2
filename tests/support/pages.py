"""Article pages as news sites lay them out, for tests and benchmarks that read pages.

Each layout wraps the same article (headline, paragraphs) in the boilerplate real sites carry:
menus, share bars, related links, cookie notices, comments, footers. The layouts follow common
patterns: a semantic <article> (most CMSs), nested <div> soup with sidebars (older portals),
a table layout (legacy Korean and Chinese portals), an AMP-style page, and a page with the text
in <br>-separated runs (hand-written CMS output). `wall` adds a paywall or login form.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

LAYOUTS = ("article", "divs", "table", "amp", "br")

_NAV = (
    '<nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a>'
    '</li><li><a href="/economy">Economy</a></li><li><a href="/world">World</a></li>'
    '<li><a href="/sports">Sports</a></li></ul></nav>'
)
_SHARE = '<div class="share"><a href="#">Share</a> <a href="#">Tweet</a> <a href="#">Mail</a></div>'
_RELATED = (
    '<aside class="related"><h3>Most read</h3><ul>'
    + "".join(f'<li><a href="/story/{n}">Other headline number {n}</a></li>' for n in range(8))
    + "</ul></aside>"
)
_COOKIE = '<div class="cookie-note">We use cookies to improve the site. <a href="#">OK</a></div>'
_FOOTER = (
    "<footer><p>Copyright 2017 The Daily Example. All rights reserved.</p>"
    '<p><a href="/about">About us</a> | <a href="/contact">Contact</a> | '
    '<a href="/privacy">Privacy</a></p></footer>'
)
_WALLS = {
    "paywall": (
        '<div class="paywall"><p>Subscribe to read the full story.</p>'
        '<a href="/subscribe">Subscribe now</a></div>'
    ),
    "login": (
        '<form action="/login"><p>Log in to continue reading.</p>'
        '<input name="user"><input type="password" name="pw"><button>Log in</button></form>'
    ),
}


def _head(title: str, canonical: str | None, lang: str, charset: str | None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{escape(title)} | Daily '
        f'Example</title>{link}<meta property="og:title" content="{escape(title)}">'
        '<meta name="author" content="Kim Min-jun">'
        '<meta property="article:published_time" content="2017-09-04T08:30:00+09:00">'
        "<script>var ads = [];</script><style>body{font:14px sans-serif}</style></head>"
    )


def article_page(
    title: str,
    paragraphs: Sequence[str],
    *,
    layout: str = "article",
    canonical: str | None = None,
    lang: str = "en",
    charset: str | None = "utf-8",
    wall: str | None = None,
) -> str:
    """An article page in `layout` (one of LAYOUTS); `wall` ("paywall", "login") cuts the
    text to its first paragraph behind that wall."""
    if wall is not None:
        paragraphs = paragraphs[:1]
    ps = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    h1 = f"<h1>{escape(title)}</h1>"
    wall_html = _WALLS[wall] if wall else ""
    if layout == "article":
        body = (
            f"<header>{_NAV}</header><main><article>{h1}<div class='byline'>By Kim Min-jun"
            f"</div>{_SHARE}<div class='article-body'>{ps}</div>{wall_html}</article>"
            f"{_RELATED}</main>"
        )
    elif layout == "divs":
        body = (
            f"<div id='wrap'><div id='top'>{_NAV}</div><div id='left'>{_RELATED}</div>"
            f"<div id='center'><div class='title'>{h1}</div><div class='info'>Published "
            f"2017-09-04</div><div id='articleBody' class='content'>{ps}</div>{wall_html}"
            f"<div class='comments'><h3>Comments (2)</h3><div class='c'>Great piece!</div>"
            f"<div class='c'>I disagree.</div></div></div></div>"
        )
    elif layout == "table":
        body = (
            f"<table width='100%'><tr><td colspan='2'>{_NAV}</td></tr><tr>"
            f"<td width='200' valign='top'>{_RELATED}</td><td valign='top'>{h1}"
            f"<div id='newsContent'>{ps}</div>{wall_html}</td></tr></table>"
        )
    elif layout == "amp":
        body = (
            f"<amp-sidebar id='s'>{_NAV}</amp-sidebar><header class='amp-header'>Daily Example"
            f"</header><main><h1 class='amp-title'>{escape(title)}</h1>"
            f"<section class='amp-body'>{ps}</section>{wall_html}</main>"
        )
    elif layout == "br":
        runs = "<br><br>".join(escape(p) for p in paragraphs)
        body = (
            f"{_NAV}<div class='view'>{h1}<div id='news_body_id'>{runs}</div>{wall_html}"
            f"</div>{_RELATED}"
        )
    else:
        raise ValueError(f"unknown layout {layout!r}")
    return f"{_head(title, canonical, lang, charset)}<body>{_COOKIE}{body}{_FOOTER}</body></html>"


# The seed article: its feed entry names Seoul and Beijing, and only its body says "tariffs".
SEED_TITLE = "Seoul and Beijing officials meet in Qingdao"
SEED_SUMMARY = "Officials from both capitals met on Monday."
SEED_BODY = [
    "South Korean and Chinese officials met in the port city of Qingdao on Monday for the first "
    "round of talks since relations cooled over the deployment of a US missile shield.",
    "The delegations agreed to cut tariffs on semiconductors and petrochemicals by 2019, a "
    "Seoul trade ministry official told reporters after the meeting.",
    "China is South Korea's largest trading partner, buying a quarter of its exports, and "
    "Korean firms had complained of informal boycotts in recent months.",
    "Further rounds are planned for Seoul in November and Beijing early next year, the "
    "ministry said in a statement, without giving dates.",
]
KOREAN_BODY = [
    "한국과 중국의 통상 당국자들이 월요일 칭다오에서 만나 반도체와 석유화학 제품의 관세를 "
    "단계적으로 낮추기로 합의했다고 산업통상자원부가 밝혔다.",
    "양측은 사드 배치 이후 냉각된 관계 속에서 처음으로 열린 이번 회의에서 교역 확대 방안을 "
    "논의했으며, 다음 회의는 11월 서울에서 열릴 예정이다.",
    "중국은 한국의 최대 교역 상대국으로 전체 수출의 4분의 1을 차지한다.",
]
# Written with ASCII commas here; Chinese text uses the full-width comma.
CHINESE_BODY = [
    p.replace(",", "\N{FULLWIDTH COMMA}")
    for p in (
        "中韩两国官员周一在青岛举行会谈,同意逐步降低半导体和石化产品的关税,韩国产业通商资源部表示。",
        "这是萨德部署以来双方首次举行此类会谈,双方讨论了扩大贸易的方案,下一轮会谈将于十一月在首尔举行。",
        "中国是韩国最大的贸易伙伴,占其出口总额的四分之一。",
    )
]
