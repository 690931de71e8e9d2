"""The console's config and commands as processes: web.listen checks, serve, alerts --mark."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

import httpx
import pytest

from monitor.config import load_settings
from monitor.store.repository import Store
from tests.support import process
from tests.support.console import seed


def _config(tmp_path: Path, web: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"database: sqlite:///{tmp_path / 'db.sqlite'}\nfetch: {{}}\n{web}\n")
    return path


def test_a_public_listen_without_token_is_refused_with_file_and_line(tmp_path: Path) -> None:
    config = _config(tmp_path, 'web: {listen: "0.0.0.0:8765"}')
    done = process.run(config, "check")
    assert done.returncode == 2
    assert f"{config}:3: web: listen is not a loopback address" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("web", "host", "port"),
    [
        ("", "127.0.0.1", 8765),
        ("web: {listen: off}", None, 8765),
        ('web: {listen: "[::1]:9000"}', "::1", 9000),
        ('web: {listen: "0.0.0.0:80", token: abc}', "0.0.0.0", 80),
    ],
)
def test_listen_values(tmp_path: Path, web: str, host: str | None, port: int) -> None:
    settings = load_settings(_config(tmp_path, web))
    assert (settings.web.host, settings.web.port) == (host, port)


def test_a_listen_that_is_no_address_is_refused(tmp_path: Path) -> None:
    done = process.run(_config(tmp_path, "web: {listen: localhost}"), "check")
    assert done.returncode == 2
    assert 'must be "HOST:PORT"' in done.stdout + done.stderr


def test_alerts_mark(tmp_path: Path) -> None:
    config = _config(tmp_path, "")
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        seeded = seed(store)
    finally:
        store.close()
    done = process.run(config, "alerts", "--mark", str(seeded.alert), "irrelevant")
    assert done.returncode == 0, done.stderr
    assert f"alert {seeded.alert} (korea) marked irrelevant" in done.stdout
    assert process.run(config, "alerts", "--mark", "999", "relevant").returncode == 1
    assert process.run(config, "alerts", "--mark", "1", "maybe").returncode == 2


@pytest.mark.slow
def test_serve_answers_until_sigterm(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _config(tmp_path, f'web: {{listen: "127.0.0.1:{port}"}}')
    serving = process.start(config, "serve", log=tmp_path / "serve.log")
    try:

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
            except httpx.TransportError:
                return False

        process.wait_for(up, what="serve to answer /readyz")
        page = httpx.get(f"http://127.0.0.1:{port}/alerts")
        assert page.status_code == 200 and "No alert matches" in page.text
    finally:
        serving.send_signal(signal.SIGTERM)
        assert serving.wait(timeout=15) == 0
    assert re.search(
        r"web console on http://127\.0\.0\.1:\d+/", (tmp_path / "serve.log").read_text()
    )
