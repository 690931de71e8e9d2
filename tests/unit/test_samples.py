"""docs/samples/ shows what each format really sends: each file is the output of today's code
for one sample alert (rewrite them with NEWSMONITOR_UPDATE_SAMPLES=1), the JSON ones valid
against docs/alert.schema.json, and the example receiver checks signatures as documented."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import runpy
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import HTTPServer
from pathlib import Path

import jsonschema
import pytest

from monitor.core import payloads, slackblocks
from monitor.core.model import Alert, Hit
from monitor.core.payloads import Envelope
from monitor.core.phrases import Locale
from monitor.core.render import render, render_group
from monitor.core.templating import HTML, MARKDOWN, TEXT
from monitor.notify.catalogs import locale

DOCS = Path(__file__).resolve().parents[2] / "docs"
SAMPLES = DOCS / "samples"
ALERT = Alert(
    watch="korea-china-trade",
    terms=("South Korea", "China", "tariff*"),
    hits=(
        Hit(
            clause="@south_korea",
            field="title",
            snippet="«South Korea» and «China» cut tariffs on chips",
        ),
        Hit(
            clause="China", field="title", snippet="«South Korea» and «China» cut tariffs on chips"
        ),
        Hit(
            clause="tariff*",
            field="summary",
            snippet="…agreed to cut «tariffs» on chips and batteries from March, «Seoul» said.",
        ),
    ),
    source="yonhap",
    title="South Korea and China cut tariffs on chips",
    summary="The two governments agreed to cut tariffs on chips and batteries from March.",
    url="https://en.yna.co.kr/view/AEN20261128000100315",
    published=datetime(2026, 11, 28, 3, 5, tzinfo=UTC),
    also_reported_by=("reuters", "kbs-world"),
)
ENVELOPE = Envelope(id=4211, story_id=977, attempt=1)


def _ko() -> Locale:
    return locale("ko", "Asia/Seoul")


def _pretty(text: str) -> str:
    return json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"


SAMPLE_FILES: dict[str, Callable[[], str]] = {
    "webhook-alert.json": lambda: _pretty(payloads.alert_body(ALERT, ENVELOPE)),
    "webhook-digest.json": lambda: _pretty(
        payloads.digest_body("newsmonitor digest: 1 alert", [(ALERT, ENVELOPE)])
    ),
    "slack-alert.json": lambda: _pretty(slackblocks.alert_body(ALERT, render(ALERT, TEXT).title)),
    "email-alert.html": lambda: render(ALERT, HTML).body + "\n",
    "email-digest.html": lambda: (
        render_group("newsmonitor digest: 1 alert", [ALERT], HTML).body + "\n"
    ),
    "text-alert.txt": lambda: _message(render(ALERT, TEXT)),
    "markdown-alert.md": lambda: _message(render(ALERT, MARKDOWN)),
    "text-alert.ko.txt": lambda: _message(render(ALERT, TEXT, locale=_ko())),
    "slack-alert.ko.json": lambda: _pretty(
        slackblocks.alert_body(ALERT, render(ALERT, TEXT, locale=_ko()).title, _ko())
    ),
}


def _message(message: object) -> str:
    return f"{message.title}\n\n{message.body}\n"  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(SAMPLE_FILES))
def test_each_sample_is_what_the_code_sends(name: str) -> None:
    """The sample in docs/ equals today's output for the sample alert."""
    made = SAMPLE_FILES[name]()
    path = SAMPLES / name
    if os.environ.get("NEWSMONITOR_UPDATE_SAMPLES") == "1":
        path.write_text(made, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == made


@pytest.mark.parametrize("name", ["webhook-alert.json", "webhook-digest.json"])
def test_the_webhook_samples_follow_the_schema(name: str) -> None:
    """The published schema accepts the published samples."""
    schema = json.loads((DOCS / "alert.schema.json").read_text())
    jsonschema.validate(json.loads((SAMPLES / name).read_text()), schema)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    hook = runpy.run_path(str(SAMPLES / "receiver.py"))["Hook"]
    server = HTTPServer(("127.0.0.1", 0), hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"X-Newsmonitor-Signature": signature}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_example_receiver_takes_signed_posts_and_refuses_others(
    receiver: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The documented receiver answers 204 to a correctly signed body and 401 otherwise."""
    body = payloads.alert_body(ALERT, ENVELOPE).encode()
    good = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert _post(receiver, body, good) == 204
    assert _post(receiver, body + b" ", good) == 401
    assert _post(receiver, body, "sha256=" + "0" * 64) == 401
    assert "South Korea and China cut tariffs on chips" in capsys.readouterr().out
