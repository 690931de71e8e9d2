"""Stories: who an entry is within its source, and which story across outlets it belongs to."""

from monitor.stories.identity import Keys, article_keys, identify
from monitor.stories.index import Placement, StoryIndex, StoryItem
from monitor.stories.urls import canonical_url, identity_url

__all__ = [
    "Keys",
    "Placement",
    "StoryIndex",
    "StoryItem",
    "article_keys",
    "canonical_url",
    "identify",
    "identity_url",
]
