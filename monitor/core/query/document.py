"""The searchable form of an article: its fields as padded token strings, analysed once.

Every field (one segment per source tag) becomes its tokens joined by single spaces, and the
segments are joined by two spaces into one string with a space at each end. A term is then a
plain substring (a "needle", see `compile.needle`): a Latin word is " word ", so it matches
whole words only; a CJK edge has no space, so 북한 is found inside 북한이. Needles never hold two
spaces in a row, so nothing matches across two fields. There are two such strings: `folded`
(case folded, what ordinary terms see) and `cased` (case kept, for `{US}`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from monitor.core.fulltext import lead
from monitor.core.model import Article
from monitor.core.text import cased_tokens, is_cjk, normalize, strip_html, word_spans

TEXT_FIELDS = frozenset({"title", "summary", "content"})
FOLDED, CASED, RAW = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Where a term was found: in `kind`'s string (FOLDED, CASED) or, for RAW (a regular
    expression), at `start:end` of the normalized text of `segment`."""

    kind: int
    segment: int
    start: int
    end: int


class Document:
    """One article, analysed: the padded strings, and where each segment and token lies."""

    def __init__(self, segments: Sequence[tuple[str, str]]) -> None:
        # segments: (field name, plain text); analysis below is the per-article cost.
        self.fields = tuple(name for name, _ in segments)
        self.texts = tuple(text for _, text in segments)
        cased = [" ".join(cased_tokens(text)) for text in self.texts]
        folded = [part.casefold() for part in cased]
        self.cased = " " + "  ".join(cased) + " "
        self.folded = " " + "  ".join(folded) + " "
        self.starts = (_offsets(folded), _offsets(cased))
        # Tokens in the segments before each one: a part of n tokens has n - 1 spaces.
        counts = [part.count(" ") + 1 if part else 0 for part in cased]
        self.tokens_before = [sum(counts[:i]) for i in range(len(counts))]
        self._spans_cache: dict[int, list[tuple[int, int]]] = {}

    def segment(self, kind: int, pos: int) -> int:
        """The segment holding the character at `pos` of `kind`'s string."""
        return bisect_right(self.starts[kind], pos) - 1

    def occurrence(self, kind: int, start: int, end: int) -> Occurrence:
        """The occurrence of a needle core at `start:end` of `kind`'s string."""
        return Occurrence(kind, self.segment(kind, start), start, end)

    def field(self, occ: Occurrence) -> str:
        """The field an occurrence lies in."""
        return self.fields[occ.segment]

    def tokens_of(self, occ: Occurrence) -> tuple[int, int]:
        """The first and last token index an occurrence covers (one numbering per article)."""
        # Within a segment tokens are one space apart, so counting spaces numbers them.
        string = self.folded if occ.kind == FOLDED else self.cased
        start, base = self.starts[occ.kind][occ.segment], self.tokens_before[occ.segment]
        return (
            base + string.count(" ", start, occ.start),
            base + string.count(" ", start, occ.end - 1),
        )

    @cached_property
    def normalized(self) -> tuple[str, ...]:
        """Each segment's text normalized (case kept), as regular expressions see it."""
        return tuple(map(normalize, self.texts))

    def _word_spans(self, segment: int) -> list[tuple[int, int]]:
        spans = self._spans_cache.get(segment)
        if spans is None:
            spans = self._spans_cache[segment] = word_spans(self.normalized[segment])
        return spans

    def snippet(self, occs: Iterable[Occurrence], width: int = 60, limit: int = 240) -> str:
        """The text around the occurrences in the field of the first one, every occurrence in
        «», windows that overlap merged and the rest joined by " … ", at most about `limit`
        characters. Guillemets of the text itself become quotes, so the marks stay unambiguous.
        """
        located = sorted({self._span(o) for o in occs})
        if not located:
            return ""
        segment = located[0][0]
        text = self.texts[segment]
        normalized = self.normalized[segment]
        # Offsets are in the normalized text; they hold for the original when lengths agree.
        shown = text if len(text) == len(normalized) else normalized
        shown = shown.replace("«", "\u201c").replace("»", "\u201d")
        spans = _disjoint([(s, e) for seg, s, e in located if seg == segment and e > s])
        if not spans:
            return ""
        windows: list[list[int]] = []
        for s, e in spans:
            lo, hi = _word_edge(shown, s - width, s), _word_edge(shown, e + width, e)
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], hi)
            elif sum(b - a for a, b in windows) < limit:
                windows.append([lo, hi])
        pieces = []
        for lo, hi in windows:
            parts, pos = [], lo
            for s, e in spans:
                if lo <= s and e <= hi:
                    parts += [shown[pos:s], "«", shown[s:e], "»"]
                    pos = e
            parts.append(shown[pos:hi])
            pieces.append(" ".join("".join(parts).split()))
        body = " … ".join(pieces)
        cut = len(body) > limit
        if cut:
            body = _cut(body, limit)
        head = "…" if windows[0][0] > 0 else ""
        return head + body + ("…" if cut or windows[-1][1] < len(shown) else "")

    def _span(self, occ: Occurrence) -> tuple[int, int, int]:
        """(segment, start, end) of an occurrence in its segment's normalized text."""
        if occ.kind == RAW:
            return occ.segment, occ.start, occ.end
        string = self.folded if occ.kind == FOLDED else self.cased
        first, last = self.tokens_of(occ)
        spans = self._word_spans(occ.segment)
        base = self.tokens_before[occ.segment]
        if not spans or last - base >= len(spans):
            return occ.segment, 0, 0
        # A CJK term may start or end inside its token: keep that offset within the word. A
        # Latin prefix term marks its whole word.
        head = occ.start - string.rfind(" ", 0, occ.start) - 1 if is_cjk(string[occ.start]) else 0
        tail = string.find(" ", occ.end - 1) - occ.end if is_cjk(string[occ.end - 1]) else 0
        s0, e0 = spans[first - base]
        s1, e1 = spans[last - base]
        return occ.segment, min(s0 + head, e0), max(e1 - tail, s1)


def _word_edge(text: str, at: int, mark: int) -> int:
    """`at` clamped to the text and moved towards `mark` to a space, if one lies between, so
    that a window does not start or end inside a word."""
    at = min(max(at, 0), len(text))
    if at in (0, len(text)):
        return at
    if at < mark:
        space = text.find(" ", at, mark)
        return space + 1 if space >= 0 else at
    space = text.rfind(" ", mark, at)
    return space if space >= 0 else at


def _cut(body: str, limit: int) -> str:
    """`body` cut to `limit` at a space, never inside a mark."""
    end = body.rfind(" ", 0, limit)
    kept = body[: end if end > 0 else limit]
    if kept.count("«") > kept.count("»"):
        kept = kept[: kept.rfind("«")]
    return kept.rstrip(" …")


def _disjoint(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    # Sorted spans that overlap (a phrase and a word inside it) become one mark.
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _offsets(parts: Sequence[str]) -> list[int]:
    # Segment i's tokens start at offsets[i] in " " + "  ".join(parts) + " ".
    offsets, pos = [], 1
    for part in parts:
        offsets.append(pos)
        pos += len(part) + 2
    return offsets


def _plain(text: str) -> str:
    return strip_html(text) if "<" in text or "&" in text else text


def document(article: Article, tags: Sequence[str] = ()) -> Document:
    """Analyse an article; `tags` are its source's tags, for `tag:` terms."""
    segments = [
        ("title", _plain(article.title)),
        ("summary", _plain(article.summary)),
        ("content", _plain(article.content)),
        # Only under `lead:`: unscoped terms search the content it comes from.
        ("lead", lead(article)),
        ("source", article.source),
        ("url", article.url or ""),
        ("lang", article.lang or ""),
    ]
    segments += [("tag", tag) for tag in tags]
    return Document(segments)
