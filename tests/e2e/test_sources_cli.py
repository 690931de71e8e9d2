"""`newsmonitor sources discover | import | export` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from monitor.config import load_settings
from tests.support import process
from tests.support.feed_server import FeedServer, rss
from tests.support.source_samples import sample

CONFIG = """\
database: "sqlite:///{db}"
fetch: {{timeout: 5s, allow_addresses: [127.0.0.1/32]}}
include: [imported/*.yaml]
sources:
  - {{name: wire, url: "https://wire.example/rss.xml", tags: [korea]}}
  - {{name: gn-korea-china, google_news: '"South Korea" China trade'}}
  - name: mofa-press
    page: {{url: "https://example.go.kr/list.do", item: "tbody tr", title: "td a"}}
"""


def _config(tmp_path: Path) -> Path:
    (tmp_path / "imported").mkdir()
    (tmp_path / "imported" / "none.yaml").write_text("sources: []\n")
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "news.db"))
    return path


def test_discover_lists_the_advertised_feeds_and_sitemaps_with_yaml_lines(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Each feed the page links, and each sitemap robots.txt names, with a line to paste."""
    head = (
        '<link rel="alternate" type="application/rss+xml" title="Top News" href="/rss/top.xml">'
        '<link rel="alternate" type="application/atom+xml" href="/atom.xml">'
    )
    feed_server.set("/", f"<html><head>{head}</head><body></body></html>")
    feed_server.set("/robots.txt", "User-agent: *\nSitemap: /news-sitemap.xml\n")
    feed_server.set("/rss/top.xml", rss([]))
    config = _config(tmp_path)
    done = process.run(config, "sources", "discover", feed_server.url("/"), "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["kind"], r["url"]) for r in rows] == [
        ("rss", feed_server.url("/rss/top.xml")),
        ("atom", feed_server.url("/atom.xml")),
        ("sitemap", feed_server.url("/news-sitemap.xml")),
    ]
    assert rows[0]["yaml"] == f'- {{name: top-news, url: "{feed_server.url("/rss/top.xml")}"}}'
    # Untitled ones are named after the host, each name unique.
    assert rows[1]["yaml"].startswith("- {name: 127.0.0.1, url: ")
    assert rows[2]["yaml"].startswith("- {name: 127.0.0.1-2, sitemap: ")


def test_discover_on_a_site_that_offers_nothing_says_so(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """No link, no common path, no robots.txt: exit 1 with the reason."""
    feed_server.set("/", "<html><head></head><body>Nothing here</body></html>")
    done = process.run(_config(tmp_path), "sources", "discover", feed_server.url("/"))
    assert done.returncode == 1
    assert "advertises no feed" in done.stderr


def test_import_writes_an_includable_sources_file_and_never_overwrites_silently(
    tmp_path: Path,
) -> None:
    """The OPML's feeds become a file that `include:` loads; writing it again needs --force."""
    config = _config(tmp_path)
    opml = tmp_path / "export.opml"
    opml.write_bytes(sample("reader-export.opml"))
    target = tmp_path / "imported" / "reader.yaml"
    done = process.run(config, "sources", "import", str(opml), "--tag", "reader", "-o", str(target))
    assert done.returncode == 0, done.stderr
    settings = load_settings(config)
    imported = [s for s in settings.sources if "reader" in s.tags]
    assert len(imported) == 5
    assert len({s.name for s in settings.sources}) == len(settings.sources)
    before = target.read_text()
    again = process.run(config, "sources", "import", str(opml), "-o", str(target))
    assert again.returncode == 1 and "--force" in again.stderr
    assert target.read_text() == before


def test_import_of_an_entity_bomb_is_refused(tmp_path: Path) -> None:
    """An OPML with entity declarations: exit 2 with the reason, no file written."""
    opml = tmp_path / "bomb.opml"
    opml.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<opml version="2.0"><body><outline xmlUrl="https://x.example/&b;"/></body></opml>'
    )
    target = tmp_path / "out.yaml"
    done = process.run(_config(tmp_path), "sources", "import", str(opml), "-o", str(target))
    assert done.returncode == 2
    assert "entity declarations: refused" in done.stderr
    assert not target.exists()


def test_export_prints_the_configured_feeds_as_opml(tmp_path: Path) -> None:
    """Feeds and search feeds are outlines of type rss; a list page is no feed."""
    done = process.run(_config(tmp_path), "sources", "export", "--opml")
    assert done.returncode == 0, done.stderr
    root = etree.fromstring(done.stdout.encode())
    assert root.get("version") == "2.0"
    outlines = {o.get("text"): o for o in root.iter("outline")}
    assert sorted(outlines) == ["gn-korea-china", "wire"]
    assert outlines["wire"].get("xmlUrl") == "https://wire.example/rss.xml"
    assert outlines["wire"].get("category") == "korea"
    assert all(o.get("type") == "rss" for o in outlines.values())
