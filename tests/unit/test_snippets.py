"""One snippet per field, every matched word highlighted, in every format."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.core.model import Alert, Article, Hit
from monitor.core.query import build_matcher
from monitor.core.query.document import document
from monitor.core.render import render
from monitor.core.snippets import Snippet, parse, snippets, to_html
from monitor.core.templating import HTML, MARKDOWN, TEXT


def _hits(query: str, **fields: str) -> tuple[Hit, ...]:
    article = Article(source="wire", key="k", url=None, **{"title": "", "summary": "", **fields})
    matcher = build_matcher([("w", query)], {})
    [match] = matcher.match(article)
    return match.hits


def _alert(hits: tuple[Hit, ...]) -> Alert:
    return Alert(
        watch="w",
        terms=("t",),
        source="wire",
        title="x",
        summary="",
        url=None,
        published=datetime(2026, 1, 1, tzinfo=UTC),
        hits=hits,
    )


def test_three_terms_in_the_title_give_one_snippet_with_all_three_marked() -> None:
    """The title is shown once, not once per matched term, with each term highlighted."""
    hits = _hits(
        "Korea AND China AND trade AND Beijing",
        title="Korea and China sign a trade pact",
        summary="Officials from Korea met in Beijing.",
    )
    assert len(hits) == 4
    shown = snippets(hits)
    assert [s.field for s in shown] == ["title", "summary"]
    assert shown[0].marked() == "«Korea» and «China» sign a «trade» pact"
    assert shown[1].marked() == "Officials from «Korea» met in «Beijing»."


def test_the_title_comes_first_whatever_the_query_order() -> None:
    """The most telling field leads: title, then lead, then text."""
    hits = (
        Hit(clause="a", field="content", snippet="in the «text»"),
        Hit(clause="b", field="summary", snippet="in the «lead»"),
        Hit(clause="c", field="title", snippet="«title» here"),
    )
    assert [s.field for s in snippets(hits)] == ["title", "summary", "content"]


def test_overlapping_windows_merge_and_distant_ones_are_joined_and_bounded() -> None:
    """Two nearby words share one window; far ones get windows of their own, within the bound."""
    filler = " ".join(f"w{n}" for n in range(400))
    text = f"alpha beta {filler} gamma {filler} delta"
    doc_hits = _hits("alpha AND beta AND gamma AND delta", title="t", summary=text)
    [snip] = snippets(doc_hits)
    marked = snip.marked()
    assert "«alpha» «beta»" in marked  # one window, not two
    assert "«gamma»" in marked and " … " in marked
    assert len(marked) <= 240 + 4
    assert marked.count("«") == marked.count("»")


def test_a_phrase_and_a_word_inside_it_are_one_highlight() -> None:
    """Marks that overlap become one, so no mark nests in another."""
    hits = _hits('"trade deal" AND deal', title="A trade deal is signed")
    [snip] = snippets(hits)
    assert snip.marked() == "A «trade deal» is signed"


def test_guillemets_of_the_text_do_not_become_highlights() -> None:
    """French quotes in a title stay quotes, so the snippet marks only what matched."""
    hits = _hits("accord", title="Le «grand» accord")
    [snip] = snippets(hits)
    assert snip.marks and snip.text[slice(*snip.marks[0])] == "accord"
    assert len(snip.marks) == 1


def test_old_hits_that_repeat_a_field_are_folded_with_every_word_marked() -> None:
    """Hits stored before snippets were per field still give one snippet, all words marked."""
    hits = (
        Hit(clause="Korea", field="title", snippet="«Korea» and China sign"),
        Hit(clause="China", field="title", snippet="Korea and «China» sign"),
    )
    [snip] = snippets(hits)
    assert snip.marked() == "«Korea» and «China» sign"


def test_each_format_shows_highlights_its_own_way_and_keeps_text_inert() -> None:
    """«» in text, ** in markdown, <mark> in HTML; feed markup escaped around them."""
    hits = (Hit(clause="x", field="title", snippet="<b>x</b> «missile» <@here>"),)
    alert = _alert(hits)
    assert "«missile»" in render(alert, TEXT).body
    markdown = render(alert, MARKDOWN).body
    assert "**missile**" in markdown and "<@here>" not in markdown
    html = render(alert, HTML).body
    assert ">missile</mark>" in html and "&lt;b&gt;x&lt;/b&gt; <mark" in html
    assert to_html(parse("title", "<i>«x»</i>")) == "&lt;i&gt;<mark>x</mark>&lt;/i&gt;"


def test_snippets_carry_offsets_for_the_console_and_json() -> None:
    """A parsed snippet is plain text with highlight offsets into it."""
    snip = parse("title", "A «b» c «d»")
    assert snip == Snippet(field="title", text="A b c d", marks=((2, 3), (6, 7)))
    assert snip.parts() == [("A ", False), ("b", True), (" c ", False), ("d", True)]


def test_a_cjk_term_is_marked_inside_its_word() -> None:
    """북한 inside 북한이 is highlighted alone."""
    doc = document(Article(source="s", key="k", url=None, title="북한이 미사일 발사", summary=""))
    assert doc.texts[0] == "북한이 미사일 발사"
    [snip] = snippets(_hits("북한", title="북한이 미사일 발사"))
    assert snip.marked() == "«북한»이 미사일 발사"
