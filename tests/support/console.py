"""A store with a little of everything the web console shows: two outlets on one story, a
hostile title, alerts sent, waiting and dead, a failing source; and the console over it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from monitor.core.model import Article, Channel, Hit, Match, Settings, Source, Watch, WebSettings
from monitor.core.pipeline import Decision
from monitor.core.stories import Placement, article_keys
from monitor.store.repository import Store
from monitor.store.schema import outbox, sources
from monitor.web.context import Context
from tests.support.store import record_poll

with warnings.catch_warnings():
    # Starlette would rather run its test client on the httpx2 fork; httpx works the same here.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = ["TestClient"]

HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script> trade row'
HOOK_SECRET = "s3cr3t-hook-token"


@dataclass(frozen=True, slots=True)
class Seeded:
    """The ids a test needs: the first story, and an alert (outbox id) per article title."""

    story: int
    alert: int  # the trade-deal alert on channel "console"
    hostile_alert: int


def settings(database: str, token: str = "") -> Settings:
    """Watch "korea" to channels console and hook (whose URL holds a secret)."""
    return Settings(
        database=database,
        files=("monitor.yaml",),
        watches=(Watch(name="korea", query="seoul OR trade", notify=("console", "hook")),),
        channels=(
            Channel(name="console", url="console://"),
            Channel(name="hook", url=f"json://127.0.0.1:9/hook?+X-Token={HOOK_SECRET}"),
        ),
        web=WebSettings(token=token),
    )


def _decision(article: Article, matches: tuple[Match, ...], story: int | None) -> Decision:
    return Decision(
        article=article,
        keys=article_keys(article),
        matches=matches,
        placement=Placement(story=story),
    )


def seed(store: Store, now: datetime | None = None) -> Seeded:
    """Sources wire, agency (same story) and quiet (failing); three alerts on watch korea."""
    now = now or datetime.now(UTC) - timedelta(hours=1)
    every = timedelta(minutes=5)
    store.sync_sources(
        [
            Source(name=n, url=f"http://127.0.0.1:1/{n}", interval=every)
            for n in ("wire", "agency", "quiet")
        ],
        now,
    )
    ids = {c.name: c.id for c in store.claim_sources("t", now, lease=every, limit=10)}
    deal = Article(
        source="wire",
        key="guid:deal",
        url="https://news.test/deal",
        title="Seoul and Beijing sign trade deal",
        summary="The trade deal was signed in Seoul on Monday.",
        published=now,
    )
    hit = Hit(clause="seoul", field="summary", snippet="signed in «Seoul» on Monday")
    korea = (Match(watch="korea", terms=("seoul", "trade"), hits=(hit,)),)
    hostile = Article(
        source="wire", key="guid:x", url="javascript:alert(1)", title=HOSTILE, summary="x"
    )
    bad = (
        Match(
            watch="korea",
            terms=("trade",),
            hits=(Hit(clause="trade", field="title", snippet=HOSTILE.replace("trade", "«trade»")),),
        ),
    )
    dull = Article(source="wire", key="guid:f", url=None, title="Football results", summary="")
    routes = {"korea": ("console", "hook")}
    common = {"routes": routes, "next_poll_at": now, "etag": None, "last_modified": None}
    found = [_decision(deal, korea, None), _decision(hostile, bad, None), _decision(dull, (), None)]
    record_poll(store, ids["wire"], found=found, now=now, title="Wire", **common)
    first = min(a.id for a in store.alerts_page(limit=10))
    story = store.alerts_page(limit=10)[-1].story_id
    assert story is not None
    copy = Article(
        source="agency",
        key="guid:copy",
        url=None,
        title="Seoul, Beijing sign trade pact",
        summary="",
        published=now + timedelta(minutes=20),
    )
    later = now + timedelta(minutes=30)
    record_poll(
        store, ids["agency"], found=[_decision(copy, korea, story)], now=later, title=None, **common
    )
    with store._write() as conn:
        conn.execute(update(outbox).where(outbox.c.channel == "console").values(status="sent"))
        conn.execute(
            update(outbox)
            .where(outbox.c.channel == "hook", outbox.c.id == first + 1)
            .values(status="dead", last_error=f"HTTP 500 from json://…/hook?+X-Token={HOOK_SECRET}")
        )
        conn.execute(
            update(sources)
            .where(sources.c.name == "quiet")
            .values(
                failing=True,
                consecutive_failures=7,
                last_error_kind="http",
                last_error="HTTP 503 <b>oops</b>",
            )
        )
    alerts = store.alerts_page(limit=10, channel="console")
    by_title = {a.alert.title: a.id for a in alerts}
    return Seeded(story=story, alert=by_title[deal.title], hostile_alert=by_title[HOSTILE])


def context(store: Store, token: str = "") -> Context:
    """A console over `store` as `serve` would run it."""
    config = settings(str(store.engine.url), token)
    return Context(store=store, settings=lambda: config)
