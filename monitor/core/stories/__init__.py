"""Stories: who an entry is within its source, and which story across outlets it belongs to.

The index (monitor.core.stories.index) needs numpy and is imported on its own.
"""

from monitor.core.stories.identity import Keys, article_keys, identify, quick_keys
from monitor.core.stories.items import Placement, StoryItem
from monitor.core.stories.urls import canonical_url, identity_url

__all__ = [
    "Keys",
    "Placement",
    "StoryItem",
    "article_keys",
    "canonical_url",
    "identify",
    "identity_url",
    "quick_keys",
]
