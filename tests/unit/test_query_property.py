"""Property: the indexed matcher (one scan, presearcher, verification of candidates) returns
exactly what naive evaluation of each query on its own returns, explanations included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.model import Article
from monitor.core.query import Matcher, NaiveMatcher, compile_query

WORDS = ["alpha", "Alpha", "ALPHA", "beta", "gamma", "al", "US", "us", "북한", "中国", "LG"]
DOC_WORDS = [*WORDS, "alphabet", "북한이", "LG전자", "中国人", "beta-gamma", "gamma's", "&amp;"]
TERMS = {"greek": ["alpha", "beta gamma", "gam*"], "korea": ["북한", "LG"]}
FIELDS = ["title", "summary", "content", "source", "tag", "lang"]
SOURCES = {"s1": ["alpha", "news"], "s2": ["beta"]}

_term = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(["al*", "alp*", "gam*", "북*", "bet*"]),
    st.builds(lambda a, b: f'"{a} {b}"', st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(lambda w: f"{{{w}}}", st.sampled_from(["US", "Alpha", "LG", "alpha"])),
    st.sampled_from(["@greek", "@korea"]),
)
_positional = st.one_of(
    _term,
    st.builds(lambda a, b: f"({a} OR {b})", _term, _term),
)
_leaf = st.one_of(
    _term,
    st.sampled_from(["/alp?ha/", "/b.ta/", "/北|中/"]),
    st.builds(lambda f, t: f"{f}:{t}", st.sampled_from(FIELDS), _term),
    st.builds(lambda a, n, b: f"{a} NEAR/{n} {b}", _positional, st.integers(0, 3), _positional),
    st.builds(
        lambda a, b, n: f'"{a} {b}"~{n}',
        st.sampled_from(WORDS),
        st.sampled_from(WORDS),
        st.integers(0, 3),
    ),
    st.builds(lambda n, t: f"ATLEAST/{n} {t}", st.integers(1, 3), _positional),
)
_query = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} {b})", inner, inner),
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a: f"-{a}" if a.startswith("(") else f"NOT {a}", inner),
    ),
    max_leaves=6,
)
_text = st.lists(st.sampled_from(DOC_WORDS), max_size=12).map(" ".join)
_article = st.builds(
    lambda title, summary, content, source, lang: Article(
        source=source,
        key="k",
        url=None,
        title=title,
        summary=summary,
        content=content,
        lang=lang,
    ),
    _text,
    _text,
    _text,
    st.sampled_from(["s1", "s2", "alpha"]),
    st.sampled_from([None, "alpha", "ko-KR"]),
)


@settings(max_examples=300, deadline=None)
@given(queries=st.lists(_query, min_size=1, max_size=6), articles=st.lists(_article, max_size=4))
def test_index_agrees_with_naive_evaluation(queries: list[str], articles: list[Article]) -> None:
    """For random queries and articles, the index returns the same matches as naive search."""
    watches = [(f"w{i}", compile_query(q, TERMS)) for i, q in enumerate(queries)]
    indexed = Matcher(watches, tags=SOURCES)
    naive = NaiveMatcher(watches, tags=SOURCES)
    for article in articles:
        assert indexed.match(article) == naive.match(article)
