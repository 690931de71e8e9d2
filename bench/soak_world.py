"""The soak's world: publishers on a local feed server, some of them hostile, and the watches.

Feeds publish at uneven rates (a few every minute, most about hourly, a few in bursts of 20).
Every watch names an entity of its own, in one of the query shapes the shipped watches use,
so which watches an item matches is known by construction: an item that mentions entity i
matches watch i and no other, and an item that mentions none matches nothing.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.matching import COMMON
from tests.support import hostile
from tests.support.feed_server import FeedServer, drip, redirect, rss

HEALTHY, FLAKY, DOWN = "healthy", "flaky", "down"
SHOWN = 50  # entries a feed shows: more than a burst, so nothing drops off between two polls
BURST = 20
SHIPPED_TERMS = {
    "north_korea": ["North Korea*", "DPRK", "Pyongyang"],
    "china": ["China", "Chinese", "Beijing", "PRC"],
}


def entity(i: int) -> str:
    """Watch i's entity: seven letters, so that no entity is a prefix of another."""
    letters = string.ascii_lowercase
    code = "".join(letters[(i // 26**k) % 26] for k in range(3))
    return f"Velk{code}".capitalize()


def watch_query(i: int) -> tuple[str, str, dict[str, list[str]]]:
    """Watch i's query, a headline it matches and the term lists it needs."""
    name = entity(i)
    kind = i % 8
    if kind == 0:
        return (
            f"@t{i} AND (trade OR deal* OR tariff* OR export*)",
            f"{name} Group signs a trade deal",
            {f"t{i}": [name, f"{name} Group"]},
        )
    if kind == 1:
        return f'"{name} summit"', f"Leaders open the {name} summit", {}
    if kind == 2:
        return f"{name} NEAR/5 (missile* OR launch*)", f"{name} launched a missile", {}
    if kind == 3:
        return f'title:{name} -sports -"opinion column"', f"{name} announces results", {}
    if kind == 4:
        return f"@north_korea AND {name}", f"Pyongyang warns {name} over border", {}
    if kind == 5:
        return f"ATLEAST/2 {name}", f"{name} says {name} will expand", {}
    if kind == 6:
        return f"{name}* AND (sanction* OR embargo)", f"{name}ese firms face new sanctions", {}
    return f"@china AND {name} AND (strike OR protest)", f"Beijing: {name} workers strike", {}


def channels_of(i: int) -> list[str]:
    """Every watch alerts the healthy channel; half the flaky one, a third the down one."""
    return [HEALTHY, *([FLAKY] if i % 2 == 0 else []), *([DOWN] if i % 3 == 0 else [])]


@dataclass(slots=True)
class Item:
    """One published item and what must come of it."""

    id: str
    feed: int
    watch: int | None
    published: float  # monotonic


@dataclass(slots=True)
class Feed:
    """One publisher: its class, poll interval and items, newest first."""

    index: int
    kind: str  # minute | hourly | burst
    interval: float
    items: list[dict[str, object]] = field(default_factory=list)
    hostile_spans: list[tuple[float, float]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/feed{self.index}.xml"


def _behaviours() -> list[tuple[str, Callable[[], object]]]:
    """reliability.md F1-F12 (F7, DNS rebinding, needs a resolver of ours: left out), as
    handlers or bodies for one feed path."""
    garbage = random.Random(7).randbytes(4096)
    truncated = rss([{"guid": f"g{i}", "title": "Plain news"} for i in range(30)])[:900]
    return [
        ("F1 slowloris", lambda: drip(rss([{"guid": "d"}]), interval=0.5)),
        ("F2 endless body", hostile.endless),
        ("F3 gzip bomb", lambda: hostile.encoded(hostile.gzip_bomb(), "gzip")),
        ("F3 brotli bomb", lambda: hostile.encoded(hostile.brotli_bomb(32 * hostile.MiB), "br")),
        ("F4 length lies", lambda: hostile.lying_length(declared=100, body=b"<" * 3_000_000)),
        ("F5 redirect loop", lambda: redirect("?loop")),
        ("F6 to internal", lambda: redirect("http://127.0.0.2:9/secret")),
        ("F6 to metadata", lambda: redirect("http://169.254.169.254/latest/meta-data/")),
        ("F6 to file", lambda: redirect("file:///etc/passwd")),
        ("F8 decimal address", lambda: redirect("http://2130706434/")),
        ("F8 mapped address", lambda: redirect("http://[::ffff:127.0.0.2]/")),
        ("F9 billion laughs", hostile.billion_laughs),
        ("F9 quadratic blowup", hostile.quadratic_blowup),
        ("F9 xxe", lambda: hostile.xxe("/etc/hostname")),
        ("F10 author redos", hostile.author_redos),
        ("F11 binary noise", lambda: garbage),
        ("F11 html page", lambda: b"<html><body><p>Not a feed</p></body></html>"),
        ("F11 empty 200", lambda: b""),
        ("F11 truncated xml", lambda: truncated),
        ("F12 path body", lambda: b"/etc/passwd"),
        ("F12 url body", lambda: b"http://127.0.0.2/"),
    ]


class World:
    """The feeds on `server`, what they published, and which of them is hostile now."""

    def __init__(
        self, server: FeedServer, feeds: int, watches: int, speed: float, rng: random.Random
    ) -> None:
        self.server = server
        self.watches = watches
        self.rng = rng
        self.lock = threading.Lock()
        self.items: list[Item] = []
        self.hostile: dict[int, str] = {}
        self.behaviours = _behaviours()
        self._next_behaviour = 0
        fast, burst = max(1, round(feeds * 0.05)), max(1, round(feeds * 0.02))
        self.feeds: list[Feed] = []
        for f in range(feeds):
            kind = "minute" if f < fast else "burst" if f < fast + burst else "hourly"
            interval = {"minute": 60.0, "burst": 120.0, "hourly": 300.0}[kind] / speed
            self.feeds.append(Feed(f, kind, max(2.0, interval)))
        now = datetime.now(UTC)
        for feed in self.feeds:
            for n in range(10):
                feed.items.append(self._entry(feed, f"base{n}", None, now - timedelta(hours=n + 1)))
            self._serve(feed)

    def _entry(
        self, feed: Feed, token: str, watch: int | None, when: datetime
    ) -> dict[str, object]:
        words = " ".join(self.rng.choice(COMMON) for _ in range(6))
        title = watch_query(watch)[1] if watch is not None else words.capitalize()
        return {
            "guid": f"{feed.index}-{token}",
            "title": f"{title}: {words}" if watch is not None else title,
            "description": " ".join(self.rng.choice(COMMON) for _ in range(30)),
            "link": f"https://news.test/{feed.index}/{token}",
            "published": when,
        }

    def _serve(self, feed: Feed) -> None:
        if feed.index not in self.hostile:
            self.server.set(feed.path, rss(feed.items[:SHOWN], title=f"Feed {feed.index}"))

    def publish(self, feed: Feed, count: int, matching: float) -> None:
        """`count` new items at the top of `feed`; each matches one random watch or none."""
        with self.lock:
            for _ in range(count):
                token = f"i{len(self.items):06d}"
                watch = self.rng.randrange(self.watches) if self.rng.random() < matching else None
                self.items.append(Item(token, feed.index, watch, time.monotonic()))
                feed.items.insert(0, self._entry(feed, token, watch, datetime.now(UTC)))
            self._serve(feed)

    def rotate_hostile(self, count: int) -> list[str]:
        """Restore the hostile feeds and turn `count` others hostile, the next behaviours in
        turn; what each now does."""
        with self.lock:
            now = time.monotonic()
            self._restore(now)
            chosen = self.rng.sample(range(len(self.feeds)), count)
            done = []
            for f in chosen:
                name, make = self.behaviours[self._next_behaviour % len(self.behaviours)]
                self._next_behaviour += 1
                made = make()
                path = self.feeds[f].path
                if isinstance(made, bytes):
                    self.server.set(path, made, etag=False)
                else:
                    self.server.set_handler(path, made)  # type: ignore[arg-type]
                self.hostile[f] = name
                self.feeds[f].hostile_spans.append((now, float("inf")))
                done.append(f"feed{f}: {name}")
            return done

    def restore_all(self) -> None:
        """Every feed healthy again."""
        with self.lock:
            self._restore(time.monotonic())

    def _restore(self, now: float) -> None:
        for f in list(self.hostile):
            del self.hostile[f]
            feed = self.feeds[f]
            start, _ = feed.hostile_spans[-1]
            feed.hostile_spans[-1] = (start, now)
            self._serve(feed)


def write_config(
    path: Path,
    *,
    world: World,
    base: str,
    database: str,
    channels: dict[str, str],
    speed: float,
    extra_watches: int = 0,
    invalid: bool = False,
) -> None:
    """The daemon's config; `extra_watches` adds watches that never match (what reloads
    change), `invalid` makes it a config the daemon must refuse."""
    seconds = lambda s: f"{max(1, round(s / speed))}s"  # noqa: E731
    terms: dict[str, list[str]] = dict(SHIPPED_TERMS)
    watches = []
    for i in range(world.watches):
        query, _, needs = watch_query(i)
        terms.update(needs)
        watches.append({"name": f"w{i:04d}", "query": query, "notify": channels_of(i)})
    watches += [
        {"name": f"reload{k}", "query": f"zzreloadprobe{k}", "notify": [HEALTHY]}
        for k in range(extra_watches)
    ]
    lines = [
        f"database: {json.dumps(database)}",
        "fetch: {timeout: 10s, max_bytes: 2MB, parse_timeout: 2s, per_host: 16, "
        "allow_addresses: [127.0.0.1/32]}",
        f"delivery: {{max_attempts: 30, retry_base: {seconds(5)}, retry_max: {seconds(60)}, "
        f"timeout: {seconds(10)}}}",
        "stories: {mode: off}",
        "sources:",
        *(
            f"  - {{name: feed{f.index}, url: {base}{f.path}, interval: {f.interval:.0f}s}}"
            for f in world.feeds
        ),
        "channels:",
        *(f"  {name}: {{url: {json.dumps(url)}}}" for name, url in channels.items()),
        "terms:",
        *(f"  {name}: {json.dumps(aliases)}" for name, aliases in terms.items()),
        "watches:",
        *(f"  - {json.dumps(w)}" for w in watches),
    ]
    if invalid:
        lines.append("  - {name: broken, query: '(unclosed', notify: [nowhere]}")
    path.with_suffix(".tmp").write_text("\n".join(lines) + "\n")
    path.with_suffix(".tmp").replace(path)
