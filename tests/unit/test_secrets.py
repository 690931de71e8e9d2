"""Credentials in channel URLs are found and masked wherever they could show."""

from __future__ import annotations

import pytest

from monitor.core.secrets import MASK, mask, url_secrets


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "TIiajkdnlazkcOXrIdevi7FQ"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "T1JJ3T3L2"),
        ("mailtos://desk:p%40ss-w0rd@smtp.example.com?to=a@example.com", "p@ss-w0rd"),
        ("mailtos://desk:p%40ss-w0rd@smtp.example.com?to=a@example.com", "p%40ss-w0rd"),
        ("json://hooks.example.com/notify?token=abcdef123456", "abcdef123456"),
        (
            "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        ),
    ],
)
def test_credentials_in_channel_urls_are_found(url: str, secret: str) -> None:
    """Tokens in hosts, paths, passwords and query strings all count as secrets."""
    found = url_secrets(url)
    assert any(secret in s for s in found)
    assert secret not in mask(f"failed to post to {url}: {secret}", found)


def test_mask_removes_url_credentials_it_was_not_told_about() -> None:
    """Any user:password@ in a URL is masked, known or not."""
    text = mask("GET https://bob:hunter22@feeds.example.com/x failed", [])
    assert text == f"GET https://{MASK}@feeds.example.com/x failed"


def test_ordinary_words_are_not_secrets() -> None:
    """Short pieces and domain names are left alone, so logs stay readable."""
    found = url_secrets("mailto://127.0.0.1:2525?to=desk@example.com&format=text")
    assert "2525" not in found and "text" not in found and "example.com" not in found
