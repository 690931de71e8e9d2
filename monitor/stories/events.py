"""Whether two independent reports are about the same event: words, names, numbers, time.

Precision comes first, since a wrong merge hides an alert. Two reports join only when their title
and lead are alike by TF-IDF cosine, they name at least two of the same people, places or
organizations, they were published close together, and neither title reads as a follow-up or
reaction the other is not (a reaction to an event is news of its own). Titles that both carry
numbers must share one ("kills 12" and "death toll rises to 50" are different stages).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from monitor.text import fold, is_cjk, tokens

THRESHOLD = 0.3
MIN_SHARED_NAMES = 2
# Close in time counts fully; the score then fades to half at the edge of the window.
_FULL_CREDIT = timedelta(hours=12)
_NAME = re.compile(r"\b[A-Z][\w'\u2019.-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w'\u2019.-]*)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


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
    june july august september october november december breaking update live exclusive
    analysis opinion"""
    )
)
# Title words that mark a reaction, a follow-up or a later stage of an affair.
_FOLLOW_UP = frozenset(
    _words(
        """reacts reaction reactions responds response responses condemns condemn slams criticizes
    criticises criticism denies rejects welcomes praises hails retaliates retaliation vows
    warns aftermath fallout again latest second third resumes renewed follow toll rises
    rise risen climbs investigation probe arrested charged sentenced trial verdict"""
    )
)


@dataclass(frozen=True, slots=True)
class Report:
    """What the event test needs of one article."""

    terms: Counter[str]
    names: frozenset[str]
    numbers: frozenset[str]
    title_numbers: frozenset[str]
    follow_up: frozenset[str]
    cjk: bool


def _names(text: str) -> set[str]:
    found: set[str] = set()
    for match in _NAME.finditer(text):
        words = [w for w in fold(match.group()).split() if w not in _NOT_NAMES]
        if words and not (len(words) == 1 and len(words[0]) < 2):
            found.add(" ".join(words))
            found.update(w for w in words if len(w) > 2)
    return found


def _mostly_capitalized(title: str) -> bool:
    words = [w for w in title.split() if w[:1].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def report(title: str, lead: str) -> Report:
    """The features of one article's title and lead."""
    words = tokens(title) + tokens(lead)
    terms: Counter[str] = Counter()
    for word in words:
        if is_cjk(word[0]):
            terms.update(word[i : i + 2] for i in range(max(1, len(word) - 1)))
        elif word not in _STOP and len(word) > 1:
            terms[word] += 1
    # A title in Title Case says nothing about which of its words are names.
    names = _names(lead) | (set() if _mostly_capitalized(title) else _names(title))
    title_words = set(tokens(title))
    return Report(
        terms=terms,
        names=frozenset(names),
        numbers=frozenset(_NUMBER.findall(f"{title} {lead}")),
        title_numbers=frozenset(_NUMBER.findall(title)),
        follow_up=frozenset(title_words & _FOLLOW_UP),
        cjk=any(is_cjk(w[0]) for w in words),
    )


def cosine(a: Counter[str], b: Counter[str], idf: dict[str, float]) -> float:
    """TF-IDF cosine of two term counts; unknown terms weigh as the rarest."""
    top = max(idf.values(), default=1.0)

    def weight(term: str, n: int) -> float:
        return (1 + math.log(n)) * idf.get(term, top)

    dot = sum(weight(t, n) * weight(t, b[t]) for t, n in a.items() if t in b)
    if not dot:
        return 0.0
    norm_a = math.sqrt(sum(weight(t, n) ** 2 for t, n in a.items()))
    norm_b = math.sqrt(sum(weight(t, n) ** 2 for t, n in b.items()))
    return dot / (norm_a * norm_b)


def score(a: Report, b: Report, gap: timedelta, window: timedelta, idf: dict[str, float]) -> float:
    """How sure we are that two reports cover one event: 0 when a rule says they do not."""
    if gap > window or a.follow_up != b.follow_up:
        return 0.0
    if a.title_numbers and b.title_numbers and not a.title_numbers & b.title_numbers:
        return 0.0
    if not a.cjk and len(a.names & b.names) < MIN_SHARED_NAMES:
        return 0.0
    fade = 1.0
    if gap > _FULL_CREDIT and window > _FULL_CREDIT:
        fade = 1.0 - 0.5 * (gap - _FULL_CREDIT) / (window - _FULL_CREDIT)
    # Without names to go by, CJK reports must be much closer in wording.
    need = THRESHOLD * (2 if a.cjk else 1)
    value = cosine(a.terms, b.terms, idf) * fade
    return value if value >= need else 0.0
