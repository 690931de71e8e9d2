"""The demo's sample news: what each feed holds at the start, and what it publishes later.

Some starting items match the seed watches on purpose: the first poll is a baseline, so they
must not alert. Later items include one match per seed watch (in English and in Korean) and a
few near-misses that must stay quiet.
"""

from __future__ import annotations

FEEDS = {
    "demo-korea-wire": ("Korea Wire (demo)", "http://demo.invalid/korea-wire/"),
    "demo-world-desk": ("World Desk (demo)", "http://demo.invalid/world-desk/"),
    "demo-seoul-ko": ("서울 뉴스 (demo)", "http://demo.invalid/seoul-ko/"),
}

# feed -> [(hours before the demo started, item)]
START: dict[str, list[tuple[float, dict[str, str]]]] = {
    "demo-korea-wire": [
        (
            5,
            {
                "id": "kw-1",
                "title": "Seoul and Beijing hold trade talks on chip exports",
                "summary": "South Korea and China discussed export controls on semiconductors.",
            },
        ),
        (
            9,
            {
                "id": "kw-2",
                "title": "Bank of Korea holds rates steady",
                "summary": "The central bank kept its policy rate unchanged at 2.5 percent.",
            },
        ),
    ],
    "demo-world-desk": [
        (
            3,
            {
                "id": "wd-1",
                "title": "Markets rally as inflation eases",
                "summary": "Stocks rose across Asia and Europe.",
            },
        ),
    ],
    "demo-seoul-ko": [
        (
            2,
            {
                "id": "ko-1",
                "title": "서울 첫눈, 출근길 교통 혼잡",
                "summary": "서울에 올겨울 첫눈이 내려 출근길 교통이 혼잡했다.",
            },
        ),
    ],
}

# (seconds after the demo started, feed, item)
LATER: list[tuple[float, str, dict[str, str]]] = [
    (
        5,
        "demo-world-desk",
        {
            "id": "wd-2",
            "title": "Oil prices steady ahead of producers' meeting",
            "summary": "Brent crude traded near $80 a barrel.",
        },
    ),
    (
        9,
        "demo-korea-wire",
        {
            "id": "kw-3",
            "title": "South Korea and China sign deal to cut tariffs on batteries and chips",
            "summary": "Trade ministers in Seoul and Beijing agreed to phase out tariffs by 2028.",
        },
    ),
    (
        14,
        "demo-seoul-ko",
        {
            "id": "ko-2",
            "title": '북한, 동해상으로 탄도미사일 발사…합참 "추가 도발 대비"',
            "summary": (
                "합동참모본부는 북한이 오늘 오전 동해상으로 탄도미사일 1발을 발사했다고 밝혔다."
            ),
        },
    ),
    (
        19,
        "demo-world-desk",
        {
            "id": "wd-3",
            "title": "China and Japan discuss fishing rights",
            "summary": "Talks in Tokyo ended without agreement on a new trade framework.",
        },
    ),
    (
        24,
        "demo-world-desk",
        {
            "id": "wd-4",
            "title": "North Korea fires ICBM into the sea off Japan",
            "summary": "Pyongyang launched an intercontinental ballistic missile, Tokyo said.",
        },
    ),
]
