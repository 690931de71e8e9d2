"""Loaded by daemon subprocesses started from tests (via PYTHONPATH): the loopback guard, and
apprise's Slack plugin pointed at the test's local webhook receiver."""

import os

from tests.support import loopback

loopback.install()

_slack = os.environ.get("NEWSMONITOR_TEST_SLACK_URL")
if _slack:
    from apprise.plugins.slack import NotifySlack

    NotifySlack.webhook_url = _slack
