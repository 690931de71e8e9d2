"""The texts bench/event_pairs.py reads, from fetched article pages (run by hand).

    .venv/bin/python bench/event_texts.py OUT.jsonl PATH [PATH ...]

Each PATH is an HTML page or a directory searched for `*.html` (the Telegram Data Clustering
contest archives are such directories). A page gives its address (`og:url`, else its canonical
link), its publication time (`article:published_time`, else `<time datetime>`), its title
(`og:title`, else the first `<h1>`) and its lead (`og:description`, else the first paragraphs,
cut as the daemon cuts a lead). Pages lacking an address or a title are counted and left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.core.stories.identity import lead_of  # noqa: E402


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.heading = ""
        self.paragraphs: list[str] = []
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta.setdefault(a.get("property") or a.get("name") or "", a.get("content", ""))
        elif tag == "link" and a.get("rel") == "canonical":
            self.meta.setdefault("canonical", a.get("href", ""))
        elif tag == "time" and a.get("datetime"):
            self.meta.setdefault("time", a["datetime"])
        elif tag in ("h1", "p"):
            self._in, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag != self._in:
            return
        text = " ".join("".join(self._text).split())
        if tag == "h1" and not self.heading:
            self.heading = text
        elif tag == "p" and text:
            self.paragraphs.append(text)
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)


def page(text: str) -> dict[str, str] | None:
    """The address, time, title and lead of one page; None without an address or a title."""
    p = _Page()
    p.feed(text)
    url = p.meta.get("og:url") or p.meta.get("canonical")
    title = p.meta.get("og:title") or p.heading
    if not url or not title:
        return None
    lead = p.meta.get("og:description") or " ".join(p.paragraphs[:3])
    published = p.meta.get("article:published_time") or p.meta.get("time") or ""
    return {"url": url, "published": published, "title": title, "lead": lead_of(lead)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args()
    files = [f for p in args.paths for f in (sorted(p.rglob("*.html")) if p.is_dir() else [p])]
    kept = skipped = 0
    with args.out.open("w") as out:
        for f in files:
            found = page(f.read_text(errors="replace"))
            if found is None:
                skipped += 1
                continue
            out.write(json.dumps(found, ensure_ascii=False) + "\n")
            kept += 1
    print(f"{kept} pages written to {args.out}, {skipped} without an address or a title")


if __name__ == "__main__":
    main()
