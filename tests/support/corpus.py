"""feedparser's own test documents, unpacked from the sdist kept in tests/corpus, and served
over HTTP the way feedparser's test server serves them (its `Header:` lines as headers)."""

from __future__ import annotations

import hashlib
import re
import tarfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support.feed_server import FeedServer, Handler

ARCHIVE = Path(__file__).resolve().parents[1] / "corpus" / "feedparser-6.0.14.tar.gz"
SHA256 = "088679b0c4b543ee211a820dd544698c76a402122eae7473c04a43425f283d06"
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Case:
    """One document: its path under tests/, its bytes, and the response it is served as."""

    name: str
    body: bytes
    status: int
    headers: dict[str, str]


def load_cases() -> list[Case]:
    """Every file under the sdist's tests/ directory but its Python harness, sorted by name."""
    data = ARCHIVE.read_bytes()
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise RuntimeError(f"{ARCHIVE} is not the feedparser 6.0.14 sdist it should be")
    cases = []
    with tarfile.open(ARCHIVE) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/", 2)
            if not member.isfile() or len(parts) < 3 or parts[1] != "tests":
                continue
            if member.name.endswith(".py"):
                continue
            extracted = archive.extractfile(member)
            assert extracted is not None
            cases.append(_case(parts[2], extracted.read()))
    return sorted(cases, key=lambda c: c.name)


def _case(name: str, body: bytes) -> Case:
    if name.startswith("compression/"):
        encoding = "gzip" if name.endswith("gz") else "deflate"
        return Case(
            name, body, 200, {"Content-Type": "application/xml", "Content-Encoding": encoding}
        )
    headers = {
        k.decode("utf-8", "replace").strip(): v.decode("utf-8", "replace").strip()
        for k, v in _HEADER.findall(body)
    }
    status = headers.pop("Status", "200")
    if "Location" in headers:
        # The harness served from 127.0.0.1:8097/tests/...; our server has the files at /corpus/.
        path = re.sub(r"^https?://[^/]+", "", headers["Location"])
        headers["Location"] = re.sub(r"^/tests/", "/corpus/", path)
    headers.setdefault("Content-Type", "application/xml")
    return Case(name, body, int(status) if status.isdigit() else 200, headers)


def serve(server: FeedServer, cases: list[Case]) -> None:
    """Serve each case at /corpus/<name>."""
    for case in cases:
        server.set_handler(f"/corpus/{case.name}", _handler(case))


def _handler(case: Case) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(case.status)
        for name, value in case.headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(case.body)))
        request.end_headers()
        request.wfile.write(case.body)

    return handle
