"""`newsmonitor notify-test` and the checks on channel URLs, as a user runs them."""

from __future__ import annotations

from pathlib import Path

from tests.support import process
from tests.support.scenario import write_config
from tests.support.sinks import SmtpSink, WebhookSink

TOKEN = "CanaryHookTok3nQ"
PASSWORD = "CanarySmtpPassw0rd"


def _config(tmp_path: Path, channels: dict[str, str]) -> Path:
    return write_config(
        tmp_path / "monitor.yaml",
        feeds={},
        channels=channels,
        database=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )


def test_notify_test_sends_one_message_and_says_so(
    tmp_path: Path, webhook_sink: WebhookSink
) -> None:
    """A working channel gets one test message; the output names it with the URL masked."""
    config = _config(tmp_path, {"hook": webhook_sink.json_url(f"/hooks/{TOKEN}")})
    done = process.run(config, "notify-test", "hook")
    assert done.returncode == 0, done.stderr
    assert "sent a test message to hook (json://127.0.0.1:" in done.stdout
    [post] = webhook_sink.posts
    assert post.json()["title"] == "newsmonitor test message"
    assert post.path == f"/hooks/{TOKEN}"
    assert TOKEN not in done.stdout + done.stderr


def test_notify_test_reports_the_precise_failure_without_secrets(
    tmp_path: Path, webhook_sink: WebhookSink, smtp_sink: SmtpSink
) -> None:
    """A refused webhook names its HTTP status, a failed login its reason; no secret shows."""
    webhook_sink.status = 404
    config = _config(
        tmp_path,
        {
            "hook": webhook_sink.json_url(f"/hooks/{TOKEN}"),
            "mail": f"mailto://desk:{PASSWORD}@127.0.0.1:{smtp_sink.port}"
            "?to=desk@example.com&from=newsmonitor@example.com",
        },
    )
    hook = process.run(config, "--log-level", "debug", "notify-test", "hook")
    assert hook.returncode == 1
    assert "failed to send to hook" in hook.stderr
    assert "HTTP 404" in hook.stderr
    assert "will not work until fixed" in hook.stderr
    mail = process.run(config, "--log-level", "debug", "notify-test", "mail")
    assert mail.returncode == 1
    assert "failed to send to mail (mailto://***@127.0.0.1:" in mail.stderr
    for done in (hook, mail):
        for secret in (TOKEN, PASSWORD):
            assert secret not in done.stdout + done.stderr


def test_notify_test_of_an_unknown_channel_lists_the_known_ones(tmp_path: Path) -> None:
    """A typo in the channel name is a usage error (exit 2) naming the defined channels."""
    config = _config(tmp_path, {"console": "console://"})
    done = process.run(config, "notify-test", "consol")
    assert done.returncode == 2
    assert "no channel 'consol' (defined: console)" in done.stderr


def test_optional_yes_is_a_config_error_and_verify_no_a_warning(tmp_path: Path) -> None:
    """optional=yes would hide failed sends: rejected at its line; verify=no is flagged."""
    config = _config(tmp_path, {"hook": "json://127.0.0.1:9/a?optional=yes"})
    done = process.run(config, "check")
    assert done.returncode == 2
    assert f"{config}:9: channels.hook.url: optional=yes makes apprise report" in done.stderr
    config = _config(tmp_path, {"hook": "jsons://127.0.0.1:9/a?verify=no"})
    done = process.run(config, "check")
    assert done.returncode == 0, done.stderr
    assert "warning: verify=no turns off TLS certificate checks" in done.stdout
