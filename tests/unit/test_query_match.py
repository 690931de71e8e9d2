"""Matching of compiled queries against article titles and summaries."""

from __future__ import annotations

import gc
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.model import Article
from monitor.core.query import CompiledQuery, Matcher, build_matcher, compile_query

TERMS: dict[str, list[str]] = {
    "south_korea": ["South Korea", "Republic of Korea", "ROK", "Seoul", "한국", "대한민국", "韩国"],
    "china": ["China", "Chinese", "Beijing", "PRC", "중국", "中国"],
    "north_korea": ["North Korea", "DPRK", "Pyongyang", "Kim Jong Un", "북한", "조선", "朝鲜"],
    "missile": ["missile*", "ICBM", "SLBM", "ballistic", "미사일", "导弹"],
    "launch": ["launch*", "fire*", "fired", "test*", "발사", "시험", "发射"],
}
KOREA_CHINA_TRADE = (
    "@south_korea AND @china AND (trade OR deal* OR tariff* OR export* OR import* OR FTA"
    " OR 무역 OR 관세 OR 수출 OR 贸易)"
)
NK_MISSILE_TESTS = "@north_korea AND @missile AND @launch"


def article(title: str, summary: str = "") -> Article:
    """An article with the given plain-text title and summary."""
    return Article(source="test", key=title, url=None, title=title, summary=summary)


def evaluate(query: str, title: str, summary: str = "") -> tuple[str, ...] | None:
    """Compile `query` against the seed term lists and evaluate it on one article."""
    return compile_query(query, TERMS).evaluate(article(title, summary))


CORPUS = [
    # case, accent and width folding
    ("cafe", "Café opens downtown", "", True, ("cafe",)),
    ("CAFÉ", "A new cafe in town", "", True, ("CAFÉ",)),
    ("\uff2c\uff27", "LG Electronics profit", "", True, ("\uff2c\uff27",)),
    ("lg", "\uff2c\uff27전자 실적 발표", "", True, ("lg",)),
    ("Straße", "STRASSE closed", "", True, ("Straße",)),
    # apostrophes and hyphens split words
    ("trump", "Trump's tariffs", "", True, ("trump",)),
    ("trump", "Trump\u2019s tariffs", "", True, ("trump",)),
    ("putin", "Trump-Putin summit", "", True, ("putin",)),
    ('"Kim Jong-un"', "Kim Jong Un visits factory", "", True, ("Kim Jong-un",)),
    ('"Kim Jong-un"', "photos of kim jong-un", "", True, ("Kim Jong-un",)),
    ("Jong-un", "Kim Jong Un", "", True, ("Jong-un",)),
    # whole Latin words only
    ("art", "Garden party tonight", "", False, None),
    ("art", "Modern art fair", "", True, ("art",)),
    ("art", "Art-deco revival", "", True, ("art",)),
    ("korea", "North Korean leader", "", False, None),
    # phrases versus separate words, per field
    ('"South Korea"', "South Africa and North Korea talk", "", False, None),
    ("South Korea", "South Africa and North Korea talk", "", True, ("South", "Korea")),
    ('"trade deal"', "Talks on trade", "deal reached", False, None),
    ("trade deal", "Talks on trade", "deal reached", True, ("trade", "deal")),
    ('"trade deal"', "Markets", "A trade, deal or no deal", True, ("trade deal",)),
    # prefix wildcard
    ("deal*", "Dealing with inflation", "", True, ("deal*",)),
    ("deal*", "New deals signed", "", True, ("deal*",)),
    ("deal*", "An ideal outcome", "", False, None),
    ('"trade deal*"', "trade dealings resume", "", True, ("trade deal*",)),
    ('"trade deal*"', "trade ideal", "", False, None),
    # implicit AND
    ("missile launch", "Missile test planned", "", False, None),
    ("missile launch", "Launch of a missile", "", True, ("missile", "launch")),
    # OR, NOT and -word precedence
    ("iran OR iraq oil", "Iran talks", "", True, ("iran",)),
    ("iran OR iraq oil", "Iraq talks", "", False, None),
    ("iran OR iraq oil", "Iraq oil exports", "", True, ("iraq", "oil")),
    ("NOT sports", "Election results", "", True, ()),
    ("NOT sports", "Sports roundup", "", False, None),
    ("election -sports", "Election night", "Sports news", False, None),
    ("election -sports", "Election night", "", True, ("election",)),
    ('election -"local news"', "Election", "More local news", False, None),
    ('election -"local news"', "Election", "News, local", True, ("election",)),
    ("NOT rain snow", "Snow today", "", True, ("snow",)),
    ("NOT rain snow", "Rain and snow", "", False, None),
    ("oil OR NOT gas", "Gas prices", "", False, None),
    ("oil OR NOT gas", "Oil and gas", "", True, ("oil",)),
    # parentheses
    ("(iran OR iraq) oil", "Iran talks", "", False, None),
    ("(iran OR iraq) oil", "Iran oil", "", True, ("iran", "oil")),
    ("election -(poll OR survey)", "Election survey", "", False, None),
    ("election -(poll OR survey)", "Election day", "", True, ("election",)),
    # lower-case and/or/not are ordinary words
    ("rock and roll", "Rock roll", "", False, None),
    ("rock and roll", "Rock and roll", "", True, ("rock", "and", "roll")),
    ("not", "This is not a drill", "", True, ("not",)),
    # reported terms: as written, in query order, de-duplicated, only from satisfied branches
    ("china korea", "Korea and China", "", True, ("china", "korea")),
    ("trade OR deal* OR trade", "Trade deal", "", True, ("trade", "deal*")),
    ("(iran oil) OR gas", "Iran gas", "", True, ("gas",)),
    # @lists with multi-word and CJK aliases
    ("@south_korea", "Republic of Korea navy", "", True, ("Republic of Korea",)),
    ("@south_korea", "Republic of Chad", "", False, None),
    ("@south_korea", "대한민국 정부", "", True, ("대한민국",)),
    ("@south_korea", "서울의 한국인 관광객", "", True, ("한국",)),
    ("@south_korea", "Seoul: 韩国 and South Korea", "", True, ("South Korea", "Seoul", "韩国")),
    ("@china", "中国外交部发言人", "", True, ("中国",)),
    ("@north_korea", "Visit by Kim Jong-un", "", True, ("Kim Jong Un",)),
    ("@missile", "Missiles seen", "", True, ("missile*",)),
    ("-@china", "Beijing says", "", False, None),
    # Korean particles, Chinese without spaces, scripts side by side
    ("북한", "북한이 미사일을 쐈다", "", True, ("북한",)),
    ("북한", "북한의 도발", "", True, ("북한",)),
    ("북한", "남한 소식", "", False, None),
    ("韩国", "中韩国际贸易", "", True, ("韩国",)),
    ("贸易", "中韩国际贸易合作", "", True, ("贸易",)),
    ("中国", "中韩国际贸易", "", False, None),
    ("LG", "LG전자 실적", "", True, ("LG",)),
    ("전자", "LG전자 실적", "", True, ("전자",)),
    ('"LG전자"', "LG 전자는 오늘", "", True, ("LG전자",)),
    ("한국", "Hankook Tire", "", False, None),
    ("북한", "Talks on 북", "한 news", False, None),
]


@pytest.mark.parametrize(("query", "title", "summary", "expected_match", "expected_terms"), CORPUS)
def test_corpus(
    query: str,
    title: str,
    summary: str,
    expected_match: bool,
    expected_terms: tuple[str, ...] | None,
) -> None:
    """Each query matches (or not) its article and reports the positive terms found."""
    found = evaluate(query, title, summary)
    assert (found is not None) is expected_match
    assert found == expected_terms


SEED_CASES = [
    # korea-china-trade
    (
        KOREA_CHINA_TRADE,
        "South Korea and China sign new trade deal",
        "",
        ("South Korea", "China", "trade", "deal*"),
    ),
    (
        KOREA_CHINA_TRADE,
        "Seoul, Beijing agree to cut tariffs on chips",
        "",
        ("Seoul", "Beijing", "tariff*"),
    ),
    (
        KOREA_CHINA_TRADE,
        "ROK exporters brace for slowdown",
        "Shipments to the PRC fell 8% in May.",
        ("ROK", "PRC", "export*"),
    ),
    (KOREA_CHINA_TRADE, "한국, 중국과 무역 협정 체결", "", ("한국", "중국", "무역")),
    (
        KOREA_CHINA_TRADE,
        "한중 FTA 2단계 협상 개시",
        "한국 수출 기업, 중국 시장 진출 기대",
        ("한국", "중국", "FTA", "수출"),
    ),
    (KOREA_CHINA_TRADE, "中国与韩国签署贸易协定", "", ("韩国", "中国", "贸易")),
    (KOREA_CHINA_TRADE, "South Korea and Japan discuss trade", "", None),
    (KOREA_CHINA_TRADE, "China raises tariffs on US goods", "", None),
    (KOREA_CHINA_TRADE, "South Korea, China hold summit on North Korea", "", None),
    (KOREA_CHINA_TRADE, "Korean firms eye Chinese market as tariffs bite", "", None),
    (KOREA_CHINA_TRADE, "Seoul's ideal partner is China, minister says", "", None),
    (KOREA_CHINA_TRADE, "한국 무역수지 흑자", "일본과의 교역 확대", None),
    # nk-missile-tests
    (
        NK_MISSILE_TESTS,
        "North Korea fires ballistic missile into East Sea",
        "",
        ("North Korea", "missile*", "ballistic", "fire*"),
    ),
    (
        NK_MISSILE_TESTS,
        "Pyongyang test-fires ICBM",
        "",
        ("Pyongyang", "ICBM", "fire*", "test*"),
    ),
    (
        NK_MISSILE_TESTS,
        "DPRK says it launched new SLBM",
        "",
        ("DPRK", "SLBM", "launch*"),
    ),
    (NK_MISSILE_TESTS, "북한, 동해상으로 탄도미사일 발사", "", ("북한", "미사일", "발사")),
    (
        NK_MISSILE_TESTS,
        '합참 "북한, 단거리 탄도미사일 시험발사"',
        "",
        ("북한", "미사일", "발사", "시험"),
    ),
    (NK_MISSILE_TESTS, "朝鲜发射弹道导弹", "", ("朝鲜", "导弹", "发射")),
    (NK_MISSILE_TESTS, "South Korea test-fires new missile", "", None),
    (NK_MISSILE_TESTS, "North Korea missile program condemned at UN", "", None),
    (NK_MISSILE_TESTS, "North Korean hackers fired up over crypto", "", None),
    (NK_MISSILE_TESTS, "북한 미사일 개발 규탄", "", None),
    (NK_MISSILE_TESTS, "남한 미사일 발사 훈련", "", None),
]


@pytest.mark.parametrize(("query", "title", "summary", "expected_terms"), SEED_CASES)
def test_seed_watches(
    query: str, title: str, summary: str, expected_terms: tuple[str, ...] | None
) -> None:
    """The two shipped watches match realistic English, Korean and Chinese headlines only."""
    assert evaluate(query, title, summary) == expected_terms


def test_matcher_returns_matching_watches_in_order() -> None:
    """Matcher reports every matching watch once, in the order given, with its terms."""
    watches = [
        ("nk", compile_query(NK_MISSILE_TESTS, TERMS)),
        ("sports", compile_query("football OR soccer", TERMS)),
        ("trade", compile_query(KOREA_CHINA_TRADE, TERMS)),
        ("anything-but-sports", compile_query("-sports", TERMS)),
    ]
    matcher = Matcher(watches)
    assert len(matcher) == 4
    headline = article("North Korea fires missile as Seoul and Beijing finalise trade deal")
    assert [(m.watch, m.terms) for m in matcher.match(headline)] == [
        ("nk", ("North Korea", "missile*", "fire*")),
        ("trade", ("Seoul", "Beijing", "trade", "deal*")),
        ("anything-but-sports", ()),
    ]
    assert [(m.watch, m.terms) for m in matcher.match(article("Sports: soccer tonight"))] == [
        ("sports", ("soccer",))
    ]


def test_empty_matcher_matches_nothing() -> None:
    """A Matcher without watches has length 0 and returns no matches."""
    matcher = Matcher([])
    assert len(matcher) == 0
    assert matcher.match(article("Anything at all")) == []


def test_compiled_query_is_reusable_across_articles() -> None:
    """One compiled query evaluates many articles independently."""
    query: CompiledQuery = compile_query("@china deal*", TERMS)
    assert query.evaluate(article("China deal")) == ("China", "deal*")
    assert query.evaluate(article("Japan deal")) is None
    assert query.evaluate(article("Beijing", "dealers gather")) == ("Beijing", "deal*")


def test_a_field_scoped_anchor_makes_candidates_only_from_its_field() -> None:
    """A needle found outside the field its anchor term is scoped to makes no candidate."""
    watches = [("tagged", "tag:korea"), ("titled", 'title:"trade deal"'), ("text", "korea")]
    matcher = Matcher(
        [(name, compile_query(q, {})) for name, q in watches], tags={"wire": ["korea"]}
    )

    def candidates(title: str, summary: str, source: str) -> list[str]:
        doc = matcher.document(
            Article(source=source, key="k", url=None, title=title, summary=summary)
        )
        return [matcher.watches[i][0] for i in matcher.scan(doc)[1]]

    assert candidates("Korea trade", "a trade deal", "other") == ["text"]
    assert candidates("Trade deal", "Korea", "wire") == ["tagged", "titled", "text"]


# --- property test: compiled matching agrees with a naive set-based evaluation -------------

VOCAB = ["alpha", "beta", "gamma", "delta", "and", "or", "not"]
_PRECEDENCE = {"or": 1, "and": 2, "implicit": 2, "not": 3, "minus": 3, "word": 4}


@dataclass(frozen=True)
class _Q:
    """A reference query tree: op is word, not, minus, and, implicit or or."""

    op: str
    args: tuple[_Q, ...] = ()
    word: str = ""


def _reference(q: _Q, words: set[str]) -> bool:
    """Evaluate the tree naively over the set of lower-case document words."""
    if q.op == "word":
        return q.word.lower() in words
    if q.op in ("not", "minus"):
        return not _reference(q.args[0], words)
    if q.op == "or":
        return any(_reference(a, words) for a in q.args)
    return all(_reference(a, words) for a in q.args)


def _render(q: _Q, minimal: bool) -> str:
    """Query text for the tree: fully parenthesized, or only where precedence needs it."""
    if q.op == "word":
        return q.word

    def child(a: _Q, need: int) -> str:
        text = _render(a, minimal)
        if a.op == "word" or (minimal and _PRECEDENCE[a.op] >= need):
            return text
        return f"({text})"

    if q.op == "not":
        return "NOT " + child(q.args[0], 3)
    if q.op == "minus":
        return "-" + child(q.args[0], 3)
    joiner = {"and": " AND ", "implicit": " ", "or": " OR "}[q.op]
    # Operands of the same level need no parentheses; one level up they must bind tighter.
    need = _PRECEDENCE[q.op]
    return joiner.join(child(a, need + (0 if a.op in (q.op, "word") else 1)) for a in q.args)


_words = st.builds(
    lambda w, style: _Q("word", word=style(w)),
    st.sampled_from(VOCAB),
    st.sampled_from([str, str.capitalize]),
)


def _extend(children: st.SearchStrategy[_Q]) -> st.SearchStrategy[_Q]:
    """Wrap sub-queries in a negation or join two or three of them."""
    return st.one_of(
        st.builds(lambda op, a: _Q(op, (a,)), st.sampled_from(["not", "minus"]), children),
        st.builds(
            lambda op, args: _Q(op, tuple(args)),
            st.sampled_from(["and", "implicit", "or"]),
            st.lists(children, min_size=2, max_size=3),
        ),
    )


_queries = st.recursive(_words, _extend, max_leaves=6)
_doc_words = st.lists(
    st.builds(
        lambda w, style: style(w),
        st.sampled_from([*VOCAB, "other"]),
        st.sampled_from([str, str.upper, str.capitalize]),
    ),
    max_size=5,
)
_separators = st.sampled_from([" ", "-", ", ", "'s ", " / "])


@settings(max_examples=300, deadline=None)
@given(
    query=_queries,
    minimal=st.booleans(),
    title=_doc_words,
    summary=_doc_words,
    separator=_separators,
)
def test_matching_agrees_with_reference_evaluation(
    query: _Q, minimal: bool, title: list[str], summary: list[str], separator: str
) -> None:
    """For random Latin-word queries and documents, matching equals naive set evaluation."""
    text = _render(query, minimal)
    words = {w.lower() for w in title + summary}
    doc = article(separator.join(title), separator.join(summary))
    found = compile_query(text, {}).evaluate(doc)
    assert (found is not None) == _reference(query, words), text


def test_building_a_matcher_freezes_nothing() -> None:
    """Freezing is the daemon's to decide (monitor.app.heap): the console's playground and
    `check` build matchers too, and a freeze there would keep the garbage of the moment for
    good."""
    before = gc.get_freeze_count()
    build_matcher([("trade", KOREA_CHINA_TRADE), ("missiles", NK_MISSILE_TESTS)], TERMS)
    assert gc.get_freeze_count() == before
