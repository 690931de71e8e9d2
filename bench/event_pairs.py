"""Same-story quality on labelled real articles (run by hand): precision and recall per mode.

    .venv/bin/python bench/event_pairs.py ARTICLES.jsonl [--seed 1]

ARTICLES.jsonl holds one article per line: {"source", "url", "published" (ISO 8601), "title",
"lead", "event"}; two articles are the same story when their `event` labels are equal. Every
pair from different sources published within two days of each other is judged: the first is
stored, the second placed as the daemon would (in `copies` and in `events` mode), and the pair
counts as joined when the second lands in the first's story. Figures are given over all such
pairs and over a balanced set: every same-story pair and as many other pairs drawn at random.

The labelling rule: two reports are one story when their news is the same happening (the same
incident, announcement or decision) in its first two days, whatever the counts they give; a
later development of it (a captive freed after the abduction, the storm's aftermath after its
landfall, a bill passed after the deal to pass it) is another story. `event_pairs_labels.jsonl`
beside this file lists the articles measured so (source, address, publication time and label;
the time is the page's own, else noon UTC of the day it gives); their texts are the publishers'
and are not redistributed: the title and the lead (the first two or three sentences) are to be
filled in from each page.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.core.model import Article, StorySettings  # noqa: E402
from monitor.core.stories import StoryItem  # noqa: E402
from monitor.core.stories.index import StoryIndex  # noqa: E402

WITHIN = timedelta(days=2)


def joined(mode: str, first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether `second`, arriving after `first` was stored, joins its story."""
    index = StoryIndex(StorySettings(mode=mode))
    a, b = (
        Article(source=d["source"], key=d["url"], url=d["url"], title=d["title"], summary=d["lead"])
        for d in (first, second)
    )
    when_a, when_b = (datetime.fromisoformat(d["published"]) for d in (first, second))
    [p] = index.place([(a, when_a)])
    index.load(
        [
            StoryItem(
                article_id=1,
                story_id=1,
                source=a.source,
                when=when_a,
                title=a.title,
                lead=a.summary,
                signature=p.signature,
            )
        ]
    )
    [q] = index.place([(b, when_b)])
    return q.story == 1


def _judge(label: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    same = sum(a["event"] == b["event"] for a, b in pairs)
    print(f"{label}: {len(pairs)} pairs, {same} same-story")
    for mode in ("copies", "events"):
        tp = fp = 0
        for a, b in pairs:
            if joined(mode, a, b):
                tp += a["event"] == b["event"]
                fp += a["event"] != b["event"]
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / same if same else float("nan")
        print(f"  {mode:7} joined {tp + fp:4}  precision {precision:.2f}  recall {recall:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", type=Path)
    parser.add_argument("--seed", type=int, default=1, help="for drawing the balanced set")
    args = parser.parse_args()
    docs = [json.loads(line) for line in args.articles.read_text().splitlines() if line.strip()]
    docs.sort(key=lambda d: d["published"])
    pairs = [
        (a, b)
        for a, b in combinations(docs, 2)
        if a["source"] != b["source"]
        and datetime.fromisoformat(b["published"]) - datetime.fromisoformat(a["published"])
        <= WITHIN
    ]
    print(f"{len(docs)} articles from {len({d['source'] for d in docs})} sources")
    _judge(f"all pairs within {WITHIN.days} days", pairs)
    same = [p for p in pairs if p[0]["event"] == p[1]["event"]]
    other = [p for p in pairs if p[0]["event"] != p[1]["event"]]
    drawn = random.Random(args.seed).sample(other, min(len(same), len(other)))
    _judge("balanced", same + drawn)


if __name__ == "__main__":
    main()
