"""Loaded by daemon subprocesses started from tests (via PYTHONPATH): the loopback guard, and
apprise's Slack plugin pointed at the test's local webhook receiver."""

import os
from datetime import timedelta

from monitor.core import schedule
from tests.support import loopback

loopback.install()
# The suite polls its local servers every second; outside the tests, configs keep the 30 s floor.
schedule.INTERVAL_FLOOR = timedelta(seconds=1)

_slack = os.environ.get("NEWSMONITOR_TEST_SLACK_URL")
if _slack:
    from apprise.plugins.slack import NotifySlack

    NotifySlack.webhook_url = _slack
    # bench/latency.py measures the daemon's own latency without apprise's 1.2 s Slack pacing.
    if os.environ.get("NEWSMONITOR_TEST_SLACK_PACING") == "off":
        NotifySlack.request_rate_per_sec = 0
