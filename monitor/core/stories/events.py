"""Whether two independent reports are about the same event: words, names, numbers, time.

Precision comes first, since a wrong merge hides an alert. Two reports join only when their title
and lead are alike by TF-IDF cosine, they name at least two of the same people, places or
organizations, they were published close together, and neither title reads as a follow-up or
reaction the other is not (a reaction to an event is news of its own). Titles that both carry
numbers must share one ("kills 12" and "death toll rises to 50" are different stages).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from monitor.core.text import fold, has_cjk, is_cjk, tokens

THRESHOLD = 0.25
MIN_SHARED_NAMES = 2
# Reports with fewer distinct words than this say too little to be matched by anything but a copy.
MIN_TERMS = 8
# Close in time counts fully; the score then fades to half at the edge of the window.
_FULL_CREDIT = timedelta(hours=12)
# A capitalized word may hold dots ("U.S."), but a dot before a space ends a sentence.
_CAP_WORD = r"[A-Z](?:[\w'\u2019-]|\.(?=\w))*"
_NAME = re.compile(rf"\b{_CAP_WORD}(?:\s+(?:of\s+|de\s+)?{_CAP_WORD})*")
_POSSESSIVE = re.compile(r"'s?$")
# Word endings that make other forms of one term ("crashes", "crashed", "crash").
_SUFFIXES = ("ing", "ed", "es", "s")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# "SEOUL, Dec 1 (Reuters) -": every story from one bureau starts so; it names nothing.
_DATELINE = re.compile(
    r"^[A-Z][A-Z .,/'-]{2,40}"  # the place, in capitals
    r"(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"  # a date
    r"\s*(?:\([^)]{1,30}\))?\s*[-\u2013\u2014]+\s*"  # the agency, and a dash
)


def _words(text: str) -> list[str]:
    return text.split()


_STOP = frozenset(
    _words(
        """a an the and or but of in on at to for from by with as is are was were be been it its
    this that these those he she they we you i his her their our not no has have had will would
    can could may might said says say new over after before about into than more most up down
    out also just under amid while when where who what which how why all any some one two"""
    )
)
_NOT_NAMES = frozenset(
    _words(
        """the a an in on at for from by with as after before this that but and or if when while
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december jan feb mar apr jun jul aug sep sept
    oct nov dec breaking update live exclusive analysis opinion reporting editing writing
    additional photo video reuters ap afp yonhap xinhua kyodo upi dpa ani pti wire"""
    )
)
_NOT_NAME_WORDS = _NOT_NAMES | _STOP
# Title words that mark a reaction, a follow-up or a later stage of an affair.
_FOLLOW_UP = frozenset(
    _words(
        """reacts reaction reactions responds response responses condemns condemn slams criticizes
    criticises criticism denies rejects welcomes praises hails retaliates retaliation vows
    warns aftermath fallout again latest second third resumes renewed follow toll rises
    rise risen climbs investigation probe arrested charged sentenced trial verdict freed
    released rescued"""
    )
)


@dataclass(frozen=True, slots=True)
class Report:
    """What the event test needs of one article."""

    # A plain dict: a report crosses from a parser worker, and a Counter unpickles in Python.
    terms: dict[str, int]
    square: float  # the sum of the squared term weights before IDF (see _tf)
    names: frozenset[str]  # names as written, and the words of multi-word ones
    whole: frozenset[str]  # names as written only
    inner: frozenset[str]  # the runs of two or more words inside its longer names
    title_numbers: frozenset[str]
    follow_up: frozenset[str]
    cjk: bool


def _stem(word: str) -> str:
    # "Libya's" and "Libyan", "Philippines" and "Philippine": one stem each. Rough, but both
    # sides of a comparison are cut alike.
    word = _POSSESSIVE.sub("", word)
    if len(word) > 4 and word.endswith("s"):
        word = word[:-1]
    if len(word) > 5 and word.endswith("an"):
        word = word[:-1]
    return word


# Names recur across a day's news far more than any other words: each is cut once.
@functools.lru_cache(maxsize=1 << 14)
def _name_words(name: str) -> tuple[str, ...]:
    return tuple(w for w in map(_stem, fold(name).split()) if w not in _NOT_NAME_WORDS)


def _names(text: str) -> tuple[set[str], set[str]]:
    """The names in a text, and their words ("bank of korea" gives "bank" and "korea")."""
    whole: set[str] = set()
    parts: set[str] = set()
    for match in _NAME.finditer(text):
        words = _name_words(match.group())
        # One capitalized word opening a sentence ("Officials said") is no sign of a name.
        opens = match.start() < 2 or text[match.start() - 2] in ".!?:"
        if len(words) == 1 and (opens or len(words[0]) < 2):
            continue
        if words:
            whole.add(" ".join(words))
            parts.update(w for w in words if len(w) > 2)
    return whole, parts


def shared_names(a: Report, b: Report, enough: int | None = None) -> int:
    """Names both reports have, not counting a word the two have only inside different names
    ("korea" of "North Korea" and of "Bank of Korea"); a name found whole inside a longer one
    of the other counts ("Lao Airlines" in "Lao Airlines ATR-72"). With `enough`, counting may
    stop once that many are found, before the costly search inside longer names."""
    shared = {n for n in a.names & b.names if n in a.whole or n in b.whole}
    if enough is not None and len(shared) >= enough:
        return len(shared)
    # A name whole in one and inside a longer one of the other: looked up, not searched for.
    shared.update(a.whole & b.inner)
    shared.update(b.whole & a.inner)
    return len(shared)


_NO_NAMES: frozenset[str] = frozenset()


def _inner(whole: set[str]) -> frozenset[str]:
    """The runs of at least two words inside names of three or more (each name is its words
    joined by one space)."""
    runs: set[str] = set()
    for name in whole:
        words = name.split(" ")
        n = len(words)
        if n > 2:
            runs.update(
                " ".join(words[i:j]) for i in range(n - 1) for j in range(i + 2, n + 1) if j - i < n
            )
    return frozenset(runs) if runs else _NO_NAMES


def _mostly_capitalized(title: str) -> bool:
    words = [w for w in title.split() if w[:1].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


# A day's news repeats most of its words: each word's term is worked out once.
@functools.lru_cache(maxsize=1 << 16)
def _term(word: str) -> str:
    # A short word keeps its ending ("news").
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@functools.lru_cache(maxsize=1 << 16)
def _kept_term(word: str) -> str:
    """The term of a word, or "" for a word too short or too common to count."""
    return _term(word) if len(word) > 1 and word not in _STOP else ""


def report(title: str, lead: str) -> Report:
    """The features of one article's title and lead."""
    lead = _DATELINE.sub("", lead)
    words = tokens(title) + tokens(lead)
    cjk = has_cjk("".join(words))
    if not cjk:  # the common case, counted in one pass
        terms = Counter(filter(None, map(_kept_term, words)))
    else:
        terms = Counter()
        for word in words:
            if is_cjk(word[0]):
                terms.update(word[i : i + 2] for i in range(max(1, len(word) - 1)))
            elif word not in _STOP and len(word) > 1:
                terms[_term(word)] += 1
    # A title in Title Case says nothing about which of its words are names.
    whole, parts = _names(lead)
    if not _mostly_capitalized(title):
        in_title = _names(title)
        whole |= in_title[0]
        parts |= in_title[1]
    title_words = set(tokens(title))
    return Report(
        terms=dict(terms),
        square=sum(map(_tf_squared, terms.values())),
        names=frozenset(whole | parts),
        whole=frozenset(whole),
        inner=_inner(whole),
        title_numbers=frozenset(_NUMBER.findall(title)),
        follow_up=frozenset(title_words & _FOLLOW_UP),
        cjk=cjk,
    )


@dataclass(frozen=True, slots=True)
class Weights:
    """The squared IDF of terms, as one report's cosine with each candidate needs it: computed
    once for all of them. Terms it lacks weigh as its rarest."""

    squared: dict[str, float]
    top: float  # the squared IDF of its rarest term
    norm: float  # of the report it was made for


def weights(a: Report, idf: dict[str, float]) -> Weights:
    """The weights for `a`'s cosines, from the IDF of (at least) its terms."""
    squared = {t: v * v for t, v in idf.items()}
    top = max(squared.values(), default=1.0)
    return Weights(squared, top, _norm(a, squared, top))


_TF = tuple(1 + math.log(n) if n else 0.0 for n in range(64))


def _tf(count: int) -> float:
    # A term seldom occurs more than a few times in a title and lead: looked up, not computed.
    return _TF[count] if count < 64 else 1 + math.log(count)


@functools.cache
def _tf_squared(count: int) -> float:
    return _tf(count) ** 2


def _norm(a: Report, squared: dict[str, float], top: float) -> float:
    # Every term weighs `top` but those `squared` has: only these few are summed one by one.
    terms = a.terms
    rest = sum(_tf_squared(terms[t]) * (squared[t] - top) for t in terms.keys() & squared.keys())
    return math.sqrt(top * a.square + rest)


def cosine(a: Report, b: Report, w: Weights) -> float:
    """TF-IDF cosine of two reports' terms, `w` made for `a`."""
    ta, tb, weight, top, tf = a.terms, b.terms, w.squared.get, w.top, _TF
    dot = sum(
        (tf[ta[t]] if ta[t] < 64 else _tf(ta[t]))
        * (tf[tb[t]] if tb[t] < 64 else _tf(tb[t]))
        * weight(t, top)
        for t in ta.keys() & tb.keys()
    )
    if not dot:
        return 0.0
    return dot / (w.norm * _norm(b, w.squared, top))


def score(a: Report, b: Report, gap: timedelta, window: timedelta, w: Weights) -> float:
    """How sure we are that two reports cover one event: 0 when a rule says they do not."""
    if gap > window or a.follow_up != b.follow_up or min(len(a.terms), len(b.terms)) < MIN_TERMS:
        return 0.0
    if a.title_numbers and b.title_numbers and not a.title_numbers & b.title_numbers:
        return 0.0
    if not a.cjk and shared_names(a, b, MIN_SHARED_NAMES) < MIN_SHARED_NAMES:
        return 0.0
    fade = 1.0
    if gap > _FULL_CREDIT and window > _FULL_CREDIT:
        fade = 1.0 - 0.5 * (gap - _FULL_CREDIT) / (window - _FULL_CREDIT)
    # Without names to go by, CJK reports must be much closer in wording.
    need = THRESHOLD * (2 if a.cjk else 1)
    value = cosine(a, b, w) * fade
    return value if value >= need else 0.0
