"""Analysts' feedback on alerts: marking one relevant or not, and precision per watch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from monitor.core.text import tokens
from monitor.store.base import StoreBase
from monitor.store.schema import articles, feedback, matches, outbox

# Words too common to tell anything about why an alert was not relevant.
_STOP = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have"),
        *("in", "is", "it", "its", "of", "on", "or", "says", "said", "that", "the"),
        *("their", "this", "to", "was", "were", "will", "with", "after", "over", "new"),
        *("more", "than", "not", "but", "who"),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Precision:
    """A watch's marked alerts since a time: how many, how many relevant, and the words most
    frequent in those marked not relevant."""

    watch: str
    marked: int
    relevant: int
    noise_words: tuple[tuple[str, int], ...] = ()

    @property
    def precision(self) -> float | None:
        """Relevant among marked, or None when nothing is marked."""
        return self.relevant / self.marked if self.marked else None


class Feedback(StoreBase):
    """Verdicts on matches, keyed by the match so every channel's copy of an alert shares one."""

    def mark(self, alert_id: int, *, relevant: bool, now: datetime) -> str | None:
        """Mark the alert with outbox id `alert_id`; its watch, or None if there is none."""
        with self._write() as conn:
            row = conn.execute(
                select(matches.c.id, matches.c.watch)
                .join(outbox, outbox.c.match_id == matches.c.id)
                .where(outbox.c.id == alert_id)
            ).first()
            if row is None:
                return None
            values = {"watch": row.watch, "relevant": relevant, "marked_at": now}
            insert = self._insert(feedback).values(match_id=row.id, **values)
            conn.execute(insert.on_conflict_do_update(index_elements=["match_id"], set_=values))
            return str(row.watch)

    def verdicts(self, alert_ids: list[int]) -> dict[int, bool]:
        """The verdict on each of these alerts that has one."""
        if not alert_ids:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(outbox.c.id, feedback.c.relevant)
                .join(feedback, feedback.c.match_id == outbox.c.match_id)
                .where(outbox.c.id.in_(alert_ids))
            )
            return {r.id: bool(r.relevant) for r in rows}

    def precision(self, watch: str, since: datetime, *, words: int = 10) -> Precision:
        """How precise `watch` has been on alerts marked since `since`."""
        with self._read() as conn:
            counts = conn.execute(
                select(
                    func.count(), func.sum(case((feedback.c.relevant.is_(True), 1), else_=0))
                ).where(feedback.c.watch == watch, feedback.c.marked_at >= since)
            ).one()
            noise = conn.execute(
                select(articles.c.title, articles.c.summary)
                .join(matches, matches.c.article_id == articles.c.id)
                .join(feedback, feedback.c.match_id == matches.c.id)
                .where(
                    feedback.c.watch == watch,
                    feedback.c.marked_at >= since,
                    feedback.c.relevant.is_(False),
                )
                .limit(1000)
            ).all()
        found: Counter[str] = Counter()
        for title, summary in noise:
            found.update(w for w in set(tokens(f"{title} {summary}")) if _telling(w))
        return Precision(
            watch=watch,
            marked=int(counts[0] or 0),
            relevant=int(counts[1] or 0),
            noise_words=tuple(found.most_common(words)),
        )


def _telling(word: str) -> bool:
    return len(word) > 2 and word not in _STOP and not word.isdigit()
