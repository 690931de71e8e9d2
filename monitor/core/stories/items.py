"""What story placement takes and gives, kept apart from the index so that reading them
needs no numpy (parser workers import the pipeline and must start fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoryItem:
    """A stored article as the index sees it."""

    article_id: int
    story_id: int
    source: str
    when: datetime
    title: str
    lead: str  # the summary as stored; the index takes its first words
    signature: bytes | None
    url_key: str | None = None  # the publisher's URL: the same article from another source


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Where a new article goes: an existing story, the story of an earlier article of the same
    batch (`joins`, its position), or a story of its own (both None). `copies` and
    `copies_joins` say the same of the group of copies of its text, which watches in `copies`
    mode alert by."""

    story: int | None = None
    joins: int | None = None
    copies: int | None = None
    copies_joins: int | None = None
    how: str = "new"  # new | copy | event
    signature: bytes = field(default=b"", repr=False)
